use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_pool_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pool_id: i64,
    /// `top_up | claim_paid | recovery_returned`
    pub kind: String,
    /// Signed fen: a top-up or a return adds, a claim paid takes away.
    pub amount: i64,
    pub reference: Option<String>,
    pub claim_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
