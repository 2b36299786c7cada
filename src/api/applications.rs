//! Applications: an enterprise applies for a published product; the owning bank reviews,
//! approves (granting a credit line, 授信) or rejects; the enterprise may withdraw before a
//! decision.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    credit_lines::CreditLineView,
    date::Date,
    error::{ApiError, ApiResult},
    idempotency::{self, Created, Idempotency, IdempotencyKey, Outcome},
    json::JsonBody,
    pagination::{List, after_id, default_limit, parse_id},
    parks::not_found_as,
    text,
};
use crate::domain::{
    Money, RateBps,
    credit::{Application, ApplicationAction, ApplicationStatus, Approval},
};
use crate::service::applications::{self, Apply};
use crate::store;

#[derive(Object)]
pub struct NewApplicationBody {
    #[oai(validator(min_length = 1, max_length = 20))]
    pub product_id: String,
    /// The amount asked for, in fen.
    #[oai(validator(minimum(value = "1")))]
    pub amount: i64,
    #[oai(validator(minimum(value = "1"), maximum(value = "120")))]
    pub term_months: i32,
    /// What the money is for.
    #[oai(validator(min_length = 1, max_length = 500))]
    pub purpose: String,
    /// Only for an admin applying on an enterprise's behalf; an enterprise key applies for itself.
    #[oai(validator(max_length = 20))]
    pub enterprise_id: Option<String>,
}

