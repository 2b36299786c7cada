use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bank_id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
    /// `pure_credit | guaranteed | ip_pledge`
    pub credit_type: String,
    pub min_amount: i64,
    pub max_amount: i64,
    pub rate_bps_min: i32,
    pub rate_bps_max: i32,
    pub term_months_min: i32,
    pub term_months_max: i32,
    pub approval_sla_days: i32,
    pub total_quota: i64,
    /// Credit granted so far against `total_quota`, in fen.
    pub granted_total: i64,
    /// The eligibility rules, as JSON.
    pub eligibility: Json,
    /// `[{min_score, max_amount}]`, scores in hundredths.
    pub amount_tiers: Json,
    /// `draft | published | suspended | retired`
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    /// Its lines are revolving: repaid principal may be drawn again.
    pub revolving: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
