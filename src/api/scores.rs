//! Innovation scores: park imports (JSON or CSV), cached look-ups and rankings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiRequest, ApiResponse, Object, OpenApi, impl_apirequest_for_payload,
    param::{Path, Query},
    payload::{Json, ParsePayload, Payload},
    types::ToJSON,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    csv::Csv,
    error::{ApiError, ApiResult, ErrorCode},
    idempotency::{Created, Idempotency, IdempotencyKey, text_hash},
    json::JsonBody,
    nullable::Nullable,
    pagination::{encode_score_cursor, parse_id, score_cursor},
};
use crate::domain::{
    FieldError, Period, Scope, Stage,
    score::EnterpriseScore,
    score_import::{Cell, RawRow, parse_rows},
};
use crate::service::{
    Render,
    scores::{self, Imported, Source},
};
use crate::store;

/// One enterprise's score in an import.
#[derive(Object)]
pub struct ScoreImportRow {
    /// The enterprise's USCC; it must be registered in this park.
    #[oai(validator(max_length = 32))]
    pub uscc: String,
    /// 0 to 1000, at most two decimals. Checked per row, so that every bad row is reported.
    pub score: f64,
    /// The enterprise's stage.
    pub stage: Stage,
    /// Indicator name → number, such as `{"研发费用金额": 1200000}`. At most 64.
    #[oai(default)]
    pub indicators: BTreeMap<String, serde_json::Value>,
}

/// A whole period's scores for the park. It replaces any earlier import of that period.
#[derive(Object)]
pub struct ScoreImport {
    /// `YYYY`, `YYYY-H1`, `YYYY-H2`, `YYYY-Q1` to `YYYY-Q4`, or `YYYY-MM`.
    #[oai(validator(min_length = 4, max_length = 16))]
    pub period: String,
    pub scores: Vec<ScoreImportRow>,
}

