//! Score imports.
//!
//! **An import invalidates the cache.** A park office (or an admin) imports one period's scores
//! for its park: every row is checked, one bad row means nothing is stored, and the period is
//! ranked and replaces any earlier import of it, in one transaction. Once it has committed, and
//! before the caller hears back, every cached score of the park is made unreachable on every
//! process ([`Effect::ScoresChanged`]), whoever wrote the scores: the API, the demo or a future
//! score model.

use super::{Effect, Result, Services, Write, require};
use crate::cache::Lookup;
use crate::domain::{
    Period, Principal, Role,
    events::{Audience, EventType},
    score::EnterpriseScore,
    score_import::Batch,
};
use crate::store::{self, StoreError, scores::ImportSummary};

/// Imports a period's scores for a park the caller governs; a park outside its scope is not
/// found.
pub async fn import(
    w: &mut Write<'_>,
    principal: Principal,
    park_id: i64,
    period: &Period,
    batch: Batch,
) -> Result<Imported> {
    require(principal, &[Role::ParkOffice], "import scores")?;
    if !principal.governs_park(park_id) {
        return Err(StoreError::NotFound.into());
    }
    store::parks::get(w.txn(), park_id).await?;
    let summary = store::scores::import(w.txn(), park_id, period, batch, None).await?;
    w.audit("scores.import", "park", format!("{park_id}/{}", period.as_str())).await?;
    w.after_commit(Effect::ScoresChanged { park_id });
    let imported = Imported { park_id, period: period.as_str().to_owned(), summary, model: None };
    w.event(EventType::ScoresImported, Audience { park_id: Some(park_id), ..Audience::default() }, &imported);
    Ok(imported)
}

/// What an import stored: in the answer, and in its `scores.imported` event.
#[derive(Clone, Debug)]
pub struct Imported {
    pub park_id: i64,
    pub period: String,
    pub summary: ImportSummary,
    /// The model that computed the scores; `None` for finished scores imported as they are.
    pub model: Option<crate::domain::score::ModelRef>,
}

/// Where a score came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Cache,
    Database,
}

/// An enterprise's latest score, read through the cache (cache-aside). The cache holds the domain
/// score, exact integers and all; the API renders it. When the cache cannot be asked, the database
/// answers and nothing is written back. An entry the cache cannot read is a miss.
pub async fn latest(
    services: &Services,
    park_id: i64,
    enterprise_id: i64,
) -> Result<(Option<EnterpriseScore>, Source)> {
    let generation = match services.scores().get(park_id, enterprise_id).await {
        Lookup::Hit(cached) => match serde_json::from_str::<EnterpriseScore>(&cached) {
            Ok(score) => return Ok((Some(score), Source::Cache)),
            Err(err) => {
                tracing::warn!(error = %err, enterprise_id, "a cached score could not be read; reading the database");
                None
            }
        },
        Lookup::Miss { generation } => Some(generation),
        Lookup::Unavailable => None,
    };
    let Some(score) = store::scores::latest(services.db(), enterprise_id).await? else {
        return Ok((None, Source::Database));
    };
    if let (Some(generation), Ok(cached)) = (generation, serde_json::to_string(&score)) {
        services.scores().put(park_id, generation, enterprise_id, cached).await;
    }
    Ok((Some(score), Source::Database))
}