/// The product's terms the application was judged on.
#[derive(Object)]
pub struct JudgedTermsView {
    pub min_amount: i64,
    pub max_amount: i64,
    pub rate_bps_min: i32,
    pub rate_bps_max: i32,
    pub term_months_min: i32,
    pub term_months_max: i32,
    pub approval_sla_days: i32,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApplicationView {
    pub id: String,
    pub enterprise_id: String,
    pub product_id: String,
    pub bank_id: String,
    pub park_id: String,
    /// Asked for, in fen.
    pub amount: i64,
    pub term_months: i32,
    pub purpose: String,
    pub status: ApplicationStatus,
    pub terms: JudgedTermsView,
    /// The score period it was judged with; absent when the enterprise had no score.
    pub score_period: Option<String>,
    pub score: Option<f64>,
    /// The most the enterprise could borrow when it applied, in fen.
    pub offer_max_amount: i64,
    pub submitted_at: DateTime<Utc>,
    /// The last day a decision keeps within the product's `approval_sla_days`, counted in
    /// Chinese working days after the day of submission: statutory holidays are off and make-up
    /// weekends (调休) are on, as the State Council's calendar of the year says.
    pub sla_due_on: NaiveDate,
    /// Whether that calendar is published for the year `sla_due_on` falls in; when it is not
    /// (it comes out each November or December), Monday to Friday were counted.
    pub sla_calendar_published: bool,
    /// While the application is open: working days from today to `sla_due_on`, counted the same
    /// way; negative once it has passed.
    pub sla_working_days_left: Option<i32>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

impl crate::service::Render for Application {
    fn render(&self) -> String {
        poem_openapi::types::ToJSON::to_json_string(&ApplicationView::from(self.clone()))
    }
}

impl From<Application> for ApplicationView {
    fn from(a: Application) -> Self {
        let terms = a.terms;
        let sla_due_on =
            crate::domain::credit::sla_due_on(a.submitted_at.date_naive(), terms.approval_sla_days);
        let (score_period, score) = match a.score {
            Some((period, score)) => (Some(period), Some(score.as_f64())),
            None => (None, None),
        };
        Self {
            id: a.id.to_string(),
            enterprise_id: a.enterprise_id.to_string(),
            product_id: a.product_id.to_string(),
            bank_id: a.bank_id.to_string(),
            park_id: a.park_id.to_string(),
            amount: a.amount.fen(),
            term_months: a.term_months,
            purpose: a.purpose,
            status: a.status,
            terms: JudgedTermsView {
                min_amount: terms.min_amount.fen(),
                max_amount: terms.max_amount.fen(),
                rate_bps_min: terms.rate_bps_min,
                rate_bps_max: terms.rate_bps_max,
                term_months_min: terms.term_months_min,
                term_months_max: terms.term_months_max,
                approval_sla_days: terms.approval_sla_days,
            },
            score_period,
            score,
            offer_max_amount: a.offer_max_amount.fen(),
            sla_due_on,
            sla_calendar_published: crate::domain::calendar::china().is_published(sla_due_on.year()),
            sla_working_days_left: matches!(
                a.status,
                ApplicationStatus::Submitted | ApplicationStatus::UnderReview
            )
            .then(|| {
                let (today, calendar) = (Utc::now().date_naive(), crate::domain::calendar::china());
                if today <= sla_due_on {
                    calendar.working_days_between(today, sla_due_on)
                } else {
                    -calendar.working_days_between(sla_due_on, today)
                }
            }),
            submitted_at: a.submitted_at,
            reviewed_at: a.reviewed_at,
            decided_at: a.decided_at,
            decision_reason: a.decision_reason,
        }
    }
}

#[derive(Object)]
pub struct ApprovalBody {
    /// The credit granted, in fen: at least the product's minimum, at most the enterprise's offer.
    #[oai(validator(minimum(value = "1")))]
    pub amount: i64,
    /// Within the product's rate range.
    #[oai(validator(minimum(value = "0"), maximum(value = "2400")))]
    pub rate_bps: i32,
    /// Within the product's term range.
    #[oai(validator(minimum(value = "1"), maximum(value = "120")))]
    pub term_months: i32,
    /// The last day the line may be drawn on; in the future.
    pub expires_on: Date,
}

#[derive(Object)]
pub struct RejectionBody {
    /// Why, for the enterprise.
    #[oai(validator(min_length = 1, max_length = 1000))]
    pub reason: String,
}

#[derive(Object)]
pub struct ApprovalResult {
    pub application: ApplicationView,
    pub credit_line: CreditLineView,
}

#[derive(ApiResponse)]
pub enum Approved {
    /// Approved, and the credit line granted. On an idempotent replay, the first response, with
    /// `Idempotent-Replayed: true`.
    #[oai(status = 200)]
    Ok(
        Json<ApprovalResult>,
        /// `true` when this is the stored response of an earlier request with the same key.
        #[oai(header = "Idempotent-Replayed")]
        Option<bool>,
    ),
}

impl Approved {
    fn new(outcome: Outcome<ApprovalResult>) -> Self {
        match outcome {
            Outcome::Fresh(result) => Approved::Ok(Json(result), None),
            Outcome::Replayed(result) => Approved::Ok(Json(result), Some(true)),
        }
    }
}

/// Reviews, rejects or withdraws an application.
async fn act(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: ApplicationAction,
    reason: Option<String>,
) -> ApiResult<Json<ApplicationView>> {
    let id = parse_id(id, "the application")?;
    let principal = caller.principal();
    let app = state
        .write(caller, async |w| applications::act(w, principal, id, action, reason, store::now()).await)
        .await
        .map_err(|e| e.naming("the application"))?;
    Ok(Json(app.into()))
}

pub struct ApplicationsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Applications")]
impl ApplicationsApi {
    /// Apply for a product
    ///
    /// An enterprise, for a published product. Eligibility is judged again now: failing gets 422
    /// `ineligible` with every failed rule. The amount must be within the product's minimum and
    /// the enterprise's offer, and the term within the product's. A second open application
    /// (submitted or under review) to the same product gets 409.
    #[oai(path = "/applications", method = "post", operation_id = "create_application")]
    async fn create_application(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewApplicationBody>,
    ) -> ApiResult<Created<ApplicationView>> {
        let principal = caller.principal();
        let body = body.0;
        let idempotency =
            Idempotency::new(&state, &caller, idempotency_key.0, req, idempotency::body_hash(&body));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let enterprise_id = match body.enterprise_id.as_deref() {
            None => None,
            Some(given) => Some(given.parse::<i64>().map_err(|_| {
                ApiError::invalid_field("enterprise_id", format!("there is no enterprise with id {given:?}"))
            })?),
        };
        let product_id = body.product_id.parse::<i64>().map_err(|_| {
            ApiError::invalid_field(
                "product_id",
                format!("there is no product with id {:?}", body.product_id),
            )
        })?;
        let amount =
            Money::from_fen(body.amount).map_err(|e| ApiError::invalid_field("amount", e.to_string()))?;
        let apply = Apply {
            enterprise_id,
            product_id,
            amount,
            term_months: body.term_months,
            purpose: text::line("purpose", body.purpose)?,
        };
        let outcome = idempotency
            .run(201, async |w| Ok(applications::submit(w, principal, apply, store::now()).await?.into()))
            .await?;
        Ok(Created::new(outcome))
    }

    /// List applications
    ///
    /// Scoped: an enterprise sees its own, a bank those to its products, a park office its
    /// park's, an admin all.
    #[oai(path = "/applications", method = "get", operation_id = "list_applications")]
    async fn list_applications(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        /// Only applications in this status.
        status: Query<Option<ApplicationStatus>>,
        /// Only this enterprise's applications.
        #[oai(validator(max_length = 20))]
        enterprise_id: Query<Option<String>>,
        /// How many applications to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<ApplicationView>>> {
        let after = after_id(cursor.0.as_deref())?;
        let page = store::credit::list_applications(
            state.db(),
            caller.principal().scope,
            status.0,
            super::pagination::filter_id(enterprise_id.0.as_deref()),
            after,
            limit.0,
        )
        .await?;
        let items = page.items.into_iter().map(ApplicationView::from).collect();
        let next_cursor = page.next_after.map(|after| super::pagination::encode_cursor(&after.to_string()));
        Ok(Json(List { items, next_cursor: next_cursor.into() }))
    }

    /// Get an application
    #[oai(path = "/applications/:id", method = "get", operation_id = "get_application")]
    async fn get_application(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ApplicationView>> {
        let id = parse_id(&id.0, "the application")?;
        let app = store::credit::get_application_visible(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| not_found_as(e, "the application"))?;
        Ok(Json(app.into()))
    }

    /// Start reviewing an application
    ///
    /// The bank that owns the product: `submitted → under_review`.
    #[oai(path = "/applications/:id/review", method = "post", operation_id = "review_application")]
    async fn review_application(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ApplicationView>> {
        act(&state, &caller, &id.0, ApplicationAction::Review, None).await
    }

    /// Approve an application and grant its credit line (授信)
    ///
    /// The bank that owns the product, from `submitted` or `under_review`. The amount is at least
    /// the product's minimum and at most the enterprise's offer; the rate and term are within the
    /// product's; `expires_on` is in the future. The product's `total_quota` is never exceeded,
    /// whatever the concurrency: an approval that does not fit gets 422 `quota_exceeded`.
    ///
    /// A bank honours applications already made: a product suspended or retired after the
    /// application was submitted may still be approved, within its quota. Suspending or retiring
    /// stops new applications, not decisions on open ones.
    ///
    /// The answer is 200, as for every action on an application (`review`, `reject`,
    /// `withdraw`), with both the application and the credit line it created; the line is then
    /// at `GET /credit-lines/{id}`. A replay with the same `Idempotency-Key` answers the same.
    #[oai(path = "/applications/:id/approve", method = "post", operation_id = "approve_application")]
    async fn approve_application(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        id: Path<String>,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<ApprovalBody>,
    ) -> ApiResult<Approved> {
        let body = body.0;
        let idempotency =
            Idempotency::new(&state, &caller, idempotency_key.0, req, idempotency::body_hash(&body));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Approved::new(replayed));
        }
        let id = parse_id(&id.0, "the application")?;
        let principal = caller.principal();
        let amount =
            Money::from_fen(body.amount).map_err(|e| ApiError::invalid_field("amount", e.to_string()))?;
        let rate = RateBps::new(i64::from(body.rate_bps))
            .map_err(|e| ApiError::invalid_field("rate_bps", e.to_string()))?;
        let approval =
            Approval { amount, rate, term_months: body.term_months, expires_on: body.expires_on.0 };
        let outcome = idempotency
            .run(200, async |w| {
                let at = store::now();
                let (app, line) = applications::approve(w, principal, id, approval, at).await?;
                Ok(ApprovalResult {
                    application: app.into(),
                    credit_line: CreditLineView::new(line, at.date_naive()),
                })
            })
            .await
            .map_err(|e| e.naming("the application"))?;
        Ok(Approved::new(outcome))
    }

    /// Reject an application
    ///
    /// The bank that owns the product, from `submitted` or `under_review`, with a reason.
    #[oai(path = "/applications/:id/reject", method = "post", operation_id = "reject_application")]
    async fn reject_application(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        body: JsonBody<RejectionBody>,
    ) -> ApiResult<Json<ApplicationView>> {
        let reason = text::line("reason", body.0.reason)?;
        act(&state, &caller, &id.0, ApplicationAction::Reject, Some(reason)).await
    }

    /// Withdraw an application
    ///
    /// The enterprise, before a decision (`submitted` or `under_review`).
    #[oai(path = "/applications/:id/withdraw", method = "post", operation_id = "withdraw_application")]
    async fn withdraw_application(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ApplicationView>> {
        act(&state, &caller, &id.0, ApplicationAction::Withdraw, None).await
    }
}