#[derive(ApiRequest)]
pub enum ScoreBatch {
    /// `{period, scores: [{uscc, score, stage, indicators}]}`
    Json(ImportJson),
    /// A header row `uscc,score,stage,<indicator>…`, then one row per enterprise; the period
    /// comes from `?period=`.
    Csv(Csv),
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ImportResult {
    pub park_id: String,
    pub period: String,
    /// The model that computed the scores (an indicator-values import); absent for finished
    /// scores.
    pub model_id: Option<String>,
    pub model_version: Option<i32>,
    /// Rows stored.
    pub imported: u64,
    /// Enterprises ranked in the park for the period.
    pub ranked: u64,
}

impl From<&Imported> for ImportResult {
    fn from(i: &Imported) -> Self {
        Self {
            park_id: i.park_id.to_string(),
            period: i.period.clone(),
            model_id: i.model.map(|m| m.id.to_string()),
            model_version: i.model.map(|m| m.version),
            imported: i.summary.imported as u64,
            ranked: i.summary.ranked as u64,
        }
    }
}

impl Render for Imported {
    fn render(&self) -> String {
        ImportResult::from(self).to_json_string()
    }
}

/// A score model's id and version.
#[derive(Object)]
pub struct ModelRefView {
    pub id: String,
    pub version: i32,
}

/// One indicator's part in a computed score.
#[derive(Object)]
pub struct ContributionView {
    /// The indicator's code.
    pub indicator: String,
    /// Its name and group in the model.
    pub name: String,
    pub group: crate::domain::score_model::IndicatorGroup,
    /// The value's unit, such as `万元` or `%`.
    pub unit: String,
    /// The value as imported; `null` for an optional indicator left empty.
    pub value: Nullable<f64>,
    /// 0 to 100.
    pub points: f64,
    /// The indicator's weight in the enterprise's stage.
    pub weight: f64,
    /// points × weight, to 4 decimals; the contributions sum to the score within 0.01.
    pub contribution: f64,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ScoreView {
    pub enterprise_id: String,
    pub period: String,
    /// 0 to 1000, two decimals.
    pub score: f64,
    pub stage: Stage,
    /// Competition rank in the park for the period: ties share a rank (1, 2, 2, 4).
    pub rank: i32,
    /// How many enterprises the park scored for the period.
    pub park_size: i32,
    /// The share of the park ranked at or below this enterprise, in percent: 100 is the best.
    pub percentile: f64,
    /// The same, among the park's enterprises of the same stage for the period.
    pub stage_rank: i32,
    pub stage_size: i32,
    pub stage_percentile: f64,
    pub indicators: BTreeMap<String, f64>,
    pub imported_at: DateTime<Utc>,
    /// The model that computed the score; absent for a score imported as it was.
    pub model: Option<ModelRefView>,
    /// How a computed score was reached, indicator by indicator; absent for an imported score.
    pub breakdown: Option<Vec<ContributionView>>,
}

impl From<EnterpriseScore> for ScoreView {
    fn from(s: EnterpriseScore) -> Self {
        Self {
            enterprise_id: s.enterprise_id.to_string(),
            period: s.period,
            score: s.score.as_f64(),
            stage: s.stage,
            rank: s.rank,
            park_size: s.park_size,
            percentile: f64::from(s.percentile_centi) / 100.0,
            stage_rank: s.stage_rank,
            stage_size: s.stage_size,
            stage_percentile: f64::from(s.stage_percentile_centi) / 100.0,
            indicators: s.indicators,
            imported_at: s.imported_at,
            model: s.model.map(|m| ModelRefView { id: m.id.to_string(), version: m.version }),
            breakdown: s.model.map(|_| {
                s.breakdown
                    .into_iter()
                    .map(|c| ContributionView {
                        indicator: c.indicator,
                        name: c.name,
                        group: c.group,
                        unit: c.unit,
                        value: Nullable(c.value),
                        points: c.points,
                        weight: c.weight,
                        contribution: c.contribution,
                    })
                    .collect()
            }),
        }
    }
}

#[derive(ApiResponse)]
pub enum ScoreFound {
    /// The enterprise's latest score.
    #[oai(status = 200)]
    Ok(
        Json<ScoreView>,
        /// `hit` when the score came from the cache, `miss` when from the database.
        #[oai(header = "X-Cache")]
        String,
    ),
}

#[derive(Object)]
pub struct RankingEntry {
    pub rank: i32,
    pub enterprise_id: String,
    pub name: String,
    pub uscc: String,
    pub score: f64,
    pub stage: Stage,
    pub percentile: f64,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Ranking {
    pub park_id: String,
    /// The period ranked; `null` when the park has no scores yet.
    pub period: Option<String>,
    /// The stage ranked within, when one was asked for.
    pub stage: Option<Stage>,
    pub items: Vec<RankingEntry>,
    /// `null` on the last page.
    pub next_cursor: Nullable<String>,
}

pub fn default_ranking_limit() -> u64 {
    100
}

/// The JSON form of an import, as the document shows it ([`ScoreImport`]), read row by row:
/// every cell is kept as it came, so that the per-row checks report every bad row with its
/// number, whatever is wrong with it (a bad stage, a USCC that is a number), exactly as for CSV.
pub struct ImportJson {
    pub period: String,
    pub rows: Vec<RawRow>,
    /// The body's canonical JSON, hashed for `Idempotency-Key`.
    pub fingerprint: String,
}

impl Payload for ImportJson {
    const CONTENT_TYPE: &'static str =
        <JsonBody<ScoreImport> as poem_openapi::payload::Payload>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        <JsonBody<ScoreImport> as poem_openapi::payload::Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        <ScoreImport as poem_openapi::types::Type>::schema_ref()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        <ScoreImport as poem_openapi::types::Type>::register(registry);
    }
}

impl ParsePayload for ImportJson {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut poem::RequestBody) -> poem::Result<Self> {
        let (period, rows, fingerprint) = import_document(request, body, "scores").await?;
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| raw_row(u32::try_from(i + 1).unwrap_or(u32::MAX), row))
            .collect();
        Ok(Self { period, rows, fingerprint })
    }
}

