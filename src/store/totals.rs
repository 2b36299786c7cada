//! Maintained totals: the figures of the statistics kept as running sums (migration 16), so
//! that today's statistics read a few hundred rows whatever the number of loans.
//!
//! **Who writes them.** Each use case that changes a figure calls one function here inside its
//! own write transaction, right after the rows it writes: a grant ([`line_granted`]), a
//! disbursement ([`disbursed`]), a repayment ([`repaid`]), a write-off ([`written_off`]), a
//! classification ([`classified`]), an application's move ([`application_moved`]), a
//! registration ([`registered`]), a score import ([`recount_scored`]) and the approval of a risk
//! or subsidy claim ([`risk_claim_paid`], [`subsidy_paid`]). A total therefore commits or rolls
//! back with its change, and two processes never lose each other's increments: every update is
//! `x = x + delta` on the row, under the row's lock.
//!
//! **Balances move with the calendar.** What is overdue or non-performing changes at midnight
//! without any write. Each balance row holds the day it is as of; a use case adds the change of
//! its loan's contribution *as of that day*, and [`roll`] recomputes a park's rows for a new day
//! (the daily job does it first thing; the first reader of a day does it when the job has not).
//! A roll locks the park's balance rows and then sums the loans, so a change either committed
//! before the sum (and is in it) or waits for the lock and then adds its delta as of the new day.
//!
//! **Distinct counts** (enterprises with credit, per park, bank and product) are kept with
//! membership rows: the count goes up when a membership row is first inserted.
//!
//! [`verify`] recomputes every total from the rows and lists any difference; [`rebuild`]
//! replaces them all (for a database that predates them, and after a bulk load).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, TransactionTrait};

use super::stats::{
    month_sql,
    servicing::{self, Stored},
};
use super::{Sql, StoreError};
use crate::domain::{
    Money,
    credit::{ApplicationStatus, CreditLine},
    servicing::{Loan, Repayment},
};

/// A park, a bank and a product.
pub type Key = (i64, i64, i64);

/// `YYYY-MM` of a day.
pub fn month(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// `YYYY-MM` of an instant, in UTC (as the statistics' windows are).
pub fn month_at(at: DateTime<Utc>) -> String {
    month(at.date_naive())
}

/// The columns of `stat_flows`, in [`Flow::values`] order.
pub const FLOW_COLUMNS: [&str; 14] = [
    "credit_lines",
    "credit_granted",
    "approval_days",
    "approval_working_days",
    "sla_breaches",
    "disbursements",
    "disbursed",
    "repayments",
    "principal_repaid",
    "interest_repaid",
    "recovered",
    "written_off",
    "risk_claims_paid",
    "subsidies_paid",
];

/// What happened to one park, bank and product in one month. Amounts in fen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flow {
    pub credit_lines: i64,
    pub credit_granted: i64,
    pub approval_days: i64,
    pub approval_working_days: i64,
    pub sla_breaches: i64,
    pub disbursements: i64,
    pub disbursed: i64,
    /// Repayments before any write-off; those after it are `recovered`.
    pub repayments: i64,
    pub principal_repaid: i64,
    pub interest_repaid: i64,
    /// Principal and interest repaid after a write-off.
    pub recovered: i64,
    /// The principal unpaid when a loan was written off.
    pub written_off: i64,
    pub risk_claims_paid: i64,
    pub subsidies_paid: i64,
}

impl Flow {
    pub fn values(&self) -> [i64; 14] {
        [
            self.credit_lines,
            self.credit_granted,
            self.approval_days,
            self.approval_working_days,
            self.sla_breaches,
            self.disbursements,
            self.disbursed,
            self.repayments,
            self.principal_repaid,
            self.interest_repaid,
            self.recovered,
            self.written_off,
            self.risk_claims_paid,
            self.subsidies_paid,
        ]
    }

    pub fn from_values(v: [i64; 14]) -> Self {
        Flow {
            credit_lines: v[0],
            credit_granted: v[1],
            approval_days: v[2],
            approval_working_days: v[3],
            sla_breaches: v[4],
            disbursements: v[5],
            disbursed: v[6],
            repayments: v[7],
            principal_repaid: v[8],
            interest_repaid: v[9],
            recovered: v[10],
            written_off: v[11],
            risk_claims_paid: v[12],
            subsidies_paid: v[13],
        }
    }

    pub fn add(&mut self, other: &Flow) {
        let mut sum = self.values();
        for (s, o) in sum.iter_mut().zip(other.values()) {
            *s = s.saturating_add(o);
        }
        *self = Flow::from_values(sum);
    }

    /// Reads every column of [`FLOW_COLUMNS`] from a row.
    pub fn from_row(row: &QueryResult) -> Result<Self, StoreError> {
        Self::from_columns(row, &FLOW_COLUMNS)
    }

    /// Reads these columns of [`FLOW_COLUMNS`] from a row; the others are zero.
    pub fn from_columns(row: &QueryResult, columns: &[&str]) -> Result<Self, StoreError> {
        let mut values = [0i64; 14];
        for (value, column) in values.iter_mut().zip(FLOW_COLUMNS) {
            if columns.contains(&column) {
                *value = row.try_get::<Option<i64>>("", column)?.unwrap_or(0);
            }
        }
        Ok(Flow::from_values(values))
    }
}

/// Principal outstanding, overdue and non-performing, in fen.
pub type Balance = [i64; 3];

