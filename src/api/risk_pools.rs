//! Risk-compensation pools (风险补偿资金池) and the banks' claims on them.

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
    date::Date,
    error::{ApiError, ApiResult},
    idempotency::{Created, Done, Idempotency, IdempotencyKey, body_hash},
    json::JsonBody,
    nullable::Nullable,
    pagination::{List, after_id, body_id, default_limit, encode_cursor, filter_id, parse_id},
};
use crate::domain::{
    Money,
    risk_pool::{self, ClaimStatus, PoolTerms, RiskClaim},
};
use crate::service::{
    Render,
    risk_pools::{self, PoolView},
};
use crate::store;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A new pool over some of the park's loan products.
#[derive(Object, Clone, Debug)]
pub struct NewRiskPool {
    #[oai(validator(min_length = 1, max_length = 128))]
    pub name: String,
    /// The products it covers.
    #[oai(validator(min_items = 1, max_items = 50))]
    pub product_ids: Vec<String>,
    /// The share of a bad loan's unpaid principal the pool repays, in basis points (9000 = 90%).
    #[oai(validator(minimum(value = "1"), maximum(value = "10000")))]
    pub coverage_bps: i32,
    /// The most one claim pays, in fen.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000000000000")))]
    pub per_loan_cap: i64,
    /// Loans drawn from this day to `enrol_to` under a covered product are enrolled.
    pub enrol_from: Date,
    pub enrol_to: Date,
}

#[derive(Object)]
pub struct RiskPoolView {
    pub id: String,
    pub park_id: String,
    pub name: String,
    pub product_ids: Vec<String>,
    pub coverage_bps: i32,
    pub per_loan_cap: i64,
    pub enrol_from: NaiveDate,
    pub enrol_to: NaiveDate,
    /// The sum of the pool's ledger, in fen; never below zero.
    pub balance: i64,
    /// Principal outstanding on its enrolled loans not written off, in fen.
    pub enrolled_outstanding: i64,
    /// `enrolled_outstanding ÷ balance` (放大倍数); `null` for an empty pool.
    pub leverage: Nullable<f64>,
    /// Claims paid, and what they paid in fen.
    pub claims_paid: i64,
    pub paid: i64,
    pub created_at: DateTime<Utc>,
}

impl From<&PoolView> for RiskPoolView {
    fn from(v: &PoolView) -> Self {
        let p = &v.pool;
        Self {
            id: p.id.to_string(),
            park_id: p.park_id.to_string(),
            name: p.name.clone(),
            product_ids: p.product_ids.iter().map(ToString::to_string).collect(),
            coverage_bps: p.coverage_bps,
            per_loan_cap: p.per_loan_cap.fen(),
            enrol_from: p.enrol_from,
            enrol_to: p.enrol_to,
            balance: p.balance.fen(),
            enrolled_outstanding: v.enrolled_outstanding.fen(),
            leverage: Nullable(risk_pool::leverage(v.enrolled_outstanding, p.balance)),
            claims_paid: v.claims_paid,
            paid: v.paid.fen(),
            created_at: p.created_at,
        }
    }
}

#[derive(Object, Clone, Debug)]
pub struct NewTopUp {
    /// In fen, at most 100,000,000,000,000 (¥1 trillion).
    #[oai(validator(minimum(value = "1"), maximum(value = "100000000000000")))]
    pub amount: i64,
    /// The office's reference for the transfer, unique within the pool.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub reference: String,
}

#[derive(Object, Clone, Debug)]
pub struct NewClaim {
    /// The bank's loan, enrolled in this pool, non-performing or written off.
    #[oai(validator(max_length = 20))]
    pub loan_id: String,
}

