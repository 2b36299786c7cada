//! Score models (识): a park's versioned models, and indicator values computed into scores.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiRequest, Object, OpenApi, impl_apirequest_for_payload,
    param::{Path, Query},
    payload::{Json, ParsePayload, Payload},
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    csv::Csv,
    error::{ApiError, ApiResult},
    idempotency::{Created, Idempotency, IdempotencyKey, body_hash},
    json::JsonBody,
    nullable::Nullable,
    pagination::parse_id,
    scores::{Sent, cell, csv_import, import_document, text},
};
use crate::domain::{
    FieldError, Period, Stage,
    score_import::Cell,
    score_model::{
        self, Band, Direction, Indicator, IndicatorGroup, ModelDefinition, ModelStatus, RawValues,
        ScoreModel, Scoring, ScoringMethod,
    },
};
use crate::service::{score_models, scores::Imported};

/// From `min` up, the indicator earns `points`.
#[derive(Object, Clone, Debug)]
pub struct BandSpec {
    pub min: f64,
    /// 0 to 100.
    pub points: f64,
}

/// Normalised within the stage's cohort in the period; takes no settings.
#[derive(Object, Clone, Debug)]
pub struct MinMaxSpec {}

/// Exactly one of `bands` and `min_max`.
#[derive(Object, Clone, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct ScoringSpec {
    /// Thresholds to points, ascending by `min`: the value earns the points of the highest band
    /// it reaches, 0 below the first. Points rise with `min` for a `higher_better` indicator and
    /// fall for a `lower_better` one.
    pub bands: Option<Vec<BandSpec>>,
    /// 100 × (value − cohort min) ÷ (cohort max − cohort min) within the enterprise's stage in the
    /// period, reversed for `lower_better`; 0 for everyone when the cohort is all equal.
    pub min_max: Option<MinMaxSpec>,
}

#[derive(Object, Clone, Debug)]
pub struct IndicatorSpec {
    /// The column name in an indicator-values import: lower-case letters, digits and `_`.
    #[oai(validator(min_length = 1, max_length = 32))]
    pub code: String,
    #[oai(validator(min_length = 1, max_length = 64))]
    pub name: String,
    pub group: IndicatorGroup,
    /// Such as `万元`, `%`, `件`.
    #[oai(default, validator(max_length = 16))]
    pub unit: String,
    #[oai(default = "higher_better")]
    pub direction: Direction,
    /// A required indicator must have a value in every row; a missing optional one earns 0.
    #[oai(default = "yes")]
    pub required: bool,
    pub scoring: ScoringSpec,
}

fn higher_better() -> Direction {
    Direction::HigherBetter
}

fn yes() -> bool {
    true
}

/// Per stage, indicator code → weight from 0 to 1; each stage's weights sum to 1. An indicator a
/// stage leaves out weighs 0 there.
#[derive(Object, Clone, Debug)]
pub struct StageWeights {
    pub startup: BTreeMap<String, f64>,
    pub growth: BTreeMap<String, f64>,
    pub mature: BTreeMap<String, f64>,
}

/// A new version of the park's model. Leave out `indicators` and `stage_weights` to copy the
/// default model (Guidelines 1.0, `GET /default-score-model`).
#[derive(Object, Clone, Debug)]
pub struct NewScoreModel {
    #[oai(validator(min_length = 1, max_length = 128))]
    pub name: String,
    #[oai(validator(min_items = 1, max_items = 64))]
    pub indicators: Option<Vec<IndicatorSpec>>,
    pub stage_weights: Option<StageWeights>,
    /// `weighted_sum`, the only method so far.
    pub method: Option<ScoringMethod>,
}

