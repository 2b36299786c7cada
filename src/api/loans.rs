//! Loans (借据): each disbursement's schedule and balances, and its repayments.

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
    error::{ApiError, ApiResult, not_found_as},
    idempotency::{self, Created, Idempotency, IdempotencyKey},
    json::JsonBody,
    pagination::{List, after_id, default_limit, filter_id, parse_id},
    text,
};
use crate::domain::{
    Money,
    servicing::{Classification, Loan, Repayment, RepaymentMethod},
};
use crate::service::{
    Render,
    loans::{self, Repay},
};
use crate::store::{self, loans::LoanFilter};

/// One installment of a loan's schedule, and what has been paid on it.
#[derive(Object)]
pub struct InstallmentView {
    /// 1 for the first.
    pub n: u32,
    pub due_date: NaiveDate,
    /// Fen.
    pub principal: i64,
    /// Fen. An installment whose principal was prepaid in full owes no interest.
    pub interest: i64,
    pub paid_principal: i64,
    pub paid_interest: i64,
}

/// A loan (借据): a disbursement, its schedule, and where it stands on `as_of`.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct LoanView {
    /// The disbursement's id.
    pub id: String,
    pub credit_line_id: String,
    pub enterprise_id: String,
    pub bank_id: String,
    pub product_id: String,
    pub park_id: String,
    /// Fen.
    pub amount: i64,
    /// The line's rate, in basis points a year.
    pub rate_bps: i32,
    pub disbursed_on: NaiveDate,
    pub maturity_date: NaiveDate,
    pub repayment_method: RepaymentMethod,
    /// The day the balances below are for, at its end: the schedule, the sums repaid and the
    /// write-off are as they stood then (repayments paid later are left out), with the bank's
    /// own classification as it is now.
    pub as_of: NaiveDate,
    /// Fen not yet repaid.
    pub principal_outstanding: i64,
    /// Fen of interest it would take to settle the loan on `as_of`: every installment's unpaid
    /// interest up to and including the current one.
    pub interest_outstanding: i64,
    /// Fen unpaid of installments past their due date.
    pub overdue_principal: i64,
    pub overdue_interest: i64,
    /// Days since the due date of the oldest installment still unpaid after it.
    pub days_past_due: u32,
    /// The worse of the bank's classification and the floor set by days past due (overdue at
    /// all: special mention; over 90 days: substandard; over 270: doubtful; over 360: loss).
    pub classification: Classification,
    /// Whether the loan was written off (核销); `written_off_on` says when.
    pub written_off: bool,
    pub written_off_on: Option<NaiveDate>,
    /// Fen repaid so far.
    pub principal_repaid: i64,
    pub interest_repaid: i64,
    pub schedule: Vec<InstallmentView>,
}

impl LoanView {
    pub fn new(loan: &Loan, as_of: NaiveDate) -> Self {
        let standing = loan.standing(as_of);
        Self {
            id: loan.id.to_string(),
            credit_line_id: loan.credit_line_id.to_string(),
            enterprise_id: loan.enterprise_id.to_string(),
            bank_id: loan.bank_id.to_string(),
            product_id: loan.product_id.to_string(),
            park_id: loan.park_id.to_string(),
            amount: loan.amount.fen(),
            rate_bps: loan.rate.bps(),
            disbursed_on: loan.disbursed_on,
            maturity_date: loan.maturity_date,
            repayment_method: loan.method,
            as_of,
            principal_outstanding: standing.principal_outstanding.fen(),
            interest_outstanding: standing.interest_outstanding.fen(),
            overdue_principal: standing.overdue_principal.fen(),
            overdue_interest: standing.overdue_interest.fen(),
            days_past_due: standing.days_past_due,
            classification: loan.classification(as_of),
            written_off: loan.written_off_on.is_some(),
            written_off_on: loan.written_off_on,
            principal_repaid: loan.principal_repaid.fen(),
            interest_repaid: loan.interest_repaid.fen(),
            schedule: loan
                .lines
                .iter()
                .map(|l| InstallmentView {
                    n: l.installment.n,
                    due_date: l.installment.due_date,
                    principal: l.installment.principal.fen(),
                    interest: l.installment.interest.fen(),
                    paid_principal: l.paid_principal.fen(),
                    paid_interest: l.paid_interest.fen(),
                })
                .collect(),
        }
    }
}

impl Render for Loan {
    fn render(&self) -> String {
        LoanView::new(self, Utc::now().date_naive()).to_json_string()
    }
}

