//! The servicing figures of the statistics, as of a day, per park, bank and product: what is
//! outstanding, overdue and non-performing, what was repaid, recovered and written off.
//!
//! Every figure is the sum over loans of what the loan's own view shows for that day
//! (`GET /loans/{id}?as_of=`). Loans as stored are the loans as of the day unless a repayment was
//! recorded after it; those are summed by SQL aggregates, and the few others are loaded and
//! replayed ([`Loan::as_of`]) and summed here. The aggregates restate [`Loan::standing`] in SQL:
//! - principal outstanding: `amount - principal_repaid`;
//! - overdue principal: what is unpaid of installments due before the day;
//! - non-performing (NPL): the bank's classification is substandard or worse, or an installment
//!   due more than 90 days before the day is still unsettled (principal or interest), which is
//!   the floor of substandard: the loan's `oldest_unsettled_due`, kept by every repayment, says.
//!
//! A loan written off by the day is in none of these: it counts in `written_off`, the principal
//! unpaid when it was written off. Repayments count by the day they were paid; those after a
//! write-off are recoveries, counted apart.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use sea_orm::{ConnectionTrait, Statement};

use super::{Window, add, summed};
use crate::domain::{Money, servicing::Classification};
use crate::store::{self, Sql, StoreError};

/// A park, a bank and a product: the finest grain the statistics report.
pub type Key = (i64, i64, i64);

/// The servicing figures of a park, bank, product or total.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Servicing {
    pub principal_outstanding: Money,
    pub overdue_principal: Money,
    /// The principal outstanding of non-performing loans.
    pub npl_balance: Money,
    pub principal_repaid: Money,
    pub interest_repaid: Money,
    /// Repaid after a write-off, principal and interest.
    pub recovered: Money,
    /// Principal unpaid when loans were written off.
    pub written_off: Money,
}

impl Servicing {
    pub fn add(&mut self, other: &Servicing) -> Result<(), StoreError> {
        add(&mut self.principal_outstanding, other.principal_outstanding)?;
        add(&mut self.overdue_principal, other.overdue_principal)?;
        add(&mut self.npl_balance, other.npl_balance)?;
        add(&mut self.principal_repaid, other.principal_repaid)?;
        add(&mut self.interest_repaid, other.interest_repaid)?;
        add(&mut self.recovered, other.recovered)?;
        add(&mut self.written_off, other.written_off)
    }

    /// The NPL balance over the principal outstanding (不良率); 0 when nothing is outstanding.
    pub fn npl_ratio(&self) -> f64 {
        if self.principal_outstanding == Money::ZERO {
            return 0.0;
        }
        self.npl_balance.fen() as f64 / self.principal_outstanding.fen() as f64
    }
}

/// `AND l.park_id = …` for one park; nothing for the nation.
fn park_clause(sql: &mut Sql, park_id: Option<i64>) -> String {
    park_id.map(|id| format!(" AND l.park_id = {}", sql.bind(id))).unwrap_or_default()
}

/// `AND column >= from AND column <= to`, for the ends the window has.
fn window_clause(sql: &mut Sql, column: &str, window: Window) -> String {
    let mut clause = String::new();
    if let Some(from) = window.from {
        clause += &format!(" AND {column} >= {}", sql.bind(from));
    }
    if let Some(to) = window.to {
        clause += &format!(" AND {column} <= {}", sql.bind(to));
    }
    clause
}

/// Which loans' stored state the balances sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Those stored as they stood on the day: with no repayment recorded after it (the others
    /// are replayed).
    AsOfDay,
    /// Every loan as it is stored now, held against the day's calendar: what the maintained
    /// balances hold (`store::totals`).
    Current,
}

/// The loans on the books on the day: disbursed by then and not written off by then; with
/// [`Stored::AsOfDay`], also with no repayment recorded after it.
fn stored_as_of(sql: &mut Sql, day: NaiveDate, park_id: Option<i64>, stored: Stored) -> String {
    let day_param = sql.bind(day);
    let unchanged = match stored {
        Stored::AsOfDay => format!(" AND (l.last_paid_on IS NULL OR l.last_paid_on <= {day_param})"),
        Stored::Current => String::new(),
    };
    format!(
        "l.disbursed_on <= {day_param} AND (l.written_off_on IS NULL OR l.written_off_on > {day_param}){unchanged}{}",
        park_clause(sql, park_id)
    )
}

async fn rows(
    db: &impl ConnectionTrait,
    statement: Statement,
) -> Result<Vec<sea_orm::QueryResult>, StoreError> {
    Ok(db.query_all_raw(statement).await?)
}

fn key(row: &sea_orm::QueryResult) -> Result<Key, StoreError> {
    Ok((row.try_get("", "park_id")?, row.try_get("", "bank_id")?, row.try_get("", "product_id")?))
}

fn fen(row: &sea_orm::QueryResult, column: &str) -> Result<Money, StoreError> {
    summed(row.try_get::<Option<i64>>("", column)?, column)
}

