use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_installments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub loan_id: i64,
    /// 1 for the first installment.
    #[sea_orm(primary_key, auto_increment = false)]
    pub n: i32,
    pub due_date: Date,
    pub principal: i64,
    pub interest: i64,
    pub paid_principal: i64,
    pub paid_interest: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
