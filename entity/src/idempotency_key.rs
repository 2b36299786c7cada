use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub api_key_id: i64,
    pub key: String,
    pub method: String,
    pub path: String,
    /// SHA-256 of the request body, hex.
    pub request_hash: String,
    /// `in_flight | completed`
    pub state: String,
    /// While `in_flight`, the first request owns the key until then; a crashed request's key
    /// can be taken over after it.
    pub locked_until: DateTimeUtc,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