/// The servicing figures as of `day`, of one park or of every park, per park, bank and product.
/// Flows (repaid, recovered, written off) count from the window's start to its end or `day`,
/// whichever is earlier.
pub async fn figures(
    db: &impl ConnectionTrait,
    park_id: Option<i64>,
    window: Window,
    day: NaiveDate,
) -> Result<BTreeMap<Key, Servicing>, StoreError> {
    let backend = db.get_database_backend();
    let mut figures = balances(db, park_id, day, Stored::AsOfDay).await?;
    let mut sql = Sql::new(backend);
    let paid_by = sql.bind(day);
    let in_window = window_clause(&mut sql, "r.paid_on", window);
    let park = park_clause(&mut sql, park_id);
    let repaid = format!(
        "SELECT l.park_id, l.bank_id, l.product_id, CASE WHEN r.recovery THEN 1 ELSE 0 END AS recovery, \
         CAST(SUM(r.principal_paid) AS BIGINT) AS principal, CAST(SUM(r.interest_paid) AS BIGINT) AS interest \
         FROM repayments r JOIN loans l ON l.id = r.loan_id \
         WHERE r.paid_on <= {paid_by}{in_window}{park} \
         GROUP BY l.park_id, l.bank_id, l.product_id, CASE WHEN r.recovery THEN 1 ELSE 0 END"
    );
    for row in rows(db, sql.statement(repaid)).await? {
        let entry = figures.entry(key(&row)?).or_default();
        let (principal, interest) = (fen(&row, "principal")?, fen(&row, "interest")?);
        if row.try_get::<i32>("", "recovery")? == 1 {
            add(&mut entry.recovered, principal)?;
            add(&mut entry.recovered, interest)?;
        } else {
            add(&mut entry.principal_repaid, principal)?;
            add(&mut entry.interest_repaid, interest)?;
        }
    }

    let mut sql = Sql::new(backend);
    let written_by = sql.bind(day);
    let in_window = window_clause(&mut sql, "l.written_off_on", window);
    let park = park_clause(&mut sql, park_id);
    let written_off = format!(
        "SELECT l.park_id, l.bank_id, l.product_id, CAST(SUM(l.amount - COALESCE((\
             SELECT SUM(r.principal_paid) FROM repayments r WHERE r.loan_id = l.id AND NOT r.recovery), 0)) \
           AS BIGINT) AS written_off \
         FROM loans l WHERE l.written_off_on IS NOT NULL AND l.written_off_on <= {written_by}{in_window}{park} \
         GROUP BY l.park_id, l.bank_id, l.product_id"
    );
    for row in rows(db, sql.statement(written_off)).await? {
        add(&mut figures.entry(key(&row)?).or_default().written_off, fen(&row, "written_off")?)?;
    }

    // Loans repaid after the day: as they stood then.
    for loan in store::loans::repaid_after(db, park_id, day).await? {
        let standing = loan.standing(day);
        let entry = figures.entry((loan.park_id, loan.bank_id, loan.product_id)).or_default();
        add(&mut entry.principal_outstanding, standing.principal_outstanding)?;
        add(&mut entry.overdue_principal, standing.overdue_principal)?;
        if loan.classification(day).is_npl() {
            add(&mut entry.npl_balance, standing.principal_outstanding)?;
        }
    }
    Ok(figures)
}

/// The principal outstanding, overdue and non-performing as of `day`, per park, bank and product,
/// of the loans `stored` says, summed by SQL.
pub async fn balances(
    db: &impl ConnectionTrait,
    park_id: Option<i64>,
    day: NaiveDate,
    stored: Stored,
) -> Result<BTreeMap<Key, Servicing>, StoreError> {
    let backend = db.get_database_backend();
    let mut figures: BTreeMap<Key, Servicing> = BTreeMap::new();
    let npl_classes = [Classification::Substandard, Classification::Doubtful, Classification::Loss]
        .map(|c| format!("'{}'", c.as_str()))
        .join(", ");
    // Unsettled 90 days and more after its due date: the floor is substandard.
    let npl_due_before = day.checked_sub_days(Days::new(90)).unwrap_or(NaiveDate::MIN);

    let mut sql = Sql::new(backend);
    let on_books = stored_as_of(&mut sql, day, park_id, stored);
    let cutoff = sql.bind(npl_due_before);
    let balances = format!(
        "SELECT l.park_id, l.bank_id, l.product_id, \
         CAST(SUM(l.amount - l.principal_repaid) AS BIGINT) AS outstanding, \
         CAST(SUM(CASE WHEN l.classification IN ({npl_classes}) OR l.oldest_unsettled_due < {cutoff} \
           THEN l.amount - l.principal_repaid ELSE 0 END) AS BIGINT) AS npl \
         FROM loans l WHERE {on_books} GROUP BY l.park_id, l.bank_id, l.product_id"
    );
    for row in rows(db, sql.statement(balances)).await? {
        let entry = figures.entry(key(&row)?).or_default();
        add(&mut entry.principal_outstanding, fen(&row, "outstanding")?)?;
        add(&mut entry.npl_balance, fen(&row, "npl")?)?;
    }

    let mut sql = Sql::new(backend);
    let on_books = stored_as_of(&mut sql, day, park_id, stored);
    let due_before = sql.bind(day);
    let overdue = format!(
        "SELECT l.park_id, l.bank_id, l.product_id, \
         CAST(SUM(i.principal - i.paid_principal) AS BIGINT) AS overdue \
         FROM loan_installments i JOIN loans l ON l.id = i.loan_id \
         WHERE {on_books} AND l.oldest_unsettled_due < {due_before} \
         AND i.due_date < {due_before} AND i.paid_principal < i.principal \
         GROUP BY l.park_id, l.bank_id, l.product_id"
    );
    for row in rows(db, sql.statement(overdue)).await? {
        add(&mut figures.entry(key(&row)?).or_default().overdue_principal, fen(&row, "overdue")?)?;
    }

    Ok(figures)
}
