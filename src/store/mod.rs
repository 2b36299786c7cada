//! Queries on sea-orm, run on a connection or in the use case's transaction. No HTTP types here.

pub mod api_keys;
pub mod audit;
pub mod banks;
pub mod credit;
pub mod daily;
pub mod enterprises;
pub mod events;
pub mod idempotency;
pub mod loans;
pub mod parks;
pub mod products;
pub mod recommendations;
pub mod risk_pools;
pub mod score_models;
pub mod scores;
pub mod stats;
pub mod subsidies;
pub mod totals;
pub mod webhooks;

use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqlErr, Statement, Value};

/// What a store call can fail with, in terms the API can answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint or a state conflict; the message is safe to show.
    #[error("{0}")]
    Conflict(String),
    /// The record is in a state that does not allow the action; the message says which.
    #[error("{0}")]
    WrongState(String),
    /// A business rule refused the request (422); the message and details are safe to show.
    #[error("{message}")]
    Refused { code: Refusal, message: String, details: Vec<FieldError> },
    /// A business rule failed on the named fields; the messages are safe to show.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// A stored value this version cannot read: a corrupt row, never mapped to a default.
    #[error("{0}")]
    Corrupt(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("database error")]
    Db(#[source] DbErr),
}

pub use crate::domain::FieldError;

impl StoreError {
    /// The error of a look-up that several callers awaited together (a cache load): the same
    /// kind of error for each of them, so that an outage stays a 503 and a fault a 500.
    pub fn from_shared(shared: std::sync::Arc<StoreError>) -> StoreError {
        match std::sync::Arc::try_unwrap(shared) {
            Ok(err) => err,
            Err(shared) => match &*shared {
                StoreError::NotFound => StoreError::NotFound,
                StoreError::Conflict(m) => StoreError::Conflict(m.clone()),
                StoreError::WrongState(m) => StoreError::WrongState(m.clone()),
                StoreError::Refused { code, message, details } => {
                    StoreError::Refused { code: *code, message: message.clone(), details: details.clone() }
                }
                StoreError::Invalid(errors) => StoreError::Invalid(errors.clone()),
                StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
                StoreError::Unavailable(err) => StoreError::Unavailable(DbErr::Custom(err.to_string())),
                StoreError::Db(err) => StoreError::Db(DbErr::Custom(err.to_string())),
            },
        }
    }
}

/// Reads a stored enum value through its one conversion. A value the enum does not know is a
/// corrupt row: logged, and an error (a 500), never mapped to a default.
pub fn decode<T>(
    parse: fn(&str) -> Option<T>,
    table: &str,
    id: i64,
    column: &str,
    stored: &str,
) -> Result<T, StoreError> {
    parse(stored).ok_or_else(|| corrupt(table, id, column, stored))
}

/// Reads a stored amount in fen; a negative one is a corrupt row.
pub fn money(table: &str, id: i64, column: &str, fen: i64) -> Result<crate::domain::Money, StoreError> {
    crate::domain::Money::from_fen(fen).map_err(|_| corrupt(table, id, column, &fen.to_string()))
}

/// A corrupt row, logged where it was found.
pub fn corrupt(table: &str, id: i64, column: &str, stored: &str) -> StoreError {
    tracing::error!(table, id, column, stored, "a stored value this version cannot read");
    StoreError::Corrupt(format!("{table} {id}: {column} holds {stored:?}"))
}

