//! Interest subsidy programmes (贴息), their claims, and the policies an enterprise qualifies for.

use chrono::{DateTime, NaiveDate, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::ToJSON,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    date::Date,
    error::{ApiError, ApiResult, ErrorDetail},
    idempotency::{Created, Done, Idempotency, IdempotencyKey, body_hash},
    json::JsonBody,
    pagination::{List, after_id, body_id, default_limit, encode_cursor, filter_id, parse_id},
    products::{EligibilityRules, parse_rules},
    risk_pools::ClaimDecision,
};
use crate::domain::{
    Money,
    risk_pool::ClaimStatus,
    subsidy::{ProgramTerms, SubsidyClaim},
};
use crate::service::{
    Render,
    subsidies::{self, Policy, ProgramView},
};
use crate::store::{self, subsidies::ClaimFilter};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A new interest subsidy programme of the park.
#[derive(Object, Clone, Debug)]
pub struct NewSubsidyProgram {
    #[oai(validator(min_length = 1, max_length = 128))]
    pub name: String,
    /// The share of interest repaid that is returned, in basis points (3000 = 30%).
    #[oai(validator(minimum(value = "1"), maximum(value = "10000")))]
    pub share_bps: i32,
    /// Added to the share for interest repaid on the enterprise's first loan on the platform, in
    /// basis points; the share and the bonus together are at most 10000.
    #[oai(default, validator(minimum(value = "0"), maximum(value = "10000")))]
    pub first_loan_bonus_bps: i32,
    /// The most one enterprise receives from the programme, in fen (the budget binds first when
    /// it is less).
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000000000000")))]
    pub per_enterprise_cap: i64,
    /// The programme's whole budget, in fen; approvals never pay past it.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000000000000")))]
    pub budget: i64,
    /// The rules an enterprise must pass, as a product's (park_ids aside: the programme is its
    /// park's).
    #[oai(default)]
    pub eligibility: EligibilityRules,
    /// Interest repaid from this day to `to` counts.
    pub from: Date,
    pub to: Date,
}