/// Changes to a model that has not scored yet; give the indicators and weights together.
#[derive(Object, Clone, Debug)]
pub struct ScoreModelChange {
    #[oai(validator(min_length = 1, max_length = 128))]
    pub name: Option<String>,
    #[oai(validator(min_items = 1, max_items = 64))]
    pub indicators: Option<Vec<IndicatorSpec>>,
    pub stage_weights: Option<StageWeights>,
    pub method: Option<ScoringMethod>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ScoreModelView {
    pub id: String,
    pub park_id: String,
    /// 1, 2, 3, … within the park.
    pub version: i32,
    pub name: String,
    pub status: ModelStatus,
    /// Whether it has scored a period: then it never changes again.
    pub in_use: bool,
    pub method: ScoringMethod,
    pub indicators: Vec<IndicatorSpec>,
    pub stage_weights: StageWeights,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    /// When it first scored a period.
    pub used_at: Option<DateTime<Utc>>,
}

/// The default model (Guidelines 1.0): what a park copies.
#[derive(Object)]
pub struct DefaultScoreModel {
    pub name: String,
    pub method: ScoringMethod,
    pub indicators: Vec<IndicatorSpec>,
    pub stage_weights: StageWeights,
}

#[derive(Object)]
pub struct ScoreModelList {
    pub items: Vec<ScoreModelView>,
    /// Always `null`: a park's versions come in one page.
    pub next_cursor: Nullable<String>,
}

fn spec_of(indicator: &Indicator) -> IndicatorSpec {
    IndicatorSpec {
        code: indicator.code.clone(),
        name: indicator.name.clone(),
        group: indicator.group,
        unit: indicator.unit.clone(),
        direction: indicator.direction,
        required: indicator.required,
        scoring: match &indicator.scoring {
            Scoring::Bands(bands) => ScoringSpec {
                bands: Some(bands.iter().map(|b| BandSpec { min: b.min, points: b.points }).collect()),
                min_max: None,
            },
            Scoring::MinMax => ScoringSpec { bands: None, min_max: Some(MinMaxSpec {}) },
        },
    }
}

fn weights_of(definition: &ModelDefinition) -> StageWeights {
    let stage = |s: Stage| definition.stage_weights.get(&s).cloned().unwrap_or_default();
    StageWeights {
        startup: stage(Stage::Startup),
        growth: stage(Stage::Growth),
        mature: stage(Stage::Mature),
    }
}

impl From<ScoreModel> for ScoreModelView {
    fn from(m: ScoreModel) -> Self {
        Self {
            id: m.id.to_string(),
            park_id: m.park_id.to_string(),
            version: m.version,
            name: m.name,
            status: m.status,
            in_use: m.used_at.is_some(),
            method: m.definition.method,
            indicators: m.definition.indicators.iter().map(spec_of).collect(),
            stage_weights: weights_of(&m.definition),
            created_at: m.created_at,
            activated_at: m.activated_at,
            used_at: m.used_at,
        }
    }
}

/// The domain definition of a request's indicators and weights; every problem at its field.
fn definition_of(
    indicators: Option<Vec<IndicatorSpec>>,
    stage_weights: Option<StageWeights>,
    method: Option<ScoringMethod>,
) -> Result<Option<ModelDefinition>, ApiError> {
    let (indicators, weights) = match (indicators, stage_weights) {
        (None, None) if method.is_some() => {
            return Err(ApiError::invalid_field(
                "method",
                "give the method with the indicators and stage_weights",
            ));
        }
        (None, None) => return Ok(None),
        (Some(i), Some(w)) => (i, w),
        (Some(_), None) => {
            return Err(ApiError::invalid_field("stage_weights", "give stage_weights with the indicators"));
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid_field("indicators", "give the indicators with stage_weights"));
        }
    };
    let mut errors = Vec::new();
    let indicators = indicators
        .into_iter()
        .enumerate()
        .map(|(i, spec)| {
            let scoring = match (spec.scoring.bands, spec.scoring.min_max) {
                (Some(bands), None) => {
                    Scoring::Bands(bands.into_iter().map(|b| Band { min: b.min, points: b.points }).collect())
                }
                (None, Some(_)) => Scoring::MinMax,
                _ => {
                    errors.push(FieldError::new(
                        format!("indicators[{i}].scoring"),
                        "give exactly one of bands and min_max",
                    ));
                    Scoring::MinMax
                }
            };
            Indicator {
                code: spec.code,
                name: spec.name,
                group: spec.group,
                unit: spec.unit,
                direction: spec.direction,
                required: spec.required,
                scoring,
            }
        })
        .collect();
    let definition = ModelDefinition {
        method: method.unwrap_or(ScoringMethod::WeightedSum),
        indicators,
        stage_weights: [
            (Stage::Startup, weights.startup),
            (Stage::Growth, weights.growth),
            (Stage::Mature, weights.mature),
        ]
        .into_iter()
        .collect(),
    };
    if let Err(more) = definition.validate() {
        errors.extend(more);
    }
    if errors.is_empty() { Ok(Some(definition)) } else { Err(ApiError::invalid(errors)) }
}

/// One enterprise's indicator values.
#[derive(Object)]
pub struct IndicatorValuesRow {
    #[oai(validator(max_length = 32))]
    pub uscc: String,
    pub stage: Stage,
    /// Indicator code → number. A required indicator must be here.
    pub values: BTreeMap<String, serde_json::Value>,
}

/// A period's indicator values for the park.
#[derive(Object)]
pub struct IndicatorValuesImport {
    #[oai(validator(min_length = 4, max_length = 16))]
    pub period: String,
    pub rows: Vec<IndicatorValuesRow>,
}

/// The JSON form, read row by row so that every bad row is reported, as for CSV.
pub struct ValuesJson {
    pub period: String,
    pub rows: Vec<RawValues>,
    pub fingerprint: String,
}