/// What kinds of distinct enterprises `stat_counts` counts.
pub mod kind {
    pub const REGISTERED: &str = "registered";
    pub const SCORED: &str = "scored";
    /// With credit in the park (`key_id` 0), at a bank (the bank's id) or under a product.
    pub const CREDIT: &str = "credit";
    pub const CREDIT_BANK: &str = "credit_bank";
    pub const CREDIT_PRODUCT: &str = "credit_product";
}

fn for_update(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => " FOR UPDATE",
        // SQLite has one writer at a time: the transaction is the lock.
        _ => "",
    }
}

/// Adds a flow to its month's row and to its key's all-time row (which today's statistics read:
/// one row per park, bank and product, however many months).
async fn add_flow(db: &impl ConnectionTrait, key: Key, month: &str, flow: &Flow) -> Result<(), StoreError> {
    for (table, month) in [("stat_flows", Some(month)), ("stat_flow_totals", None)] {
        let mut sql = Sql::new(db.get_database_backend());
        let mut params = vec![sql.bind(key.0), sql.bind(key.1), sql.bind(key.2)];
        params.extend(month.map(|m| sql.bind(m.to_owned())));
        params.extend(flow.values().map(|v| sql.bind(v)));
        let sets: Vec<String> =
            FLOW_COLUMNS.iter().map(|c| format!("{c} = {table}.{c} + excluded.{c}")).collect();
        let month_column = if month.is_some() { ", month" } else { "" };
        let statement = format!(
            "INSERT INTO {table} (park_id, bank_id, product_id{month_column}, {}) VALUES ({}) \
             ON CONFLICT (park_id, bank_id, product_id{month_column}) DO UPDATE SET {}",
            FLOW_COLUMNS.join(", "),
            params.join(", "),
            sets.join(", ")
        );
        db.execute_raw(sql.statement(statement)).await?;
    }
    Ok(())
}

async fn add_count(
    db: &impl ConnectionTrait,
    park_id: i64,
    kind: &str,
    key_id: i64,
    by: i64,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(db.get_database_backend());
    let statement = format!(
        "INSERT INTO stat_counts (park_id, kind, key_id, n) VALUES ({}, {}, {}, {}) \
         ON CONFLICT (park_id, kind, key_id) DO UPDATE SET n = stat_counts.n + excluded.n",
        sql.bind(park_id),
        sql.bind(kind.to_owned()),
        sql.bind(key_id),
        sql.bind(by)
    );
    db.execute_raw(sql.statement(statement)).await?;
    Ok(())
}

/// Counts `enterprise_id` once under (park, kind, key).
async fn member(
    db: &impl ConnectionTrait,
    park_id: i64,
    kind: &str,
    key_id: i64,
    enterprise_id: i64,
) -> Result<(), StoreError> {
    let mut sql = Sql::new(db.get_database_backend());
    let statement = format!(
        "INSERT INTO stat_members (park_id, kind, key_id, enterprise_id) VALUES ({}, {}, {}, {}) \
         ON CONFLICT (park_id, kind, key_id, enterprise_id) DO NOTHING",
        sql.bind(park_id),
        sql.bind(kind.to_owned()),
        sql.bind(key_id),
        sql.bind(enterprise_id)
    );
    if db.execute_raw(sql.statement(statement)).await?.rows_affected() == 1 {
        add_count(db, park_id, kind, key_id, 1).await?;
    }
    Ok(())
}

/// A credit line granted: its flow, and the enterprise counted with credit in the park, at the
/// bank and under the product.
pub async fn line_granted(db: &impl ConnectionTrait, line: &CreditLine) -> Result<(), StoreError> {
    let flow = Flow {
        credit_lines: 1,
        credit_granted: line.amount.fen(),
        approval_days: i64::from(line.approval_days),
        approval_working_days: i64::from(line.approval_working_days),
        sla_breaches: i64::from(line.sla_breached),
        ..Default::default()
    };
    add_flow(db, (line.park_id, line.bank_id, line.product_id), &month_at(line.granted_at), &flow).await?;
    member(db, line.park_id, kind::CREDIT, 0, line.enterprise_id).await?;
    member(db, line.park_id, kind::CREDIT_BANK, line.bank_id, line.enterprise_id).await?;
    member(db, line.park_id, kind::CREDIT_PRODUCT, line.product_id, line.enterprise_id).await
}

fn key_of(loan: &Loan) -> Key {
    (loan.park_id, loan.bank_id, loan.product_id)
}

/// A loan disbursed (made from a disbursement).
pub async fn disbursed(db: &impl ConnectionTrait, loan: &Loan, today: NaiveDate) -> Result<(), StoreError> {
    let flow = Flow { disbursements: 1, disbursed: loan.amount.fen(), ..Default::default() };
    add_flow(db, key_of(loan), &month(loan.disbursed_on), &flow).await?;
    loan_changed(db, None, loan, today).await
}

/// A repayment recorded: `before` and `after` are the loan around it.
pub async fn repaid(
    db: &impl ConnectionTrait,
    before: &Loan,
    after: &Loan,
    repayment: &Repayment,
    today: NaiveDate,
) -> Result<(), StoreError> {
    let (principal, interest) = (repayment.principal_paid.fen(), repayment.interest_paid.fen());
    let flow = if repayment.recovery {
        Flow { recovered: principal + interest, ..Default::default() }
    } else {
        Flow { repayments: 1, principal_repaid: principal, interest_repaid: interest, ..Default::default() }
    };
    add_flow(db, key_of(after), &month(repayment.paid_on), &flow).await?;
    loan_changed(db, Some(before), after, today).await
}

