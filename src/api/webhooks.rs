//! Webhook endpoints: each party registers where its events go, sees every attempt, and can send
//! one again.

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::ToJSON,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    error::{ApiError, ApiResult, not_found_as},
    idempotency::{Created, Idempotency, IdempotencyKey, body_hash},
    json::JsonBody,
    pagination::{List, after_id, default_limit, parse_id},
    text,
};
use crate::delivery::{CheckedTarget, TargetError};
use crate::domain::{
    events::{Event, EventType},
    webhook::{Attempt, Endpoint, MAX_EVENT_TYPES},
};
use crate::service::{
    Render,
    webhooks::{self, EndpointPatch, NewEndpointInput},
};
use crate::store;

/// Where a party's events are sent.
#[derive(Object, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookEndpoint {
    pub id: String,
    /// Events are `POST`ed here.
    pub url: String,
    pub description: String,
    /// The types sent to this endpoint.
    pub event_types: Vec<EventType>,
    /// A disabled endpoint is sent nothing. The service disables an endpoint that failed for a
    /// whole retry schedule (about three days), and says why in `disabled_reason`.
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// The owner: a park office's endpoint has `park_id`, a bank's `bank_id`, an enterprise's
    /// `enterprise_id`; an admin's has none and receives every event.
    pub park_id: Option<String>,
    pub bank_id: Option<String>,
    pub enterprise_id: Option<String>,
    /// During a rotation: until then, the previous secret signs beside the new one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// The last time a delivery succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Endpoint> for WebhookEndpoint {
    fn from(e: &Endpoint) -> Self {
        let (park_id, bank_id, enterprise_id) = e.owner.ids();
        let text = |id: Option<i64>| id.map(|id| id.to_string());
        Self {
            id: e.id.to_string(),
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.event_types.clone(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            park_id: text(park_id),
            bank_id: text(bank_id),
            enterprise_id: text(enterprise_id),
            previous_secret_expires_at: e.previous_secret_until.filter(|until| *until > Utc::now()),
            last_success_at: e.last_success_at,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl Render for Endpoint {
    fn render(&self) -> String {
        WebhookEndpoint::from(self).to_json_string()
    }
}

/// An endpoint with its signing secret, shown this once.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookEndpointWithSecret {
    #[oai(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: check `Innoloan-Signature` with it. Store it now: it cannot be shown again,
    /// and an idempotent replay of the request answers without it.
    pub secret: Option<String>,
}

#[derive(Object)]
pub struct NewWebhookEndpoint {
    /// `https://` (or `http://`) on a public address. Redirects are not followed.
    #[oai(validator(min_length = 1, max_length = 2048))]
    pub url: String,
    /// The types to send; at least one.
    #[oai(validator(min_items = 1, max_items = 64))]
    pub event_types: Vec<EventType>,
    /// What the endpoint is for.
    #[oai(validator(max_length = 500))]
    pub description: Option<String>,
}

/// The fields to change; absent fields stay as they are.
#[derive(Object)]
pub struct WebhookEndpointPatch {
    #[oai(validator(min_length = 1, max_length = 2048))]
    pub url: Option<String>,
    #[oai(validator(min_items = 1, max_items = 64))]
    pub event_types: Option<Vec<EventType>>,
    /// `true` sends again, `false` pauses: events written meanwhile are not sent to it.
    pub enabled: Option<bool>,
    #[oai(validator(max_length = 500))]
    pub description: Option<String>,
}

/// One attempt to deliver one event.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookDelivery {
    /// The attempt's id: `POST …/deliveries/{id}/retry` sends its event again.
    pub id: String,
    pub event_id: String,
    /// 1 for the first attempt at this event, 2 for the first retry, …
    pub attempt: u32,
    /// The receiver's HTTP status; absent when it never answered.
    pub status_code: Option<u16>,
    /// From sending to the answer (or the failure).
    pub latency_ms: u64,
    /// What went wrong; absent for a 2xx answer.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Attempt> for WebhookDelivery {
    fn from(a: Attempt) -> Self {
        Self {
            id: a.id.to_string(),
            event_id: Event::public_id(a.event_id),
            attempt: a.attempt,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error: a.error,
            created_at: a.created_at,
        }
    }
}

/// A delivery scheduled again.
#[derive(Object)]
pub struct WebhookRetry {
    pub endpoint_id: String,
    pub event_id: String,
    /// When a worker picks it up: now.
    pub due_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum EndpointDeleted {
    /// The endpoint is deleted; deliveries still waiting for it are dropped.
    #[oai(status = 204)]
    Deleted,
}

#[derive(ApiResponse)]
pub enum RetryAccepted {
    /// The event goes out again within a second.
    #[oai(status = 202)]
    Accepted(Json<WebhookRetry>),
}

/// The types, once each, in the order given.
fn distinct(types: Vec<EventType>) -> Vec<EventType> {
    let mut seen = Vec::with_capacity(types.len().min(MAX_EVENT_TYPES));
    for t in types {
        if !seen.contains(&t) {
            seen.push(t);
        }
    }
    seen
}

async fn checked_target(state: &AppState, url: &str) -> Result<CheckedTarget, ApiError> {
    state.services.webhooks().check_target(url).await.map_err(|err| match err {
        TargetError::Refused(why) => ApiError::invalid_field("url", why),
        TargetError::Unavailable(why) => ApiError::unavailable(why),
    })
}

pub struct WebhooksApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Register a webhook endpoint
    ///
    /// The caller's events of the chosen types are `POST`ed to `url`, signed with the secret in
    /// the answer (shown this once). A URL on a loopback, private, link-local or metadata address
    /// is refused (422). Each owner has at most 16 endpoints (409 beyond).
    #[oai(path = "/webhook-endpoints", method = "post", operation_id = "create_webhook_endpoint")]
    async fn create_webhook_endpoint(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response (without the secret).
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewWebhookEndpoint>,
    ) -> ApiResult<Created<WebhookEndpointWithSecret>> {
        let fingerprint = body_hash(&body.0);
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, fingerprint);
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let body = body.0;
        let new = NewEndpointInput {
            target: checked_target(&state, &body.url).await?,
            description: text::paragraph("description", body.description.unwrap_or_default())?,
            event_types: distinct(body.event_types),
        };
        let without_secret = |created: &WebhookEndpointWithSecret| {
            WebhookEndpointWithSecret { endpoint: created.endpoint.clone(), secret: None }.to_json_string()
        };
        let webhooks = state.services.webhooks().clone();
        let outcome = idempotency
            .run_remembering(201, without_secret, async |w| {
                let (endpoint, secret) =
                    webhooks::create_endpoint(w, caller.principal(), &webhooks, new).await?;
                Ok(WebhookEndpointWithSecret { endpoint: (&endpoint).into(), secret: Some(secret) })
            })
            .await?;
        Ok(Created::new(outcome))
    }

    /// List webhook endpoints
    ///
    /// The caller's own endpoints; an admin sees every one.
    #[oai(path = "/webhook-endpoints", method = "get", operation_id = "list_webhook_endpoints")]
    async fn list_webhook_endpoints(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        /// How many endpoints to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<WebhookEndpoint>>> {
        let after = after_id(cursor.0.as_deref())?;
        let page = store::webhooks::list(state.db(), caller.principal().scope, after, limit.0).await?;
        Ok(Json(List::from_page(page, |e| WebhookEndpoint::from(&e))))
    }

    /// Read a webhook endpoint
    #[oai(path = "/webhook-endpoints/:id", method = "get", operation_id = "get_webhook_endpoint")]
    async fn get_webhook_endpoint(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<WebhookEndpoint>> {
        let id = parse_id(&id.0, "the webhook endpoint")?;
        let endpoint = store::webhooks::get(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| not_found_as(e, "the webhook endpoint"))?;
        Ok(Json((&endpoint).into()))
    }

    /// Change a webhook endpoint
    ///
    /// Change its URL, its types, its description, or pause and resume it (`enabled`).
    /// Resuming an endpoint the service disabled clears `disabled_reason`.
    #[oai(path = "/webhook-endpoints/:id", method = "patch", operation_id = "update_webhook_endpoint")]
    async fn update_webhook_endpoint(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        body: JsonBody<WebhookEndpointPatch>,
    ) -> ApiResult<Json<WebhookEndpoint>> {
        let id = parse_id(&id.0, "the webhook endpoint")?;
        let body = body.0;
        let target = match body.url.as_deref() {
            Some(url) => Some(checked_target(&state, url).await?),
            None => None,
        };
        let patch = EndpointPatch {
            target,
            description: body.description.map(|d| text::paragraph("description", d)).transpose()?,
            event_types: body.event_types.map(distinct),
            enabled: body.enabled,
        };
        let endpoint = state
            .write(&caller, async |w| webhooks::update_endpoint(w, caller.principal(), id, patch).await)
            .await
            .map_err(|e| e.naming("the webhook endpoint"))?;
        Ok(Json((&endpoint).into()))
    }

    /// Delete a webhook endpoint
    #[oai(path = "/webhook-endpoints/:id", method = "delete", operation_id = "delete_webhook_endpoint")]
    async fn delete_webhook_endpoint(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<EndpointDeleted> {
        let id = parse_id(&id.0, "the webhook endpoint")?;
        state
            .write(&caller, async |w| webhooks::delete_endpoint(w, caller.principal(), id).await)
            .await
            .map_err(|e| e.naming("the webhook endpoint"))?;
        Ok(EndpointDeleted::Deleted)
    }

    /// Rotate an endpoint's signing secret
    ///
    /// Answers the new secret, this once. For 24 hours the previous secret signs too: each
    /// delivery then carries two `v1=` signatures, so that the receiver can switch secrets
    /// without missing an event.
    #[oai(
        path = "/webhook-endpoints/:id/rotate-secret",
        method = "post",
        operation_id = "rotate_webhook_secret"
    )]
    async fn rotate_webhook_secret(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<WebhookEndpointWithSecret>> {
        let id = parse_id(&id.0, "the webhook endpoint")?;
        let webhooks = state.services.webhooks().clone();
        let (endpoint, secret) = state
            .write(&caller, async |w| webhooks::rotate_secret(w, caller.principal(), &webhooks, id).await)
            .await
            .map_err(|e| e.naming("the webhook endpoint"))?;
        Ok(Json(WebhookEndpointWithSecret { endpoint: (&endpoint).into(), secret: Some(secret) }))
    }

    /// List an endpoint's delivery attempts
    ///
    /// Every attempt to send an event to the endpoint, oldest first: its HTTP status, how long it
    /// took, and what went wrong.
    #[oai(
        path = "/webhook-endpoints/:id/deliveries",
        method = "get",
        operation_id = "list_webhook_deliveries"
    )]
    async fn list_webhook_deliveries(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// How many attempts to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<WebhookDelivery>>> {
        let id = parse_id(&id.0, "the webhook endpoint")?;
        let after = after_id(cursor.0.as_deref())?;
        store::webhooks::get(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| not_found_as(e, "the webhook endpoint"))?;
        let page = store::webhooks::attempts(state.db(), id, after, limit.0).await?;
        Ok(Json(List::from_page(page, WebhookDelivery::from)))
    }

    /// Send an event again
    ///
    /// Sends the event of the attempt `delivery_id` to the endpoint again, now, whatever became
    /// of it before. 409 while it is being sent.
    #[oai(
        path = "/webhook-endpoints/:id/deliveries/:delivery_id/retry",
        method = "post",
        operation_id = "retry_webhook_delivery"
    )]
    async fn retry_webhook_delivery(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        delivery_id: Path<String>,
    ) -> ApiResult<RetryAccepted> {
        let endpoint_id = parse_id(&id.0, "the webhook endpoint")?;
        let attempt_id = parse_id(&delivery_id.0, "the delivery")?;
        let (event_id, due_at) = state
            .write(&caller, async |w| webhooks::retry(w, caller.principal(), endpoint_id, attempt_id).await)
            .await
            .map_err(|e| e.naming("the webhook endpoint or delivery"))?;
        Ok(RetryAccepted::Accepted(Json(WebhookRetry {
            endpoint_id: endpoint_id.to_string(),
            event_id: Event::public_id(event_id),
            due_at,
        })))
    }
}
