use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subsidy_claims")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub program_id: i64,
    pub park_id: i64,
    pub enterprise_id: i64,
    /// The window of repayments claimed for.
    pub from_day: Date,
    pub to_day: Date,
    /// Interest repaid that the claim counts, in fen.
    pub interest_basis: i64,
    /// The part of `interest_basis` repaid on the enterprise's first loan.
    pub bonus_basis: i64,
    /// How many repayments it counts.
    pub repayments: i32,
    /// What it pays, in fen.
    pub amount: i64,
    /// `filed | approved | rejected`
    pub status: String,
    pub reason: Option<String>,
    pub filed_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
