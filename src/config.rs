//! Configuration, read once from the environment (and a `.env` file when present).

use std::time::Duration;

use crate::domain::webhook::RetrySchedule;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The one reader of the environment. `Debug` hides the passwords in its URLs.
#[derive(Clone)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Whether `DATABASE_URL` was set, rather than the default taken.
    pub database_url_given: bool,
    /// The most connections the pool opens to PostgreSQL.
    pub database_max_connections: u32,
    /// When set, score look-ups are cached in Redis; otherwise in process.
    pub redis_url: Option<String>,
    /// `SCORE_CACHE=off` reads every score from the database: for measuring what the cache saves.
    pub score_cache_enabled: bool,
    /// `SCORE_CACHE_NEAR=off` asks Redis on every look-up instead of keeping confirmed copies in
    /// process (`cache::near`): for measuring what the near tier saves.
    pub score_cache_near: bool,
    /// Prefixed to every Redis key, so that several deployments (or tests) can share a server.
    pub redis_key_prefix: String,
    /// How long a Redis call may take before the look-up falls back to the database.
    pub redis_timeout: Duration,
    /// How long a cached score lives.
    pub score_cache_ttl: Duration,
    pub bind_addr: String,
    pub log_format: LogFormat,
    /// `RUST_LOG`: which logs to write (default `info`).
    pub log_filter: String,
    /// How long an authenticated key is trusted without asking the database again. Revocation
    /// takes effect on every process within this time.
    pub auth_cache_ttl: Duration,
    /// `SECRETS_KEY`: the key (32 bytes, base64) that seals webhook signing secrets.
    pub secrets_key: Option<String>,
    /// `SECRETS_KEY_FILE`: where `serve` keeps a key it made, when `SECRETS_KEY` is unset.
    pub secrets_key_file: String,
    /// `WEBHOOK_ALLOW_PRIVATE_NETWORKS=true` lets webhooks go to loopback and private addresses:
    /// for tests only.
    pub webhook_allow_private_networks: bool,
    /// `WEBHOOK_RETRY_SCHEDULE`: the delays between delivery attempts.
    pub webhook_retry_schedule: RetrySchedule,
    /// `WEBHOOK_TIMEOUT_MS`: how long one delivery attempt may take (default 10 s).
    pub webhook_timeout: Duration,
    /// `EVENT_RETENTION_DAYS`: how long events and delivery logs are kept (default 30).
    pub event_retention_days: u32,
    /// `WEBHOOK_DELIVERY=off` makes a process serve the API without delivering webhooks (other
    /// processes deliver); on by default.
    pub webhook_delivery: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://innoloan.db?mode=rwc".into(),
            database_url_given: false,
            database_max_connections: 16,
            redis_url: None,
            score_cache_enabled: true,
            score_cache_near: true,
            redis_key_prefix: "innoloan".into(),
            redis_timeout: Duration::from_millis(250),
            score_cache_ttl: Duration::from_secs(600),
            bind_addr: "127.0.0.1:8080".into(),
            log_format: LogFormat::Text,
            log_filter: "info".into(),
            auth_cache_ttl: Duration::from_secs(4),
            secrets_key: None,
            secrets_key_file: "innoloan-secrets.key".into(),
            webhook_allow_private_networks: false,
            webhook_retry_schedule: RetrySchedule::default(),
            webhook_timeout: Duration::from_secs(10),
            event_retention_days: 30,
            webhook_delivery: true,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redacted(&self.database_url))
            .field("database_url_given", &self.database_url_given)
            .field("database_max_connections", &self.database_max_connections)
            .field("redis_url", &self.redis_url.as_deref().map(redacted))
            .field("score_cache_enabled", &self.score_cache_enabled)
            .field("score_cache_near", &self.score_cache_near)
            .field("redis_key_prefix", &self.redis_key_prefix)
            .field("redis_timeout", &self.redis_timeout)
            .field("score_cache_ttl", &self.score_cache_ttl)
            .field("bind_addr", &self.bind_addr)
            .field("log_format", &self.log_format)
            .field("log_filter", &self.log_filter)
            .field("auth_cache_ttl", &self.auth_cache_ttl)
            .field("secrets_key", &self.secrets_key.as_ref().map(|_| "***"))
            .field("secrets_key_file", &self.secrets_key_file)
            .field("webhook_allow_private_networks", &self.webhook_allow_private_networks)
            .field("webhook_retry_schedule", &self.webhook_retry_schedule)
            .field("webhook_timeout", &self.webhook_timeout)
            .field("event_retention_days", &self.event_retention_days)
            .field("webhook_delivery", &self.webhook_delivery)
            .finish()
    }
}

/// A URL with its password replaced by `***`, for logs and messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{name} is {value:?}: {why}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    why: String,
}