/// A loan written off: the principal it leaves unpaid is written off in the month.
pub async fn written_off(
    db: &impl ConnectionTrait,
    before: &Loan,
    after: &Loan,
    today: NaiveDate,
) -> Result<(), StoreError> {
    if let Some(on) = after.written_off_on {
        let unpaid = (before.amount.fen() - before.principal_repaid.fen()).max(0);
        add_flow(db, key_of(after), &month(on), &Flow { written_off: unpaid, ..Default::default() }).await?;
    }
    loan_changed(db, Some(before), after, today).await
}

/// A loan classified by its bank.
pub async fn classified(
    db: &impl ConnectionTrait,
    before: &Loan,
    after: &Loan,
    today: NaiveDate,
) -> Result<(), StoreError> {
    loan_changed(db, Some(before), after, today).await
}

/// A risk-pool claim paid on a loan, approved at `decided_at`.
pub async fn risk_claim_paid(
    db: &impl ConnectionTrait,
    loan: &Loan,
    amount: Money,
    decided_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let flow = Flow { risk_claims_paid: amount.fen(), ..Default::default() };
    add_flow(db, key_of(loan), &month_at(decided_at), &flow).await
}

/// A subsidy claim of the park paid, approved at `decided_at`: what it paid per bank and product.
pub async fn subsidy_paid(
    db: &impl ConnectionTrait,
    park_id: i64,
    paid: &BTreeMap<(i64, i64), i64>,
    decided_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    // In key order, as every writer takes its rows, so that two approvals cannot deadlock.
    for (&(bank_id, product_id), &amount) in paid {
        let flow = Flow { subsidies_paid: amount, ..Default::default() };
        add_flow(db, (park_id, bank_id, product_id), &month_at(decided_at), &flow).await?;
    }
    Ok(())
}

/// An application submitted (`from` is `None`) or moved to another status.
pub async fn application_moved(
    db: &impl ConnectionTrait,
    park_id: i64,
    submitted_at: DateTime<Utc>,
    from: Option<ApplicationStatus>,
    to: ApplicationStatus,
) -> Result<(), StoreError> {
    let month = month_at(submitted_at);
    let moves = from.map(|f| (f, -1)).into_iter().chain([(to, 1)]);
    for (status, by) in moves {
        let mut sql = Sql::new(db.get_database_backend());
        let statement = format!(
            "INSERT INTO stat_applications (park_id, month, status, n) VALUES ({}, {}, {}, {}) \
             ON CONFLICT (park_id, month, status) DO UPDATE SET n = stat_applications.n + excluded.n",
            sql.bind(park_id),
            sql.bind(month.clone()),
            sql.bind(status.as_str().to_owned()),
            sql.bind(by)
        );
        db.execute_raw(sql.statement(statement)).await?;
    }
    Ok(())
}

/// `n` enterprises registered in a park.
pub async fn registered(db: &impl ConnectionTrait, park_id: i64, n: i64) -> Result<(), StoreError> {
    add_count(db, park_id, kind::REGISTERED, 0, n).await
}

/// Counts again the park's enterprises with a score, after an import (which may add and, by
/// replacing a period, remove scores): one index-only count, at the import, not at the read.
pub async fn recount_scored(db: &impl ConnectionTrait, park_id: i64) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    // Hold the park's count first, then count in a statement of its own: its snapshot then
    // comes after any other import of the park that held the row before (READ COMMITTED), so
    // two imports at once cannot leave a count that misses one of them.
    add_count(db, park_id, kind::SCORED, 0, 0).await?;
    let mut sql = Sql::new(backend);
    let hold = format!(
        "SELECT n FROM stat_counts WHERE park_id = {} AND kind = {} AND key_id = 0{}",
        sql.bind(park_id),
        sql.bind(kind::SCORED.to_owned()),
        for_update(backend)
    );
    db.query_all_raw(sql.statement(hold)).await?;
    let mut sql = Sql::new(backend);
    let park = sql.bind(park_id);
    let kind = sql.bind(kind::SCORED.to_owned());
    let statement = format!(
        "UPDATE stat_counts SET n = (SELECT COUNT(DISTINCT enterprise_id) FROM scores WHERE park_id = {park}) \
         WHERE park_id = {park} AND kind = {kind} AND key_id = 0"
    );
    db.execute_raw(sql.statement(statement)).await?;
    Ok(())
}

/// What one loan adds to its balance row as of `day`: nothing before it is disbursed or once it
/// is written off; otherwise the principal outstanding, the overdue principal, and the principal
/// outstanding again if the loan is non-performing that day (the same rules as the loan's own
/// view and as [`servicing::balances`]).
pub fn contribution(loan: &Loan, day: NaiveDate) -> Balance {
    if loan.disbursed_on > day || loan.written_off_on.is_some_and(|on| on <= day) {
        return [0; 3];
    }
    let standing = loan.standing(day);
    let outstanding = standing.principal_outstanding.fen();
    let npl = if loan.classification(day).is_npl() { outstanding } else { 0 };
    [outstanding, standing.overdue_principal.fen(), npl]
}

