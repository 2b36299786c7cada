//! The score cache: Redis when `REDIS_URL` is set, otherwise in process.
//!
//! Entries are versioned by a per-park generation number. A look-up reads the park's current
//! generation and the entry with the generation it was written under, in one round trip; an
//! import bumps the generation after it commits and before it answers, so that every later
//! look-up, on any process, misses and reads the new scores. A reader that raced the import can
//! only write an entry under the old generation, which no later reader accepts.
//!
//! With Redis, each process also keeps the scores it read in memory (the near tier, see
//! [`near`]), served while Redis has confirmed the park's generation within a short lease; an
//! import waits out the lease before it answers, so the promise above still holds.

mod memory;
mod near;
mod redis;

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::metrics::{CacheOutcome, Metrics};

pub use self::memory::MemoryCache;
pub use self::redis::RedisCache;

/// The result of a look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The cached JSON of the score, as the API shows it.
    Hit(String),
    /// Not cached: read the database, then `put` under this generation.
    Miss { generation: u64 },
    /// The cache could not be asked; read the database and don't write back.
    Unavailable,
}

#[derive(Clone)]
enum Backend {
    Memory(MemoryCache),
    Redis(RedisCache),
    /// `SCORE_CACHE=off`: every look-up goes to the database.
    Disabled,
}

#[derive(Clone)]
pub struct ScoreCache {
    backend: Backend,
    metrics: Arc<Metrics>,
}

impl ScoreCache {
    pub fn from_config(config: &Config, metrics: Arc<Metrics>) -> Result<Self, ::redis::RedisError> {
        let backend = match &config.redis_url {
            _ if !config.score_cache_enabled => Backend::Disabled,
            Some(url) => Backend::Redis(RedisCache::new(
                url,
                &config.redis_key_prefix,
                config.redis_timeout,
                config.score_cache_ttl,
                config.score_cache_near,
            )?),
            None => Backend::Memory(MemoryCache::new(config.score_cache_ttl)),
        };
        Ok(Self { backend, metrics })
    }

    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
            Backend::Disabled => "disabled",
        }
    }

    pub async fn get(&self, park_id: i64, enterprise_id: i64) -> Lookup {
        let lookup = match &self.backend {
            Backend::Memory(cache) => cache.get(park_id, enterprise_id).await,
            Backend::Redis(cache) => cache.get(park_id, enterprise_id).await,
            Backend::Disabled => return Lookup::Unavailable,
        };
        self.metrics.observe_cache(match lookup {
            Lookup::Hit(_) => CacheOutcome::Hit,
            Lookup::Miss { .. } => CacheOutcome::Miss,
            Lookup::Unavailable => CacheOutcome::Error,
        });
        lookup
    }

    pub async fn put(&self, park_id: i64, generation: u64, enterprise_id: i64, json: String) {
        match &self.backend {
            Backend::Memory(cache) => cache.put(park_id, generation, enterprise_id, json).await,
            Backend::Redis(cache) => cache.put(park_id, generation, enterprise_id, json).await,
            Backend::Disabled => {}
        }
    }

    /// Makes every cached score of the park unreachable. Call it after the change has committed.
    pub async fn invalidate_park(&self, park_id: i64) {
        match &self.backend {
            Backend::Memory(cache) => cache.invalidate_park(park_id),
            Backend::Redis(cache) => cache.invalidate_park(park_id).await,
            Backend::Disabled => {}
        }
    }

    /// `None` when there is no external cache to check; otherwise whether it answers.
    pub async fn ping(&self) -> Option<bool> {
        match &self.backend {
            Backend::Memory(_) | Backend::Disabled => None,
            Backend::Redis(cache) => Some(cache.ping().await),
        }
    }
}

/// Logs a fault at most once per interval, so that an outage does not flood the log.
pub(crate) struct FaultLog {
    last: std::sync::Mutex<Option<std::time::Instant>>,
    interval: Duration,
}

impl FaultLog {
    pub(crate) fn new(interval: Duration) -> Self {
        Self { last: std::sync::Mutex::new(None), interval }
    }

    pub(crate) fn report(&self, what: &str, error: &dyn std::fmt::Display) {
        let now = std::time::Instant::now();
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.is_none_or(|at| now.duration_since(at) >= self.interval) {
            *last = Some(now);
            tracing::warn!(error = %error, "{what}; score look-ups fall back to the database (logged once per {:?})", self.interval);
        }
    }
}
