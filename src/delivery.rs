//! Webhook delivery: the outbound HTTP client, the check that keeps it off private networks, and
//! the worker every `serve` process runs.
//!
//! **At least once, never lost.** An event's deliveries are rows written in the event's own
//! transaction (`store::events::append`). A worker leases due rows (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, so that several processes never take the same row), sends, and records the attempt
//! and the delivery's next state only while it still holds the lease. A worker that dies
//! mid-attempt leaves a lease that lapses; another worker, or itself after a restart, sends again.
//! Receivers deduplicate by event id.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, Semaphore};

use crate::domain::{
    events::Event,
    webhook::{self, Endpoint, MAX_RESPONSE_READ, Outcome, RetrySchedule, TargetUrl},
};
use crate::metrics::Metrics;
use crate::secrets::SecretBox;
use crate::service::{Services, webhooks as use_cases};
use crate::store::{self, webhooks::Leased};

/// How many attempts one process makes at once.
const CONCURRENCY: usize = 16;
/// How many deliveries one lease takes at most.
const LEASE_BATCH: u64 = 32;
/// What an attempt leaves of its lease unused, at least: time to record it.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// How long a worker that has nothing to do waits before it looks again (it is woken at once when
/// this process writes an event that someone subscribes to).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Webhook settings and the outbound client, shared by the use cases and the worker.
#[derive(Clone)]
pub struct Webhooks {
    inner: Arc<Inner>,
}

struct Inner {
    secrets: SecretBox,
    allow_private: bool,
    schedule: RetrySchedule,
    timeout: Duration,
    client: reqwest::Client,
    bell: Notify,
}

/// Why a target URL was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// The URL may not be a target (a 422): its form, or where its host points.
    Refused(String),
    /// Its host could not be looked up right now (a 503): try again.
    Unavailable(String),
}

/// A target URL that passed the network check at the time it was given.
#[derive(Clone, Debug)]
pub struct CheckedTarget(TargetUrl);