/// Reads an import's JSON body `{period, <rows>: [...]}`: the period, the rows as they came, and
/// the canonical body's hash for `Idempotency-Key`.
pub(super) async fn import_document(
    request: &Request,
    body: &mut poem::RequestBody,
    rows_field: &str,
) -> poem::Result<(String, Vec<serde_json::Value>, String)> {
    let bytes = <Vec<u8> as poem::FromRequest>::from_request(request, body).await?;
    let document = super::json::parse_document(&bytes)?;
    drop(bytes);
    let fingerprint = text_hash(&document.to_string());
    let serde_json::Value::Object(mut document) = document else {
        return Err(ApiError::invalid_field(
            "body",
            format!("the body must be an object {{period, {rows_field}}}"),
        )
        .into());
    };
    let period = match document.remove("period") {
        Some(serde_json::Value::String(period)) => period,
        Some(_) => return Err(ApiError::invalid_field("period", "period must be a string").into()),
        None => return Err(ApiError::invalid_field("period", "period is required").into()),
    };
    let rows = match document.remove(rows_field) {
        Some(serde_json::Value::Array(rows)) => rows,
        Some(_) => {
            return Err(ApiError::invalid_field(rows_field, format!("{rows_field} must be an array")).into());
        }
        None => return Err(ApiError::invalid_field(rows_field, format!("{rows_field} is required")).into()),
    };
    if rows.len() > crate::domain::score_import::MAX_ROWS {
        return Err(ApiError::invalid_field(
            rows_field,
            format!("a batch has at most {} rows", crate::domain::score_import::MAX_ROWS),
        )
        .into());
    }
    Ok((period, rows, fingerprint))
}

impl_apirequest_for_payload!(ImportJson);

/// A cell as it came: a number, a string, or any other JSON value kept as its text.
pub(super) fn cell(value: serde_json::Value) -> Cell {
    match value {
        serde_json::Value::Number(n) => n.as_f64().map_or(Cell::Other(n.to_string()), Cell::Number),
        serde_json::Value::String(s) => Cell::Text(s),
        other => Cell::Other(other.to_string()),
    }
}