#[derive(Object, Clone, Debug)]
pub struct ClaimDecision {
    /// Required to reject.
    #[oai(validator(max_length = 500))]
    pub reason: Option<String>,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RiskClaimView {
    pub id: String,
    pub pool_id: String,
    pub loan_id: String,
    pub park_id: String,
    pub bank_id: String,
    pub enterprise_id: String,
    /// The loan's unpaid principal when filed, in fen.
    pub unpaid_principal: i64,
    /// What the claim pays: unpaid principal × coverage_bps ÷ 10,000 (down to the fen), at most
    /// the pool's per_loan_cap.
    pub amount: i64,
    /// Recoveries returned to the pool since it was paid, in fen.
    pub returned: i64,
    pub status: ClaimStatus,
    pub reason: Option<String>,
    pub filed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<&RiskClaim> for RiskClaimView {
    fn from(c: &RiskClaim) -> Self {
        Self {
            id: c.id.to_string(),
            pool_id: c.pool_id.to_string(),
            loan_id: c.loan_id.to_string(),
            park_id: c.park_id.to_string(),
            bank_id: c.bank_id.to_string(),
            enterprise_id: c.enterprise_id.to_string(),
            unpaid_principal: c.unpaid_principal.fen(),
            amount: c.amount.fen(),
            returned: c.returned.fen(),
            status: c.status,
            reason: c.reason.clone(),
            filed_at: c.filed_at,
            decided_at: c.decided_at,
        }
    }
}

impl Render for RiskClaim {
    fn render(&self) -> String {
        RiskClaimView::from(self).to_json_string()
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct LedgerEntryView {
    pub id: String,
    /// `top_up`, `claim_paid` or `recovery_returned`.
    pub kind: risk_pool::EntryKind,
    /// Signed fen: a top-up or a return adds, a claim paid takes away.
    pub amount: i64,
    pub reference: Option<String>,
    pub claim_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn money(fen: i64, field: &str) -> Result<Money, ApiError> {
    Money::from_fen(fen).map_err(|e| ApiError::invalid_field(field, e.to_string()))
}

pub struct RiskPoolsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Policies")]
impl RiskPoolsApi {
    /// Open a risk-compensation pool
    ///
    /// The park's office (or an admin). Loans drawn under a covered product from `enrol_from` to
    /// `enrol_to` are enrolled, those already drawn included (a loan is in one pool at most). The
    /// pool starts empty: top it up.
    #[oai(path = "/parks/:id/risk-pools", method = "post", operation_id = "create_risk_pool")]
    async fn create_risk_pool(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewRiskPool>,
    ) -> ApiResult<Created<RiskPoolView>> {
        let principal = caller.principal();
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, body_hash(&body.0));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let park_id = parse_id(&id.0, "the park")?;
        let body = body.0;
        let mut errors = Vec::new();
        let product_ids = body
            .product_ids
            .iter()
            .enumerate()
            .map(|(i, raw)| body_id(raw, format!("product_ids[{i}]"), "product", &mut errors))
            .collect();
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors));
        }
        let terms = PoolTerms {
            name: body.name,
            product_ids,
            coverage_bps: body.coverage_bps,
            per_loan_cap: money(body.per_loan_cap, "per_loan_cap")?,
            enrol_from: body.enrol_from.0,
            enrol_to: body.enrol_to.0,
        };
        let outcome = idempotency
            .run(201, async |w| {
                Ok(RiskPoolView::from(&risk_pools::create(w, principal, park_id, terms).await?))
            })
            .await
            .map_err(|e| e.naming("the park"))?;
        Ok(Created::new(outcome))
    }

    /// List a park's risk pools
    ///
    /// The park's office, an admin, or a bank (the pools covering its products).
    #[oai(path = "/parks/:id/risk-pools", method = "get", operation_id = "list_risk_pools")]
    async fn list_risk_pools(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<RiskPoolView>>> {
        let park_id = parse_id(&id.0, "the park")?;
        let after = after_id(cursor.0.as_deref())?;
        let (views, next) = risk_pools::list(state.db(), caller.principal(), park_id, after, limit.0)
            .await
            .map_err(|e| ApiError::from(e).naming("the park"))?;
        Ok(Json(List {
            items: views.iter().map(RiskPoolView::from).collect(),
            next_cursor: next.map(|n| encode_cursor(&n.to_string())).into(),
        }))
    }

    /// Get a risk pool
    ///
    /// Its park's office, an admin, or a bank with a covered product.
    #[oai(path = "/risk-pools/:id", method = "get", operation_id = "get_risk_pool")]
    async fn get_risk_pool(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<RiskPoolView>> {
        let id = parse_id(&id.0, "the risk pool")?;
        let view = risk_pools::get(state.db(), caller.principal(), id)
            .await
            .map_err(|e| ApiError::from(e).naming("the risk pool"))?;
        Ok(Json((&view).into()))
    }

    /// Top up a risk pool
    ///
    /// Its park's office. Adds to the balance, with a ledger line; the reference is unique within
    /// the pool (409 otherwise).
    #[oai(path = "/risk-pools/:id/top-ups", method = "post", operation_id = "top_up_risk_pool")]
    async fn top_up_risk_pool(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewTopUp>,
    ) -> ApiResult<Created<RiskPoolView>> {
        let principal = caller.principal();
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, body_hash(&body.0));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let id = parse_id(&id.0, "the risk pool")?;
        let amount = money(body.0.amount, "amount")?;
        let reference = body.0.reference;
        let outcome = idempotency
            .run(201, async |w| {
                Ok(RiskPoolView::from(&risk_pools::top_up(w, principal, id, amount, reference).await?))
            })
            .await
            .map_err(|e| e.naming("the risk pool"))?;
        Ok(Created::new(outcome))
    }

    /// List a risk pool's ledger
    ///
    /// Its park's office, an admin, or a bank with a covered product. Oldest first; the balance is
    /// the sum of the amounts.
    #[oai(path = "/risk-pools/:id/entries", method = "get", operation_id = "list_risk_pool_entries")]
    async fn list_risk_pool_entries(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<LedgerEntryView>>> {
        let id = parse_id(&id.0, "the risk pool")?;
        let after = after_id(cursor.0.as_deref())?;
        risk_pools::get(state.db(), caller.principal(), id)
            .await
            .map_err(|e| ApiError::from(e).naming("the risk pool"))?;
        let page = store::risk_pools::entries(state.db(), id, after, limit.0).await?;
        Ok(Json(List::from_page(page, |e| LedgerEntryView {
            id: e.id.to_string(),
            kind: e.kind,
            amount: e.amount,
            reference: e.reference,
            claim_id: e.claim_id.map(|c| c.to_string()),
            created_at: e.created_at,
        })))
    }

    /// File a claim on a risk pool
    ///
    /// The loan's bank. The loan must be enrolled in this pool and non-performing (substandard,
    /// doubtful, loss) or written off today. The amount is computed: unpaid principal ×
    /// `coverage_bps` ÷ 10,000, down to the fen, at most `per_loan_cap`. A loan has one claim
    /// filed or paid at most (409).
    #[oai(path = "/risk-pools/:id/claims", method = "post", operation_id = "create_risk_claim")]
    async fn create_risk_claim(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewClaim>,
    ) -> ApiResult<Created<RiskClaimView>> {
        let principal = caller.principal();
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, body_hash(&body.0));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let pool_id = parse_id(&id.0, "the risk pool")?;
        let mut errors = Vec::new();
        let loan_id = body_id(&body.0.loan_id, "loan_id", "loan", &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors));
        }
        let outcome = idempotency
            .run(201, async |w| {
                Ok(RiskClaimView::from(&risk_pools::file(w, principal, pool_id, loan_id, today()).await?))
            })
            .await
            .map_err(|e| e.naming("the risk pool"))?;
        Ok(Created::new(outcome))
    }

