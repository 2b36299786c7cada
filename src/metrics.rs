//! Prometheus metrics: requests and latency per route, and the score cache's hits and misses.

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::store::webhooks::Next;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    cache: IntCounterVec,
    webhook_attempts: IntCounterVec,
    webhook_waiting: IntGauge,
    webhook_oldest_age: Gauge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    Hit,
    Miss,
    Error,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by route, method and status"),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer, by route and method")
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ]),
            &["route", "method"],
        )?;
        let cache = IntCounterVec::new(
            Opts::new("score_cache_total", "Score cache look-ups, by outcome: hit, miss or error"),
            &["outcome"],
        )?;
        let webhook_attempts = IntCounterVec::new(
            Opts::new(
                "webhook_attempts_total",
                "Webhook delivery attempts by this process, by outcome: delivered, retrying (failed, to be tried again) or failed (given up)",
            ),
            &["outcome"],
        )?;
        let webhook_waiting = IntGauge::new(
            "webhook_deliveries_waiting",
            "Webhook deliveries not yet delivered nor given up, across every process",
        )?;
        let webhook_oldest_age = Gauge::new(
            "webhook_oldest_waiting_event_age_seconds",
            "Age of the oldest event that some endpoint has not yet received (0 when none waits)",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(cache.clone()))?;
        registry.register(Box::new(webhook_attempts.clone()))?;
        registry.register(Box::new(webhook_waiting.clone()))?;
        registry.register(Box::new(webhook_oldest_age.clone()))?;
        Ok(Self { registry, requests, latency, cache, webhook_attempts, webhook_waiting, webhook_oldest_age })
    }

    pub fn observe_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        self.requests.with_label_values(&[route, method, status.as_str()]).inc();
        self.latency.with_label_values(&[route, method]).observe(seconds);
    }

    pub fn observe_cache(&self, outcome: CacheOutcome) {
        let label = match outcome {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Error => "error",
        };
        self.cache.with_label_values(&[label]).inc();
    }

    /// One webhook attempt, by what became of its delivery.
    pub fn observe_webhook(&self, next: Next) {
        let label = match next {
            Next::Delivered => "delivered",
            Next::RetryAt(_) => "retrying",
            Next::Failed => "failed",
        };
        self.webhook_attempts.with_label_values(&[label]).inc();
    }

    /// The deliveries waiting, and the age of the oldest waiting event in seconds.
    pub fn observe_webhook_backlog(&self, waiting: u64, oldest_age_seconds: f64) {
        self.webhook_waiting.set(i64::try_from(waiting).unwrap_or(i64::MAX));
        self.webhook_oldest_age.set(oldest_age_seconds);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail on I/O, and every metric here has valid names.
        if TextEncoder::new().encode(&self.registry.gather(), &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