/// Text as it came; any other JSON value as its JSON text, which no check accepts.
pub(super) fn text(value: Option<serde_json::Value>) -> String {
    match value {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn raw_row(row: u32, value: serde_json::Value) -> RawRow {
    let serde_json::Value::Object(mut fields) = value else {
        return RawRow {
            row,
            uscc: value.to_string(),
            score: Cell::Other(value.to_string()),
            stage: String::new(),
            indicators: Vec::new(),
        };
    };
    let indicators = match fields.remove("indicators") {
        Some(serde_json::Value::Object(map)) => {
            map.into_iter().map(|(name, value)| (name, cell(value))).collect()
        }
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(other) => vec![("indicators".to_owned(), Cell::Other(other.to_string()))],
    };
    RawRow {
        row,
        uscc: text(fields.remove("uscc")),
        score: fields.remove("score").map_or(Cell::Text(String::new()), cell),
        stage: text(fields.remove("stage")),
        indicators,
    }
}

/// An import as it was sent: JSON, already read row by row, or CSV text.
pub(super) enum Sent<R> {
    Json { period: String, rows: Vec<R>, fingerprint: String },
    Csv(String),
}

impl<R> Sent<R> {
    /// The period, the rows and the fingerprint for `Idempotency-Key`. A CSV takes its period from
    /// `?period=`; JSON has its own, which `?period=`, if given, must match.
    pub(super) fn parts(
        self,
        query: Option<String>,
        read_csv: impl FnOnce(&str) -> Result<Vec<R>, ApiError>,
    ) -> Result<(String, Vec<R>, String), ApiError> {
        match self {
            Sent::Json { period, rows, fingerprint } => {
                if let Some(query) = query.filter(|q| *q != period) {
                    return Err(ApiError::invalid_field(
                        "period",
                        format!("?period={query} does not match the body's period {period}"),
                    ));
                }
                Ok((period, rows, fingerprint))
            }
            Sent::Csv(text) => {
                let period =
                    query.ok_or_else(|| ApiError::invalid_field("period", "a CSV import needs ?period="))?;
                let fingerprint = text_hash(&format!("{period}\n{text}"));
                Ok((period, read_csv(&text)?, fingerprint))
            }
        }
    }
}

/// A CSV import's data row: its 1-based number and its cells.
pub(super) type CsvRow = (u32, Vec<String>);

/// Reads a CSV import whose header starts with `leading` and goes on with one column per
/// indicator: the indicator names, and each data row (1-based) as its cells. A row that cannot be
/// read is a row error.
pub(super) fn csv_import(text: &str, leading: &[&str]) -> Result<(Vec<String>, Vec<CsvRow>), ApiError> {
    let mut reader =
        csv::ReaderBuilder::new().flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ApiError::invalid_field("header", format!("the header row cannot be read: {e}")))?
        .clone();
    let found: Vec<String> = headers.iter().take(leading.len()).map(str::to_ascii_lowercase).collect();
    if found != leading {
        return Err(ApiError::invalid_field(
            "header",
            format!(
                "the header row must start with {}; it starts with {}",
                leading.join(","),
                found.join(",")
            ),
        ));
    }
    let names: Vec<String> = headers.iter().skip(leading.len()).map(str::to_owned).collect();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        match record {
            Ok(record) => rows.push((row, record.iter().map(str::to_owned).collect())),
            Err(e) => errors.push(FieldError::at_row(row, "row", format!("the row cannot be read: {e}"))),
        }
        if rows.len() + errors.len() > crate::domain::score_import::MAX_ROWS {
            errors.push(FieldError::new(
                "rows",
                format!("a batch has at most {} rows", crate::domain::score_import::MAX_ROWS),
            ));
            break;
        }
    }
    if errors.is_empty() { Ok((names, rows)) } else { Err(ApiError::invalid(errors)) }
}

/// Reads a CSV import: `uscc,score,stage` and then one column per indicator.
fn rows_from_csv(text: &str) -> Result<Vec<RawRow>, ApiError> {
    let (names, rows) = csv_import(text, &["uscc", "score", "stage"])?;
    Ok(rows
        .into_iter()
        .map(|(row, cells)| {
            let cell = |n: usize| cells.get(n).cloned().unwrap_or_default();
            RawRow {
                row,
                uscc: cell(0),
                score: Cell::Text(cell(1)),
                stage: cell(2),
                indicators: names
                    .iter()
                    .enumerate()
                    .map(|(k, name)| (name.clone(), Cell::Text(cell(k + 3))))
                    .collect(),
            }
        })
        .collect())
}