/// Adds the change of one loan's contribution to its balance row, as of the row's day.
async fn loan_changed(
    db: &impl ConnectionTrait,
    before: Option<&Loan>,
    after: &Loan,
    today: NaiveDate,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let (park, bank, product) = key_of(after);
    if backend == DbBackend::Postgres {
        // Shared: loan changes of the park go on together; a roll of the park waits for them.
        let mut sql = Sql::new(backend);
        let lock = format!(
            "SELECT pg_advisory_xact_lock_shared({BALANCE_LOCK}, CAST({} AS INTEGER))",
            sql.bind(park)
        );
        db.query_all_raw(sql.statement(lock)).await?;
    }
    let mut sql = Sql::new(backend);
    let insert = format!(
        "INSERT INTO stat_balances (park_id, bank_id, product_id, as_of, principal_outstanding, overdue_principal, npl_balance) \
         VALUES ({}, {}, {}, {}, 0, 0, 0) ON CONFLICT (park_id, bank_id, product_id) DO NOTHING",
        sql.bind(park),
        sql.bind(bank),
        sql.bind(product),
        sql.bind(today)
    );
    db.execute_raw(sql.statement(insert)).await?;
    let mut sql = Sql::new(backend);
    let select = format!(
        "SELECT as_of FROM stat_balances WHERE park_id = {} AND bank_id = {} AND product_id = {}{}",
        sql.bind(park),
        sql.bind(bank),
        sql.bind(product),
        for_update(backend)
    );
    let row = db.query_one_raw(sql.statement(select)).await?.ok_or(StoreError::NotFound)?;
    let day: NaiveDate = row.try_get("", "as_of")?;
    let old = before.map_or([0; 3], |loan| contribution(loan, day));
    let new = contribution(after, day);
    let delta = [new[0] - old[0], new[1] - old[1], new[2] - old[2]];
    if delta == [0; 3] {
        return Ok(());
    }
    let mut sql = Sql::new(backend);
    let update = format!(
        "UPDATE stat_balances SET principal_outstanding = principal_outstanding + {}, \
         overdue_principal = overdue_principal + {}, npl_balance = npl_balance + {} \
         WHERE park_id = {} AND bank_id = {} AND product_id = {}",
        sql.bind(delta[0]),
        sql.bind(delta[1]),
        sql.bind(delta[2]),
        sql.bind(park),
        sql.bind(bank),
        sql.bind(product)
    );
    db.execute_raw(sql.statement(update)).await?;
    Ok(())
}

/// `WHERE park_id = …` for one park, or nothing.
fn park_where(sql: &mut Sql, park_id: Option<i64>, prefix: &str) -> String {
    park_id.map(|id| format!(" {prefix} park_id = {}", sql.bind(id))).unwrap_or_default()
}

/// Recomputes the balance rows of one park (or all) as of `day`, in one transaction that holds
/// them; see the module's notes.
pub async fn roll(db: &DatabaseConnection, park_id: i64, day: NaiveDate) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let txn = db.begin().await?;
    let park_id = Some(park_id);
    if backend == DbBackend::Postgres {
        // The park's balance lock, exclusive: every loan change of the park holds it shared
        // from before it inserts or updates a balance row, so none is half-way while the park
        // is summed, including a change to a key that has no row yet.
        let mut sql = Sql::new(backend);
        let lock =
            format!("SELECT pg_advisory_xact_lock({BALANCE_LOCK}, CAST({} AS INTEGER))", sql.bind(park_id));
        txn.query_all_raw(sql.statement(lock)).await?;
        txn.execute_unprepared("SET LOCAL jit = off").await?;
    }
    // Another reader (or the daily job) may have rolled the park while this one waited.
    let mut sql = Sql::new(backend);
    let stale = format!(
        "SELECT COUNT(*) AS n FROM stat_balances{} AND as_of <> {}",
        park_where(&mut sql, park_id, "WHERE"),
        sql.bind(day)
    );
    let stale = txn.query_one_raw(sql.statement(stale)).await?.map(|r| get_i64(&r, "n")).transpose()?;
    if stale == Some(0) {
        txn.commit().await?;
        return Ok(());
    }
    let figures = servicing::balances(&txn, park_id, day, Stored::Current).await?;
    let mut sql = Sql::new(backend);
    let zero = format!(
        "UPDATE stat_balances SET as_of = {}, principal_outstanding = 0, overdue_principal = 0, npl_balance = 0{}",
        sql.bind(day),
        park_where(&mut sql, park_id, "WHERE")
    );
    txn.execute_raw(sql.statement(zero)).await?;
    let rows: Vec<(Key, Balance)> = figures
        .into_iter()
        .map(|(key, s)| {
            (key, [s.principal_outstanding.fen(), s.overdue_principal.fen(), s.npl_balance.fen()])
        })
        .collect();
    put_balances(&txn, &rows, day).await?;
    txn.commit().await?;
    Ok(())
}

/// Rolls every park's balance rows to `day`, a park per transaction (so that each holds only its
/// own park's writers, briefly).
pub async fn roll_every_park(db: &DatabaseConnection, day: NaiveDate) -> Result<(), StoreError> {
    for row in all(db, "SELECT DISTINCT park_id FROM stat_balances ORDER BY park_id".to_owned()).await? {
        roll(db, row.try_get("", "park_id")?, day).await?;
    }
    Ok(())
}

