use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enterprises")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uscc: String,
    pub name: String,
    pub park_id: i64,
    pub industry: String,
    /// `micro | small | medium | large`
    pub size: String,
    pub founded_on: Date,
    /// A JSON array of qualification names.
    pub qualifications: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::park::Entity", from = "Column::ParkId", to = "super::park::Column::Id")]
    Park,
}

impl Related<super::park::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Park.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
