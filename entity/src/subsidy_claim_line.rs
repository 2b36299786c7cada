use sea_orm::entity::prelude::*;

/// One repayment's interest counted by a claim; a repayment is counted once per programme.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subsidy_claim_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub program_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub repayment_id: i64,
    pub claim_id: i64,
    pub loan_id: i64,
    pub bank_id: i64,
    pub product_id: i64,
    /// The repayment's interest, in fen.
    pub interest: i64,
    /// Repaid on the enterprise's first loan, so it earns the bonus.
    pub first_loan: bool,
    /// What this line adds to the claim, in fen.
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
