use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub application_id: i64,
    pub enterprise_id: i64,
    pub bank_id: i64,
    pub product_id: i64,
    pub park_id: i64,
    /// Granted, in fen.
    pub amount: i64,
    /// Drawn so far, in fen; never above `amount` unless the line is revolving.
    pub disbursed_total: i64,
    pub rate_bps: i32,
    pub term_months: i32,
    pub granted_at: DateTimeUtc,
    pub expires_on: Date,
    /// `active | closed`; an active line past `expires_on` reads as expired.
    pub status: String,
    /// Calendar days from submission to approval.
    pub approval_days: i32,
    /// Working days (Monday to Friday) from submission to approval.
    pub approval_working_days: i32,
    /// The approval took longer than the product's `approval_sla_days`.
    pub sla_breached: bool,
    /// Repaid principal may be drawn again (循环授信).
    pub revolving: bool,
    /// Drawn less principal repaid, in fen; never above `amount`.
    pub principal_outstanding: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
