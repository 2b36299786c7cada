//! Recommendation lists (白名单推送) and the banks' tasks.

use chrono::{DateTime, NaiveDate, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::ToJSON,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    error::{ApiError, ApiResult},
    idempotency::{Created, Idempotency, IdempotencyKey, body_hash},
    json::JsonBody,
    nullable::Nullable,
    pagination::{List, after_id, body_id, default_limit, filter_id, parse_id},
};
use crate::domain::{
    FieldError, Money, Score, Stage, calendar,
    recommendation::{Answer, BankTally, Entry, ListRule, ListStatus, Need, TaskStatus},
};
use crate::service::{
    Render,
    recommendations::{self, Draft, ListView, TaskView},
};
use crate::store::{
    self,
    recommendations::{Chosen, TaskFilter},
};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// An enterprise to recommend, with what it says it needs.
#[derive(Object, Clone, Debug)]
pub struct NewEntry {
    #[oai(validator(max_length = 20))]
    pub enterprise_id: String,
    /// The amount it needs, in fen.
    #[oai(validator(minimum(value = "1")))]
    pub amount: Option<i64>,
    #[oai(validator(minimum(value = "1"), maximum(value = "120")))]
    pub term_months: Option<i32>,
    #[oai(validator(max_length = 500))]
    pub purpose: Option<String>,
}

/// Enterprises chosen from the park's latest scores: the best `top`, at or above `min_score`, of
/// `stages` (every stage when left out).
#[derive(Object, Clone, Debug)]
#[oai(skip_serializing_if_is_none)]
pub struct RuleSpec {
    #[oai(validator(minimum(value = "1"), maximum(value = "2000")))]
    pub top: Option<u32>,
    #[oai(validator(minimum(value = "0"), maximum(value = "1000")))]
    pub min_score: Option<f64>,
    pub stages: Option<Vec<Stage>>,
}

/// A new list, as a draft: name the enterprises (`entries`) or give a `rule`, not both.
#[derive(Object, Clone, Debug)]
pub struct NewRecommendationList {
    #[oai(validator(min_length = 1, max_length = 128))]
    pub name: String,
    /// The banks it goes to.
    #[oai(validator(min_items = 1, max_items = 50))]
    pub bank_ids: Vec<String>,
    /// Each bank answers each enterprise within this many Chinese working days of publication.
    #[oai(validator(minimum(value = "1"), maximum(value = "60")))]
    pub respond_within_working_days: i32,
    #[oai(validator(min_items = 1, max_items = 2000))]
    pub entries: Option<Vec<NewEntry>>,
    pub rule: Option<RuleSpec>,
}

