//! Use cases: one function per business action (register, import, publish, apply, approve,
//! disburse, …), one module per area.
//!
//! Each use case takes parsed domain input and the caller's principal, runs every rule that
//! guards it inside its write transaction ([`Write`]), writes its audit row there, and asks for
//! its side effects (dropping cached scores, refreshing the product catalogue) to run once the
//! transaction has committed ([`Effect`]). Handlers parse, call one use case and render; the demo
//! and the data set generator call the same functions, so a record that breaks a rule fails there
//! too.

pub mod applications;
pub mod credit;
pub mod daily;
pub mod directory;
pub mod loans;
pub mod products;
pub mod recommendations;
pub mod risk_pools;
pub mod score_models;
pub mod scores;
pub mod subsidies;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};

use crate::auth::Authenticator;
use crate::cache::ScoreCache;
use crate::delivery::Webhooks;
use crate::domain::{
    FieldError, Principal, Role,
    directory::{Enterprise, Park},
    eligibility::FailedRule,
    events::{Audience, EventType},
    product::Product,
};
use crate::store::{self, StoreError, audit::Actor, events::NewEvent};

/// Why a use case refused, or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A refusal or a fault from the store: not found, conflict, wrong state, a refused limit,
    /// invalid fields, an outage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The enterprise fails eligibility rules; each failed rule is listed.
    #[error("the enterprise does not qualify for this product")]
    Ineligible(Vec<FailedRule>),
    /// The product takes no applications in its current status.
    #[error("{0}")]
    NotPublished(String),
    /// The caller's role may not take this action at all.
    #[error("{0}")]
    Forbidden(String),
}

/// Refuses unless the caller is an admin or has one of `roles`. The API refuses the same callers
/// before it reads their request (`api::access`); a use case still holds its own rule, for every
/// other caller (the demo, the command line, the data set generator).
pub fn require(principal: Principal, roles: &[Role], action: &str) -> Result<()> {
    if principal.acts_as(roles) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!("a {} key may not {action}", principal.role())))
    }
}

impl Error {
    /// A validation failure on one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Store(StoreError::Invalid(vec![FieldError::new(field, message)]))
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Store(err.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The database connection (a pool), for reads through `store`.
pub type Db = DatabaseConnection;

/// Something to do once a write has committed, and only then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A park's scores changed: no process may serve a cached score of the park any more.
    ScoresChanged { park_id: i64 },
    /// A product's status or remaining quota changed: the catalogue of published products is
    /// read again.
    CatalogueChanged,
    /// An API key was revoked: this process stops accepting it at once.
    KeyRevoked { prefix: String },
    /// Webhook deliveries are waiting: this process's delivery worker wakes at once (the others
    /// find them when they next look, within a second).
    DeliveriesWaiting,
}

/// A resource as its `GET` renders it, for the `data` of an event about it. The API's views
/// implement it, so that an event carries exactly what a reader of the resource would see.
pub trait Render {
    /// The resource as JSON text.
    fn render(&self) -> String;
}

/// A write in progress: the transaction every rule and row of a use case goes through, who is
/// writing, and the effects to run after commit.
pub struct Write<'t> {
    txn: &'t DatabaseTransaction,
    actor: Actor,
    effects: Vec<Effect>,
    events: Vec<NewEvent>,
}

impl<'t> Write<'t> {
    /// A write in `txn`. [`Services::write`] makes one, closes it and runs its effects after the
    /// commit; a caller that commits by itself (the demo, the command line, a data set) must
    /// [`Write::close`] it before the commit, which writes its events.
    pub fn new(txn: &'t DatabaseTransaction, actor: Actor) -> Self {
        Self { txn, actor, effects: Vec::new(), events: Vec::new() }
    }

    pub fn txn(&self) -> &'t DatabaseTransaction {
        self.txn
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Writes the audit row of a change, in this write's transaction.
    pub async fn audit(&self, action: &str, target_type: &str, target_id: impl ToString) -> Result<()> {
        store::audit::record(self.txn, &self.actor, action, target_type, target_id).await?;
        Ok(())
    }

    pub fn after_commit(&mut self, effect: Effect) {
        if !self.effects.contains(&effect) {
            self.effects.push(effect);
        }
    }

    /// Records that `event_type` happened to `resource`, for `audience`. The event is written in
    /// this transaction, when the write closes, with the resource as it is rendered now.
    pub fn event(&mut self, event_type: EventType, audience: Audience, resource: &impl Render) {
        self.events.push(NewEvent { event_type, audience, data: resource.render() });
    }

    /// Ends the use case's part of the write: appends its events (last, for they hold a lock on
    /// PostgreSQL until the commit), and gives the effects to run with [`Services::apply`] once
    /// the transaction has committed.
    pub async fn close(mut self) -> Result<Vec<Effect>> {
        let events = std::mem::take(&mut self.events);
        let appended = store::events::append(self.txn, &events, store::now()).await?;
        if appended.deliveries > 0 {
            self.after_commit(Effect::DeliveriesWaiting);
        }
        Ok(std::mem::take(&mut self.effects))
    }
}

impl Write<'_> {
    /// Ends a write whose transaction rolls back: its events go with it.
    pub fn discard(mut self) {
        self.events.clear();
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        if !self.events.is_empty() && !std::thread::panicking() {
            // Neither closed nor discarded: if its transaction commits, these events are lost.
            tracing::error!(
                events = self.events.len(),
                "a write ended without writing its events; close it (Write::close) before committing"
            );
        }
    }
}

