use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_pools")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub park_id: i64,
    pub name: String,
    /// The share of a bad loan's unpaid principal the pool repays, in basis points.
    pub coverage_bps: i32,
    /// The most one claim pays, in fen.
    pub per_loan_cap: i64,
    /// Loans drawn from `enrol_from` to `enrol_to` under a covered product are enrolled.
    pub enrol_from: Date,
    pub enrol_to: Date,
    /// The sum of the pool's ledger, in fen; never below zero.
    pub balance: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
