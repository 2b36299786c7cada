//! Idempotency keys, kept in the database so that every server process honours them.
//!
//! A request with a key first claims it in a transaction of its own. It then records its response
//! in the same transaction as its effect, so a response is remembered exactly when its effect
//! happened. A request that fails releases its claim; one that crashes leaves a claim that lapses
//! after its lease.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::idempotency_key;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};

use super::StoreError;

/// How long a first request owns its key before another may take it over.
pub const LEASE: Duration = Duration::from_secs(60);
/// How long a key is remembered.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);

/// The request a key was first used for.
pub struct Request<'a> {
    pub api_key_id: i64,
    pub key: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub body_hash: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's until `lease`: run it, then `complete` in the effect's
    /// transaction.
    Fresh { id: i64, lease: DateTime<Utc> },
    /// The key's first request finished with this response.
    Replay { status: u16, body: String },
    /// The key's first request is still running.
    InFlight,
    /// The key was first used for another request (body, method or path).
    Mismatch,
}

fn lease_end(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::seconds(60))
}

pub async fn claim(db: &impl ConnectionTrait, request: &Request<'_>) -> Result<Claim, StoreError> {
    for _ in 0..3 {
        let now = super::now();
        let inserted = idempotency_key::ActiveModel {
            api_key_id: Set(request.api_key_id),
            key: Set(request.key.to_owned()),
            method: Set(request.method.to_owned()),
            path: Set(request.path.to_owned()),
            request_hash: Set(request.body_hash.to_owned()),
            state: Set("in_flight".to_owned()),
            locked_until: Set(lease_end(now)),
            response_status: Set(None),
            response_body: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await;
        let err = match inserted {
            Ok(row) => return Ok(Claim::Fresh { id: row.id, lease: row.locked_until }),
            Err(err) => err,
        };
        if !matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
            return Err(err.into());
        }
        let existing = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::ApiKeyId.eq(request.api_key_id))
            .filter(idempotency_key::Column::Key.eq(request.key))
            .one(db)
            .await?;
        // Released between our insert and this read: try to claim it again.
        let Some(existing) = existing else { continue };
        let (id, held_until) = (existing.id, existing.locked_until);
        if let Some(claim) = held(existing, request, now)? {
            return Ok(claim);
        }
        // The first request died holding the key: take it over, unless another request just did.
        let lease = lease_end(now);
        let taken = idempotency_key::Entity::update_many()
            .col_expr(idempotency_key::Column::LockedUntil, Expr::value(lease))
            .filter(idempotency_key::Column::Id.eq(id))
            .filter(idempotency_key::Column::State.eq("in_flight"))
            .filter(idempotency_key::Column::LockedUntil.eq(held_until))
            .exec(db)
            .await?;
        return Ok(if taken.rows_affected == 1 { Claim::Fresh { id, lease } } else { Claim::InFlight });
    }
    Ok(Claim::InFlight)
}

/// What a key already holds, without claiming it: `None` when it is free (or its first request
/// died and its lease ran out). A request checks this before anything else, so that a replay
/// answers what the first request answered, whatever has changed since.
pub async fn peek(db: &impl ConnectionTrait, request: &Request<'_>) -> Result<Option<Claim>, StoreError> {
    let existing = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::ApiKeyId.eq(request.api_key_id))
        .filter(idempotency_key::Column::Key.eq(request.key))
        .one(db)
        .await?;
    match existing {
        Some(existing) => held(existing, request, super::now()),
        None => Ok(None),
    }
}

/// What a key that exists means for `request`: another request's (`Mismatch`), answered
/// (`Replay`), still running (`InFlight`), or `None` when its first request died and its lease ran
/// out, so that it may be taken over.
fn held(
    existing: idempotency_key::Model,
    request: &Request<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Claim>, StoreError> {
    if existing.request_hash != request.body_hash
        || existing.method != request.method
        || existing.path != request.path
    {
        return Ok(Some(Claim::Mismatch));
    }
    if existing.state == "completed" {
        return replay_of(existing).map(Some);
    }
    Ok((existing.locked_until > now).then_some(Claim::InFlight))
}

/// The stored answer of a completed key; a completed row without one is corrupt.
fn replay_of(row: idempotency_key::Model) -> Result<Claim, StoreError> {
    match (row.response_status.and_then(|s| u16::try_from(s).ok()), row.response_body) {
        (Some(status), Some(body)) => Ok(Claim::Replay { status, body }),
        _ => Err(super::corrupt(
            "idempotency_keys",
            row.id,
            "response",
            "a completed key without its response",
        )),
    }
}

/// Records the response. Call it inside the transaction that holds the request's effect. If the
/// key's lease ran out and a retry took it over, the claim is no longer this request's: the
/// transaction must roll back, so that the effect happens once.
pub async fn complete(
    db: &impl ConnectionTrait,
    id: i64,
    lease: DateTime<Utc>,
    status: u16,
    body: &str,
) -> Result<(), StoreError> {
    let recorded = idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::State, Expr::value("completed"))
        .col_expr(idempotency_key::Column::ResponseStatus, Expr::value(i32::from(status)))
        .col_expr(idempotency_key::Column::ResponseBody, Expr::value(body.to_owned()))
        .filter(idempotency_key::Column::Id.eq(id))
        .filter(idempotency_key::Column::State.eq("in_flight"))
        .filter(idempotency_key::Column::LockedUntil.eq(lease))
        .exec(db)
        .await?;
    if recorded.rows_affected == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(
            "this request outlived its Idempotency-Key's lease and a retry took the key over; nothing was done"
                .to_owned(),
        ))
    }
}

/// Forgets a claim whose request failed, so that the client may retry with the same key; a claim
/// that a retry has taken over is the retry's, and stays.
pub async fn release(db: &impl ConnectionTrait, id: i64, lease: DateTime<Utc>) -> Result<(), StoreError> {
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Id.eq(id))
        .filter(idempotency_key::Column::State.eq("in_flight"))
        .filter(idempotency_key::Column::LockedUntil.eq(lease))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes keys older than the retention period. Returns how many went.
pub async fn purge(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let cutoff = now - chrono::Duration::from_std(RETENTION).unwrap_or(chrono::Duration::hours(24));
    let deleted = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