/// The published products, as read at one moment.
pub struct Catalogue {
    pub products: Vec<Product>,
}

/// What every use case and read needs: the database, the score cache, and the in-process copies
/// of records that never change (parks, enterprises) or change rarely (the catalogue).
#[derive(Clone)]
pub struct Services {
    db: DatabaseConnection,
    scores: ScoreCache,
    auth: Authenticator,
    /// Park records by id. Parks are never edited or deleted, so a remembered park never goes
    /// stale.
    parks: moka::future::Cache<i64, Arc<Park>>,
    /// Enterprise records by id. An enterprise is never edited, moved or deleted once
    /// registered, so a remembered record never goes stale.
    enterprises: moka::future::Cache<i64, Arc<Enterprise>>,
    /// Every published product, read again at least every 2 seconds, so that a change on any
    /// process shows everywhere within 5 seconds; at once on the process that made it.
    published: moka::future::Cache<(), Arc<Catalogue>>,
    /// Webhook settings, and the bell that wakes this process's delivery worker.
    webhooks: Webhooks,
}

impl Services {
    pub fn new(db: DatabaseConnection, scores: ScoreCache, auth: Authenticator, webhooks: Webhooks) -> Self {
        Self {
            db,
            scores,
            auth,
            webhooks,
            parks: moka::future::Cache::builder().max_capacity(10_000).build(),
            enterprises: moka::future::Cache::builder().max_capacity(100_000).build(),
            published: moka::future::Cache::builder().time_to_live(Duration::from_secs(2)).build(),
        }
    }

    /// The database, for reads.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    pub fn scores(&self) -> &ScoreCache {
        &self.scores
    }

    pub fn auth(&self) -> &Authenticator {
        &self.auth
    }

    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// Runs a use case in one transaction and, once it has committed, the effects it asked for.
    pub async fn write<T>(
        &self,
        actor: Actor,
        work: impl AsyncFnOnce(&mut Write<'_>) -> Result<T>,
    ) -> Result<T> {
        self.write_then(actor, work, async |_, _| Ok(())).await
    }

    /// Like [`Services::write`]; `finish` runs in the same transaction after the use case has
    /// succeeded, for the caller's own rows (the API stores an idempotent response there, so
    /// that the response is remembered exactly when its effect happened).
    pub async fn write_then<T>(
        &self,
        actor: Actor,
        work: impl AsyncFnOnce(&mut Write<'_>) -> Result<T>,
        finish: impl AsyncFnOnce(&DatabaseTransaction, &T) -> Result<()>,
    ) -> Result<T> {
        let txn = self.db.begin().await.map_err(StoreError::from)?;
        let mut write = Write::new(&txn, actor);
        let outcome = match work(&mut write).await {
            Ok(value) => finish(&txn, &value).await.map(|()| value),
            Err(err) => Err(err),
        };
        let outcome = match outcome {
            Ok(value) => write.close().await.map(|effects| (value, effects)),
            Err(err) => {
                write.discard();
                Err(err)
            }
        };
        match outcome {
            Ok((value, effects)) => {
                txn.commit().await.map_err(StoreError::from)?;
                self.apply(effects).await;
                Ok(value)
            }
            Err(err) => {
                // Explicitly, so that the connection is free before the caller goes on.
                let _ = txn.rollback().await;
                Err(err)
            }
        }
    }

    /// Runs the effects of a committed write.
    pub async fn apply(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::ScoresChanged { park_id } => self.scores.invalidate_park(park_id).await,
                Effect::CatalogueChanged => self.published.invalidate(&()).await,
                Effect::KeyRevoked { prefix } => self.auth.forget(&prefix).await,
                Effect::DeliveriesWaiting => self.webhooks.wake(),
            }
        }
    }

    /// Every published product, from the in-process copy (at most 2 seconds old).
    pub async fn published_products(&self) -> Result<Arc<Catalogue>> {
        let db = self.db.clone();
        let load = async move {
            let products = store::products::published(&db).await?;
            Ok::<_, StoreError>(Arc::new(Catalogue { products }))
        };
        self.published.try_get_with((), load).await.map_err(|err| Error::Store(StoreError::from_shared(err)))
    }

    /// A park's record, from the in-process copy when there is one.
    pub async fn park(&self, park_id: i64) -> Result<Option<Arc<Park>>> {
        remembered(&self.parks, park_id, store::parks::get(&self.db, park_id)).await
    }

    /// An enterprise's record, from the in-process copy when there is one.
    pub async fn enterprise(&self, enterprise_id: i64) -> Result<Option<Arc<Enterprise>>> {
        remembered(&self.enterprises, enterprise_id, store::enterprises::get(&self.db, enterprise_id)).await
    }
}

/// A record that never changes once written, from `cache` or else from `read` (which is only
/// polled on a miss), remembered for next time; `None` when there is no such record.
async fn remembered<T: Send + Sync + 'static>(
    cache: &moka::future::Cache<i64, Arc<T>>,
    id: i64,
    read: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<Option<Arc<T>>> {
    if let Some(found) = cache.get(&id).await {
        return Ok(Some(found));
    }
    match read.await {
        Ok(record) => {
            let record = Arc::new(record);
            cache.insert(id, record.clone()).await;
            Ok(Some(record))
        }
        Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
