//! innoloan: the marketplace behind innovation-points credit loans (创新积分贷).

pub mod api;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod metrics;
pub mod secrets;
pub mod service;
pub mod store;
pub mod telemetry;

use std::sync::Arc;

use poem::{
    Server,
    listener::{Acceptor, Listener, TcpListener},
};

use crate::{
    api::AppState, auth::Authenticator, cache::ScoreCache, config::Config, delivery::Webhooks,
    metrics::Metrics, secrets::SecretBox, service::Services,
};

/// A server bound to its address and ready to run. Bind to port 0 to get a free port.
pub struct Application {
    acceptor: poem::listener::TcpAcceptor,
    port: u16,
    state: AppState,
}

impl Application {
    /// Connects to the database, runs the migrations, connects the cache and binds the port.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = store::connect(&config.database_url, config.database_max_connections).await?;
        store::migrate(&db).await?;
        Self::build_with_db(config, db).await
    }

    /// Like [`Application::build`], on a database that is already connected and migrated.
    pub async fn build_with_db(config: Config, db: sea_orm::DatabaseConnection) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::new()?);
        let scores = ScoreCache::from_config(&config, metrics.clone())?;
        let auth = Authenticator::new(db.clone(), config.auth_cache_ttl);
        let acceptor = TcpListener::bind(config.bind_addr.clone()).into_acceptor().await?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().map(|a| a.port()))
            .unwrap_or(0);

        let secrets = match &config.secrets_key {
            Some(key) => SecretBox::from_base64(key)?,
            None => {
                let path = std::path::Path::new(&config.secrets_key_file);
                tracing::warn!(
                    file = %path.display(),
                    "SECRETS_KEY is unset: webhook secrets are sealed with the key in this file; \
                     every process that shares the database must share it, so on several hosts set SECRETS_KEY"
                );
                SecretBox::from_key_file(path)?
            }
        };
        let webhooks = Webhooks::new(
            secrets,
            config.webhook_allow_private_networks,
            config.webhook_retry_schedule.clone(),
            config.webhook_timeout,
        )?;
        let services = Services::new(db, scores, auth, webhooks);
        let state = AppState::new(services, metrics, Arc::new(config));
        Ok(Self { acceptor, port, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process receives Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tracing::info!(port = self.port, cache = self.state.services.scores().kind(), "serving");
        tokio::spawn(purge_idempotency_keys(self.state.db().clone()));
        tokio::spawn(purge_events(self.state.db().clone(), self.state.config.event_retention_days));
        tokio::spawn(service::daily::run_forever(self.state.services.clone()));
        if self.state.config.webhook_delivery {
            tokio::spawn(delivery::run_worker(self.state.services.clone(), self.state.metrics.clone()));
        }
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                api::app(self.state),
                shutdown_signal(),
                Some(std::time::Duration::from_secs(10)),
            )
            .await
    }
}

/// Forgets idempotency keys older than a day, every ten minutes. Several processes may purge at
/// once; the deletes simply overlap.
async fn purge_idempotency_keys(db: sea_orm::DatabaseConnection) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        match store::idempotency::purge(&db, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged idempotency keys older than 24 h"),
            Err(err) => tracing::warn!(error = %err, "could not purge idempotency keys; will retry"),
        }
    }
}

/// Forgets events older than `EVENT_RETENTION_DAYS`, with their finished deliveries, every hour.
async fn purge_events(db: sea_orm::DatabaseConnection, retention_days: u32) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let before = chrono::Utc::now() - chrono::Duration::days(i64::from(retention_days));
        match store::events::purge(&db, before).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, retention_days, "purged old events"),
            Err(err) => tracing::warn!(error = %err, "could not purge old events; will retry"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