/// The business rules a write can refuse on, each answered with its own error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Approving would take the product past its `total_quota`.
    QuotaExceeded,
    /// Drawing would take the credit line past its amount.
    ExceedsAvailable,
    /// A repayment is more than it takes to settle the loan.
    ExceedsOutstanding,
    /// A classification better than the floor the loan's days past due set.
    BelowFloor,
    /// Paying a claim would take a risk pool below zero.
    InsufficientPool,
    /// Paying a subsidy claim would take a programme past its budget.
    BudgetExhausted,
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => StoreError::Unavailable(err),
            DbErr::Exec(sea_orm::RuntimeErr::SqlxError(ref e))
            | DbErr::Query(sea_orm::RuntimeErr::SqlxError(ref e))
                if is_connection_error(e) =>
            {
                StoreError::Unavailable(err)
            }
            // Seen while PostgreSQL restarts: a connection that the server is terminating can
            // surface with no error code attached. Its message says what happened.
            other if OUTAGE_MESSAGES.iter().any(|m| other.to_string().contains(m)) => {
                StoreError::Unavailable(other)
            }
            other => StoreError::Db(other),
        }
    }
}

/// What PostgreSQL says when it is going away or not yet back (57P01, 57P02, 57P03).
const OUTAGE_MESSAGES: [&str; 4] = [
    "terminating connection due to administrator command",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
];

fn is_connection_error(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    matches!(
        err,
        Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed | Error::Tls(_)
    )
}

/// Turns a unique-constraint violation into a conflict with a readable message.
pub(crate) fn conflict_on_unique(err: DbErr, message: impl FnOnce() -> String) -> StoreError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(message()),
        _ => err.into(),
    }
}

pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Opens the pool. SQLite gets one connection: SQLite serialises writers anyway, and one
/// connection rules out "database is locked" failures between concurrent write transactions.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if is_sqlite(url) {
        // The one connection lives as long as the pool: an in-memory database dies with it.
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            });
    } else {
        options.max_connections(max_connections).min_connections(1);
    }
    Database::connect(options).await
}

/// Runs the migrations, then builds the maintained totals if this database has none yet.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await?;
    totals::ensure_built(db).await.map_err(|e| match e {
        StoreError::Db(e) => e,
        other => DbErr::Custom(other.to_string()),
    })
}

/// Reads one page of `query` in id order, after the id `after`.
pub(crate) async fn page_by_id<E>(
    db: &impl sea_orm::ConnectionTrait,
    query: sea_orm::Select<E>,
    id_column: E::Column,
    after: Option<i64>,
    limit: u64,
    id_of: impl Fn(&E::Model) -> i64,
) -> Result<Page<E::Model>, StoreError>
where
    E: sea_orm::EntityTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
    let rows = query
        .apply_if(after, |q, after| q.filter(id_column.gt(after)))
        .order_by_asc(id_column)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_overfetch(rows, limit, id_of))
}

/// `SUM(column)` as a 64-bit integer: PostgreSQL sums `bigint` into `numeric`, which would not
/// decode as `i64`. A sum past `i64::MAX` fails in the database rather than wrapping.
pub(crate) fn sum_as_bigint(
    column: impl sea_orm::sea_query::IntoColumnRef,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Alias, Expr, Func};
    Func::cast_as(Func::sum(Expr::col(column)), Alias::new("bigint")).into()
}

/// A page of a list: the items, and the id to continue after when there are more.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<i64>,
}

impl<T> Page<T> {
    /// Builds a page from a query that fetched `limit + 1` rows, so that the extra row tells
    /// whether there is a next page.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u64, id: impl Fn(&T) -> i64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_after = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&id)
        } else {
            None
        };
        Self { items: rows, next_after }
    }

    /// The same page with every row read through `decode`.
    pub fn try_map<U>(self, decode: impl Fn(T) -> Result<U, StoreError>) -> Result<Page<U>, StoreError> {
        let items = self.items.into_iter().map(decode).collect::<Result<_, _>>()?;
        Ok(Page { items, next_after: self.next_after })
    }
}

/// The current instant, to the microsecond: what PostgreSQL stores, so that a timestamp reads
/// back as it was written and the API shows at most six decimals (RFC 3339) on both databases.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Raw SQL with numbered parameters in the database's own style.
pub(crate) struct Sql {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self { backend, values: Vec::new() }
    }

    /// A parameter holding `value`.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => format!("?{}", self.values.len()),
        }
    }

    pub(crate) fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}