#[derive(Object)]
pub struct SubsidyProgramView {
    pub id: String,
    pub park_id: String,
    pub name: String,
    pub share_bps: i32,
    pub first_loan_bonus_bps: i32,
    pub per_enterprise_cap: i64,
    pub budget: i64,
    pub eligibility: EligibilityRules,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Claims filed and not yet decided, in fen.
    pub committed: i64,
    /// Claims approved, in fen; never more than the budget.
    pub paid: i64,
    /// `budget − paid`, in fen.
    pub remaining: i64,
    /// Whether today is in the window.
    pub open: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&ProgramView> for SubsidyProgramView {
    fn from(v: &ProgramView) -> Self {
        let p = &v.program;
        let t = &p.terms;
        Self {
            id: p.id.to_string(),
            park_id: p.park_id.to_string(),
            name: t.name.clone(),
            share_bps: t.share_bps,
            first_loan_bonus_bps: t.first_loan_bonus_bps,
            per_enterprise_cap: t.per_enterprise_cap.fen(),
            budget: t.budget.fen(),
            eligibility: (&t.eligibility).into(),
            from: t.from,
            to: t.to,
            committed: v.committed.fen(),
            paid: p.paid.fen(),
            remaining: p.remaining().fen(),
            open: p.open_on(today()),
            created_at: p.created_at,
        }
    }
}

/// A claim for the interest an enterprise repaid in a window.
#[derive(Object, Clone, Debug)]
pub struct NewSubsidyClaim {
    /// The enterprise the claim is for: an enterprise's own id (or left out), or one of the park
    /// office's enterprises.
    #[oai(validator(max_length = 20))]
    pub enterprise_id: Option<String>,
    /// Interest repaid from `from` to `to`, both in the programme's window, counts.
    pub from: Date,
    pub to: Date,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SubsidyClaimView {
    pub id: String,
    pub program_id: String,
    pub park_id: String,
    pub enterprise_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The interest repaid in the window that the claim counts, in fen: repayments no other
    /// claim of the programme counts, recoveries on written-off loans aside.
    pub interest_basis: i64,
    /// The part of `interest_basis` repaid on the enterprise's first loan, which earns the bonus.
    pub bonus_basis: i64,
    /// How many repayments it counts.
    pub repayments: i32,
    /// What it pays, in fen: each repayment's interest × (share_bps, plus first_loan_bonus_bps on
    /// the first loan) ÷ 10,000, down to the fen, up to what is left of the enterprise's cap.
    pub amount: i64,
    pub status: ClaimStatus,
    pub reason: Option<String>,
    pub filed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<&SubsidyClaim> for SubsidyClaimView {
    fn from(c: &SubsidyClaim) -> Self {
        Self {
            id: c.id.to_string(),
            program_id: c.program_id.to_string(),
            park_id: c.park_id.to_string(),
            enterprise_id: c.enterprise_id.to_string(),
            from: c.from,
            to: c.to,
            interest_basis: c.interest_basis.fen(),
            bonus_basis: c.bonus_basis.fen(),
            repayments: c.repayments,
            amount: c.amount.fen(),
            status: c.status,
            reason: c.reason.clone(),
            filed_at: c.filed_at,
            decided_at: c.decided_at,
        }
    }
}

impl Render for SubsidyClaim {
    fn render(&self) -> String {
        SubsidyClaimView::from(self).to_json_string()
    }
}

/// What kind of policy money.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum PolicyKind {
    /// An interest subsidy programme (贴息).
    SubsidyProgram,
    /// A loan product a risk-compensation pool (风险补偿资金池) covers.
    RiskPool,
}

/// A programme, or a pool-covered product.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PolicyView {
    pub kind: PolicyKind,
    /// The programme's or the pool's id.
    pub id: String,
    /// The programme's or the pool's name.
    pub name: String,
    pub park_id: String,
    /// A programme: its share, bonus, cap, budget left and window.
    pub share_bps: Option<i32>,
    pub first_loan_bonus_bps: Option<i32>,
    pub per_enterprise_cap: Option<i64>,
    pub remaining_budget: Option<i64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// A pool: the covered product, its bank, and what the pool covers.
    pub product_id: Option<String>,
    pub product_name: Option<String>,
    pub bank_id: Option<String>,
    pub coverage_bps: Option<i32>,
    pub per_loan_cap: Option<i64>,
}

impl From<&Policy> for PolicyView {
    fn from(p: &Policy) -> Self {
        let none = |kind, id: i64, name: &str, park_id: i64| Self {
            kind,
            id: id.to_string(),
            name: name.to_owned(),
            park_id: park_id.to_string(),
            share_bps: None,
            first_loan_bonus_bps: None,
            per_enterprise_cap: None,
            remaining_budget: None,
            from: None,
            to: None,
            product_id: None,
            product_name: None,
            bank_id: None,
            coverage_bps: None,
            per_loan_cap: None,
        };
        match p {
            Policy::Subsidy(v) => {
                let (p, t) = (&v.program, &v.program.terms);
                Self {
                    share_bps: Some(t.share_bps),
                    first_loan_bonus_bps: Some(t.first_loan_bonus_bps),
                    per_enterprise_cap: Some(t.per_enterprise_cap.fen()),
                    remaining_budget: Some(p.remaining().fen()),
                    from: Some(t.from),
                    to: Some(t.to),
                    ..none(PolicyKind::SubsidyProgram, p.id, &t.name, p.park_id)
                }
            }
            Policy::Pool(pool, product) => Self {
                product_id: Some(product.id.to_string()),
                product_name: Some(product.name.clone()),
                bank_id: Some(product.bank_id.to_string()),
                coverage_bps: Some(pool.coverage_bps),
                per_loan_cap: Some(pool.per_loan_cap.fen()),
                ..none(PolicyKind::RiskPool, pool.id, &pool.name, pool.park_id)
            },
        }
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct EligiblePolicy {
    pub policy: PolicyView,
    /// A programme: the subsidy, in fen, on the interest the enterprise has repaid in its window
    /// and not yet claimed, within its cap and the budget left.
    pub estimated_amount: Option<i64>,
    /// A pool-covered product: the most the enterprise may borrow under it, in fen.
    pub offer_max_amount: Option<i64>,
}

#[derive(Object)]
pub struct IneligiblePolicy {
    pub policy: PolicyView,
    /// Every rule the enterprise fails, each as `{rule, required, actual, message}`.
    pub failed: Vec<ErrorDetail>,
}

/// Every open programme of the enterprise's park and every published product an open pool of
/// its park covers, split into those it qualifies for and those it does not.
#[derive(Object)]
pub struct Policies {
    pub eligible: Vec<EligiblePolicy>,
    pub ineligible: Vec<IneligiblePolicy>,
}

fn money(fen: i64, field: &str) -> Result<Money, ApiError> {
    Money::from_fen(fen).map_err(|e| ApiError::invalid_field(field, e.to_string()))
}

pub struct SubsidiesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Policies")]
impl SubsidiesApi {
    /// Open an interest subsidy programme
    ///
    /// The park's office (or an admin). Enterprises of the park that pass `eligibility` claim a
    /// share of the interest they repaid from `from` to `to`; approvals never pay past `budget`.
    #[oai(path = "/parks/:id/subsidy-programs", method = "post", operation_id = "create_subsidy_program")]
    async fn create_subsidy_program(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewSubsidyProgram>,
    ) -> ApiResult<Created<SubsidyProgramView>> {
        let principal = caller.principal();
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, body_hash(&body.0));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let park_id = parse_id(&id.0, "the park")?;
        let body = body.0;
        let mut problems = Vec::new();
        let (eligibility, _) = parse_rules(&body.eligibility, &[], &mut problems);
        let per_enterprise_cap = money(body.per_enterprise_cap, "per_enterprise_cap")?;
        let budget = money(body.budget, "budget")?;
        if !problems.is_empty() {
            return Err(ApiError::invalid(problems));
        }
        let terms = ProgramTerms {
            name: body.name,
            share_bps: body.share_bps,
            first_loan_bonus_bps: body.first_loan_bonus_bps,
            per_enterprise_cap,
            budget,
            eligibility,
            from: body.from.0,
            to: body.to.0,
        };
        let outcome = idempotency
            .run(201, async |w| {
                Ok(SubsidyProgramView::from(&subsidies::create(w, principal, park_id, terms).await?))
            })
            .await
            .map_err(|e| e.naming("the park"))?;
        Ok(Created::new(outcome))
    }

    /// List a park's subsidy programmes
    ///
    /// The park's office, its enterprises, or an admin.
    #[oai(path = "/parks/:id/subsidy-programs", method = "get", operation_id = "list_subsidy_programs")]
    async fn list_subsidy_programs(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<SubsidyProgramView>>> {
        let park_id = parse_id(&id.0, "the park")?;
        let after = after_id(cursor.0.as_deref())?;
        let (views, next) = subsidies::list(state.db(), caller.principal(), park_id, after, limit.0)
            .await
            .map_err(|e| ApiError::from(e).naming("the park"))?;
        Ok(Json(List {
            items: views.iter().map(SubsidyProgramView::from).collect(),
            next_cursor: next.map(|n| encode_cursor(&n.to_string())).into(),
        }))
    }

    /// Get a subsidy programme
    ///
    /// Its park's office, the park's enterprises, or an admin.
    #[oai(path = "/subsidy-programs/:id", method = "get", operation_id = "get_subsidy_program")]
    async fn get_subsidy_program(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<SubsidyProgramView>> {
        let id = parse_id(&id.0, "the subsidy programme")?;
        let view = subsidies::get(state.db(), caller.principal(), id)
            .await
            .map_err(|e| ApiError::from(e).naming("the subsidy programme"))?;
        Ok(Json((&view).into()))
    }

    /// Claim an interest subsidy
    ///
    /// The enterprise for itself, or its park office for it. The claim counts the interest the
    /// enterprise repaid from `from` to `to` that no claim of the programme counts yet, and is
    /// computed, not typed. 422 `ineligible` with every failed rule when the enterprise does not
    /// qualify; 422 when there is nothing left to claim or its cap is reached.
    #[oai(path = "/subsidy-programs/:id/claims", method = "post", operation_id = "create_subsidy_claim")]
    async fn create_subsidy_claim(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewSubsidyClaim>,
    ) -> ApiResult<Created<SubsidyClaimView>> {
        let principal = caller.principal();
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, body_hash(&body.0));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let program_id = parse_id(&id.0, "the subsidy programme")?;
        let mut errors = Vec::new();
        let enterprise_id = body
            .0
            .enterprise_id
            .as_deref()
            .map(|raw| body_id(raw, "enterprise_id", "enterprise", &mut errors));
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors));
        }
        let window = (body.0.from.0, body.0.to.0);
        let outcome = idempotency
            .run(201, async |w| {
                let claim = subsidies::file(w, principal, program_id, enterprise_id, window, today()).await?;
                Ok(SubsidyClaimView::from(&claim))
            })
            .await
            .map_err(|e| e.naming("the subsidy programme"))?;
        Ok(Created::new(outcome))
    }