/// The class of the advisory locks on a park's balances (`pg_advisory_xact_lock(class, park)`).
const BALANCE_LOCK: i32 = 1_847;

/// Sets balance rows (inserting those missing), many per statement.
async fn put_balances(
    db: &impl ConnectionTrait,
    rows: &[(Key, Balance)],
    day: NaiveDate,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        let mut sql = Sql::new(db.get_database_backend());
        let values: Vec<String> = chunk
            .iter()
            .map(|((park, bank, product), b)| {
                format!(
                    "({}, {}, {}, {}, {}, {}, {})",
                    sql.bind(*park),
                    sql.bind(*bank),
                    sql.bind(*product),
                    sql.bind(day),
                    sql.bind(b[0]),
                    sql.bind(b[1]),
                    sql.bind(b[2])
                )
            })
            .collect();
        let statement = format!(
            "INSERT INTO stat_balances (park_id, bank_id, product_id, as_of, principal_outstanding, overdue_principal, npl_balance) \
             VALUES {} ON CONFLICT (park_id, bank_id, product_id) DO UPDATE SET as_of = excluded.as_of, \
             principal_outstanding = excluded.principal_outstanding, overdue_principal = excluded.overdue_principal, \
             npl_balance = excluded.npl_balance",
            values.join(", ")
        );
        db.execute_raw(sql.statement(statement)).await?;
    }
    Ok(())
}

/// Every maintained total, as stored or as the rows say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tables {
    pub flows: BTreeMap<(Key, String), Flow>,
    /// Every month together, per key.
    pub flow_totals: BTreeMap<Key, Flow>,
    /// With the day each row is as of.
    pub balances: BTreeMap<Key, (NaiveDate, Balance)>,
    /// (park, month, status) → applications.
    pub applications: BTreeMap<(i64, String, String), i64>,
    /// (park, kind, key) → enterprises.
    pub counts: BTreeMap<(i64, String, i64), i64>,
}

impl Tables {
    /// Without the rows that hold nothing (a count that went back to zero, say), which equal
    /// rows never written.
    fn without_zeros(mut self) -> Self {
        self.flows.retain(|_, f| *f != Flow::default());
        self.flow_totals.retain(|_, f| *f != Flow::default());
        self.balances.retain(|_, (_, b)| *b != [0; 3]);
        self.applications.retain(|_, n| *n != 0);
        self.counts.retain(|_, n| *n != 0);
        self
    }
}

async fn all(db: &impl ConnectionTrait, statement: String) -> Result<Vec<QueryResult>, StoreError> {
    Ok(db.query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), statement)).await?)
}

fn get_i64(row: &QueryResult, column: &str) -> Result<i64, StoreError> {
    Ok(row.try_get::<Option<i64>>("", column)?.unwrap_or(0))
}

fn row_key(row: &QueryResult) -> Result<Key, StoreError> {
    Ok((row.try_get("", "park_id")?, row.try_get("", "bank_id")?, row.try_get("", "product_id")?))
}

/// The totals as stored.
pub async fn stored(db: &impl ConnectionTrait) -> Result<Tables, StoreError> {
    let mut tables = Tables::default();
    for row in all(
        db,
        format!("SELECT park_id, bank_id, product_id, month, {} FROM stat_flows", FLOW_COLUMNS.join(", ")),
    )
    .await?
    {
        tables.flows.insert((row_key(&row)?, row.try_get("", "month")?), Flow::from_row(&row)?);
    }
    for row in all(
        db,
        format!("SELECT park_id, bank_id, product_id, {} FROM stat_flow_totals", FLOW_COLUMNS.join(", ")),
    )
    .await?
    {
        tables.flow_totals.insert(row_key(&row)?, Flow::from_row(&row)?);
    }
    for row in all(
        db,
        "SELECT park_id, bank_id, product_id, as_of, principal_outstanding, overdue_principal, npl_balance FROM stat_balances"
            .to_owned(),
    )
    .await?
    {
        let balance = [
            get_i64(&row, "principal_outstanding")?,
            get_i64(&row, "overdue_principal")?,
            get_i64(&row, "npl_balance")?,
        ];
        tables.balances.insert(row_key(&row)?, (row.try_get("", "as_of")?, balance));
    }
    for row in all(db, "SELECT park_id, month, status, n FROM stat_applications".to_owned()).await? {
        tables.applications.insert(
            (row.try_get("", "park_id")?, row.try_get("", "month")?, row.try_get("", "status")?),
            get_i64(&row, "n")?,
        );
    }
    for row in all(db, "SELECT park_id, kind, key_id, n FROM stat_counts".to_owned()).await? {
        tables.counts.insert(
            (row.try_get("", "park_id")?, row.try_get("", "kind")?, row.try_get("", "key_id")?),
            get_i64(&row, "n")?,
        );
    }
    Ok(tables)
}

