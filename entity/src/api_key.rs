use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// `admin | park_office | bank | enterprise`
    pub role: String,
    pub park_id: Option<i64>,
    pub bank_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    /// The public part of the key, used to find it.
    #[sea_orm(unique)]
    pub prefix: String,
    /// SHA-256 of the whole key, hex. The key itself is never stored.
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
