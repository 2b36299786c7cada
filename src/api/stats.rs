//! Statistics for park offices and the platform: credit granted, disbursed and serviced, per
//! bank, per product and per month. Amounts are exact integers in fen.

use chrono::NaiveDate;
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi, ResponseContent,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    csv::{Csv, text_cell},
    date::Date,
    error::{ApiError, ApiResult},
    nullable::Nullable,
    pagination::parse_id,
};
use crate::domain::{Money, credit::ApplicationStatus};
use crate::store::{
    self,
    stats::{PolicyShare, Share, Totals, Window, servicing::Servicing},
};

/// The loans as of `as_of`: what is outstanding, overdue and non-performing; and what was repaid,
/// recovered and written off from `from` (when given) to `to` or `as_of`, whichever is earlier.
/// Each figure is the sum over the loans of what `GET /loans/{id}?as_of=` shows.
#[derive(Object)]
pub struct ServicingFigures {
    /// Principal not yet repaid of the loans running on `as_of` (disbursed by then and not
    /// written off), in fen.
    pub principal_outstanding: i64,
    /// What is unpaid of those loans' installments past their due date, in fen.
    pub overdue_principal: i64,
    /// The principal outstanding of non-performing loans (不良: substandard, doubtful or loss),
    /// in fen.
    pub npl_balance: i64,
    /// `npl_balance / principal_outstanding`, to four decimals; 0 when nothing is outstanding.
    pub npl_ratio: f64,
    /// Principal repaid, in fen; recoveries apart.
    pub principal_repaid: i64,
    /// Interest repaid, in fen; recoveries apart.
    pub interest_repaid: i64,
    /// Repaid on loans after they were written off, principal and interest, in fen.
    pub recovered: i64,
    /// Principal unpaid when loans were written off (核销), in fen.
    pub written_off: i64,
}

impl From<&Servicing> for ServicingFigures {
    fn from(s: &Servicing) -> Self {
        Self {
            principal_outstanding: s.principal_outstanding.fen(),
            overdue_principal: s.overdue_principal.fen(),
            npl_balance: s.npl_balance.fen(),
            npl_ratio: (s.npl_ratio() * 10_000.0).round() / 10_000.0,
            principal_repaid: s.principal_repaid.fen(),
            interest_repaid: s.interest_repaid.fen(),
            recovered: s.recovered.fen(),
            written_off: s.written_off.fen(),
        }
    }
}

#[derive(Object)]
pub struct ApplicationCounts {
    pub submitted: i64,
    pub under_review: i64,
    pub approved: i64,
    pub rejected: i64,
    pub withdrawn: i64,
}

/// The figures every statistic reports.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StatsTotals {
    /// Enterprises registered in the park (or parks), whatever the dates.
    pub enterprises_registered: i64,
    /// Enterprises with at least one score, whatever the dates.
    pub enterprises_scored: i64,
    /// Distinct enterprises granted credit in the window.
    pub enterprises_with_credit: i64,
    /// Applications submitted in the window, by their status now.
    pub applications: ApplicationCounts,
    /// Credit lines granted in the window, counted per grant (家次).
    pub credit_lines: i64,
    /// Credit granted in the window, in fen.
    pub credit_granted: i64,
    /// Disbursements made in the window.
    pub disbursement_count: i64,
    /// Disbursed in the window, in fen.
    pub disbursed: i64,
    /// Mean calendar days from application to approval; `null` without grants.
    pub avg_approval_days: Option<f64>,
    /// Mean Chinese working days (the State Council's calendar) from application to approval.
    pub avg_approval_working_days: Option<f64>,
    /// Approvals that took more working days than their product's `approval_sla_days`.
    pub sla_breaches: i64,
    #[oai(flatten)]
    pub servicing: ServicingFigures,
}