/// The totals as the rows say, with each balance row as of the day `as_of` gives for its key.
pub async fn expected(
    db: &impl ConnectionTrait,
    as_of: impl Fn(&Key) -> NaiveDate,
    days: &BTreeSet<NaiveDate>,
) -> Result<Tables, StoreError> {
    let backend = db.get_database_backend();
    let mut tables = Tables::default();
    let flow = |tables: &mut Tables, row: &QueryResult, f: Flow| -> Result<(), StoreError> {
        tables.flows.entry((row_key(row)?, row.try_get("", "month")?)).or_default().add(&f);
        Ok(())
    };
    let m = |column: &str, ts: bool| month_sql(backend, column, ts);

    let lines = format!(
        "SELECT park_id, bank_id, product_id, {} AS month, COUNT(*) AS credit_lines, \
         CAST(SUM(amount) AS BIGINT) AS credit_granted, CAST(SUM(approval_days) AS BIGINT) AS approval_days, \
         CAST(SUM(approval_working_days) AS BIGINT) AS approval_working_days, \
         CAST(SUM(CASE WHEN sla_breached THEN 1 ELSE 0 END) AS BIGINT) AS sla_breaches \
         FROM credit_lines GROUP BY 1, 2, 3, 4",
        m("granted_at", true)
    );
    let columns =
        ["credit_lines", "credit_granted", "approval_days", "approval_working_days", "sla_breaches"];
    for row in all(db, lines).await? {
        flow(&mut tables, &row, Flow::from_columns(&row, &columns)?)?;
    }
    let disbursements = format!(
        "SELECT park_id, bank_id, product_id, {} AS month, COUNT(*) AS disbursements, \
         CAST(SUM(amount) AS BIGINT) AS disbursed FROM disbursements GROUP BY 1, 2, 3, 4",
        m("disbursed_on", false)
    );
    for row in all(db, disbursements).await? {
        flow(&mut tables, &row, Flow::from_columns(&row, &["disbursements", "disbursed"])?)?;
    }
    let repayments = format!(
        "SELECT l.park_id, l.bank_id, l.product_id, {} AS month, CASE WHEN r.recovery THEN 1 ELSE 0 END AS recovery, \
         COUNT(*) AS n, CAST(SUM(r.principal_paid) AS BIGINT) AS principal, CAST(SUM(r.interest_paid) AS BIGINT) AS interest \
         FROM repayments r JOIN loans l ON l.id = r.loan_id GROUP BY 1, 2, 3, 4, 5",
        m("r.paid_on", false)
    );
    for row in all(db, repayments).await? {
        let (n, principal, interest) =
            (get_i64(&row, "n")?, get_i64(&row, "principal")?, get_i64(&row, "interest")?);
        let f = if row.try_get::<i32>("", "recovery")? == 1 {
            Flow { recovered: principal + interest, ..Default::default() }
        } else {
            Flow {
                repayments: n,
                principal_repaid: principal,
                interest_repaid: interest,
                ..Default::default()
            }
        };
        flow(&mut tables, &row, f)?;
    }
    let written_off = format!(
        "SELECT l.park_id, l.bank_id, l.product_id, {} AS month, CAST(SUM(l.amount - COALESCE((\
             SELECT SUM(r.principal_paid) FROM repayments r WHERE r.loan_id = l.id AND NOT r.recovery), 0)) \
           AS BIGINT) AS written_off \
         FROM loans l WHERE l.written_off_on IS NOT NULL GROUP BY 1, 2, 3, 4",
        m("l.written_off_on", false)
    );
    for row in all(db, written_off).await? {
        flow(&mut tables, &row, Flow::from_columns(&row, &["written_off"])?)?;
    }
    let approved = crate::domain::risk_pool::ClaimStatus::Approved.as_str();
    let risk = format!(
        "SELECT l.park_id, l.bank_id, l.product_id, {} AS month, CAST(SUM(c.amount) AS BIGINT) AS risk_claims_paid \
         FROM risk_claims c JOIN loans l ON l.id = c.loan_id WHERE c.status = '{approved}' GROUP BY 1, 2, 3, 4",
        m("c.decided_at", true)
    );
    for row in all(db, risk).await? {
        flow(&mut tables, &row, Flow::from_columns(&row, &["risk_claims_paid"])?)?;
    }
    let subsidies = format!(
        "SELECT c.park_id, x.bank_id, x.product_id, {} AS month, CAST(SUM(x.amount) AS BIGINT) AS subsidies_paid \
         FROM subsidy_claim_lines x JOIN subsidy_claims c ON c.id = x.claim_id WHERE c.status = '{approved}' \
         GROUP BY 1, 2, 3, 4",
        m("c.decided_at", true)
    );
    for row in all(db, subsidies).await? {
        flow(&mut tables, &row, Flow::from_columns(&row, &["subsidies_paid"])?)?;
    }

    let by_month: Vec<(Key, Flow)> = tables.flows.iter().map(|((key, _), flow)| (*key, *flow)).collect();
    for (key, flow) in by_month {
        tables.flow_totals.entry(key).or_default().add(&flow);
    }

    let applications = format!(
        "SELECT park_id, {} AS month, status, COUNT(*) AS n FROM applications GROUP BY 1, 2, 3",
        m("submitted_at", true)
    );
    for row in all(db, applications).await? {
        tables.applications.insert(
            (row.try_get("", "park_id")?, row.try_get("", "month")?, row.try_get("", "status")?),
            get_i64(&row, "n")?,
        );
    }

    let counts = [
        (
            kind::REGISTERED,
            "SELECT park_id, CAST(0 AS BIGINT) AS key_id, COUNT(*) AS n FROM enterprises GROUP BY park_id",
        ),
        (
            kind::SCORED,
            "SELECT park_id, CAST(0 AS BIGINT) AS key_id, COUNT(DISTINCT enterprise_id) AS n FROM scores GROUP BY park_id",
        ),
        (
            kind::CREDIT,
            "SELECT park_id, CAST(0 AS BIGINT) AS key_id, COUNT(DISTINCT enterprise_id) AS n FROM credit_lines GROUP BY park_id",
        ),
        (
            kind::CREDIT_BANK,
            "SELECT park_id, bank_id AS key_id, COUNT(DISTINCT enterprise_id) AS n FROM credit_lines GROUP BY 1, 2",
        ),
        (
            kind::CREDIT_PRODUCT,
            "SELECT park_id, product_id AS key_id, COUNT(DISTINCT enterprise_id) AS n FROM credit_lines GROUP BY 1, 2",
        ),
    ];
    for (kind, statement) in counts {
        for row in all(db, statement.to_owned()).await? {
            tables.counts.insert(
                (row.try_get("", "park_id")?, kind.to_owned(), get_i64(&row, "key_id")?),
                get_i64(&row, "n")?,
            );
        }
    }

    let mut by_day: BTreeMap<NaiveDate, BTreeMap<Key, servicing::Servicing>> = BTreeMap::new();
    for day in days {
        by_day.insert(*day, servicing::balances(db, None, *day, Stored::Current).await?);
    }
    let keys: BTreeSet<Key> = by_day.values().flat_map(|m| m.keys().copied()).collect();
    for key in keys {
        let day = as_of(&key);
        let balance = by_day.get(&day).and_then(|m| m.get(&key)).map_or([0; 3], |s| {
            [s.principal_outstanding.fen(), s.overdue_principal.fen(), s.npl_balance.fen()]
        });
        tables.balances.insert(key, (day, balance));
    }
    Ok(tables)
}