/// A bank's answer.
#[derive(Object, Clone, Debug)]
pub struct TaskAnswer {
    /// `contacted` (from `open`), `credit_granted` or `declined` (from `open` or `contacted`).
    pub status: TaskStatus,
    /// Required for `declined`; a note otherwise.
    #[oai(validator(max_length = 500))]
    pub reason: Option<String>,
    /// For `credit_granted`: the bank's approved application of this enterprise…
    #[oai(validator(max_length = 20))]
    pub application_id: Option<String>,
    /// …or the credit line the bank granted it.
    #[oai(validator(max_length = 20))]
    pub credit_line_id: Option<String>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct EntryView {
    pub position: i32,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub uscc: String,
    /// The enterprise's latest score when the list was made.
    pub score: Option<f64>,
    /// The amount it needs, in fen.
    pub amount: Option<i64>,
    pub term_months: Option<i32>,
    pub purpose: Option<String>,
}

impl From<&Entry> for EntryView {
    fn from(e: &Entry) -> Self {
        Self {
            position: e.position,
            enterprise_id: e.enterprise_id.to_string(),
            enterprise_name: e.enterprise_name.clone(),
            uscc: e.uscc.clone(),
            score: e.score.map(Score::as_f64),
            amount: e.need.amount.map(Money::fen),
            term_months: e.need.term_months,
            purpose: e.need.purpose.clone(),
        }
    }
}

/// How one bank's tasks stand.
#[derive(Object)]
pub struct BankTallyView {
    pub bank_id: String,
    pub tasks: u32,
    /// Answered at least once.
    pub answered: u32,
    /// Contacted or credit granted.
    pub taken_up: u32,
    pub credit_granted: u32,
    pub declined: u32,
    /// Open past the deadline today.
    pub overdue: u32,
    /// Answered after the deadline.
    pub answered_late: u32,
    /// `taken_up ÷ tasks`, 0 to 1.
    pub take_up_rate: f64,
    /// The median of the Chinese working days from publication to the first answer, over the
    /// answered tasks; `null` when none is answered.
    pub median_response_working_days: Nullable<f64>,
}

impl From<&BankTally> for BankTallyView {
    fn from(t: &BankTally) -> Self {
        Self {
            bank_id: t.bank_id.to_string(),
            tasks: t.tasks,
            answered: t.answered,
            taken_up: t.taken_up,
            credit_granted: t.credit_granted,
            declined: t.declined,
            overdue: t.overdue,
            answered_late: t.answered_late,
            take_up_rate: t.take_up_rate,
            median_response_working_days: Nullable(t.median_response_working_days),
        }
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RecommendationListView {
    pub id: String,
    pub park_id: String,
    pub name: String,
    pub status: ListStatus,
    pub respond_within_working_days: i32,
    pub bank_ids: Vec<String>,
    /// How the entries were chosen, when they were not named.
    pub rule: Option<RuleSpec>,
    pub entry_count: u32,
    /// The enterprises, in order; left out of a page of lists.
    pub entries: Option<Vec<EntryView>>,
    /// Per bank, how its tasks stand today (a bank sees only its own); left out of a page of
    /// lists. The tasks themselves: `GET /recommendation-tasks?list_id=`.
    pub banks: Option<Vec<BankTallyView>>,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_on: Option<NaiveDate>,
    /// The last day to answer: `respond_within_working_days` Chinese working days after
    /// `published_on`.
    pub due_on: Option<NaiveDate>,
}

fn rule_view(rule: &ListRule) -> RuleSpec {
    RuleSpec {
        top: rule.top,
        min_score: rule.min_score.map(Score::as_f64),
        stages: (!rule.stages.is_empty()).then(|| rule.stages.clone()),
    }
}

impl From<&ListView> for RecommendationListView {
    fn from(v: &ListView) -> Self {
        let l = &v.list;
        Self {
            id: l.id.to_string(),
            park_id: l.park_id.to_string(),
            name: l.name.clone(),
            status: l.status,
            respond_within_working_days: l.respond_within_working_days,
            bank_ids: l.bank_ids.iter().map(ToString::to_string).collect(),
            rule: l.rule.as_ref().map(rule_view),
            entry_count: u32::try_from(v.entry_count).unwrap_or(u32::MAX),
            entries: Some(l.entries.iter().map(EntryView::from).collect()),
            banks: Some(v.banks.iter().map(BankTallyView::from).collect()),
            created_at: l.created_at,
            published_at: l.published_at,
            published_on: l.published_on,
            due_on: l.due_on,
        }
    }
}

impl Render for ListView {
    fn render(&self) -> String {
        RecommendationListView::from(self).to_json_string()
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RecommendationTaskView {
    pub id: String,
    pub list_id: String,
    pub park_id: String,
    pub bank_id: String,
    pub enterprise_id: String,
    /// The enterprise's name and USCC: a bank may not read the enterprise's record until it
    /// applies, but knows whom it is sent.
    pub enterprise_name: String,
    pub uscc: String,
    /// The enterprise's stated need, in fen, months and words.
    pub amount: Option<i64>,
    pub term_months: Option<i32>,
    pub purpose: Option<String>,
    pub published_on: NaiveDate,
    /// The last day to answer.
    pub due_on: NaiveDate,
    pub status: TaskStatus,
    /// Open past `due_on`.
    pub overdue: bool,
    /// The bank's first answer.
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_on: Option<NaiveDate>,
    /// Chinese working days from publication to the first answer.
    pub response_working_days: Option<i32>,
    pub reason: Option<String>,
    pub application_id: Option<String>,
    pub credit_line_id: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<&TaskView> for RecommendationTaskView {
    fn from(v: &TaskView) -> Self {
        let t = &v.task;
        Self {
            id: t.id.to_string(),
            list_id: t.list_id.to_string(),
            park_id: t.park_id.to_string(),
            bank_id: t.bank_id.to_string(),
            enterprise_id: t.enterprise_id.to_string(),
            enterprise_name: t.enterprise_name.clone(),
            uscc: t.uscc.clone(),
            amount: t.need.amount.map(Money::fen),
            term_months: t.need.term_months,
            purpose: t.need.purpose.clone(),
            published_on: t.published_on,
            due_on: t.due_on,
            status: t.status,
            overdue: t.is_overdue(v.today),
            answered_at: t.answered_at,
            answered_on: t.answered_on,
            response_working_days: t.response_working_days(calendar::china()),
            reason: t.reason.clone(),
            application_id: t.application_id.map(|id| id.to_string()),
            credit_line_id: t.credit_line_id.map(|id| id.to_string()),
            updated_at: t.updated_at,
        }
    }
}

impl Render for TaskView {
    fn render(&self) -> String {
        RecommendationTaskView::from(self).to_json_string()
    }
}

fn draft_of(body: NewRecommendationList) -> Result<Draft, ApiError> {
    let mut errors = Vec::new();
    let bank_ids = body
        .bank_ids
        .iter()
        .enumerate()
        .map(|(i, id)| body_id(id, format!("bank_ids[{i}]"), "bank", &mut errors))
        .collect();
    let chosen = match (body.entries, body.rule) {
        (Some(entries), None) => Chosen::Named(
            entries
                .into_iter()
                .enumerate()
                .map(|(i, e)| {
                    let id = body_id(
                        &e.enterprise_id,
                        format!("entries[{i}].enterprise_id"),
                        "enterprise",
                        &mut errors,
                    );
                    let amount = e.amount.and_then(|fen| {
                        Money::from_fen(fen)
                            .map_err(|err| {
                                errors.push(FieldError::new(format!("entries[{i}].amount"), err.to_string()))
                            })
                            .ok()
                    });
                    (id, Need { amount, term_months: e.term_months, purpose: e.purpose })
                })
                .collect(),
        ),
        (None, Some(rule)) => {
            let min_score = rule.min_score.and_then(|s| {
                Score::from_f64(s)
                    .map_err(|e| errors.push(FieldError::new("rule.min_score", e.to_string())))
                    .ok()
            });
            Chosen::Rule(ListRule { top: rule.top, min_score, stages: rule.stages.unwrap_or_default() })
        }
        _ => {
            errors
                .push(FieldError::new("entries", "name the enterprises (entries) or give a rule, not both"));
            Chosen::Named(Vec::new())
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    Ok(Draft {
        name: body.name,
        respond_within_working_days: body.respond_within_working_days,
        bank_ids,
        chosen,
    })
}

pub struct RecommendationsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Recommendations")]
impl RecommendationsApi {
    /// Create a recommendation list
    ///
    /// The park's office (or an admin). A `draft` until published. Name the enterprises, each
    /// with its need (amount, term, purpose), or give a rule that chooses them from the park's
    /// latest scores (best `top`, at or above `min_score`, of `stages`). Every bank must exist and
    /// every named enterprise be the park's; at most 2,000 enterprises and 20,000 tasks.
    #[oai(
        path = "/parks/:id/recommendation-lists",
        method = "post",
        operation_id = "create_recommendation_list"
    )]
    async fn create_recommendation_list(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewRecommendationList>,
    ) -> ApiResult<Created<RecommendationListView>> {
        let principal = caller.principal();
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, body_hash(&body.0));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let park_id = parse_id(&id.0, "the park")?;
        let draft = draft_of(body.0)?;
        let outcome = idempotency
            .run(201, async |w| {
                let list = recommendations::create(w, principal, park_id, draft).await?;
                Ok(RecommendationListView::from(&ListView {
                    entry_count: list.entries.len(),
                    list,
                    banks: Vec::new(),
                    today: today(),
                }))
            })
            .await
            .map_err(|e| e.naming("the park"))?;
        Ok(Created::new(outcome))
    }

    /// List recommendation lists
    ///
    /// A park office sees its park's, a bank the published lists sent to it, an admin every
    /// list. Without entries and banks; read one list for those.
    #[oai(path = "/recommendation-lists", method = "get", operation_id = "list_recommendation_lists")]
    async fn list_recommendation_lists(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        /// Only this park's lists.
        #[oai(validator(max_length = 20))]
        park_id: Query<Option<String>>,
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<RecommendationListView>>> {
        let after = after_id(cursor.0.as_deref())?;
        let page = store::recommendations::list(
            state.db(),
            caller.principal().scope,
            filter_id(park_id.0.as_deref()),
            after,
            limit.0,
        )
        .await?;
        Ok(Json(List::from_page(page, |(list, count)| {
            let view = ListView { list, banks: Vec::new(), entry_count: count, today: today() };
            RecommendationListView { entries: None, banks: None, ..RecommendationListView::from(&view) }
        })))
    }

    /// Get a recommendation list
    ///
    /// Its park's office, an admin, or a bank it was published to (which sees only its own
    /// standing in `banks`).
    #[oai(path = "/recommendation-lists/:id", method = "get", operation_id = "get_recommendation_list")]
    async fn get_recommendation_list(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<RecommendationListView>> {
        let id = parse_id(&id.0, "the recommendation list")?;
        let view = recommendations::get(state.db(), caller.principal(), id, today())
            .await
            .map_err(|e| ApiError::from(e).naming("the recommendation list"))?;
        Ok(Json((&view).into()))
    }

    /// Publish a recommendation list
    ///
    /// Its park's office. Each bank gets one task per enterprise, due `respond_within_working_days`
    /// Chinese working days from today (statutory holidays off, make-up weekend days on), and
    /// hears of it (`recommendation.published`). 409 when it is already published.
    #[oai(
        path = "/recommendation-lists/:id/publish",
        method = "post",
        operation_id = "publish_recommendation_list"
    )]
    async fn publish_recommendation_list(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<RecommendationListView>> {
        let id = parse_id(&id.0, "the recommendation list")?;
        let principal = caller.principal();
        let view = state
            .write(&caller, async |w| recommendations::publish(w, principal, id, today()).await)
            .await
            .map_err(|e| e.naming("the recommendation list"))?;
        Ok(Json((&view).into()))
    }

    /// List recommendation tasks
    ///
    /// A bank sees its own tasks, a park office its park's, an enterprise the banks it was
    /// recommended to, an admin every task.
    #[oai(path = "/recommendation-tasks", method = "get", operation_id = "list_recommendation_tasks")]
    #[allow(clippy::too_many_arguments)]
    async fn list_recommendation_tasks(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        /// Only tasks in this status.
        status: Query<Option<TaskStatus>>,
        /// Only this list's tasks.
        #[oai(validator(max_length = 20))]
        list_id: Query<Option<String>>,
        /// Only this bank's tasks.
        #[oai(validator(max_length = 20))]
        bank_id: Query<Option<String>>,
        /// Only this enterprise's tasks.
        #[oai(validator(max_length = 20))]
        enterprise_id: Query<Option<String>>,
        /// Only tasks open past their deadline.
        #[oai(default)]
        overdue: Query<bool>,
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<RecommendationTaskView>>> {
        let after = after_id(cursor.0.as_deref())?;
        let today = today();
        let filter = TaskFilter {
            status: status.0,
            list_id: filter_id(list_id.0.as_deref()),
            bank_id: filter_id(bank_id.0.as_deref()),
            enterprise_id: filter_id(enterprise_id.0.as_deref()),
            overdue_on: overdue.0.then_some(today),
        };
        let page =
            store::recommendations::list_tasks(state.db(), caller.principal().scope, filter, after, limit.0)
                .await?;
        Ok(Json(List::from_page(page, |task| RecommendationTaskView::from(&TaskView { task, today }))))
    }

    /// Get a recommendation task
    ///
    /// Scoped as the list of tasks.
    #[oai(path = "/recommendation-tasks/:id", method = "get", operation_id = "get_recommendation_task")]
    async fn get_recommendation_task(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<RecommendationTaskView>> {
        let id = parse_id(&id.0, "the recommendation task")?;
        let task = store::recommendations::get_task(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| ApiError::from(e).naming("the recommendation task"))?;
        Ok(Json(RecommendationTaskView::from(&TaskView { task, today: today() })))
    }

    /// Answer a recommendation task
    ///
    /// The task's bank. `contacted` from `open`; `credit_granted` (naming the approved
    /// application or the credit line) or `declined` (with a reason) from `open` or `contacted`.
    /// The first answer's day counts for the response time. The park and the enterprise hear of
    /// it (`recommendation.answered`).
    #[oai(
        path = "/recommendation-tasks/:id/answer",
        method = "post",
        operation_id = "answer_recommendation_task"
    )]
    async fn answer_recommendation_task(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        body: JsonBody<TaskAnswer>,
    ) -> ApiResult<Json<RecommendationTaskView>> {
        let id = parse_id(&id.0, "the recommendation task")?;
        let principal = caller.principal();
        let body = body.0;
        let mut errors = Vec::new();
        let application_id = body
            .application_id
            .as_deref()
            .map(|raw| body_id(raw, "application_id", "application", &mut errors));
        let credit_line_id = body
            .credit_line_id
            .as_deref()
            .map(|raw| body_id(raw, "credit_line_id", "credit line", &mut errors));
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors));
        }
        let answer = Answer { status: body.status, reason: body.reason, application_id, credit_line_id };
        let view = state
            .write(&caller, async |w| recommendations::answer(w, principal, id, answer, store::now()).await)
            .await
            .map_err(|e| e.naming("the recommendation task"))?;
        Ok(Json((&view).into()))
    }
}
