//! API keys. Only a SHA-256 hash of each key is stored; the key is shown once, at creation.

use entity::api_key;
use rand::{Rng, distr::Alphanumeric};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::{Page, StoreError};
use crate::domain::{Role, Scope, directory::ApiKey};

/// Every key reads `ilk_<prefix>_<secret>`: the prefix finds the row, the hash proves the secret.
pub const KEY_MARK: &str = "ilk_";
const PREFIX_LEN: usize = 12;
const SECRET_LEN: usize = 40;

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Splits a presented key into its prefix, refusing anything not shaped like one of ours.
pub fn prefix_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_MARK)?;
    let (prefix, secret) = rest.split_once('_')?;
    let well_formed = prefix.len() == PREFIX_LEN
        && secret.len() == SECRET_LEN
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    well_formed.then_some(prefix)
}

/// Reads a stored key: its role and its one scope id, or a corrupt row.
pub fn key_of(row: api_key::Model) -> Result<ApiKey, StoreError> {
    let role = super::decode(Role::parse, "api_keys", row.id, "role", &row.role)?;
    let scope = Scope::from_parts(role, row.park_id, row.bank_id, row.enterprise_id)
        .ok_or_else(|| super::corrupt("api_keys", row.id, "scope", &format!("{role} without its one id")))?;
    Ok(ApiKey {
        id: row.id,
        name: row.name,
        scope,
        prefix: row.prefix,
        created_at: row.created_at,
        revoked_at: row.revoked_at,
    })
}

fn random_text(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

/// A newly made key: the stored row and the secret, which is never available again.
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

pub async fn create(db: &impl ConnectionTrait, name: String, scope: Scope) -> Result<CreatedKey, StoreError> {
    let prefix = random_text(PREFIX_LEN).to_ascii_lowercase();
    let secret = format!("{KEY_MARK}{prefix}_{}", random_text(SECRET_LEN));
    let (park_id, bank_id, enterprise_id) = match scope {
        Scope::All => (None, None, None),
        Scope::Park(id) => (Some(id), None, None),
        Scope::Bank(id) => (None, Some(id), None),
        Scope::Enterprise(id) => (None, None, Some(id)),
    };
    let key = api_key::ActiveModel {
        name: Set(name),
        role: Set(scope.role().as_str().to_owned()),
        park_id: Set(park_id),
        bank_id: Set(bank_id),
        enterprise_id: Set(enterprise_id),
        prefix: Set(prefix),
        secret_hash: Set(hash_key(&secret)),
        created_at: Set(super::now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(CreatedKey { key: key_of(key)?, secret })
}

pub async fn find_by_prefix(
    db: &impl ConnectionTrait,
    prefix: &str,
) -> Result<Option<api_key::Model>, StoreError> {
    Ok(api_key::Entity::find().filter(api_key::Column::Prefix.eq(prefix)).one(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<ApiKey, StoreError> {
    key_of(api_key::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

pub async fn list(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<ApiKey>, StoreError> {
    super::page_by_id(db, api_key::Entity::find(), api_key::Column::Id, after, limit, |k| k.id)
        .await?
        .try_map(key_of)
}

/// Revokes a key. A key already revoked is gone as far as callers are concerned.
pub async fn revoke(db: &impl ConnectionTrait, id: i64) -> Result<ApiKey, StoreError> {
    let key = api_key::Entity::find_by_id(id)
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut active: api_key::ActiveModel = key.into();
    active.revoked_at = Set(Some(super::now()));
    let key = active.update(db).await?;
    key_of(key)
}
