use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "repayments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub loan_id: i64,
    pub bank_id: i64,
    pub amount: i64,
    pub paid_on: Date,
    /// The bank's reference, unique among its repayments.
    pub reference: String,
    pub interest_paid: i64,
    pub principal_paid: i64,
    /// Paid after the loan was written off.
    pub recovery: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::loan::Entity", from = "Column::LoanId", to = "super::loan::Column::Id")]
    Loan,
}

impl ActiveModelBehavior for ActiveModel {}