impl CheckedTarget {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Webhooks {
    pub fn new(
        secrets: SecretBox,
        allow_private: bool,
        schedule: RetrySchedule,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("innoloan-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(30));
        if !allow_private {
            client = client.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                secrets,
                allow_private,
                schedule,
                timeout,
                client: client.build()?,
                bell: Notify::new(),
            }),
        })
    }

    pub fn secrets(&self) -> &SecretBox {
        &self.inner.secrets
    }

    pub fn schedule(&self) -> &RetrySchedule {
        &self.inner.schedule
    }

    /// Wakes this process's worker: deliveries are waiting.
    pub fn wake(&self) {
        self.inner.bell.notify_one();
    }

    /// Checks that `text` is a URL events may be sent to: its form, and that its host is not on
    /// a loopback, private, link-local or otherwise special network (unless
    /// `WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`). A host name is resolved now; it is checked again
    /// at every connection, for a name may point elsewhere later.
    pub async fn check_target(&self, text: &str) -> Result<CheckedTarget, TargetError> {
        let target = TargetUrl::parse(text).map_err(TargetError::Refused)?;
        if self.inner.allow_private {
            return Ok(CheckedTarget(target));
        }
        if let Some(ip) = target.ip() {
            return if webhook::is_public(ip) {
                Ok(CheckedTarget(target))
            } else {
                Err(TargetError::Refused(format!(
                    "{ip} is not a public address; webhooks are only sent to the internet"
                )))
            };
        }
        let host = target.url().host_str().unwrap_or_default().to_owned();
        let port = target.url().port_or_known_default().unwrap_or(443);
        let lookup =
            tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((host.as_str(), port)));
        match lookup.await {
            Ok(Ok(addresses)) => {
                let addresses: Vec<SocketAddr> = addresses.collect();
                if addresses.is_empty() {
                    Err(TargetError::Refused(format!("{host} has no address")))
                } else if let Some(private) = addresses.iter().find(|a| !webhook::is_public(a.ip())) {
                    Err(TargetError::Refused(format!(
                        "{host} resolves to {}, which is not a public address; webhooks are only sent to the internet",
                        private.ip()
                    )))
                } else {
                    Ok(CheckedTarget(target))
                }
            }
            // getaddrinfo says "try again" for a resolver that cannot answer now (EAI_AGAIN); any
            // other failure means the name does not resolve.
            Ok(Err(err))
                if err.to_string().contains("Temporary failure") || err.to_string().contains("try again") =>
            {
                Err(TargetError::Unavailable(format!("{host} cannot be looked up right now; try again")))
            }
            Ok(Err(_)) => Err(TargetError::Refused(format!("{host} cannot be resolved"))),
            Err(_) => Err(TargetError::Unavailable(format!(
                "{host} could not be looked up within 5 seconds; try again"
            ))),
        }
    }

    /// Sends one event to one endpoint, signed with each of its live secrets, taking at most
    /// `timeout`. A secret this process cannot open is this service's fault, not the endpoint's:
    /// it is an error, and no attempt.
    async fn send(
        &self,
        endpoint: &Endpoint,
        event: &Event,
        now: DateTime<Utc>,
        timeout: Duration,
    ) -> Result<Outcome, crate::secrets::SecretsError> {
        let target = match TargetUrl::parse(&endpoint.url) {
            Ok(target) => target,
            Err(why) => return Ok(Outcome::Unreachable { error: why }),
        };
        if let Some(ip) = target.ip().filter(|ip| !self.inner.allow_private && !webhook::is_public(*ip)) {
            return Ok(Outcome::Unreachable { error: format!("{ip} is not a public address") });
        }
        let secrets = self.live_secrets(endpoint, now)?;
        let body = event.to_json();
        let signed: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let signature = webhook::signature_header(now.timestamp(), body.as_bytes(), &signed);
        let request = self
            .inner
            .client
            .post(target.url().clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Innoloan-Event-Id", Event::public_id(event.id))
            .header("Innoloan-Event-Type", event.event_type.as_str())
            .header("Innoloan-Signature", signature)
            .timeout(timeout)
            .body(body);
        match request.send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                // Read a little of the answer, so that the connection can be reused, and no more.
                let mut read = 0;
                while read < MAX_RESPONSE_READ {
                    match response.chunk().await {
                        Ok(Some(chunk)) => read += chunk.len(),
                        _ => break,
                    }
                }
                Ok(if (200..300).contains(&status) {
                    Outcome::Delivered { status }
                } else {
                    Outcome::Refused { status }
                })
            }
            Err(err) => Ok(Outcome::Unreachable { error: describe(&err, timeout) }),
        }
    }

    /// The secrets that sign now: the current one, and the one before a rotation for 24 hours.
    fn live_secrets(
        &self,
        endpoint: &Endpoint,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, crate::secrets::SecretsError> {
        let mut secrets = vec![self.inner.secrets.open(&endpoint.sealed_secret)?];
        if let (Some(previous), Some(until)) =
            (&endpoint.sealed_previous_secret, endpoint.previous_secret_until)
            && until > now
        {
            secrets.push(self.inner.secrets.open(previous)?);
        }
        Ok(secrets)
    }
}

/// A sending error in words for the log, without the URL (the log shows the endpoint).
fn describe(err: &reqwest::Error, timeout: Duration) -> String {
    if err.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let mut message =
        if err.is_connect() { "could not connect".to_owned() } else { "the request failed".to_owned() };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message.chars().take(500).collect()
}

/// A resolver that gives reqwest only public addresses, so that a name that points at a private
/// network when the connection is made is refused then, whatever it pointed at when registered.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                addresses.into_iter().filter(|a| webhook::is_public(a.ip())).collect();
            if public.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves to no public address; webhooks are only sent to the internet")
                        .into();
                return Err(refused);
            }
            let addresses: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addresses)
        })
    }
}

