use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recommendation_tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub list_id: i64,
    pub park_id: i64,
    pub bank_id: i64,
    pub enterprise_id: i64,
    pub entry_id: i64,
    pub published_on: Date,
    pub due_on: Date,
    /// `open | contacted | credit_granted | declined`
    pub status: String,
    pub answered_at: Option<DateTimeUtc>,
    pub answered_on: Option<Date>,
    pub reason: Option<String>,
    pub application_id: Option<i64>,
    pub credit_line_id: Option<i64>,
    pub overdue_notified: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