#[derive(Object)]
pub struct NewRepayment {
    /// Fen; at most what settles the loan on `paid_on`.
    #[oai(validator(minimum(value = "1")))]
    pub amount: i64,
    /// The day the money came in: not in the future, not before the disbursement or the loan's
    /// last repayment.
    pub paid_on: Date,
    /// The bank's own reference, unique among the bank's repayments.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub reference: String,
}

/// A repayment, and how it was allocated.
#[derive(Object)]
pub struct RepaymentView {
    pub id: String,
    pub loan_id: String,
    /// Fen.
    pub amount: i64,
    pub paid_on: NaiveDate,
    pub reference: String,
    /// Fen of the amount that paid interest.
    pub interest_paid: i64,
    /// Fen of the amount that repaid principal.
    pub principal_paid: i64,
    /// Paid after the loan was written off: a recovery, counted apart.
    pub recovery: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&Repayment> for RepaymentView {
    fn from(r: &Repayment) -> Self {
        Self {
            id: r.id.to_string(),
            loan_id: r.loan_id.to_string(),
            amount: r.amount.fen(),
            paid_on: r.paid_on,
            reference: r.reference.clone(),
            interest_paid: r.interest_paid.fen(),
            principal_paid: r.principal_paid.fen(),
            recovery: r.recovery,
            created_at: r.created_at,
        }
    }
}

impl Render for Repayment {
    fn render(&self) -> String {
        RepaymentView::from(self).to_json_string()
    }
}

/// A bank's classification of a loan.
#[derive(Object)]
pub struct NewClassification {
    /// At least the floor set by days past due today; never better.
    pub classification: Classification,
    /// Why, such as 经营困难、现金流紧张.
    #[oai(validator(min_length = 1, max_length = 500))]
    pub reason: String,
}

fn as_of(date: Option<Date>) -> NaiveDate {
    date.map_or_else(|| Utc::now().date_naive(), |d| d.0)
}

pub struct LoansApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Loans")]
impl LoansApi {
    /// List loans
    ///
    /// Scoped as credit lines: a bank's own, an enterprise's own, a park's, or all for an admin.
    /// Balances are as of `as_of` (default today).
    #[oai(path = "/loans", method = "get", operation_id = "list_loans")]
    #[allow(clippy::too_many_arguments)]
    async fn list_loans(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        #[oai(validator(max_length = 20))] enterprise_id: Query<Option<String>>,
        #[oai(validator(max_length = 20))] bank_id: Query<Option<String>>,
        /// Only loans with this classification on `as_of`.
        classification: Query<Option<Classification>>,
        /// The day to show balances for.
        as_of: Query<Option<Date>>,
        /// How many loans to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<LoanView>>> {
        let day = self::as_of(as_of.0);
        let filter = LoanFilter {
            credit_line_id: None,
            enterprise_id: filter_id(enterprise_id.0.as_deref()),
            bank_id: filter_id(bank_id.0.as_deref()),
        };
        let mut page = store::loans::list(
            state.db(),
            caller.principal().scope,
            filter,
            after_id(cursor.0.as_deref())?,
            limit.0,
        )
        .await?;
        page.items = store::loans::as_of(state.db(), page.items, day).await?;
        if let Some(wanted) = classification.0 {
            page.items.retain(|loan| loan.classification(day) == wanted);
        }
        Ok(Json(List::from_page(page, |loan| LoanView::new(&loan, day))))
    }

    /// Read a loan
    ///
    /// Its schedule and its balances as of `as_of` (default today).
    #[oai(path = "/loans/:id", method = "get", operation_id = "get_loan")]
    async fn get_loan(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// The day to show balances for.
        as_of: Query<Option<Date>>,
    ) -> ApiResult<Json<LoanView>> {
        let id = parse_id(&id.0, "the loan")?;
        let loan = store::loans::get(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| not_found_as(e, "the loan"))?;
        let day = self::as_of(as_of.0);
        let loan =
            store::loans::as_of(state.db(), vec![loan], day).await?.pop().ok_or_else(ApiError::internal)?;
        Ok(Json(LoanView::new(&loan, day)))
    }