/// Delivers webhooks until the process ends. Every `serve` process runs one; they share the work
/// through leases.
pub async fn run_worker(services: Services, metrics: Arc<Metrics>) {
    let webhooks = services.webhooks().clone();
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    // Twice the attempt's timeout and 5 s more: an attempt never starts with less than its
    // timeout and the margin left (see `attempt`), so a slow lease read, a busy pool or clocks a
    // few seconds apart between hosts never let two workers send one delivery at once.
    let lease = chrono::Duration::from_std(webhooks.inner.timeout * 2 + LEASE_MARGIN)
        .unwrap_or(chrono::Duration::seconds(30));
    let mut last_gauge = Instant::now() - Duration::from_secs(60);
    loop {
        if last_gauge.elapsed() >= Duration::from_secs(5) {
            last_gauge = Instant::now();
            if let Ok((waiting, oldest)) = store::webhooks::backlog(services.db()).await {
                let age = oldest.map(|at| (Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0);
                metrics.observe_webhook_backlog(waiting, age.unwrap_or(0.0));
            }
        }
        // Take only as many as there are free slots, so that a leased row is sent at once.
        let free = slots.available_permits();
        if free == 0 {
            let _ = slots.acquire().await.map(drop);
            continue;
        }
        let now = store::now();
        let token = uuid::Uuid::new_v4().to_string();
        let limit = LEASE_BATCH.min(free as u64);
        let leased = match store::webhooks::lease_due(services.db(), &token, now, now + lease, limit).await {
            Ok(leased) => leased,
            Err(err) => {
                tracing::warn!(error = %err, "could not lease webhook deliveries; will retry");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if leased.is_empty() {
            let _ = tokio::time::timeout(IDLE_POLL, webhooks.inner.bell.notified()).await;
            continue;
        }
        let batch = match load(&services, &leased).await {
            Ok(batch) => batch,
            Err(err) => {
                tracing::warn!(error = %err, "could not read leased deliveries; their leases will lapse");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for (leased, endpoint, event) in batch {
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let services = services.clone();
            let metrics = metrics.clone();
            tokio::spawn(async move {
                attempt(&services, &metrics, leased, endpoint, event).await;
                drop(permit);
            });
        }
    }
}

/// A row read for delivery, or `None` (logged) when this version cannot read it.
fn readable<T>(found: Result<T, store::StoreError>) -> Option<T> {
    found.map_err(|err| tracing::error!(error = %err, "a webhook delivery cannot be read")).ok()
}

/// The endpoint and event of each leased delivery.
async fn load(
    services: &Services,
    leased: &[Leased],
) -> Result<Vec<(Leased, Endpoint, Event)>, store::StoreError> {
    // A row this version cannot read is logged and skipped (its lease lapses); the others go.
    let events: Vec<Event> =
        store::events::by_ids(services.db(), leased.iter().map(|l| l.event_id).collect())
            .await?
            .into_iter()
            .filter_map(readable)
            .collect();
    let endpoints: Vec<Endpoint> =
        store::webhooks::endpoints_by_ids(services.db(), leased.iter().map(|l| l.endpoint_id).collect())
            .await?
            .into_iter()
            .filter_map(readable)
            .collect();
    Ok(leased
        .iter()
        .filter_map(|l| {
            let endpoint = endpoints.iter().find(|e| e.id == l.endpoint_id)?;
            let event = events.iter().find(|e| e.id == l.event_id)?;
            Some((l.clone(), endpoint.clone(), event.clone()))
        })
        .collect())
}

/// One attempt: send, then record it (and what comes next) through the use case. The request may
/// take what is left of the lease, less the margin, and at most the timeout; with too little left
/// it is not sent, and the lease lapses for another worker to try.
async fn attempt(services: &Services, metrics: &Metrics, leased: Leased, endpoint: Endpoint, event: Event) {
    let started_at = store::now();
    let left = (leased.until - started_at).to_std().unwrap_or_default().saturating_sub(LEASE_MARGIN);
    let timeout = services.webhooks().inner.timeout.min(left);
    if timeout < Duration::from_millis(100) {
        tracing::warn!(
            delivery_id = leased.delivery_id,
            "a lease ran short before its attempt; leaving it to lapse"
        );
        return;
    }
    let clock = Instant::now();
    let outcome = match services.webhooks().send(&endpoint, &event, started_at, timeout).await {
        Ok(outcome) => outcome,
        Err(err) => {
            tracing::error!(
                endpoint_id = endpoint.id, error = %err,
                "cannot sign a webhook: this process's SECRETS_KEY is not the one the secret was sealed with; \
                 leaving the delivery to a process that has it"
            );
            return;
        }
    };
    let latency = clock.elapsed();
    match use_cases::record_attempt(services, &leased, &endpoint, outcome, started_at, latency).await {
        Ok(next) => metrics.observe_webhook(next),
        Err(err) => tracing::warn!(
            error = %err, delivery_id = leased.delivery_id,
            "could not record a webhook attempt; the delivery will be tried again when its lease lapses"
        ),
    }
}
