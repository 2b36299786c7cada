//! Park and national statistics: SQL aggregates over the covering indexes, never a scan of rows
//! into memory (but for loans replayed as of a past day, see [`servicing`]).

pub mod maintained;
pub mod servicing;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use entity::{
    application, credit_line, disbursement, enterprise, loan, park, product, product_park, repayment, score,
};
use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    IsolationLevel, JoinType, QueryFilter, QuerySelect, QueryTrait, RelationTrait, TransactionTrait,
    sea_query::{Expr, Func, SimpleExpr},
};

use super::{StoreError, sum_as_bigint};
use crate::domain::{Money, credit::ApplicationStatus, directory::Park};
use servicing::Servicing;

/// The dates a statistic covers; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Window {
    fn start(&self) -> Option<DateTime<Utc>> {
        self.from.map(|d| d.and_time(NaiveTime::MIN).and_utc())
    }

    /// The first instant after the window.
    fn end(&self) -> Option<DateTime<Utc>> {
        self.to.and_then(|d| d.succ_opt()).map(|d| d.and_time(NaiveTime::MIN).and_utc())
    }

    fn instants(&self, column: impl ColumnTrait) -> Condition {
        let mut condition = Condition::all();
        if let Some(start) = self.start() {
            condition = condition.add(column.gte(start));
        }
        if let Some(end) = self.end() {
            condition = condition.add(column.lt(end));
        }
        condition
    }

    fn dates(&self, column: impl ColumnTrait) -> Condition {
        let mut condition = Condition::all();
        if let Some(from) = self.from {
            condition = condition.add(column.gte(from));
        }
        if let Some(to) = self.to {
            condition = condition.add(column.lte(to));
        }
        condition
    }
}

/// The totals of one park, or of the nation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub enterprises_registered: i64,
    pub enterprises_scored: i64,
    pub enterprises_with_credit: i64,
    pub applications: BTreeMap<ApplicationStatus, i64>,
    pub credit_lines: i64,
    pub credit_granted: Money,
    pub disbursement_count: i64,
    pub disbursed: Money,
    pub approval_days_sum: i64,
    pub approval_working_days_sum: i64,
    pub sla_breaches: i64,
    pub servicing: Servicing,
}

impl Totals {
    fn add(&mut self, other: &Totals) -> Result<(), StoreError> {
        self.enterprises_registered += other.enterprises_registered;
        self.enterprises_scored += other.enterprises_scored;
        self.enterprises_with_credit += other.enterprises_with_credit;
        for (status, count) in &other.applications {
            *self.applications.entry(*status).or_default() += count;
        }
        self.credit_lines += other.credit_lines;
        add(&mut self.credit_granted, other.credit_granted)?;
        self.disbursement_count += other.disbursement_count;
        add(&mut self.disbursed, other.disbursed)?;
        self.approval_days_sum += other.approval_days_sum;
        self.approval_working_days_sum += other.approval_working_days_sum;
        self.sla_breaches += other.sla_breaches;
        self.servicing.add(&other.servicing)
    }

    /// Mean calendar and working days from application to approval, over the lines granted.
    pub fn average_approval(&self) -> Option<(f64, f64)> {
        (self.credit_lines > 0).then(|| {
            let n = self.credit_lines as f64;
            (self.approval_days_sum as f64 / n, self.approval_working_days_sum as f64 / n)
        })
    }
}

/// One bank's or one product's share of a park's credit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Share {
    pub id: i64,
    pub name: String,
    /// For a product, its bank.
    pub bank_id: i64,
    pub bank_name: String,
    pub enterprises: i64,
    pub credit_lines: i64,
    pub credit_granted: Money,
    pub disbursement_count: i64,
    pub disbursed: Money,
    pub servicing: Servicing,
}

pub struct Report {
    pub totals: Totals,
    /// Every park's own totals.
    pub parks: Vec<(Park, Totals)>,
    pub banks: Vec<Share>,
    pub products: Vec<Share>,
}

/// Adds to a money total, refusing to wrap: a sum past what `Money` holds means corrupt rows.
fn add(total: &mut Money, more: Money) -> Result<(), StoreError> {
    *total = total.checked_add(more).map_err(|_| {
        StoreError::Corrupt("a money total passes the largest amount this service can hold".to_owned())
    })?;
    Ok(())
}