impl Payload for ValuesJson {
    const CONTENT_TYPE: &'static str =
        <JsonBody<IndicatorValuesImport> as poem_openapi::payload::Payload>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        <JsonBody<IndicatorValuesImport> as poem_openapi::payload::Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        <IndicatorValuesImport as poem_openapi::types::Type>::schema_ref()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        <IndicatorValuesImport as poem_openapi::types::Type>::register(registry);
    }
}

impl ParsePayload for ValuesJson {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut poem::RequestBody) -> poem::Result<Self> {
        let (period, rows, fingerprint) = import_document(request, body, "rows").await?;
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| values_row(u32::try_from(i + 1).unwrap_or(u32::MAX), row))
            .collect();
        Ok(Self { period, rows, fingerprint })
    }
}

impl_apirequest_for_payload!(ValuesJson);

fn values_row(row: u32, value: serde_json::Value) -> RawValues {
    let serde_json::Value::Object(mut fields) = value else {
        return RawValues { row, uscc: value.to_string(), stage: String::new(), values: Vec::new() };
    };
    let values = match fields.remove("values") {
        Some(serde_json::Value::Object(map)) => {
            map.into_iter().map(|(code, value)| (code, cell(value))).collect()
        }
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(other) => vec![("values".to_owned(), Cell::Other(other.to_string()))],
    };
    RawValues { row, uscc: text(fields.remove("uscc")), stage: text(fields.remove("stage")), values }
}

/// Reads `uscc,stage,<code>…`.
fn values_from_csv(text: &str) -> Result<Vec<RawValues>, ApiError> {
    let (codes, rows) = csv_import(text, &["uscc", "stage"])?;
    Ok(rows
        .into_iter()
        .map(|(row, cells)| {
            let cell = |n: usize| cells.get(n).cloned().unwrap_or_default();
            RawValues {
                row,
                uscc: cell(0),
                stage: cell(1),
                values: codes
                    .iter()
                    .enumerate()
                    .map(|(k, code)| (code.clone(), Cell::Text(cell(k + 2))))
                    .collect(),
            }
        })
        .collect())
}

#[derive(ApiRequest)]
pub enum ValuesBatch {
    /// `{period, rows: [{uscc, stage, values: {code: number}}]}`
    Json(ValuesJson),
    /// A header row `uscc,stage,<indicator code>…`, then one row per enterprise; the period comes
    /// from `?period=`. An empty cell is a missing value.
    Csv(Csv),
}

/// What an indicator-values import stored.
#[derive(Object)]
pub struct ScoredResult {
    pub park_id: String,
    pub period: String,
    /// The active model that computed the scores, and its version.
    pub model_id: String,
    pub model_version: i32,
    /// Scores computed and stored.
    pub scored: u64,
    /// Enterprises ranked in the park for the period.
    pub ranked: u64,
}

impl ScoredResult {
    fn of(i: &Imported) -> Result<Self, ApiError> {
        let model = i.model.ok_or_else(ApiError::internal)?;
        Ok(Self {
            park_id: i.park_id.to_string(),
            period: i.period.clone(),
            model_id: model.id.to_string(),
            model_version: model.version,
            scored: i.summary.imported as u64,
            ranked: i.summary.ranked as u64,
        })
    }
}

