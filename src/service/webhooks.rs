//! Webhook endpoints: registered, edited, rotated and deleted by their owners; and the recording
//! of each delivery attempt, which may give up on a delivery and disable its endpoint.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use rand::RngCore;

use super::{Effect, Result, Services, Write, require};
use crate::delivery::{CheckedTarget, Webhooks};
use crate::domain::{
    Principal, Role,
    events::{Audience, EventType},
    webhook::{Attempt, Endpoint, Outcome, ROTATION_OVERLAP},
};
use crate::store::{
    self, StoreError,
    audit::Actor,
    webhooks::{Leased, NewEndpoint, Next},
};

const EVERYONE: &[Role] = &[Role::ParkOffice, Role::Bank, Role::Enterprise];

/// A new signing secret: `whsec_` and 32 random bytes.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What a new endpoint is for.
pub struct NewEndpointInput {
    pub target: CheckedTarget,
    pub description: String,
    pub event_types: Vec<EventType>,
}

/// Registers an endpoint for the caller's own events. The secret is in the answer, and only
/// sealed in the database.
pub async fn create_endpoint(
    w: &mut Write<'_>,
    principal: Principal,
    webhooks: &Webhooks,
    new: NewEndpointInput,
) -> Result<(Endpoint, String)> {
    require(principal, EVERYONE, "manage webhook endpoints")?;
    let secret = new_secret();
    let endpoint = store::webhooks::create(
        w.txn(),
        NewEndpoint {
            url: new.target.as_str().to_owned(),
            description: new.description,
            event_types: new.event_types,
            owner: principal.scope,
            sealed_secret: webhooks.secrets().seal(&secret),
        },
        store::now(),
    )
    .await?;
    w.audit("webhook_endpoint.create", "webhook_endpoint", endpoint.id).await?;
    Ok((endpoint, secret))
}

/// The changes of a `PATCH`; `None` leaves a field as it is.
#[derive(Default)]
pub struct EndpointPatch {
    pub target: Option<CheckedTarget>,
    pub description: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub enabled: Option<bool>,
}

pub async fn update_endpoint(
    w: &mut Write<'_>,
    principal: Principal,
    id: i64,
    patch: EndpointPatch,
) -> Result<Endpoint> {
    require(principal, EVERYONE, "manage webhook endpoints")?;
    let mut endpoint = store::webhooks::get_for_update(w.txn(), principal.scope, id).await?;
    if let Some(target) = patch.target {
        endpoint.url = target.as_str().to_owned();
    }
    if let Some(description) = patch.description {
        endpoint.description = description;
    }
    if let Some(types) = patch.event_types {
        endpoint.event_types = types;
    }
    if let Some(enabled) = patch.enabled {
        endpoint.enabled = enabled;
        if enabled {
            endpoint.disabled_reason = None;
        }
    }
    let saved = store::webhooks::save(w.txn(), &endpoint, store::now()).await?;
    w.audit("webhook_endpoint.update", "webhook_endpoint", id).await?;
    Ok(saved)
}

/// Deletes an endpoint: nothing more is sent to it, and deliveries still waiting are dropped.
pub async fn delete_endpoint(w: &mut Write<'_>, principal: Principal, id: i64) -> Result<()> {
    require(principal, EVERYONE, "manage webhook endpoints")?;
    store::webhooks::get_for_update(w.txn(), principal.scope, id).await?;
    store::webhooks::delete(w.txn(), id, store::now()).await?;
    w.audit("webhook_endpoint.delete", "webhook_endpoint", id).await?;
    Ok(())
}

/// Gives an endpoint a new secret. The secret it had keeps signing beside the new one for 24
/// hours, so that a receiver can switch without missing an event; a secret older than that stops
/// signing now.
pub async fn rotate_secret(
    w: &mut Write<'_>,
    principal: Principal,
    webhooks: &Webhooks,
    id: i64,
) -> Result<(Endpoint, String)> {
    require(principal, EVERYONE, "manage webhook endpoints")?;
    let mut endpoint = store::webhooks::get_for_update(w.txn(), principal.scope, id).await?;
    let secret = new_secret();
    let now = store::now();
    endpoint.sealed_previous_secret =
        Some(std::mem::replace(&mut endpoint.sealed_secret, webhooks.secrets().seal(&secret)));
    endpoint.previous_secret_until =
        Some(now + chrono::Duration::from_std(ROTATION_OVERLAP).unwrap_or(chrono::Duration::days(1)));
    let saved = store::webhooks::save(w.txn(), &endpoint, now).await?;
    w.audit("webhook_endpoint.rotate_secret", "webhook_endpoint", id).await?;
    Ok((saved, secret))
}