    /// List a risk pool's claims
    ///
    /// Its park's office and an admin see every claim on it, a bank with a covered product its
    /// own; `?status=` narrows them. The same as `GET /risk-claims?pool_id=`.
    #[oai(path = "/risk-pools/:id/claims", method = "get", operation_id = "list_risk_pool_claims")]
    async fn list_risk_pool_claims(
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
    ) -> ApiResult<Json<List<RiskClaimView>>> {
        let id = parse_id(&id.0, "the risk pool")?;
        let after = after_id(cursor.0.as_deref())?;
        let principal = caller.principal();
        risk_pools::get(state.db(), principal, id)
            .await
            .map_err(|e| ApiError::from(e).naming("the risk pool"))?;
        let page =
            store::risk_pools::list_claims(state.db(), principal.scope, Some(id), status.0, after, limit.0)
                .await?;
        Ok(Json(List::from_page(page, |c| RiskClaimView::from(&c))))
    }

    /// List claims
    ///
    /// A bank sees its claims, a park office its park's, an admin all; `?pool_id=` and
    /// `?status=` narrow them.
    #[oai(path = "/risk-claims", method = "get", operation_id = "list_risk_claims")]
    async fn list_risk_claims(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        #[oai(validator(max_length = 20))] pool_id: Query<Option<String>>,
        status: Query<Option<ClaimStatus>>,
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<RiskClaimView>>> {
        let after = after_id(cursor.0.as_deref())?;
        let page = store::risk_pools::list_claims(
            state.db(),
            caller.principal().scope,
            filter_id(pool_id.0.as_deref()),
            status.0,
            after,
            limit.0,
        )
        .await?;
        Ok(Json(List::from_page(page, |c| RiskClaimView::from(&c))))
    }

    /// Get a claim
    #[oai(path = "/risk-claims/:id", method = "get", operation_id = "get_risk_claim")]
    async fn get_risk_claim(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<RiskClaimView>> {
        let id = parse_id(&id.0, "the claim")?;
        let claim = store::risk_pools::get_claim(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| ApiError::from(e).naming("the claim"))?;
        Ok(Json((&claim).into()))
    }

    /// Approve a claim
    ///
    /// The pool's park office. The pool pays the claim with one conditional debit, whatever the
    /// concurrency: 422 `insufficient_pool` when its balance is less than the claim. 409 when the
    /// claim is already decided. A replay with the same `Idempotency-Key` answers the same.
    #[oai(path = "/risk-claims/:id/approve", method = "post", operation_id = "approve_risk_claim")]
    async fn approve_risk_claim(
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
    ) -> ApiResult<Done<RiskClaimView>> {
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, body_hash(&body.0));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Done::new(replayed));
        }
        let id = parse_id(&id.0, "the claim")?;
        let principal = caller.principal();
        let reason = body.0.reason;
        let outcome = idempotency
            .run(200, async |w| {
                Ok(RiskClaimView::from(&risk_pools::decide(w, principal, id, true, reason).await?))
            })
            .await
            .map_err(|e| e.naming("the claim"))?;
        Ok(Done::new(outcome))
    }

    /// Reject a claim
    ///
    /// The pool's park office, with a reason. 409 when the claim is already decided.
    #[oai(path = "/risk-claims/:id/reject", method = "post", operation_id = "reject_risk_claim")]
    async fn reject_risk_claim(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        body: JsonBody<ClaimDecision>,
    ) -> ApiResult<Json<RiskClaimView>> {
        decide(&state, &caller, &id.0, false, body.0.reason).await
    }
}

async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    approve: bool,
    reason: Option<String>,
) -> ApiResult<Json<RiskClaimView>> {
    let id = parse_id(id, "the claim")?;
    let principal = caller.principal();
    let claim = state
        .write(caller, async |w| risk_pools::decide(w, principal, id, approve, reason).await)
        .await
        .map_err(|e| e.naming("the claim"))?;
    Ok(Json((&claim).into()))
}
