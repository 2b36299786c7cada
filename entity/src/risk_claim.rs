use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_claims")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pool_id: i64,
    pub loan_id: i64,
    pub park_id: i64,
    pub bank_id: i64,
    pub enterprise_id: i64,
    /// The loan's unpaid principal when the claim was filed, in fen.
    pub unpaid_principal: i64,
    /// What the claim pays: unpaid principal × coverage, capped.
    pub amount: i64,
    /// Recoveries returned to the pool since it was paid.
    pub returned: i64,
    /// `filed | approved | rejected`
    pub status: String,
    pub reason: Option<String>,
    pub filed_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
