//! Credit lines (授信) and their disbursements (放款).

use chrono::{DateTime, NaiveDate, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    date::Date,
    error::{ApiError, ApiResult},
    idempotency::{self, Created, Idempotency, IdempotencyKey},
    json::JsonBody,
    pagination::{List, after_id, default_limit, parse_id},
    parks::not_found_as,
    text,
};
use crate::domain::{
    Money,
    credit::{CreditLine, CreditLineStatus, Disbursement},
    servicing::RepaymentMethod,
};
use crate::service::credit::{self, Draw};
use crate::store;

#[derive(Object)]
pub struct CreditLineView {
    pub id: String,
    pub application_id: String,
    pub enterprise_id: String,
    pub bank_id: String,
    pub product_id: String,
    pub park_id: String,
    /// Granted, in fen.
    pub amount: i64,
    /// Drawn so far, in fen.
    pub disbursed_total: i64,
    /// Drawn less principal repaid, in fen.
    pub principal_outstanding: i64,
    /// Still drawable, in fen: `amount` less `disbursed_total`, or on a revolving line less
    /// `principal_outstanding`.
    pub available: i64,
    /// Principal repaid may be drawn again (循环授信), as the product said when the line was
    /// granted.
    pub revolving: bool,
    pub rate_bps: i32,
    pub term_months: i32,
    pub granted_at: DateTime<Utc>,
    pub expires_on: NaiveDate,
    /// `active`, `expired` (past `expires_on`) or `closed`.
    pub status: CreditLineStatus,
    /// Calendar days from application to approval.
    pub approval_days: i32,
    /// Chinese working days (the State Council's calendar) from application to approval.
    pub approval_working_days: i32,
    /// The approval took more working days than the product's `approval_sla_days`.
    pub sla_breached: bool,
}

impl CreditLineView {
    /// The line as it stands on `today`: an active line past its expiry shows as expired.
    pub fn new(l: CreditLine, today: NaiveDate) -> Self {
        Self {
            status: l.status_on(today),
            available: l.available().fen(),
            id: l.id.to_string(),
            application_id: l.application_id.to_string(),
            enterprise_id: l.enterprise_id.to_string(),
            bank_id: l.bank_id.to_string(),
            product_id: l.product_id.to_string(),
            park_id: l.park_id.to_string(),
            amount: l.amount.fen(),
            disbursed_total: l.disbursed_total.fen(),
            principal_outstanding: l.principal_outstanding.fen(),
            revolving: l.revolving,
            rate_bps: l.rate.bps(),
            term_months: l.term_months,
            granted_at: l.granted_at,
            expires_on: l.expires_on,
            approval_days: l.approval_days,
            approval_working_days: l.approval_working_days,
            sla_breached: l.sla_breached,
        }
    }
}

/// Absent fields are left out of the request's fingerprint, so that a retry of a request made
/// before a field existed still matches its idempotency key.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NewDisbursement {
    /// In fen; at most what is still available on the line.
    #[oai(validator(minimum(value = "1")))]
    pub amount: i64,
    /// The bank's own reference, unique among the bank's disbursements.
    #[oai(validator(min_length = 1, max_length = 64))]
    pub reference: String,
    /// The day the money went out: not in the future, not before the line was granted.
    pub disbursed_on: Date,
    /// When the loan matures: after `disbursed_on`, and at the latest the line's term after it,
    /// which is the default. For `equal_installment` and `equal_principal`, a whole number of
    /// months after `disbursed_on`.
    pub maturity_date: Option<Date>,
    /// How the loan is repaid; `bullet` (到期一次还本付息) by default.
    pub repayment_method: Option<RepaymentMethod>,
}

