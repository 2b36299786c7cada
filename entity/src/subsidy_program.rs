use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "subsidy_programs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub park_id: i64,
    pub name: String,
    /// The share of interest repaid that is returned, in basis points.
    pub share_bps: i32,
    /// Added to the share for interest repaid on the enterprise's first loan, in basis points.
    pub first_loan_bonus_bps: i32,
    /// The most one enterprise receives from the programme, in fen.
    pub per_enterprise_cap: i64,
    /// In fen; `paid` never passes it.
    pub budget: i64,
    /// Approved claims, in fen.
    pub paid: i64,
    /// The eligibility rules, as JSON.
    pub eligibility: Json,
    /// Interest repaid from `from_day` to `to_day` counts.
    pub from_day: Date,
    pub to_day: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
