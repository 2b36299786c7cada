//! Configuration, read once from the environment (and a `.env` file when present).

use std::time::Duration;

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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://innoloan.db?mode=rwc".into(),
            database_url_given: false,
            database_max_connections: 16,
            redis_url: None,
            score_cache_enabled: true,
            redis_key_prefix: "innoloan".into(),
            redis_timeout: Duration::from_millis(250),
            score_cache_ttl: Duration::from_secs(600),
            bind_addr: "127.0.0.1:8080".into(),
            log_format: LogFormat::Text,
            log_filter: "info".into(),
            auth_cache_ttl: Duration::from_secs(4),
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
            .field("redis_key_prefix", &self.redis_key_prefix)
            .field("redis_timeout", &self.redis_timeout)
            .field("score_cache_ttl", &self.score_cache_ttl)
            .field("bind_addr", &self.bind_addr)
            .field("log_format", &self.log_format)
            .field("log_filter", &self.log_filter)
            .field("auth_cache_ttl", &self.auth_cache_ttl)
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
        let database_url_given = var("DATABASE_URL").is_some();
        let database_url = var("DATABASE_URL").unwrap_or(defaults.database_url);
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError {
                name: "DATABASE_URL",
                value: redacted(&database_url),
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
                        why: "expected on or off",
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
                        why: "expected a tracing filter such as info or innoloan=debug,warn",
                    })?;
                    filter
                }
            },
            auth_cache_ttl: defaults.auth_cache_ttl,
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