    /// List a credit line's loans
    #[oai(path = "/credit-lines/:id/loans", method = "get", operation_id = "list_credit_line_loans")]
    async fn list_credit_line_loans(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// The day to show balances for.
        as_of: Query<Option<Date>>,
        /// How many loans to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<LoanView>>> {
        let id = parse_id(&id.0, "the credit line")?;
        let scope = caller.principal().scope;
        let line = store::credit::get_line_visible(state.db(), scope, id)
            .await
            .map_err(|e| not_found_as(e, "the credit line"))?;
        let filter = LoanFilter { credit_line_id: Some(line.id), ..LoanFilter::default() };
        let mut page =
            store::loans::list(state.db(), scope, filter, after_id(cursor.0.as_deref())?, limit.0).await?;
        let day = self::as_of(as_of.0);
        page.items = store::loans::as_of(state.db(), page.items, day).await?;
        Ok(Json(List::from_page(page, |loan| LoanView::new(&loan, day))))
    }

    /// Record a repayment
    ///
    /// The owning bank records money that came in. It is allocated, in this order: overdue
    /// interest, then overdue principal (oldest installment first, each), then the current
    /// installment's interest, then its principal. Anything more is a prepayment, which
    /// **shortens the term**: it repays the last installments' principal first, and an installment
    /// whose principal is repaid in full owes no interest any more. More than settles the loan on
    /// `paid_on` is a 422 `exceeds_outstanding`.
    #[oai(path = "/loans/:id/repayments", method = "post", operation_id = "create_repayment")]
    async fn create_repayment(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        id: Path<String>,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewRepayment>,
    ) -> ApiResult<Created<RepaymentView>> {
        let principal = caller.principal();
        let body = body.0;
        let idempotency =
            Idempotency::new(&state, &caller, idempotency_key.0, req, idempotency::body_hash(&body));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let repay = Repay {
            loan_id: parse_id(&id.0, "the loan")?,
            amount: Money::from_fen(body.amount)
                .map_err(|e| ApiError::invalid_field("amount", e.to_string()))?,
            paid_on: body.paid_on.0,
            reference: text::line("reference", body.reference.clone())?,
        };
        let today = Utc::now().date_naive();
        let outcome = idempotency
            .run(201, async |w| Ok(RepaymentView::from(&loans::repay(w, principal, repay, today).await?)))
            .await
            .map_err(|e| e.naming("the loan"))?;
        Ok(Created::new(outcome))
    }

    /// Classify a loan
    ///
    /// The owning bank classifies a loan worse than the floor its days past due set (overdue at
    /// all: special mention; over 90 days: substandard; over 270: doubtful; over 360: loss), or
    /// at it; better is a 422 `below_floor`. Answers the loan as of today.
    #[oai(path = "/loans/:id/classify", method = "post", operation_id = "classify_loan")]
    async fn classify_loan(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        body: JsonBody<NewClassification>,
    ) -> ApiResult<Json<LoanView>> {
        let id = parse_id(&id.0, "the loan")?;
        let body = body.0;
        let reason = text::line("reason", body.reason)?;
        let today = Utc::now().date_naive();
        let loan = state
            .write(&caller, async |w| {
                loans::classify(w, caller.principal(), id, body.classification, reason, today).await
            })
            .await
            .map_err(|e| e.naming("the loan"))?;
        Ok(Json(LoanView::new(&loan, today)))
    }

    /// Write a loan off
    ///
    /// 核销, by the owning bank, for a loan classified loss; 409 otherwise, or when it is written
    /// off already. Repayments after it are recoveries (`recovery: true`).
    #[oai(path = "/loans/:id/write-off", method = "post", operation_id = "write_off_loan")]
    async fn write_off_loan(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<LoanView>> {
        let id = parse_id(&id.0, "the loan")?;
        let today = Utc::now().date_naive();
        let loan = state
            .write(&caller, async |w| loans::write_off(w, caller.principal(), id, today).await)
            .await
            .map_err(|e| e.naming("the loan"))?;
        Ok(Json(LoanView::new(&loan, today)))
    }

    /// List a loan's repayments
    #[oai(path = "/loans/:id/repayments", method = "get", operation_id = "list_repayments")]
    async fn list_repayments(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// How many repayments to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<RepaymentView>>> {
        let id = parse_id(&id.0, "the loan")?;
        let loan = store::loans::get(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| not_found_as(e, "the loan"))?;
        let page =
            store::loans::repayments(state.db(), loan.id, after_id(cursor.0.as_deref())?, limit.0).await?;
        Ok(Json(List::from_page(page, |r| RepaymentView::from(&r))))
    }
}
