use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disbursements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub credit_line_id: i64,
    pub bank_id: i64,
    pub park_id: i64,
    pub enterprise_id: i64,
    pub product_id: i64,
    /// In fen.
    pub amount: i64,
    /// The bank's own reference, unique per bank.
    pub reference: String,
    pub disbursed_on: Date,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
