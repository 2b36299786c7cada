//! Score models and computed scores: a park office writes its model (or copies the default),
//! activates it, and imports indicator values, which the active model turns into the period's
//! scores. A model that has scored is immutable; a change is a new version.

use super::{Db, Effect, Result, Write, require, scores::Imported};
use crate::domain::{
    Period, Principal, Role, Uscc,
    events::{Audience, EventType},
    score::ModelRef,
    score_import::{Batch, ScoreRow},
    score_model::{self, ModelDefinition, RawValues, ScoreModel, check_name},
};
use crate::store::{self, StoreError, scores::Computation};

fn governed(principal: Principal, park_id: i64) -> Result<()> {
    if principal.governs_park(park_id) { Ok(()) } else { Err(StoreError::NotFound.into()) }
}

/// Saves a new version of the park's model as a draft. Without a definition, the default model
/// (Guidelines 1.0) is copied.
pub async fn create(
    w: &mut Write<'_>,
    principal: Principal,
    park_id: i64,
    name: &str,
    definition: Option<ModelDefinition>,
) -> Result<ScoreModel> {
    require(principal, &[Role::ParkOffice], "write a score model")?;
    governed(principal, park_id)?;
    store::parks::get(w.txn(), park_id).await?;
    let name = check_name(name).map_err(|e| StoreError::Invalid(vec![e]))?;
    let definition = definition.unwrap_or_else(score_model::default_model);
    definition.validate().map_err(StoreError::Invalid)?;
    let model = store::score_models::create(w.txn(), park_id, name, &definition).await?;
    w.audit("score_model.create", "score_model", model.id).await?;
    Ok(model)
}

/// Changes a model that has not scored yet (409 once it has).
pub async fn update(
    w: &mut Write<'_>,
    principal: Principal,
    id: i64,
    name: Option<&str>,
    definition: Option<ModelDefinition>,
) -> Result<ScoreModel> {
    require(principal, &[Role::ParkOffice], "change a score model")?;
    let model = store::score_models::get(w.txn(), id).await?;
    governed(principal, model.park_id)?;
    let name = name.map(check_name).transpose().map_err(|e| StoreError::Invalid(vec![e]))?;
    if let Some(definition) = &definition {
        definition.validate().map_err(StoreError::Invalid)?;
    }
    let model = store::score_models::update(w.txn(), id, name, definition.as_ref()).await?;
    w.audit("score_model.update", "score_model", id).await?;
    Ok(model)
}

/// Makes the model the park's active one. Activating the active model changes nothing.
pub async fn activate(w: &mut Write<'_>, principal: Principal, id: i64) -> Result<ScoreModel> {
    require(principal, &[Role::ParkOffice], "activate a score model")?;
    let model = store::score_models::get(w.txn(), id).await?;
    governed(principal, model.park_id)?;
    let model = store::score_models::activate(w.txn(), &model).await?;
    w.audit("score_model.activate", "score_model", id).await?;
    Ok(model)
}

/// A model the caller may read: its park's office, or an admin.
pub async fn get(db: &Db, principal: Principal, id: i64) -> Result<ScoreModel> {
    require(principal, &[Role::ParkOffice], "read score models")?;
    let model = store::score_models::get(db, id).await?;
    governed(principal, model.park_id)?;
    Ok(model)
}

/// The park's models, newest version first.
pub async fn list(db: &Db, principal: Principal, park_id: i64) -> Result<Vec<ScoreModel>> {
    require(principal, &[Role::ParkOffice], "read score models")?;
    governed(principal, park_id)?;
    store::parks::get(db, park_id).await?;
    Ok(store::score_models::list(db, park_id).await?)
}

/// Stores a period's indicator values and the scores the park's active model computes from them,
/// ranked in the park and within each stage. All or nothing, as a score import: every bad row is
/// reported and nothing is stored. The period replaces any earlier import of it; other periods
/// keep the scores their own model made.
pub async fn score(
    w: &mut Write<'_>,
    principal: Principal,
    park_id: i64,
    period: &Period,
    raw: &[RawValues],
) -> Result<Imported> {
    require(principal, &[Role::ParkOffice], "import indicator values")?;
    governed(principal, park_id)?;
    store::parks::get(w.txn(), park_id).await?;
    let model = store::score_models::take_active(w.txn(), park_id).await?;
    let rows = match score_model::check_rows(&model.definition, raw) {
        Ok(rows) => rows,
        Err(mut errors) => {
            // Report the USCCs not registered here too, so that every bad row is listed at once.
            let usccs: Vec<(u32, Uscc)> =
                raw.iter().filter_map(|r| Uscc::parse(&r.uscc).ok().map(|u| (r.row, u))).collect();
            errors.extend(store::scores::unregistered(w.txn(), park_id, &usccs).await?);
            errors.sort_by_key(|e| e.row);
            return Err(StoreError::Invalid(errors).into());
        }
    };
    let values: Vec<_> = rows.iter().map(|r| r.values.clone()).collect();
    let computed = score_model::compute(&model.definition, &values);
    let mut breakdowns = Vec::with_capacity(rows.len());
    let rows = rows
        .into_iter()
        .zip(computed)
        .map(|(row, computed)| {
            breakdowns.push(computed.breakdown);
            ScoreRow {
                row: row.row,
                uscc: row.uscc,
                score: computed.score,
                stage: row.values.stage,
                indicators: row.values.values,
            }
        })
        .collect();
    let model_ref = ModelRef { id: model.id, version: model.version };
    let summary = store::scores::import(
        w.txn(),
        park_id,
        period,
        Batch { rows, errors: Vec::new() },
        Some(Computation { model: model_ref, breakdowns }),
    )
    .await?;
    w.audit("scores.compute", "park", format!("{park_id}/{}", period.as_str())).await?;
    w.after_commit(Effect::ScoresChanged { park_id });
    let imported = Imported { park_id, period: period.as_str().to_owned(), summary, model: Some(model_ref) };
    w.event(EventType::ScoresImported, Audience { park_id: Some(park_id), ..Audience::default() }, &imported);
    Ok(imported)
}