#[derive(Object)]
pub struct DisbursementView {
    pub id: String,
    pub credit_line_id: String,
    pub amount: i64,
    pub reference: String,
    pub disbursed_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

impl crate::service::Render for CreditLine {
    fn render(&self) -> String {
        let view = CreditLineView::new(self.clone(), Utc::now().date_naive());
        poem_openapi::types::ToJSON::to_json_string(&view)
    }
}

impl crate::service::Render for Disbursement {
    fn render(&self) -> String {
        poem_openapi::types::ToJSON::to_json_string(&DisbursementView::from(self.clone()))
    }
}

impl From<Disbursement> for DisbursementView {
    fn from(d: Disbursement) -> Self {
        Self {
            id: d.id.to_string(),
            credit_line_id: d.credit_line_id.to_string(),
            amount: d.amount.fen(),
            reference: d.reference,
            disbursed_on: d.disbursed_on,
            created_at: d.created_at,
        }
    }
}

pub struct CreditLinesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::CreditLines")]
impl CreditLinesApi {
    /// List credit lines
    ///
    /// Scoped: an enterprise sees its own, a bank its own, a park office its park's, an admin all.
    #[oai(path = "/credit-lines", method = "get", operation_id = "list_credit_lines")]
    async fn list_credit_lines(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        /// Only this enterprise's lines.
        #[oai(validator(max_length = 20))]
        enterprise_id: Query<Option<String>>,
        /// How many lines to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<CreditLineView>>> {
        let page = store::credit::list_lines(
            state.db(),
            caller.principal().scope,
            super::pagination::filter_id(enterprise_id.0.as_deref()),
            after_id(cursor.0.as_deref())?,
            limit.0,
        )
        .await?;
        let today = Utc::now().date_naive();
        Ok(Json(List::from_page(page, |l| CreditLineView::new(l, today))))
    }

    /// Get a credit line
    #[oai(path = "/credit-lines/:id", method = "get", operation_id = "get_credit_line")]
    async fn get_credit_line(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<CreditLineView>> {
        let id = parse_id(&id.0, "the credit line")?;
        let line = store::credit::get_line_visible(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| not_found_as(e, "the credit line"))?;
        Ok(Json(CreditLineView::new(line, Utc::now().date_naive())))
    }

    /// Record a disbursement (放款)
    ///
    /// The bank that granted the line. The sum disbursed never exceeds the line, whatever the
    /// concurrency and however many server processes share the database: an overdraw gets 422
    /// `exceeds_available` with the amount still available. An expired or closed line gets 409.
    /// A reference the bank already used gets 409.
    #[oai(path = "/credit-lines/:id/disbursements", method = "post", operation_id = "create_disbursement")]
    async fn create_disbursement(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        id: Path<String>,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewDisbursement>,
    ) -> ApiResult<Created<DisbursementView>> {
        let principal = caller.principal();
        let body = body.0;
        let idempotency =
            Idempotency::new(&state, &caller, idempotency_key.0, req, idempotency::body_hash(&body));
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let draw = Draw {
            line_id: parse_id(&id.0, "the credit line")?,
            amount: Money::from_fen(body.amount)
                .map_err(|e| ApiError::invalid_field("amount", e.to_string()))?,
            reference: text::line("reference", body.reference.clone())?,
            disbursed_on: body.disbursed_on.0,
            maturity_date: body.maturity_date.as_ref().map(|d| d.0),
            repayment_method: body.repayment_method,
        };
        let today = Utc::now().date_naive();
        let outcome = idempotency
            .run(201, async |w| Ok(credit::disburse(w, principal, draw, today).await?.into()))
            .await
            .map_err(|e| e.naming("the credit line"))?;
        Ok(Created::new(outcome))
    }

    /// Close a credit line
    ///
    /// The owning bank closes the line: nothing more can be drawn on it (409), and its loans are
    /// serviced as before. Closing a closed line is a 409.
    #[oai(path = "/credit-lines/:id/close", method = "post", operation_id = "close_credit_line")]
    async fn close_credit_line(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<CreditLineView>> {
        let id = parse_id(&id.0, "the credit line")?;
        let line = state
            .write(&caller, async |w| credit::close_line(w, caller.principal(), id).await)
            .await
            .map_err(|e| e.naming("the credit line"))?;
        Ok(Json(CreditLineView::new(line, Utc::now().date_naive())))
    }

    /// List a credit line's disbursements
    ///
    /// Scoped as the line.
    #[oai(path = "/credit-lines/:id/disbursements", method = "get", operation_id = "list_disbursements")]
    async fn list_disbursements(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// How many disbursements to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<DisbursementView>>> {
        let id = parse_id(&id.0, "the credit line")?;
        let line = store::credit::get_line_visible(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| not_found_as(e, "the credit line"))?;
        let page =
            store::credit::list_disbursements(state.db(), line.id, after_id(cursor.0.as_deref())?, limit.0)
                .await?;
        Ok(Json(List::from_page(page, DisbursementView::from)))
    }
}