/// An aggregate in fen, as the database summed it; a negative sum means corrupt rows.
fn summed(fen: Option<i64>, what: &str) -> Result<Money, StoreError> {
    Money::from_fen(fen.unwrap_or(0))
        .map_err(|_| StoreError::Corrupt(format!("the sum of {what} is negative")))
}

fn count_distinct(column: impl ColumnTrait) -> SimpleExpr {
    Func::count_distinct(Expr::col(column)).into()
}

fn count_all() -> SimpleExpr {
    Func::count(Expr::cust("*")).into()
}

fn in_park<C: ColumnTrait>(column: C, park_id: Option<i64>) -> Condition {
    match park_id {
        Some(id) => Condition::all().add(column.eq(id)),
        None => Condition::all(),
    }
}

/// [`report`], read in one snapshot of the database: on PostgreSQL a read-only REPEATABLE READ
/// transaction, so that a repayment committed while the report's several queries run is in all
/// of them or in none (a loan is summed by SQL or replayed, never both). SQLite reads one
/// snapshot in any transaction.
pub async fn snapshot(
    db: &DatabaseConnection,
    park_id: Option<i64>,
    window: Window,
    as_of: NaiveDate,
) -> Result<Report, StoreError> {
    let txn = read_snapshot(db).await?;
    let report = report(&txn, park_id, window, as_of).await?;
    txn.commit().await?;
    Ok(report)
}

/// A read-only transaction that reads one snapshot: REPEATABLE READ on PostgreSQL; SQLite reads
/// one snapshot in any transaction.
pub(crate) async fn read_snapshot(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, StoreError> {
    Ok(match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db
                .begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
                .await?;
            // These aggregates run in tens of milliseconds; compiling them (JIT) took longer.
            txn.execute_unprepared("SET LOCAL jit = off").await?;
            txn
        }
        _ => db.begin().await?,
    })
}

/// A park's or the nation's statistics with the policy money per bank and product: today's from
/// the maintained totals, any other day's or window's from the rows.
pub async fn figures(
    db: &DatabaseConnection,
    park_id: Option<i64>,
    window: Window,
    as_of: NaiveDate,
) -> Result<(Report, Vec<PolicyShare>), StoreError> {
    let today = Utc::now().date_naive();
    if maintained::covers(window, as_of, today)
        && let Some(figures) = maintained::report(db, park_id, today).await?
    {
        return Ok(figures);
    }
    let report = snapshot(db, park_id, window, as_of).await?;
    let policy = policy_by_product(db, park_id, window).await?;
    Ok((report, policy))
}

/// A park's months: from the monthly totals for whole months, else from the rows.
pub async fn months(db: &DatabaseConnection, park_id: i64, window: Window) -> Result<Vec<Month>, StoreError> {
    if maintained::covers_months(window, Utc::now().date_naive()) {
        return maintained::monthly(db, park_id, window).await;
    }
    monthly(db, park_id, window).await
}

