//! Configuration, read once from the environment (and a `.env` file when present).

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The most connections the pool opens to PostgreSQL.
    pub database_max_connections: u32,
    /// When set, score look-ups are cached in Redis; otherwise in process.
    pub redis_url: Option<String>,
    /// `SCORE_CACHE=off` reads every score from the database: for measuring what the cache saves.
    pub score_cache_enabled: bool,
    /// Prefixed to every Redis key, so that several deployments (or tests) can share a server.
    pub redis_key_prefix: String,
    /// How long a Redis call may take before the look-up falls back to the database.
    pub redis_timeout: Duration,
    /// How long a cached score lives.
    pub score_cache_ttl: Duration,
    pub bind_addr: String,
    pub log_format: LogFormat,
    /// How long an authenticated key is trusted without asking the database again. Revocation
    /// takes effect on every process within this time.
    pub auth_cache_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://innoloan.db?mode=rwc".into(),
            database_max_connections: 16,
            redis_url: None,
            score_cache_enabled: true,
            redis_key_prefix: "innoloan".into(),
            redis_timeout: Duration::from_millis(250),
            score_cache_ttl: Duration::from_secs(600),
            bind_addr: "127.0.0.1:8080".into(),
            log_format: LogFormat::Text,
            auth_cache_ttl: Duration::from_secs(4),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{name} is {value:?}: {why}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    why: &'static str,
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
                    why: "expected a number of milliseconds",
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
                    why: "expected text or json",
                });
            }
        };
        let database_url = var("DATABASE_URL").unwrap_or(defaults.database_url);
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError {
                name: "DATABASE_URL",
                value: database_url,
                why: "expected sqlite:… or postgres://…",
            });
        }
        let database_max_connections = match var("DATABASE_MAX_CONNECTIONS") {
            None => defaults.database_max_connections,
            Some(value) => value.parse().ok().filter(|&n| n > 0).ok_or(ConfigError {
                name: "DATABASE_MAX_CONNECTIONS",
                value,
                why: "expected a positive number",
            })?,
        };
        Ok(Self {
            database_url,
            database_max_connections,
            redis_url: var("REDIS_URL"),
            score_cache_enabled: match var("SCORE_CACHE").as_deref() {
                None | Some("on") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(ConfigError {
                        name: "SCORE_CACHE",
                        value: other.into(),
                        why: "expected on or off",
                    });
                }
            },
            redis_key_prefix: var("REDIS_KEY_PREFIX").unwrap_or(defaults.redis_key_prefix),
            redis_timeout: millis("REDIS_TIMEOUT_MS", defaults.redis_timeout)?,
            score_cache_ttl: millis("SCORE_CACHE_TTL_MS", defaults.score_cache_ttl)?,
            bind_addr: var("BIND_ADDR").unwrap_or(defaults.bind_addr),
            log_format,
            auth_cache_ttl: defaults.auth_cache_ttl,
        })
    }
}
