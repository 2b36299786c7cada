//! `Idempotency-Key` for every POST that creates a record: the same key from the same API key
//! with the same body replays the first response with `Idempotent-Replayed: true`.

use poem_openapi::{
    ApiResponse,
    payload::Json,
    types::{ParseFromJSON, ToJSON},
};
use sha2::{Digest, Sha256};

use super::{
    AppState,
    auth::Caller,
    error::{ApiError, ErrorCode},
};
use crate::service::{self, Write};
use crate::store::{
    self,
    audit::Actor,
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

/// An action that moved money, done by the request or by its first try.
#[derive(ApiResponse)]
pub enum Done<T: ToJSON + ParseFromJSON + Send + Sync> {
    /// Done. On an idempotent replay, the first response, with `Idempotent-Replayed: true`.
    #[oai(status = 200)]
    Done(
        Json<T>,
        /// `true` when this is the stored response of an earlier request with the same key.
        #[oai(header = "Idempotent-Replayed")]
        Option<bool>,
    ),
}

impl<T: ToJSON + ParseFromJSON + Send + Sync> Done<T> {
    pub fn new(outcome: Outcome<T>) -> Self {
        match outcome {
            Outcome::Fresh(value) => Done::Done(Json(value), None),
            Outcome::Replayed(value) => Done::Done(Json(value), Some(true)),
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

/// One creating request and its `Idempotency-Key`, if it sent one.
///
/// A handler makes it first, asks [`Idempotency::replay`] before it checks anything (so that a
/// replay answers what the first request answered, whatever has changed since), then runs its
/// effect with [`Idempotency::run`].
pub struct Idempotency<'a> {
    state: &'a AppState,
    actor: Actor,
    api_key_id: i64,
    key: Option<String>,
    path: String,
    body_hash: String,
}

impl<'a> Idempotency<'a> {
    pub fn new(
        state: &'a AppState,
        caller: &Caller,
        key: Option<String>,
        req: &poem::Request,
        body_hash: String,
    ) -> Self {
        Self {
            state,
            actor: caller.actor(),
            api_key_id: caller.principal().key_id,
            key,
            path: req.uri().path().to_owned(),
            body_hash,
        }
    }

    fn request(&self) -> Option<Request<'_>> {
        Some(Request {
            api_key_id: self.api_key_id,
            key: self.key.as_deref()?,
            method: "POST",
            path: &self.path,
            body_hash: &self.body_hash,
        })
    }

    /// The stored response when the key's first request has finished; 409 while it runs, 422
    /// when the key was used for another request.
    pub async fn replay<T: ParseFromJSON>(&self) -> Result<Option<Outcome<T>>, ApiError> {
        let Some(request) = self.request() else { return Ok(None) };
        match store::idempotency::peek(self.state.db(), &request).await? {
            None | Some(Claim::Fresh { .. }) => Ok(None),
            Some(claim) => answer(claim).map(Some),
        }
    }

    /// Runs a use case in one transaction. With a key, it first claims the key, and records the
    /// response in that same transaction, so that a response is remembered exactly when its
    /// effect happened.
    pub async fn run<T>(
        self,
        status: u16,
        work: impl AsyncFnOnce(&mut Write<'_>) -> service::Result<T>,
    ) -> Result<Outcome<T>, ApiError>
    where
        T: ToJSON + ParseFromJSON,
    {
        self.run_remembering(status, |value: &T| value.to_json_string(), work).await
    }

    /// Like [`Idempotency::run`], storing `remember(response)` for replays instead of the whole
    /// response: for responses that hold a secret shown once only.
    pub async fn run_remembering<T>(
        self,
        status: u16,
        remember: impl Fn(&T) -> String,
        work: impl AsyncFnOnce(&mut Write<'_>) -> service::Result<T>,
    ) -> Result<Outcome<T>, ApiError>
    where
        T: ToJSON + ParseFromJSON,
    {
        let services = &self.state.services;
        let claimed = match self.request() {
            None => None,
            Some(request) => match store::idempotency::claim(services.db(), &request).await? {
                Claim::Fresh { id, lease } => Some((id, lease)),
                other => return answer(other),
            },
        };
        let finish = async |txn: &_, value: &T| {
            if let Some((id, lease)) = claimed {
                store::idempotency::complete(txn, id, lease, status, &remember(value)).await?;
            }
            Ok(())
        };
        match services.write_then(self.actor.clone(), work, finish).await {
            Ok(value) => Ok(Outcome::Fresh(value)),
            Err(err) => {
                if let Some((id, lease)) = claimed
                    && let Err(release) = store::idempotency::release(services.db(), id, lease).await
                {
                    tracing::warn!(error = %release, "could not release an idempotency key; it lapses with its lease");
                }
                Err(err.into())
            }
        }
    }
}

/// The answer to a key that is not this request's to run.
fn answer<T: ParseFromJSON>(claim: Claim) -> Result<Outcome<T>, ApiError> {
    match claim {
        Claim::Replay { body, .. } => {
            let value = serde_json::from_str(&body).ok();
            T::parse_from_json(value).map(Outcome::Replayed).map_err(|_| ApiError::internal())
        }
        Claim::InFlight => Err(ApiError::conflict(
            ErrorCode::IdempotencyKeyInFlight,
            "a request with this Idempotency-Key is still running; retry when it has answered",
        )),
        Claim::Mismatch => Err(ApiError::unprocessable(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was used for a different request; use a new key for a new request",
            Vec::new(),
        )),
        Claim::Fresh { .. } => Err(ApiError::internal()),
    }
}