    /// List a programme's claims
    ///
    /// Its park's office and an admin see every claim on it, an enterprise of the park its own.
    /// The same as `GET /subsidy-claims?program_id=`.
    #[oai(
        path = "/subsidy-programs/:id/claims",
        method = "get",
        operation_id = "list_subsidy_program_claims"
    )]
    async fn list_subsidy_program_claims(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        status: Query<Option<ClaimStatus>>,
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<SubsidyClaimView>>> {
        let id = parse_id(&id.0, "the subsidy programme")?;
        let after = after_id(cursor.0.as_deref())?;
        let principal = caller.principal();
        subsidies::get(state.db(), principal, id)
            .await
            .map_err(|e| ApiError::from(e).naming("the subsidy programme"))?;
        let filter = ClaimFilter { program_id: Some(id), status: status.0, ..ClaimFilter::default() };
        let page = store::subsidies::list_claims(state.db(), principal.scope, filter, after, limit.0).await?;
        Ok(Json(List::from_page(page, |c| SubsidyClaimView::from(&c))))
    }

    /// List subsidy claims
    ///
    /// An enterprise sees its claims, a park office its park's, an admin all; `?program_id=`,
    /// `?enterprise_id=` and `?status=` narrow them.
    #[oai(path = "/subsidy-claims", method = "get", operation_id = "list_subsidy_claims")]
    async fn list_subsidy_claims(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        #[oai(validator(max_length = 20))] program_id: Query<Option<String>>,
        #[oai(validator(max_length = 20))] enterprise_id: Query<Option<String>>,
        status: Query<Option<ClaimStatus>>,
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<SubsidyClaimView>>> {
        let after = after_id(cursor.0.as_deref())?;
        let filter = ClaimFilter {
            program_id: filter_id(program_id.0.as_deref()),
            enterprise_id: filter_id(enterprise_id.0.as_deref()),
            status: status.0,
        };
        let page =
            store::subsidies::list_claims(state.db(), caller.principal().scope, filter, after, limit.0)
                .await?;
        Ok(Json(List::from_page(page, |c| SubsidyClaimView::from(&c))))
    }

    /// Get a subsidy claim
    #[oai(path = "/subsidy-claims/:id", method = "get", operation_id = "get_subsidy_claim")]
    async fn get_subsidy_claim(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<SubsidyClaimView>> {
        let id = parse_id(&id.0, "the claim")?;
        let claim = store::subsidies::get_claim(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| ApiError::from(e).naming("the claim"))?;
        Ok(Json((&claim).into()))
    }

    /// Approve a subsidy claim
    ///
    /// The programme's park office. The budget pays the claim with one conditional update,
    /// whatever the concurrency: 422 `budget_exhausted` when less than the claim is left. 409 when
    /// the claim is already decided. A replay with the same `Idempotency-Key` answers the same.
    #[oai(path = "/subsidy-claims/:id/approve", method = "post", operation_id = "approve_subsidy_claim")]
    async fn approve_subsidy_claim(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<ClaimDecision>,
    ) -> ApiResult<Done<SubsidyClaimView>> {
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, body_hash(&body.0));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Done::new(replayed));
        }
        let id = parse_id(&id.0, "the claim")?;
        let principal = caller.principal();
        let reason = body.0.reason;
        let outcome = idempotency
            .run(200, async |w| {
                Ok(SubsidyClaimView::from(&subsidies::decide(w, principal, id, true, reason).await?))
            })
            .await
            .map_err(|e| e.naming("the claim"))?;
        Ok(Done::new(outcome))
    }

    /// Reject a subsidy claim
    ///
    /// The programme's park office, with a reason. The interest it counted may be claimed again.
    /// 409 when the claim is already decided.
    #[oai(path = "/subsidy-claims/:id/reject", method = "post", operation_id = "reject_subsidy_claim")]
    async fn reject_subsidy_claim(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        body: JsonBody<ClaimDecision>,
    ) -> ApiResult<Json<SubsidyClaimView>> {
        decide(&state, &caller, &id.0, false, body.0.reason).await
    }

    /// The policies an enterprise qualifies for
    ///
    /// The enterprise itself, its park office, or an admin. Every open subsidy programme of its
    /// park, and every published product an open risk pool of its park covers, judged by the same
    /// engine and with the same reasons as matches. An eligible programme shows the subsidy on
    /// the interest already repaid and not yet claimed.
    #[oai(path = "/enterprises/:id/policies", method = "get", operation_id = "get_enterprise_policies")]
    async fn get_enterprise_policies(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<Policies>> {
        let id = parse_id(&id.0, "the enterprise")?;
        let found = subsidies::policies(state.db(), caller.principal(), id, today())
            .await
            .map_err(|e| ApiError::from(e).naming("the enterprise"))?;
        Ok(Json(Policies {
            eligible: found
                .eligible
                .iter()
                .map(|e| EligiblePolicy {
                    policy: (&e.policy).into(),
                    estimated_amount: e.estimated_amount.map(Money::fen),
                    offer_max_amount: e.offer_max_amount.map(Money::fen),
                })
                .collect(),
            ineligible: found
                .ineligible
                .into_iter()
                .map(|(policy, failed)| IneligiblePolicy {
                    policy: (&policy).into(),
                    failed: failed.into_iter().map(ErrorDetail::from).collect(),
                })
                .collect(),
        }))
    }
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    approve: bool,
    reason: Option<String>,
) -> ApiResult<Json<SubsidyClaimView>> {
    let id = parse_id(id, "the claim")?;
    let principal = caller.principal();
    let claim = state
        .write(caller, async |w| subsidies::decide(w, principal, id, approve, reason).await)
        .await
        .map_err(|e| e.naming("the claim"))?;
    Ok(Json((&claim).into()))
}
