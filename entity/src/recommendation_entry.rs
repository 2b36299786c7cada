use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recommendation_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub list_id: i64,
    pub enterprise_id: i64,
    /// 1-based, in the order the list gives.
    pub position: i32,
    /// The enterprise's score when the list was made, in hundredths.
    pub score: Option<i32>,
    /// The enterprise's stated need: amount in fen, term, purpose.
    pub amount: Option<i64>,
    pub term_months: Option<i32>,
    pub purpose: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
