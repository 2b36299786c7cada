use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "risk_pool_loans")]
pub struct Model {
    pub pool_id: i64,
    /// A loan is enrolled in one pool at most.
    #[sea_orm(primary_key, auto_increment = false)]
    pub loan_id: i64,
    pub enrolled_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