pub struct ScoreModelsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Scores")]
impl ScoreModelsApi {
    /// Create a score model version
    ///
    /// The park's office (or an admin). Saved as the park's next version, a `draft`. Leave out
    /// `indicators` and `stage_weights` to copy the default model. Every broken rule is reported
    /// at once: unique codes, bands ascending by `min` with points from 0 to 100 that rise (or, for
    /// `lower_better`, fall), and per stage weights from 0 to 1 that sum to 1 over the model's
    /// own indicators.
    #[oai(path = "/parks/:id/score-models", method = "post", operation_id = "create_score_model")]
    async fn create_score_model(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewScoreModel>,
    ) -> ApiResult<Created<ScoreModelView>> {
        let principal = caller.principal();
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, body_hash(&body.0));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let park_id = parse_id(&id.0, "the park")?;
        let body = body.0;
        let definition = definition_of(body.indicators, body.stage_weights, body.method)?;
        let outcome = idempotency
            .run(201, async |w| {
                Ok(ScoreModelView::from(
                    score_models::create(w, principal, park_id, &body.name, definition).await?,
                ))
            })
            .await
            .map_err(|e| e.naming("the park"))?;
        Ok(Created::new(outcome))
    }

    /// List a park's score models
    ///
    /// The park's office, or an admin. Newest version first.
    #[oai(path = "/parks/:id/score-models", method = "get", operation_id = "list_score_models")]
    async fn list_score_models(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ScoreModelList>> {
        let park_id = parse_id(&id.0, "the park")?;
        let models = score_models::list(state.db(), caller.principal(), park_id)
            .await
            .map_err(|e| ApiError::from(e).naming("the park"))?;
        Ok(Json(ScoreModelList {
            items: models.into_iter().map(ScoreModelView::from).collect(),
            next_cursor: Nullable(None),
        }))
    }

    /// Get the default score model
    ///
    /// Anyone authenticated. The Guidelines' 18 indicators (1.0) with innoloan's documented
    /// thresholds and weights: technology 60% / 45% / 35% of the score for start-up, growth and
    /// mature firms, growth 25% / 40% / 50%, auxiliary 15%. What `POST
    /// /parks/{id}/score-models` copies when it is given no indicators.
    #[oai(path = "/default-score-model", method = "get", operation_id = "get_default_score_model")]
    async fn get_default_score_model(&self, _caller: Caller) -> ApiResult<Json<DefaultScoreModel>> {
        let model = score_model::default_model();
        Ok(Json(DefaultScoreModel {
            name: score_model::DEFAULT_MODEL_NAME.to_owned(),
            method: model.method,
            indicators: model.indicators.iter().map(spec_of).collect(),
            stage_weights: weights_of(&model),
        }))
    }

    /// Get a score model
    ///
    /// Its park's office, or an admin.
    #[oai(path = "/score-models/:id", method = "get", operation_id = "get_score_model")]
    async fn get_score_model(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ScoreModelView>> {
        let id = parse_id(&id.0, "the score model")?;
        let model = score_models::get(state.db(), caller.principal(), id)
            .await
            .map_err(|e| ApiError::from(e).naming("the score model"))?;
        Ok(Json(model.into()))
    }

    /// Change a score model
    ///
    /// Its park's office. Only while the model has not scored a period: after that it is
    /// immutable (409), and a change is a new version.
    #[oai(path = "/score-models/:id", method = "patch", operation_id = "update_score_model")]
    async fn update_score_model(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        body: JsonBody<ScoreModelChange>,
    ) -> ApiResult<Json<ScoreModelView>> {
        let id = parse_id(&id.0, "the score model")?;
        let principal = caller.principal();
        let body = body.0;
        let definition = definition_of(body.indicators, body.stage_weights, body.method)?;
        let model = state
            .write(&caller, async |w| {
                score_models::update(w, principal, id, body.name.as_deref(), definition).await
            })
            .await
            .map_err(|e| e.naming("the score model"))?;
        Ok(Json(model.into()))
    }

    /// Activate a score model
    ///
    /// Its park's office. It becomes the park's one active model, which scores indicator values;
    /// the model active before becomes `inactive`.
    #[oai(path = "/score-models/:id/activate", method = "post", operation_id = "activate_score_model")]
    async fn activate_score_model(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ScoreModelView>> {
        let id = parse_id(&id.0, "the score model")?;
        let principal = caller.principal();
        let model = state
            .write(&caller, async |w| score_models::activate(w, principal, id).await)
            .await
            .map_err(|e| e.naming("the score model"))?;
        Ok(Json(model.into()))
    }

    /// Import a period's indicator values
    ///
    /// The park's office, or an admin. The park's active model computes each enterprise's score
    /// from its values; the period is ranked in the park and within each stage and replaces any
    /// earlier import of it (other periods keep their scores and models). All or nothing: a USCC
    /// not registered here, an unknown indicator, a missing required value or a value that is not
    /// a number is a row error, and the 422 lists every bad row. Send JSON, or `text/csv`
    /// (`uscc,stage,<code>…`) with `?period=`. 409 when the park has no active model.
    #[oai(path = "/parks/:id/indicator-values", method = "post", operation_id = "import_indicator_values")]
    async fn import_indicator_values(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// The period, for a CSV import; for JSON, if given, it must match the body's.
        #[oai(validator(max_length = 16))]
        period: Query<Option<String>>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: ValuesBatch,
    ) -> ApiResult<Created<ScoredResult>> {
        let principal = caller.principal();
        let sent = match body {
            ValuesBatch::Json(import) => {
                Sent::Json { period: import.period, rows: import.rows, fingerprint: import.fingerprint }
            }
            ValuesBatch::Csv(Csv(text)) => Sent::Csv(text),
        };
        let (period_text, raw, fingerprint) = sent.parts(period.0, values_from_csv)?;
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, fingerprint);
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let park_id = parse_id(&id.0, "the park")?;
        let period =
            Period::parse(&period_text).map_err(|e| ApiError::invalid_field("period", e.to_string()))?;
        let outcome = idempotency
            .run(201, async |w| {
                let imported = score_models::score(w, principal, park_id, &period, &raw).await?;
                ScoredResult::of(&imported).map_err(|_| {
                    crate::service::Error::Store(crate::store::StoreError::Corrupt(
                        "a computed import without its model".into(),
                    ))
                })
            })
            .await
            .map_err(|e| e.naming("the park"))?;
        Ok(Created::new(outcome))
    }
}