/// The statistics of one park (`Some`) or of every park (`None`), for the window, with the
/// servicing figures as of `as_of`.
pub async fn report(
    db: &impl ConnectionTrait,
    park_id: Option<i64>,
    window: Window,
    as_of: NaiveDate,
) -> Result<Report, StoreError> {
    let parks: Vec<Park> = park::Entity::find()
        .filter(in_park(park::Column::Id, park_id))
        .all(db)
        .await?
        .into_iter()
        .map(super::parks::park_of)
        .collect();
    let mut per_park: BTreeMap<i64, Totals> = parks.iter().map(|p| (p.id, Totals::default())).collect();

    let registered: Vec<(i64, i64)> = enterprise::Entity::find()
        .select_only()
        .column(enterprise::Column::ParkId)
        .column_as(count_all(), "n")
        .filter(in_park(enterprise::Column::ParkId, park_id))
        .group_by(enterprise::Column::ParkId)
        .into_tuple()
        .all(db)
        .await?;
    for (park, n) in registered {
        per_park.entry(park).or_default().enterprises_registered = n;
    }
    let scored: Vec<(i64, i64)> = score::Entity::find()
        .select_only()
        .column(score::Column::ParkId)
        .column_as(count_distinct(score::Column::EnterpriseId), "n")
        .filter(in_park(score::Column::ParkId, park_id))
        .group_by(score::Column::ParkId)
        .into_tuple()
        .all(db)
        .await?;
    for (park, n) in scored {
        per_park.entry(park).or_default().enterprises_scored = n;
    }
    let applications: Vec<(i64, String, i64)> = application::Entity::find()
        .select_only()
        .column(application::Column::ParkId)
        .column(application::Column::Status)
        .column_as(count_all(), "n")
        .filter(in_park(application::Column::ParkId, park_id))
        .filter(window.instants(application::Column::SubmittedAt))
        .group_by(application::Column::ParkId)
        .group_by(application::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    for (park, status, n) in applications {
        let status = super::decode(ApplicationStatus::parse, "applications", park, "status", &status)?;
        per_park.entry(park).or_default().applications.insert(status, n);
    }

    let lines = || {
        credit_line::Entity::find()
            .select_only()
            .filter(in_park(credit_line::Column::ParkId, park_id))
            .filter(window.instants(credit_line::Column::GrantedAt))
    };
    type LineRow = (i64, i64, i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let line_rows: Vec<LineRow> = lines()
        .column(credit_line::Column::ParkId)
        .column(credit_line::Column::BankId)
        .column(credit_line::Column::ProductId)
        .column_as(count_all(), "lines")
        .column_as(sum_as_bigint(credit_line::Column::Amount), "granted")
        .column_as(sum_as_bigint(credit_line::Column::ApprovalDays), "days")
        .column_as(sum_as_bigint(credit_line::Column::ApprovalWorkingDays), "working_days")
        .column_as(
            SimpleExpr::from(Func::cast_as(
                Func::sum(Expr::cust("CASE WHEN sla_breached THEN 1 ELSE 0 END")),
                sea_orm::sea_query::Alias::new("bigint"),
            )),
            "breaches",
        )
        .group_by(credit_line::Column::ParkId)
        .group_by(credit_line::Column::BankId)
        .group_by(credit_line::Column::ProductId)
        .into_tuple()
        .all(db)
        .await?;
    let with_credit: Vec<(i64, i64)> = lines()
        .column(credit_line::Column::ParkId)
        .column_as(count_distinct(credit_line::Column::EnterpriseId), "n")
        .group_by(credit_line::Column::ParkId)
        .into_tuple()
        .all(db)
        .await?;
    let bank_enterprises: Vec<(i64, i64)> = lines()
        .column(credit_line::Column::BankId)
        .column_as(count_distinct(credit_line::Column::EnterpriseId), "n")
        .group_by(credit_line::Column::BankId)
        .into_tuple()
        .all(db)
        .await?;
    let product_enterprises: Vec<(i64, i64)> = lines()
        .column(credit_line::Column::ProductId)
        .column_as(count_distinct(credit_line::Column::EnterpriseId), "n")
        .group_by(credit_line::Column::ProductId)
        .into_tuple()
        .all(db)
        .await?;
    let disbursement_rows: Vec<(i64, i64, i64, i64, Option<i64>)> = disbursement::Entity::find()
        .select_only()
        .column(disbursement::Column::ParkId)
        .column(disbursement::Column::BankId)
        .column(disbursement::Column::ProductId)
        .column_as(count_all(), "n")
        .column_as(sum_as_bigint(disbursement::Column::Amount), "disbursed")
        .filter(in_park(disbursement::Column::ParkId, park_id))
        .filter(window.dates(disbursement::Column::DisbursedOn))
        .group_by(disbursement::Column::ParkId)
        .group_by(disbursement::Column::BankId)
        .group_by(disbursement::Column::ProductId)
        .into_tuple()
        .all(db)
        .await?;

    let mut banks: BTreeMap<i64, Share> = BTreeMap::new();
    let mut products: BTreeMap<i64, Share> = BTreeMap::new();
    let mut product_banks: HashMap<i64, i64> = HashMap::new();
    for (park, bank_id, product_id, count, granted, days, working_days, breaches) in line_rows {
        let totals = per_park.entry(park).or_default();
        let granted = summed(granted, "credit granted")?;
        totals.credit_lines += count;
        add(&mut totals.credit_granted, granted)?;
        totals.approval_days_sum += days.unwrap_or(0);
        totals.approval_working_days_sum += working_days.unwrap_or(0);
        totals.sla_breaches += breaches.unwrap_or(0);
        for (id, shares) in [(bank_id, &mut banks), (product_id, &mut products)] {
            let share = shares.entry(id).or_insert_with(|| Share { id, ..Default::default() });
            share.credit_lines += count;
            add(&mut share.credit_granted, granted)?;
        }
        product_banks.insert(product_id, bank_id);
    }
    for (park, n) in with_credit {
        per_park.entry(park).or_default().enterprises_with_credit = n;
    }
    for (park, bank_id, product_id, count, amount) in disbursement_rows {
        let totals = per_park.entry(park).or_default();
        let amount = summed(amount, "disbursements")?;
        totals.disbursement_count += count;
        add(&mut totals.disbursed, amount)?;
        for (id, shares) in [(bank_id, &mut banks), (product_id, &mut products)] {
            let share = shares.entry(id).or_insert_with(|| Share { id, ..Default::default() });
            share.disbursement_count += count;
            add(&mut share.disbursed, amount)?;
        }
        product_banks.insert(product_id, bank_id);
    }
    for ((park, bank_id, product_id), figures) in servicing::figures(db, park_id, window, as_of).await? {
        per_park.entry(park).or_default().servicing.add(&figures)?;
        for (id, shares) in [(bank_id, &mut banks), (product_id, &mut products)] {
            shares.entry(id).or_insert_with(|| Share { id, ..Default::default() }).servicing.add(&figures)?;
        }
        product_banks.insert(product_id, bank_id);
    }
    for (bank_id, n) in bank_enterprises {
        banks.entry(bank_id).or_insert_with(|| Share { id: bank_id, ..Default::default() }).enterprises = n;
    }
    for (product_id, n) in product_enterprises {
        products
            .entry(product_id)
            .or_insert_with(|| Share { id: product_id, ..Default::default() })
            .enterprises = n;
    }

    finish(db, park_id, parks, per_park, banks, products, product_banks).await
}

/// The last steps of a report, from rows or from totals: the products offered in the park (or
/// anywhere), names, and the sum over parks.
async fn finish(
    db: &impl ConnectionTrait,
    park_id: Option<i64>,
    parks: Vec<Park>,
    mut per_park: BTreeMap<i64, Totals>,
    mut banks: BTreeMap<i64, Share>,
    mut products: BTreeMap<i64, Share>,
    mut product_banks: HashMap<i64, i64>,
) -> Result<Report, StoreError> {
    // Products offered in the park count as activity too, so that a park's partner banks show
    // even before their first grant. A draft is its bank's alone: it is offered nowhere yet.
    let offered_ids: Vec<i64> = product_park::Entity::find()
        .select_only()
        .column(product_park::Column::ProductId)
        .distinct()
        .filter(in_park(product_park::Column::ParkId, park_id))
        .into_tuple()
        .all(db)
        .await?;
    let offered: Vec<(i64, i64)> = product::Entity::find()
        .select_only()
        .column(product::Column::Id)
        .column(product::Column::BankId)
        .filter(product::Column::Id.is_in(offered_ids))
        .filter(product::Column::Status.ne(crate::domain::product::ProductStatus::Draft.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    for (product_id, bank_id) in offered {
        products.entry(product_id).or_insert_with(|| Share { id: product_id, ..Default::default() });
        banks.entry(bank_id).or_insert_with(|| Share { id: bank_id, ..Default::default() });
        product_banks.insert(product_id, bank_id);
    }
    name_shares(db, &mut banks, &mut products, &product_banks).await?;

    let mut totals = Totals::default();
    for park_totals in per_park.values() {
        totals.add(park_totals)?;
    }
    let parks = parks
        .into_iter()
        .map(|p| {
            let park_totals = per_park.remove(&p.id).unwrap_or_default();
            (p, park_totals)
        })
        .collect();
    Ok(Report {
        totals,
        parks,
        banks: banks.into_values().collect(),
        products: products.into_values().collect(),
    })
}

async fn name_shares(
    db: &impl ConnectionTrait,
    banks: &mut BTreeMap<i64, Share>,
    products: &mut BTreeMap<i64, Share>,
    product_banks: &HashMap<i64, i64>,
) -> Result<(), StoreError> {
    let bank_ids: BTreeSet<i64> = banks.keys().copied().chain(product_banks.values().copied()).collect();
    let bank_names = super::banks::names(db, bank_ids).await?;
    let product_names: HashMap<i64, String> = product::Entity::find()
        .select_only()
        .column(product::Column::Id)
        .column(product::Column::Name)
        .filter(product::Column::Id.is_in(products.keys().copied()))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for share in banks.values_mut() {
        share.bank_id = share.id;
        share.name = bank_names.get(&share.id).cloned().unwrap_or_default();
        share.bank_name = share.name.clone();
    }
    for share in products.values_mut() {
        share.name = product_names.get(&share.id).cloned().unwrap_or_default();
        share.bank_id = product_banks.get(&share.id).copied().unwrap_or_default();
        share.bank_name = bank_names.get(&share.bank_id).cloned().unwrap_or_default();
    }
    Ok(())
}

/// One calendar month of a park's credit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    pub credit_lines: i64,
    pub credit_granted: Money,
    pub disbursement_count: i64,
    pub disbursed: Money,
    /// Repayments paid in the month, recoveries apart.
    pub repayment_count: i64,
    pub principal_repaid: Money,
    pub interest_repaid: Money,
    pub recovered: Money,
}

/// `YYYY-MM` of a timestamp or date column, in the database's own dialect.
pub(crate) fn month_sql(backend: DbBackend, column: &str, is_timestamp: bool) -> String {
    match backend {
        DbBackend::Postgres if is_timestamp => format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"),
        DbBackend::Postgres => format!("to_char({column}, 'YYYY-MM')"),
        // SQLite keeps dates and timestamps as ISO 8601 text, which begins with the month.
        _ => format!("substr({column}, 1, 7)"),
    }
}

fn month_of(backend: DbBackend, column: &str, is_timestamp: bool) -> SimpleExpr {
    Expr::cust(month_sql(backend, column, is_timestamp))
}

/// A park's credit granted, disbursed and repaid, month by month, oldest first.
pub async fn monthly(
    db: &impl ConnectionTrait,
    park_id: i64,
    window: Window,
) -> Result<Vec<Month>, StoreError> {
    let backend = db.get_database_backend();
    let granted: Vec<(String, i64, Option<i64>)> = credit_line::Entity::find()
        .select_only()
        .column_as(month_of(backend, "granted_at", true), "month")
        .column_as(count_all(), "n")
        .column_as(sum_as_bigint(credit_line::Column::Amount), "granted")
        .filter(credit_line::Column::ParkId.eq(park_id))
        .filter(window.instants(credit_line::Column::GrantedAt))
        .group_by(Expr::cust("1"))
        .into_tuple()
        .all(db)
        .await?;
    let disbursed: Vec<(String, i64, Option<i64>)> = disbursement::Entity::find()
        .select_only()
        .column_as(month_of(backend, "disbursed_on", false), "month")
        .column_as(count_all(), "n")
        .column_as(sum_as_bigint(disbursement::Column::Amount), "disbursed")
        .filter(disbursement::Column::ParkId.eq(park_id))
        .filter(window.dates(disbursement::Column::DisbursedOn))
        .group_by(Expr::cust("1"))
        .into_tuple()
        .all(db)
        .await?;
    // Month, recovery (1) or not (0), count, principal, interest.
    type RepaidRow = (String, i32, i64, Option<i64>, Option<i64>);
    let repaid: Vec<RepaidRow> = repayment::Entity::find()
        .select_only()
        .column_as(month_of(backend, "repayments.paid_on", false), "month")
        .column_as(Expr::cust("CASE WHEN repayments.recovery THEN 1 ELSE 0 END"), "recovery")
        .column_as(count_all(), "n")
        .column_as(sum_as_bigint(repayment::Column::PrincipalPaid), "principal")
        .column_as(sum_as_bigint(repayment::Column::InterestPaid), "interest")
        .join(JoinType::InnerJoin, repayment::Relation::Loan.def())
        .filter(loan::Column::ParkId.eq(park_id))
        .filter(window.dates(repayment::Column::PaidOn))
        .group_by(Expr::cust("1"))
        .group_by(Expr::cust("2"))
        .into_tuple()
        .all(db)
        .await?;
    let mut months: BTreeMap<String, Month> = BTreeMap::new();
    for (month, count, amount) in granted {
        let entry = months.entry(month.clone()).or_insert_with(|| Month { month, ..Default::default() });
        entry.credit_lines += count;
        add(&mut entry.credit_granted, summed(amount, "credit granted")?)?;
    }
    for (month, count, amount) in disbursed {
        let entry = months.entry(month.clone()).or_insert_with(|| Month { month, ..Default::default() });
        entry.disbursement_count += count;
        add(&mut entry.disbursed, summed(amount, "disbursements")?)?;
    }
    for (month, recovery, count, principal, interest) in repaid {
        let entry = months.entry(month.clone()).or_insert_with(|| Month { month, ..Default::default() });
        let (principal, interest) =
            (summed(principal, "principal repaid")?, summed(interest, "interest repaid")?);
        if recovery == 1 {
            add(&mut entry.recovered, principal)?;
            add(&mut entry.recovered, interest)?;
        } else {
            entry.repayment_count += count;
            add(&mut entry.principal_repaid, principal)?;
            add(&mut entry.interest_repaid, interest)?;
        }
    }
    Ok(months.into_values().collect())
}

/// Policy money paid to one bank's loans under one product, in the window (by the day the claim
/// was approved): risk-pool claims paid to the bank, and interest subsidies returned on its
/// loans' interest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyShare {
    pub bank_id: i64,
    pub product_id: i64,
    pub risk_claims_paid: Money,
    pub subsidies_paid: Money,
}

/// [`PolicyShare`] per bank and product, of one park or all, by bank then product.
pub async fn policy_by_product(
    db: &impl ConnectionTrait,
    park_id: Option<i64>,
    window: Window,
) -> Result<Vec<PolicyShare>, StoreError> {
    use crate::domain::risk_pool::ClaimStatus;
    use entity::{risk_claim, subsidy_claim, subsidy_claim_line};
    let approved = ClaimStatus::Approved.as_str();
    let claims: Vec<(i64, i64, Option<i64>)> = risk_claim::Entity::find()
        .select_only()
        .column(risk_claim::Column::BankId)
        .column(loan::Column::ProductId)
        .expr_as(sum_as_bigint((risk_claim::Entity, risk_claim::Column::Amount)), "paid")
        .join(
            JoinType::InnerJoin,
            sea_orm::RelationDef::from(
                risk_claim::Entity::belongs_to(loan::Entity)
                    .from(risk_claim::Column::LoanId)
                    .to(loan::Column::Id),
            ),
        )
        .filter(risk_claim::Column::Status.eq(approved))
        .filter(window.instants(risk_claim::Column::DecidedAt))
        .apply_if(park_id, |q, park| q.filter(risk_claim::Column::ParkId.eq(park)))
        .group_by(risk_claim::Column::BankId)
        .group_by(loan::Column::ProductId)
        .into_tuple()
        .all(db)
        .await?;
    let subsidies: Vec<(i64, i64, Option<i64>)> = subsidy_claim_line::Entity::find()
        .select_only()
        .column(subsidy_claim_line::Column::BankId)
        .column(subsidy_claim_line::Column::ProductId)
        .expr_as(sum_as_bigint((subsidy_claim_line::Entity, subsidy_claim_line::Column::Amount)), "paid")
        .filter(
            subsidy_claim_line::Column::ClaimId.in_subquery(
                subsidy_claim::Entity::find()
                    .select_only()
                    .column(subsidy_claim::Column::Id)
                    .filter(subsidy_claim::Column::Status.eq(approved))
                    .filter(window.instants(subsidy_claim::Column::DecidedAt))
                    .apply_if(park_id, |q, park| q.filter(subsidy_claim::Column::ParkId.eq(park)))
                    .into_query(),
            ),
        )
        .group_by(subsidy_claim_line::Column::BankId)
        .group_by(subsidy_claim_line::Column::ProductId)
        .into_tuple()
        .all(db)
        .await?;
    let mut shares: BTreeMap<(i64, i64), PolicyShare> = BTreeMap::new();
    let money = |what: &str, fen: Option<i64>| super::money("policy_money", 0, what, fen.unwrap_or(0));
    for (bank_id, product_id, paid) in claims {
        let share = shares.entry((bank_id, product_id)).or_insert(PolicyShare {
            bank_id,
            product_id,
            ..Default::default()
        });
        share.risk_claims_paid = money("risk_claims_paid", paid)?;
    }
    for (bank_id, product_id, paid) in subsidies {
        let share = shares.entry((bank_id, product_id)).or_insert(PolicyShare {
            bank_id,
            product_id,
            ..Default::default()
        });
        share.subsidies_paid = money("subsidies_paid", paid)?;
    }
    Ok(shares.into_values().collect())
}
