//! `Idempotency-Key` for every POST that creates a record: the same key from the same API key
//! with the same body replays the first response with `Idempotent-Replayed: true`.

use poem_openapi::{
    ApiResponse,
    payload::Json,
    types::{ParseFromJSON, ToJSON},
};
use sea_orm::{DatabaseTransaction, TransactionTrait};
use sha2::{Digest, Sha256};

use super::{AppState, auth::Caller, error::ApiError};
use crate::store::{
    self,
    idempotency::{Claim, Request},
};

/// The `Idempotency-Key` header every creating POST takes.
pub type IdempotencyKey = poem_openapi::param::Header<Option<String>>;

/// A record created by the request, or the record its first try created.
#[derive(ApiResponse)]
pub enum Created<T: ToJSON + ParseFromJSON + Send + Sync> {
    /// Created. On an idempotent replay, the first response, with `Idempotent-Replayed: true`.
    #[oai(status = 201)]
    Created(
        Json<T>,
        /// `true` when this is the stored response of an earlier request with the same key.
        #[oai(header = "Idempotent-Replayed")]
        Option<bool>,
    ),
}

impl<T: ToJSON + ParseFromJSON + Send + Sync> Created<T> {
    pub fn new(outcome: Outcome<T>) -> Self {
        match outcome {
            Outcome::Fresh(value) => Created::Created(Json(value), None),
            Outcome::Replayed(value) => Created::Created(Json(value), Some(true)),
        }
    }
}

/// What an idempotent request produced.
pub enum Outcome<T> {
    Fresh(T),
    Replayed(T),
}

/// A stable hash of a request body.
pub fn body_hash(body: &impl ToJSON) -> String {
    hex::encode(Sha256::digest(body.to_json_string().as_bytes()))
}

pub fn text_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Runs `effect` in one transaction. With a key, it first claims the key, and records the
/// response in that same transaction, so that a response is remembered exactly when its effect
/// happened.
pub async fn run<T>(
    state: &AppState,
    caller: &Caller,
    key: Option<String>,
    request: (&str, &str, String),
    status: u16,
    effect: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, ApiError>,
) -> Result<Outcome<T>, ApiError>
where
    T: ToJSON + ParseFromJSON,
{
    run_remembering(state, caller, key, request, status, |value: &T| value.to_json_string(), effect).await
}

/// Like [`run`], storing `remember(response)` for replays instead of the whole response: for
/// responses that hold a secret shown once only.
pub async fn run_remembering<T>(
    state: &AppState,
    caller: &Caller,
    key: Option<String>,
    request: (&str, &str, String),
    status: u16,
    remember: impl Fn(&T) -> String,
    effect: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, ApiError>,
) -> Result<Outcome<T>, ApiError>
where
    T: ToJSON + ParseFromJSON,
{
    let (method, path, body_hash) = request;
    let claimed = match key.as_deref() {
        None => None,
        Some(key) => {
            let request =
                Request { api_key_id: caller.principal().key_id, key, method, path, body_hash: &body_hash };
            match store::idempotency::claim(&state.db, &request).await? {
                Claim::Fresh { id } => Some(id),
                Claim::Replay { body, .. } => {
                    let value = serde_json::from_str(&body).ok();
                    return T::parse_from_json(value)
                        .map(Outcome::Replayed)
                        .map_err(|_| ApiError::internal());
                }
                Claim::InFlight => {
                    return Err(ApiError::conflict(
                        "idempotency_key_in_flight",
                        "a request with this Idempotency-Key is still running; retry when it has answered",
                    ));
                }
                Claim::Mismatch => {
                    return Err(ApiError::unprocessable(
                        "idempotency_key_reused",
                        "this Idempotency-Key was used for a different request; use a new key for a new request",
                        Vec::new(),
                    ));
                }
            }
        }
    };
    let attempt = async {
        let txn = state.db.begin().await.map_err(store::StoreError::from)?;
        let value = match effect(&txn).await {
            Ok(value) => value,
            Err(err) => {
                // Explicitly, so that the connection is free before the claim is released.
                let _ = txn.rollback().await;
                return Err(err);
            }
        };
        if let Some(id) = claimed {
            store::idempotency::complete(&txn, id, status, &remember(&value)).await?;
        }
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(value)
    };
    match attempt.await {
        Ok(value) => Ok(Outcome::Fresh(value)),
        Err(err) => {
            if let Some(id) = claimed
                && let Err(release) = store::idempotency::release(&state.db, id).await
            {
                tracing::warn!(error = %release, "could not release an idempotency key; it lapses with its lease");
            }
            Err(err)
        }
    }
}