/// One total that differs from what the rows say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drift {
    pub table: &'static str,
    pub key: String,
    pub column: String,
    pub stored: i64,
    pub expected: i64,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}: stored {}, the rows say {}",
            self.table, self.key, self.column, self.stored, self.expected
        )
    }
}

/// What [`verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verification {
    /// Totals compared.
    pub checked: usize,
    pub drift: Vec<Drift>,
}

fn compare<K: Ord + std::fmt::Debug, V: Copy + Default + PartialEq>(
    table: &'static str,
    stored: &BTreeMap<K, V>,
    expected: &BTreeMap<K, V>,
    columns: &[&str],
    values: impl Fn(&V) -> Vec<i64>,
    out: &mut Verification,
) {
    let keys: BTreeSet<&K> = stored.keys().chain(expected.keys()).collect();
    for key in keys {
        let s = stored.get(key).copied().unwrap_or_default();
        let e = expected.get(key).copied().unwrap_or_default();
        out.checked += columns.len();
        if s == e {
            continue;
        }
        for ((column, sv), ev) in columns.iter().zip(values(&s)).zip(values(&e)) {
            if sv != ev {
                out.drift.push(Drift {
                    table,
                    key: format!("{key:?}"),
                    column: (*column).to_owned(),
                    stored: sv,
                    expected: ev,
                });
            }
        }
    }
}

/// Recomputes every total from the rows, in one snapshot, and lists where the stored totals
/// differ. Each balance row is checked as of its own day.
pub async fn verify(db: &DatabaseConnection, today: NaiveDate) -> Result<Verification, StoreError> {
    let txn = super::stats::read_snapshot(db).await?;
    let stored = stored(&txn).await?;
    let mut days: BTreeSet<NaiveDate> = stored.balances.values().map(|(day, _)| *day).collect();
    days.insert(today);
    let expected =
        expected(&txn, |key| stored.balances.get(key).map_or(today, |(day, _)| *day), &days).await?;
    let members: Vec<QueryResult> = all(
        &txn,
        "SELECT park_id, kind, key_id, COUNT(*) AS n FROM stat_members GROUP BY 1, 2, 3".to_owned(),
    )
    .await?;
    txn.commit().await?;
    let mut member_counts = BTreeMap::new();
    for row in members {
        member_counts.insert(
            (
                row.try_get::<i64>("", "park_id")?,
                row.try_get::<String>("", "kind")?,
                get_i64(&row, "key_id")?,
            ),
            get_i64(&row, "n")?,
        );
    }
    let credit_counts: BTreeMap<_, _> = expected
        .counts
        .iter()
        .filter(|((_, kind, _), _)| kind.starts_with(kind::CREDIT))
        .map(|(k, n)| (k.clone(), *n))
        .collect();
    let (stored, expected) = (stored.without_zeros(), expected.without_zeros());
    let mut out = Verification::default();
    compare("stat_flows", &stored.flows, &expected.flows, &FLOW_COLUMNS, |f| f.values().to_vec(), &mut out);
    compare(
        "stat_flow_totals",
        &stored.flow_totals,
        &expected.flow_totals,
        &FLOW_COLUMNS,
        |f| f.values().to_vec(),
        &mut out,
    );
    let balances = |t: &Tables| t.balances.iter().map(|(k, (_, b))| (*k, *b)).collect::<BTreeMap<_, _>>();
    compare(
        "stat_balances",
        &balances(&stored),
        &balances(&expected),
        &["principal_outstanding", "overdue_principal", "npl_balance"],
        |b| b.to_vec(),
        &mut out,
    );
    compare(
        "stat_applications",
        &stored.applications,
        &expected.applications,
        &["n"],
        |n| vec![*n],
        &mut out,
    );
    compare("stat_counts", &stored.counts, &expected.counts, &["n"], |n| vec![*n], &mut out);
    compare("stat_members", &member_counts, &credit_counts, &["members"], |n| vec![*n], &mut out);
    Ok(out)
}