impl Config {
    /// Reads `DATABASE_URL`, `REDIS_URL`, `BIND_ADDR`, `LOG_FORMAT` and the tuning variables.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env file is normal; a broken one is reported by the values it fails to set.
        let _ = dotenvy::dotenv();
        let defaults = Self::default();
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let millis = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(value) => value.parse::<u64>().map(Duration::from_millis).map_err(|_| ConfigError {
                    name,
                    value,
                    why: "expected a number of milliseconds".into(),
                }),
            }
        };
        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    name: "LOG_FORMAT",
                    value: other.into(),
                    why: "expected text or json".into(),
                });
            }
        };
        let database_url_given = var("DATABASE_URL").is_some();
        let database_url = var("DATABASE_URL").unwrap_or(defaults.database_url);
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError {
                name: "DATABASE_URL",
                value: redacted(&database_url),
                why: "expected sqlite:… or postgres://…".into(),
            });
        }
        let database_max_connections = match var("DATABASE_MAX_CONNECTIONS") {
            None => defaults.database_max_connections,
            Some(value) => value.parse().ok().filter(|&n| n > 0).ok_or(ConfigError {
                name: "DATABASE_MAX_CONNECTIONS",
                value,
                why: "expected a positive number".into(),
            })?,
        };
        Ok(Self {
            database_url,
            database_url_given,
            database_max_connections,
            redis_url: var("REDIS_URL"),
            score_cache_enabled: match var("SCORE_CACHE").as_deref() {
                None | Some("on") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(ConfigError {
                        name: "SCORE_CACHE",
                        value: other.into(),
                        why: "expected on or off".into(),
                    });
                }
            },
            score_cache_near: match var("SCORE_CACHE_NEAR").as_deref() {
                None | Some("on") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(ConfigError {
                        name: "SCORE_CACHE_NEAR",
                        value: other.into(),
                        why: "expected on or off".into(),
                    });
                }
            },
            redis_key_prefix: var("REDIS_KEY_PREFIX").unwrap_or(defaults.redis_key_prefix),
            redis_timeout: millis("REDIS_TIMEOUT_MS", defaults.redis_timeout)?,
            score_cache_ttl: millis("SCORE_CACHE_TTL_MS", defaults.score_cache_ttl)?,
            bind_addr: var("BIND_ADDR").unwrap_or(defaults.bind_addr),
            log_format,
            log_filter: match var("RUST_LOG") {
                None => defaults.log_filter,
                Some(filter) => {
                    tracing_subscriber::EnvFilter::try_new(&filter).map_err(|_| ConfigError {
                        name: "RUST_LOG",
                        value: filter.clone(),
                        why: "expected a tracing filter such as info or innoloan=debug,warn".into(),
                    })?;
                    filter
                }
            },
            auth_cache_ttl: defaults.auth_cache_ttl,
            secrets_key: var("SECRETS_KEY"),
            secrets_key_file: var("SECRETS_KEY_FILE").unwrap_or(defaults.secrets_key_file),
            webhook_allow_private_networks: match var("WEBHOOK_ALLOW_PRIVATE_NETWORKS").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(ConfigError {
                        name: "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
                        value: other.into(),
                        why: "expected true or false".into(),
                    });
                }
            },
            webhook_retry_schedule: match var("WEBHOOK_RETRY_SCHEDULE") {
                None => defaults.webhook_retry_schedule,
                Some(value) => RetrySchedule::parse(&value).map_err(|why| ConfigError {
                    name: "WEBHOOK_RETRY_SCHEDULE",
                    value: value.clone(),
                    why,
                })?,
            },
            webhook_timeout: match millis("WEBHOOK_TIMEOUT_MS", defaults.webhook_timeout)? {
                t if t >= Duration::from_millis(100) && t <= Duration::from_secs(300) => t,
                t => {
                    return Err(ConfigError {
                        name: "WEBHOOK_TIMEOUT_MS",
                        value: t.as_millis().to_string(),
                        why: "expected 100 to 300000 milliseconds".into(),
                    });
                }
            },
            event_retention_days: match var("EVENT_RETENTION_DAYS") {
                None => defaults.event_retention_days,
                Some(value) => value.parse().ok().filter(|&n| n > 0 && n <= 36_500).ok_or(ConfigError {
                    name: "EVENT_RETENTION_DAYS",
                    value,
                    why: "expected a number of days from 1 to 36500".into(),
                })?,
            },
            webhook_delivery: match var("WEBHOOK_DELIVERY").as_deref() {
                None | Some("on") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(ConfigError {
                        name: "WEBHOOK_DELIVERY",
                        value: other.into(),
                        why: "expected on or off".into(),
                    });
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_passwords() {
        let config = Config {
            database_url: "postgres://app:s3cret@db.internal/innoloan".into(),
            redis_url: Some("redis://:r3dis@cache:6379".into()),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("r3dis"), "{shown}");
        assert!(shown.contains("postgres://app:***@db.internal/innoloan"), "{shown}");
    }
}