pub struct ScoresApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Scores")]
impl ScoresApi {
    /// Import a period's scores
    ///
    /// The park's office or an admin. All or nothing, in one transaction: every row is checked (a
    /// valid USCC registered in this park, a score from 0 to 1000 with at most two decimals, a
    /// stage, numeric indicators, no USCC twice), and one bad row means nothing is stored; the 422
    /// lists every bad row as `{row, field, message}`. The period is ranked (ties share a rank)
    /// and replaces any earlier import of the same period. Send JSON, or `text/csv` with
    /// `?period=`. Up to 100,000 rows and 64 MiB.
    #[oai(path = "/parks/:id/scores", method = "post", operation_id = "import_scores")]
    async fn import_scores(
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
        body: ScoreBatch,
    ) -> ApiResult<Created<ImportResult>> {
        let principal = caller.principal();
        let sent = match body {
            ScoreBatch::Json(import) => {
                Sent::Json { period: import.period, rows: import.rows, fingerprint: import.fingerprint }
            }
            ScoreBatch::Csv(Csv(text)) => Sent::Csv(text),
        };
        let (period_text, raw, fingerprint) = sent.parts(period.0, rows_from_csv)?;
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, fingerprint);
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let park_id = parse_id(&id.0, "the park")?;
        let period =
            Period::parse(&period_text).map_err(|e| ApiError::invalid_field("period", e.to_string()))?;
        let batch = parse_rows(&raw).map_err(ApiError::invalid)?;
        let outcome = idempotency
            .run(201, async |w| {
                Ok(ImportResult::from(&scores::import(w, principal, park_id, &period, batch).await?))
            })
            .await
            .map_err(|e| e.naming("the park"))?;
        Ok(Created::new(outcome))
    }

    /// Get an enterprise's latest score
    ///
    /// An admin, the enterprise's park office, the enterprise itself, or any bank. Read through
    /// the cache; `X-Cache` says whether it was a hit.
    #[oai(path = "/enterprises/:id/score", method = "get", operation_id = "get_enterprise_score")]
    async fn get_enterprise_score(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<ScoreFound> {
        let enterprise_id = parse_id(&id.0, "the enterprise")?;
        let park_id = state
            .enterprise(enterprise_id)
            .await?
            .ok_or_else(|| ApiError::not_found("the enterprise"))?
            .park_id;
        let visible = match caller.principal().scope {
            Scope::All | Scope::Bank(_) => true,
            Scope::Park(own) => own == park_id,
            Scope::Enterprise(own) => own == enterprise_id,
        };
        if !visible {
            return Err(ApiError::not_found("the enterprise"));
        }
        match scores::latest(&state.services, park_id, enterprise_id).await? {
            (Some(score), source) => {
                let cache = match source {
                    Source::Cache => "hit",
                    Source::Database => "miss",
                };
                Ok(ScoreFound::Ok(Json(score.into()), cache.into()))
            }
            (None, _) => Err(ApiError::NotFound(super::error::body(
                ErrorCode::NoScore,
                "the enterprise has no score yet",
                Vec::new(),
            ))),
        }
    }

    /// Get a park's ranking
    ///
    /// Anyone authenticated. Best first, with competition ranks (ties share a rank). `limit=100`
    /// gives the top-100 list (百强榜). Without `period`, the park's latest period. With `stage`,
    /// the park's enterprises of that stage only, ranked among themselves: `rank` and
    /// `percentile` are within the stage.
    #[oai(path = "/parks/:id/rankings", method = "get", operation_id = "get_park_ranking")]
    async fn get_park_ranking(
        &self,
        _caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// The period to rank; the latest when omitted.
        #[oai(validator(max_length = 16))]
        period: Query<Option<String>>,
        /// Rank within this stage only.
        stage: Query<Option<Stage>>,
        /// How many enterprises to return.
        #[oai(default = "default_ranking_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<Ranking>> {
        let park_id = parse_id(&id.0, "the park")?;
        state.park(park_id).await?;
        let after = score_cursor(cursor.0.as_deref())?;
        let period = period
            .0
            .map(|period| {
                Period::parse(&period)
                    .map(|p| p.as_str().to_owned())
                    .map_err(|e| ApiError::invalid_field("period", e.to_string()))
            })
            .transpose()?;
        let page =
            store::scores::ranking(state.db(), park_id, period.as_deref(), stage.0, after, limit.0).await?;
        let (period, ranked, next) = (page.period, page.ranked, page.next);
        let items = ranked
            .into_iter()
            .map(|r| RankingEntry {
                rank: r.rank,
                enterprise_id: r.enterprise_id.to_string(),
                name: r.name,
                uscc: r.uscc,
                score: r.score.as_f64(),
                stage: r.stage,
                percentile: f64::from(r.percentile_centi) / 100.0,
            })
            .collect();
        let next_cursor = next.map(encode_score_cursor);
        Ok(Json(Ranking {
            park_id: park_id.to_string(),
            period,
            stage: stage.0,
            items,
            next_cursor: next_cursor.into(),
        }))
    }
}
