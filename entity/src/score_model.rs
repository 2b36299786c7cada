use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "score_models")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub park_id: i64,
    /// 1, 2, 3, … within the park.
    pub version: i32,
    pub name: String,
    /// `draft | active | inactive`
    pub status: String,
    /// The indicators, their scoring and the stage weights.
    pub definition: Json,
    pub created_at: DateTimeUtc,
    pub activated_at: Option<DateTimeUtc>,
    /// When the model first scored a period; it never changes after.
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