fn two_decimals(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl From<&Totals> for StatsTotals {
    fn from(t: &Totals) -> Self {
        let count = |status| t.applications.get(&status).copied().unwrap_or(0);
        let averages = t.average_approval();
        Self {
            enterprises_registered: t.enterprises_registered,
            enterprises_scored: t.enterprises_scored,
            enterprises_with_credit: t.enterprises_with_credit,
            applications: ApplicationCounts {
                submitted: count(ApplicationStatus::Submitted),
                under_review: count(ApplicationStatus::UnderReview),
                approved: count(ApplicationStatus::Approved),
                rejected: count(ApplicationStatus::Rejected),
                withdrawn: count(ApplicationStatus::Withdrawn),
            },
            credit_lines: t.credit_lines,
            credit_granted: t.credit_granted.fen(),
            disbursement_count: t.disbursement_count,
            disbursed: t.disbursed.fen(),
            avg_approval_days: averages.map(|(days, _)| two_decimals(days)),
            avg_approval_working_days: averages.map(|(_, working)| two_decimals(working)),
            sla_breaches: t.sla_breaches,
            servicing: (&t.servicing).into(),
        }
    }
}

#[derive(Object)]
pub struct BankShare {
    pub bank_id: String,
    pub bank_name: String,
    /// Distinct enterprises the bank granted credit to.
    pub enterprises: i64,
    pub credit_lines: i64,
    pub credit_granted: i64,
    pub disbursement_count: i64,
    pub disbursed: i64,
    #[oai(flatten)]
    pub servicing: ServicingFigures,
    #[oai(flatten)]
    pub policy: PolicyFigures,
}

#[derive(Object)]
pub struct ProductShare {
    pub product_id: String,
    pub product_name: String,
    pub bank_id: String,
    pub bank_name: String,
    pub enterprises: i64,
    pub credit_lines: i64,
    pub credit_granted: i64,
    pub disbursement_count: i64,
    pub disbursed: i64,
    #[oai(flatten)]
    pub servicing: ServicingFigures,
    #[oai(flatten)]
    pub policy: PolicyFigures,
}

/// Policy money on a bank's or a product's loans, approved in the window, in fen.
#[derive(Object, Clone, Copy, Default)]
pub struct PolicyFigures {
    /// Risk-pool claims paid to the bank.
    pub risk_claims_paid: i64,
    /// Interest subsidies returned on the interest its loans' borrowers repaid.
    pub subsidies_paid: i64,
}

/// The park's (or every park's) policy money: pools today, and what was paid in the window.
#[derive(Object)]
pub struct PolicyTotals {
    /// The pools' balances today, in fen.
    pub pool_balance: i64,
    /// Principal outstanding on the pools' enrolled loans today, in fen.
    pub enrolled_outstanding: i64,
    /// `enrolled_outstanding ÷ pool_balance`; `null` when the pools are empty.
    pub leverage: Nullable<f64>,
    #[oai(flatten)]
    pub paid: PolicyFigures,
}

fn policy_of(shares: &[PolicyShare], keep: impl Fn(&PolicyShare) -> bool) -> PolicyFigures {
    shares.iter().filter(|s| keep(s)).fold(PolicyFigures::default(), |t, s| PolicyFigures {
        risk_claims_paid: t.risk_claims_paid.saturating_add(s.risk_claims_paid.fen()),
        subsidies_paid: t.subsidies_paid.saturating_add(s.subsidies_paid.fen()),
    })
}

fn policy_totals(pools: &[crate::service::risk_pools::PoolView], shares: &[PolicyShare]) -> PolicyTotals {
    let balance = pools.iter().fold(Money::ZERO, |t, p| t.checked_add(p.pool.balance).unwrap_or(t));
    let outstanding =
        pools.iter().fold(Money::ZERO, |t, p| t.checked_add(p.enrolled_outstanding).unwrap_or(t));
    PolicyTotals {
        pool_balance: balance.fen(),
        enrolled_outstanding: outstanding.fen(),
        leverage: Nullable(crate::domain::risk_pool::leverage(outstanding, balance)),
        paid: policy_of(shares, |_| true),
    }
}

fn bank_share(s: &Share, policy: &[PolicyShare]) -> BankShare {
    BankShare {
        policy: policy_of(policy, |p| p.bank_id == s.id),
        bank_id: s.id.to_string(),
        bank_name: s.name.clone(),
        enterprises: s.enterprises,
        credit_lines: s.credit_lines,
        credit_granted: s.credit_granted.fen(),
        disbursement_count: s.disbursement_count,
        disbursed: s.disbursed.fen(),
        servicing: (&s.servicing).into(),
    }
}

fn product_share(s: &Share, policy: &[PolicyShare]) -> ProductShare {
    ProductShare {
        policy: policy_of(policy, |p| p.product_id == s.id),
        product_id: s.id.to_string(),
        product_name: s.name.clone(),
        bank_id: s.bank_id.to_string(),
        bank_name: s.bank_name.clone(),
        enterprises: s.enterprises,
        credit_lines: s.credit_lines,
        credit_granted: s.credit_granted.fen(),
        disbursement_count: s.disbursement_count,
        disbursed: s.disbursed.fen(),
        servicing: (&s.servicing).into(),
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ParkStats {
    pub park_id: String,
    pub park_name: String,
    /// The window's first day, when one was given.
    pub from: Option<NaiveDate>,
    /// The window's last day, when one was given.
    pub to: Option<NaiveDate>,
    /// The day the loans' balances are for: `as_of`, or else `to`, or else today.
    pub as_of: NaiveDate,
    #[oai(flatten)]
    pub totals: StatsTotals,
    /// Every bank with activity in the park: a product offered there, or credit granted or disbursed.
    pub banks: Vec<BankShare>,
    /// Every product with activity in the park.
    pub products: Vec<ProductShare>,
    /// Per bank, its record on the park's recommendation lists published in the window, as of
    /// `as_of`: take-up, median response in working days, overdue tasks.
    pub recommendations: Vec<RecommendationShare>,
    /// The park's risk-compensation pools today: balance, enrolled principal outstanding,
    /// leverage and claims paid.
    pub risk_pools: Vec<super::risk_pools::RiskPoolView>,
    /// The park's interest subsidy programmes today: budget, committed, paid, remaining.
    pub subsidy_programs: Vec<super::subsidies::SubsidyProgramView>,
    /// The pools together today, and the claims and subsidies paid in the window.
    pub policy_money: PolicyTotals,
}

/// One bank's record on a park's recommendation lists.
#[derive(Object)]
pub struct RecommendationShare {
    pub bank_name: String,
    #[oai(flatten)]
    pub tally: super::recommendations::BankTallyView,
}

#[derive(ResponseContent)]
pub enum ParkStatsContent {
    Json(Json<Box<ParkStats>>),
    /// One row per bank and a total row, UTF-8 with a byte-order mark for spreadsheets.
    Csv(Csv),
}

#[derive(ApiResponse)]
pub enum ParkStatsResponse {
    /// The park's statistics: JSON, or CSV with `Accept: text/csv`.
    #[oai(status = 200)]
    Ok(ParkStatsContent),
}

#[derive(ResponseContent)]
pub enum NationalStatsContent {
    Json(Json<Box<NationalStats>>),
    /// One row per bank and a total row, UTF-8 with a byte-order mark for spreadsheets.
    Csv(Csv),
}

#[derive(ApiResponse)]
pub enum NationalStatsResponse {
    /// The national statistics: JSON, or CSV with `Accept: text/csv`.
    #[oai(status = 200)]
    Ok(NationalStatsContent),
}

#[derive(Object)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    pub credit_lines: i64,
    pub credit_granted: i64,
    pub disbursement_count: i64,
    pub disbursed: i64,
    /// Repayments paid in the month, recoveries apart.
    pub repayment_count: i64,
    pub principal_repaid: i64,
    pub interest_repaid: i64,
    /// Repaid in the month on loans written off before.
    pub recovered: i64,
}

#[derive(Object)]
pub struct MonthlyStats {
    pub park_id: String,
    /// Months with activity, oldest first.
    pub months: Vec<MonthRow>,
}

#[derive(Object)]
pub struct ParkRow {
    pub park_id: String,
    pub park_code: String,
    pub park_name: String,
    #[oai(flatten)]
    pub totals: StatsTotals,
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct NationalStats {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The day the loans' balances are for: `as_of`, or else `to`, or else today.
    pub as_of: NaiveDate,
    /// The sum of every park.
    #[oai(flatten)]
    pub totals: StatsTotals,
    pub banks: Vec<BankShare>,
    pub products: Vec<ProductShare>,
    /// One row per park.
    pub parks: Vec<ParkRow>,
    /// Every park's risk-compensation pools today.
    pub risk_pools: Vec<super::risk_pools::RiskPoolView>,
    /// Every park's interest subsidy programmes today.
    pub subsidy_programs: Vec<super::subsidies::SubsidyProgramView>,
    /// Every pool together today, and the claims and subsidies paid in the window.
    pub policy_money: PolicyTotals,
}

/// The day balances are for: the one asked, or else the window's last day if it has passed,
/// or else today. (Balances on a later day are a projection, of loans left unpaid; they are
/// given only when asked for by `as_of`.)
fn balances_on(as_of: Option<Date>, window: Window) -> NaiveDate {
    let today = chrono::Utc::now().date_naive();
    as_of.map(|d| d.0).unwrap_or_else(|| window.to.map_or(today, |to| to.min(today)))
}

fn window(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Window, ApiError> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => {
            Err(ApiError::invalid_field("to", format!("to ({to}) is before from ({from})")))
        }
        _ => Ok(Window { from, to }),
    }
}

/// Whether the client asked for CSV rather than JSON.
fn wants_csv(req: &Request) -> bool {
    let accept = req.headers().get("accept").and_then(|v| v.to_str().ok()).unwrap_or_default();
    accept.split(',').any(|part| part.trim().starts_with("text/csv"))
}

fn servicing_cells(s: &ServicingFigures) -> [String; 8] {
    [
        s.principal_outstanding.to_string(),
        s.overdue_principal.to_string(),
        s.npl_balance.to_string(),
        s.npl_ratio.to_string(),
        s.principal_repaid.to_string(),
        s.interest_repaid.to_string(),
        s.recovered.to_string(),
        s.written_off.to_string(),
    ]
}

/// One row per bank and a total row; each row says the day its balances are for. The pools'
/// balance and leverage are the park's, so only the total row has them.
fn csv_of(
    banks: &[BankShare],
    t: &StatsTotals,
    policy: &PolicyTotals,
    as_of: NaiveDate,
) -> Result<String, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |_| ApiError::internal();
    writer
        .write_record([
            "bank_id",
            "bank_name",
            "enterprises",
            "credit_lines",
            "credit_granted_fen",
            "disbursement_count",
            "disbursed_fen",
            "principal_outstanding_fen",
            "overdue_principal_fen",
            "npl_balance_fen",
            "npl_ratio",
            "principal_repaid_fen",
            "interest_repaid_fen",
            "recovered_fen",
            "written_off_fen",
            "risk_claims_paid_fen",
            "subsidies_paid_fen",
            "pool_balance_fen",
            "leverage",
            "as_of",
        ])
        .map_err(fail)?;
    for bank in banks {
        writer
            .write_record(
                [
                    bank.bank_id.clone(),
                    text_cell(&bank.bank_name),
                    bank.enterprises.to_string(),
                    bank.credit_lines.to_string(),
                    bank.credit_granted.to_string(),
                    bank.disbursement_count.to_string(),
                    bank.disbursed.to_string(),
                ]
                .into_iter()
                .chain(servicing_cells(&bank.servicing))
                .chain([
                    bank.policy.risk_claims_paid.to_string(),
                    bank.policy.subsidies_paid.to_string(),
                    String::new(),
                    String::new(),
                    as_of.to_string(),
                ]),
            )
            .map_err(fail)?;
    }
    writer
        .write_record(
            [
                String::new(),
                "合计 total".to_owned(),
                t.enterprises_with_credit.to_string(),
                t.credit_lines.to_string(),
                t.credit_granted.to_string(),
                t.disbursement_count.to_string(),
                t.disbursed.to_string(),
            ]
            .into_iter()
            .chain(servicing_cells(&t.servicing))
            .chain([
                policy.paid.risk_claims_paid.to_string(),
                policy.paid.subsidies_paid.to_string(),
                policy.pool_balance.to_string(),
                policy.leverage.0.map(|l| format!("{l:.2}")).unwrap_or_default(),
                as_of.to_string(),
            ]),
        )
        .map_err(fail)?;
    let bytes = writer.into_inner().map_err(|_| ApiError::internal())?;
    String::from_utf8(bytes).map_err(|_| ApiError::internal())
}

/// Refuses callers other than admins and the park's own office.
fn require_park_office(caller: &Caller, park_id: i64) -> Result<(), ApiError> {
    let principal = caller.principal();
    if principal.governs_park(park_id) { Ok(()) } else { Err(ApiError::not_found("the park")) }
}

pub struct StatsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Stats")]
impl StatsApi {
    /// Get a park's statistics
    ///
    /// The park's office or an admin. `from` and `to` (inclusive) filter credit lines by grant
    /// date, disbursements by disbursement date, applications by submission, and repayments and
    /// write-offs by their day. The loans' balances (outstanding, overdue, NPL) are as of
    /// `as_of`. Send `Accept: text/csv` for a spreadsheet: one row per bank and a total row.
    #[oai(path = "/parks/:id/stats", method = "get", operation_id = "get_park_stats")]
    async fn get_park_stats(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        id: Path<String>,
        /// The first day, inclusive.
        from: Query<Option<Date>>,
        /// The last day, inclusive.
        to: Query<Option<Date>>,
        /// The day the loans' balances are for; by default `to`, or else today.
        as_of: Query<Option<Date>>,
    ) -> ApiResult<ParkStatsResponse> {
        let park_id = parse_id(&id.0, "the park")?;
        require_park_office(&caller, park_id)?;
        let park = state.park(park_id).await?;
        let window = window(from.0.map(|d| d.0), to.0.map(|d| d.0))?;
        let as_of = balances_on(as_of.0, window);
        let (report, policy) = store::stats::figures(state.db(), Some(park_id), window, as_of).await?;
        let tallies = crate::service::recommendations::park_tally(
            state.db(),
            park_id,
            window.from.unwrap_or(crate::domain::day::EARLIEST),
            window.to.unwrap_or(crate::domain::day::LATEST),
            as_of,
        )
        .await?;
        let bank_names = store::banks::names(state.db(), tallies.iter().map(|t| t.bank_id)).await?;
        let recommendations = tallies
            .iter()
            .map(|tally| RecommendationShare {
                bank_name: bank_names.get(&tally.bank_id).cloned().unwrap_or_default(),
                tally: tally.into(),
            })
            .collect();
        let (pools, _) = crate::service::risk_pools::list(
            state.db(),
            crate::domain::Principal::command_line(),
            park_id,
            None,
            crate::api::pagination::MAX_LIMIT,
        )
        .await?;
        let programs = crate::service::subsidies::all(state.db(), Some(park_id)).await?;
        let stats = ParkStats {
            park_id: park.id.to_string(),
            park_name: park.name.clone(),
            from: window.from,
            to: window.to,
            as_of,
            totals: (&report.totals).into(),
            banks: report.banks.iter().map(|b| bank_share(b, &policy)).collect(),
            products: report.products.iter().map(|p| product_share(p, &policy)).collect(),
            recommendations,
            risk_pools: pools.iter().map(Into::into).collect(),
            subsidy_programs: programs.iter().map(Into::into).collect(),
            policy_money: policy_totals(&pools, &policy),
        };
        if wants_csv(req) {
            let csv = csv_of(&stats.banks, &stats.totals, &stats.policy_money, as_of)?;
            return Ok(ParkStatsResponse::Ok(ParkStatsContent::Csv(Csv(csv))));
        }
        Ok(ParkStatsResponse::Ok(ParkStatsContent::Json(Json(Box::new(stats)))))
    }

    /// Get a park's monthly series
    ///
    /// The park's office or an admin. Per calendar month (UTC): credit lines granted,
    /// disbursements made and repayments paid, counts and amounts.
    #[oai(path = "/parks/:id/stats/monthly", method = "get", operation_id = "get_park_monthly_stats")]
    async fn get_park_monthly_stats(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// The first day, inclusive.
        from: Query<Option<Date>>,
        /// The last day, inclusive.
        to: Query<Option<Date>>,
    ) -> ApiResult<Json<MonthlyStats>> {
        let park_id = parse_id(&id.0, "the park")?;
        require_park_office(&caller, park_id)?;
        state.park(park_id).await?;
        let months =
            store::stats::months(state.db(), park_id, window(from.0.map(|d| d.0), to.0.map(|d| d.0))?)
                .await?;
        Ok(Json(MonthlyStats {
            park_id: park_id.to_string(),
            months: months
                .into_iter()
                .map(|m| MonthRow {
                    month: m.month,
                    credit_lines: m.credit_lines,
                    credit_granted: m.credit_granted.fen(),
                    disbursement_count: m.disbursement_count,
                    disbursed: m.disbursed.fen(),
                    repayment_count: m.repayment_count,
                    principal_repaid: m.principal_repaid.fen(),
                    interest_repaid: m.interest_repaid.fen(),
                    recovered: m.recovered.fen(),
                })
                .collect(),
        }))
    }

    /// Get national statistics
    ///
    /// Admin only. The totals of every park, the same figures per bank and product, and one row
    /// per park; the same filters as a park's. Send `Accept: text/csv` for a spreadsheet: one row
    /// per bank and a total row.
    #[oai(path = "/stats", method = "get", operation_id = "get_national_stats")]
    async fn get_national_stats(
        &self,
        _caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        /// The first day, inclusive.
        from: Query<Option<Date>>,
        /// The last day, inclusive.
        to: Query<Option<Date>>,
        /// The day the loans' balances are for; by default `to`, or else today.
        as_of: Query<Option<Date>>,
    ) -> ApiResult<NationalStatsResponse> {
        let window = window(from.0.map(|d| d.0), to.0.map(|d| d.0))?;
        let as_of = balances_on(as_of.0, window);
        let (report, policy) = store::stats::figures(state.db(), None, window, as_of).await?;
        let pools = crate::service::risk_pools::all(state.db()).await?;
        let programs = crate::service::subsidies::all(state.db(), None).await?;
        let stats = NationalStats {
            from: window.from,
            to: window.to,
            as_of,
            totals: (&report.totals).into(),
            banks: report.banks.iter().map(|b| bank_share(b, &policy)).collect(),
            products: report.products.iter().map(|p| product_share(p, &policy)).collect(),
            parks: report
                .parks
                .iter()
                .map(|(park, totals)| ParkRow {
                    park_id: park.id.to_string(),
                    park_code: park.code.clone(),
                    park_name: park.name.clone(),
                    totals: totals.into(),
                })
                .collect(),
            risk_pools: pools.iter().map(Into::into).collect(),
            subsidy_programs: programs.iter().map(Into::into).collect(),
            policy_money: policy_totals(&pools, &policy),
        };
        if wants_csv(req) {
            let csv = csv_of(&stats.banks, &stats.totals, &stats.policy_money, as_of)?;
            return Ok(NationalStatsResponse::Ok(NationalStatsContent::Csv(Csv(csv))));
        }
        Ok(NationalStatsResponse::Ok(NationalStatsContent::Json(Json(Box::new(stats)))))
    }
}
