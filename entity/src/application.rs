use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub enterprise_id: i64,
    pub product_id: i64,
    pub bank_id: i64,
    pub park_id: i64,
    /// Requested, in fen.
    pub amount: i64,
    pub term_months: i32,
    pub purpose: String,
    /// `submitted | under_review | approved | rejected | withdrawn`
    pub status: String,
    /// The product's terms it was judged on.
    pub terms: Json,
    pub score_period: Option<String>,
    pub score_centi: Option<i32>,
    /// What the enterprise could borrow when it applied, in fen.
    pub offer_max_amount: i64,
    pub submitted_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub decision_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
