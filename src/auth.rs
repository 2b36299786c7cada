//! Authentication of API keys, without a database round trip on every request.
//!
//! A verified key is remembered in process for `auth_cache_ttl` (4 s by default). A key revoked
//! through any process is therefore refused by every process within that time; the process that
//! revoked it forgets it at once.

use std::time::Duration;

use moka::future::Cache;
use sea_orm::DatabaseConnection;
use subtle::ConstantTimeEq;

use crate::domain::{Principal, Role, Scope};
use crate::store::{self, StoreError, api_keys};

#[derive(Clone)]
struct KnownKey {
    id: i64,
    scope: Scope,
    secret_hash: String,
}

#[derive(Clone)]
pub struct Authenticator {
    db: DatabaseConnection,
    /// prefix → the live key with that prefix, or `None` when there is none (or it is revoked).
    keys: Cache<String, Option<KnownKey>>,
}

impl Authenticator {
    pub fn new(db: DatabaseConnection, ttl: Duration) -> Self {
        let keys = Cache::builder().max_capacity(100_000).time_to_live(ttl).build();
        Self { db, keys }
    }

    /// The caller a presented key stands for, or `None` when the key is unknown or revoked.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<Principal>, StoreError> {
        let Some(prefix) = api_keys::prefix_of(presented) else {
            return Ok(None);
        };
        let db = &self.db;
        let known = self
            .keys
            .try_get_with(prefix.to_owned(), async move {
                let Some(row) = api_keys::find_by_prefix(db, prefix).await? else {
                    return Ok::<_, StoreError>(None);
                };
                if row.revoked_at.is_some() {
                    return Ok(None);
                }
                let role = store::decode(Role::parse, "api_keys", row.id, "role", &row.role)?;
                let scope = Scope::from_parts(role, row.park_id, row.bank_id, row.enterprise_id).ok_or_else(
                    || store::corrupt("api_keys", row.id, "scope", &format!("{role} without its one id")),
                )?;
                Ok(Some(KnownKey { id: row.id, scope, secret_hash: row.secret_hash }))
            })
            .await
            .map_err(StoreError::from_shared)?;
        let Some(known) = known else {
            return Ok(None);
        };
        let presented_hash = api_keys::hash_key(presented);
        let matches: bool = presented_hash.as_bytes().ct_eq(known.secret_hash.as_bytes()).into();
        Ok(matches.then_some(Principal { key_id: known.id, scope: known.scope }))
    }

    /// Forgets every remembered key with this prefix, after a revocation through this process.
    pub async fn forget(&self, prefix: &str) {
        self.keys.invalidate(prefix).await;
    }
}
