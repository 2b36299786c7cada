use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// Strictly increasing in commit order.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_type: String,
    pub created_at: DateTimeUtc,
    pub park_id: Option<i64>,
    pub bank_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    /// Everyone may see it (a published product).
    pub public: bool,
    /// The resource as its GET rendered it, as JSON text.
    #[sea_orm(column_type = "Text")]
    pub data: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
