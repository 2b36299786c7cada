use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "daily_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    pub leased_until: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// The last loan done.
    pub cursor: i64,
    /// Loans that fell overdue that day.
    pub overdue: i32,
    /// Loans whose classification changed that day.
    pub reclassified: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