/// Replaces every total with what the rows say, balances as of `today`. On PostgreSQL the source
/// tables are held in SHARE mode meanwhile: writers wait, readers go on.
pub async fn rebuild(db: &DatabaseConnection, today: NaiveDate) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    rebuild_in(&txn, today).await?;
    txn.commit().await?;
    Ok(())
}

async fn rebuild_in(txn: &sea_orm::DatabaseTransaction, today: NaiveDate) -> Result<(), StoreError> {
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        txn.execute_unprepared(
            "LOCK TABLE enterprises, scores, applications, credit_lines, disbursements, loans, loan_installments, \
             repayments, risk_claims, subsidy_claims, subsidy_claim_lines IN SHARE MODE",
        )
        .await?;
        txn.execute_unprepared("SET LOCAL jit = off").await?;
    }
    for table in [
        "stat_flows",
        "stat_flow_totals",
        "stat_balances",
        "stat_applications",
        "stat_counts",
        "stat_members",
    ] {
        txn.execute_unprepared(&format!("DELETE FROM {table}")).await?;
    }
    let days = BTreeSet::from([today]);
    let tables = expected(txn, |_| today, &days).await?.without_zeros();

    let flows: Vec<_> = tables.flows.iter().collect();
    for chunk in flows.chunks(200) {
        let mut sql = Sql::new(backend);
        let values: Vec<String> = chunk
            .iter()
            .map(|(((park, bank, product), month), flow)| {
                let mut params =
                    vec![sql.bind(*park), sql.bind(*bank), sql.bind(*product), sql.bind(month.clone())];
                params.extend(flow.values().map(|v| sql.bind(v)));
                format!("({})", params.join(", "))
            })
            .collect();
        let statement = format!(
            "INSERT INTO stat_flows (park_id, bank_id, product_id, month, {}) VALUES {}",
            FLOW_COLUMNS.join(", "),
            values.join(", ")
        );
        txn.execute_raw(sql.statement(statement)).await?;
    }
    let totals: Vec<_> = tables.flow_totals.iter().collect();
    for chunk in totals.chunks(200) {
        let mut sql = Sql::new(backend);
        let values: Vec<String> = chunk
            .iter()
            .map(|((park, bank, product), flow)| {
                let mut params = vec![sql.bind(*park), sql.bind(*bank), sql.bind(*product)];
                params.extend(flow.values().map(|v| sql.bind(v)));
                format!("({})", params.join(", "))
            })
            .collect();
        let statement = format!(
            "INSERT INTO stat_flow_totals (park_id, bank_id, product_id, {}) VALUES {}",
            FLOW_COLUMNS.join(", "),
            values.join(", ")
        );
        txn.execute_raw(sql.statement(statement)).await?;
    }
    let balances: Vec<(Key, Balance)> = tables.balances.iter().map(|(k, (_, b))| (*k, *b)).collect();
    put_balances(txn, &balances, today).await?;
    for ((park, month, status), n) in &tables.applications {
        let mut sql = Sql::new(backend);
        let statement = format!(
            "INSERT INTO stat_applications (park_id, month, status, n) VALUES ({}, {}, {}, {})",
            sql.bind(*park),
            sql.bind(month.clone()),
            sql.bind(status.clone()),
            sql.bind(*n)
        );
        txn.execute_raw(sql.statement(statement)).await?;
    }
    for ((park, kind, key), n) in &tables.counts {
        let mut sql = Sql::new(backend);
        let statement = format!(
            "INSERT INTO stat_counts (park_id, kind, key_id, n) VALUES ({}, {}, {}, {})",
            sql.bind(*park),
            sql.bind(kind.clone()),
            sql.bind(*key),
            sql.bind(*n)
        );
        txn.execute_raw(sql.statement(statement)).await?;
    }
    for (kind, key) in
        [(kind::CREDIT, "0"), (kind::CREDIT_BANK, "bank_id"), (kind::CREDIT_PRODUCT, "product_id")]
    {
        txn.execute_unprepared(&format!(
            "INSERT INTO stat_members (park_id, kind, key_id, enterprise_id) \
             SELECT DISTINCT park_id, '{kind}', {key}, enterprise_id FROM credit_lines"
        ))
        .await?;
    }
    let mut sql = Sql::new(backend);
    let statement = format!(
        "INSERT INTO stat_state (id, built_at) VALUES (1, {}) ON CONFLICT (id) DO UPDATE SET built_at = excluded.built_at",
        sql.bind(super::now())
    );
    txn.execute_raw(sql.statement(statement)).await?;
    Ok(())
}

/// Builds the totals once, for a database whose rows predate them (the first start after the
/// migration that made them); a no-op afterwards. Processes starting together take turns.
pub async fn ensure_built(db: &DatabaseConnection) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("LOCK TABLE stat_state IN EXCLUSIVE MODE").await?;
    }
    let built = all(&txn, "SELECT id FROM stat_state".to_owned()).await?;
    if built.is_empty() {
        rebuild_in(&txn, Utc::now().date_naive()).await?;
    }
    txn.commit().await?;
    Ok(())
}
