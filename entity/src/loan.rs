use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loans")]
pub struct Model {
    /// The disbursement's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub credit_line_id: i64,
    pub enterprise_id: i64,
    pub bank_id: i64,
    pub product_id: i64,
    pub park_id: i64,
    /// In fen.
    pub amount: i64,
    pub rate_bps: i32,
    pub disbursed_on: Date,
    pub maturity_date: Date,
    /// `bullet | monthly_interest | equal_installment | equal_principal`.
    pub repayment_method: String,
    /// The bank's classification; the floor by days past due applies over it.
    pub classification: String,
    pub classification_reason: Option<String>,
    pub principal_repaid: i64,
    pub interest_repaid: i64,
    pub last_paid_on: Option<Date>,
    /// 核销: the day the bank wrote the loan off.
    pub written_off_on: Option<Date>,
    pub created_at: DateTimeUtc,
    /// The due date of the oldest installment not yet settled; none once all are. Kept by every
    /// repayment, so that the statistics need not read installments.
    pub oldest_unsettled_due: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
