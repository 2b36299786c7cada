use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recommendation_lists")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub park_id: i64,
    pub name: String,
    /// `draft | published`
    pub status: String,
    pub respond_within_working_days: i32,
    /// `{top, min_score, stages}` when the entries were chosen by a rule.
    pub rule: Option<Json>,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    pub published_on: Option<Date>,
    pub due_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