/// Sends the event of a logged attempt to its endpoint again, now. Answers the event's id and
/// when it is due.
pub async fn retry(
    w: &mut Write<'_>,
    principal: Principal,
    endpoint_id: i64,
    attempt_id: i64,
) -> Result<(i64, DateTime<Utc>)> {
    require(principal, EVERYONE, "manage webhook endpoints")?;
    let endpoint = store::webhooks::get(w.txn(), principal.scope, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(StoreError::WrongState(
            "the endpoint is disabled; enable it (PATCH enabled: true) before sending to it".into(),
        )
        .into());
    }
    let due = store::webhooks::retry_now(w.txn(), endpoint_id, attempt_id, store::now()).await?;
    w.audit("webhook_delivery.retry", "webhook_attempt", attempt_id).await?;
    w.after_commit(Effect::DeliveriesWaiting);
    Ok(due)
}

/// Records one attempt of a leased delivery and moves the delivery on: delivered; due again
/// after the next delay of the retry schedule (stretched by a random fifth at most); or, when the
/// schedule is spent, failed. When the delivery that spent its whole schedule is one the endpoint
/// never succeeded with since it began (about three days with the default schedule), the
/// endpoint is disabled and a `webhook_endpoint.disabled` event tells its owner.
pub async fn record_attempt(
    services: &Services,
    leased: &Leased,
    endpoint: &Endpoint,
    outcome: Outcome,
    started_at: DateTime<Utc>,
    latency: Duration,
) -> Result<Next> {
    let attempt_number = leased.attempts.saturating_add(1);
    let attempt = Attempt {
        id: 0,
        delivery_id: leased.delivery_id,
        endpoint_id: leased.endpoint_id,
        event_id: leased.event_id,
        attempt: attempt_number,
        status_code: outcome.status(),
        latency_ms: u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        error: outcome.error().map(|e| e.chars().take(500).collect()),
        created_at: started_at,
    };
    let schedule = services.webhooks().schedule().clone();
    let next = if outcome.delivered() {
        Next::Delivered
    } else {
        match schedule.after(attempt_number, rand::random::<f64>()) {
            Some(delay) => Next::RetryAt(
                store::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::days(1)),
            ),
            None => Next::Failed,
        }
    };
    // Whether this failure spends the whole schedule; `disable` then checks, in the same
    // statement, that the endpoint has had no success since the delivery's first attempt.
    let failing_since = leased.first_attempt_at.unwrap_or(started_at);
    let gave_up_for_good =
        next == Next::Failed && usize::try_from(attempt_number).is_ok_and(|n| n == schedule.attempts());
    services
        .write(Actor::command_line(), async |w| {
            let moved = store::webhooks::record_attempt(w.txn(), leased, &attempt, next, store::now()).await?;
            if moved && gave_up_for_good {
                let reason = format!(
                    "every attempt to deliver event {} failed over the whole retry schedule, with no success in between",
                    crate::domain::events::Event::public_id(leased.event_id)
                );
                if store::webhooks::disable(w.txn(), endpoint.id, &reason, failing_since, store::now()).await? {
                    let disabled = store::webhooks::get(w.txn(), crate::domain::Scope::All, endpoint.id).await?;
                    w.audit("webhook_endpoint.disable", "webhook_endpoint", endpoint.id).await?;
                    w.event(EventType::WebhookEndpointDisabled, Audience::of(endpoint.owner), &disabled);
                    tracing::warn!(endpoint_id = endpoint.id, "{reason}; the endpoint is disabled");
                }
            }
            Ok(())
        })
        .await?;
    Ok(next)
}
