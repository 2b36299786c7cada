//! Webhook endpoints, the deliveries workers lease, and the log of attempts.

use chrono::{DateTime, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, Statement,
    sea_query::{Expr, LockBehavior, LockType, Query},
};

use super::{Page, StoreError};
use crate::domain::{
    Scope,
    events::EventType,
    webhook::{Attempt, Endpoint, MAX_ENDPOINTS_PER_OWNER},
};

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// A new endpoint, its secret already sealed.
pub struct NewEndpoint {
    pub url: String,
    pub description: String,
    pub event_types: Vec<EventType>,
    pub owner: Scope,
    pub sealed_secret: String,
}

fn owned_by(owner: Scope) -> Condition {
    use webhook_endpoint::Column;
    let (park, bank, enterprise) = owner.ids();
    let column = |column: Column, id: Option<i64>| match id {
        Some(id) => column.eq(id),
        None => column.is_null(),
    };
    Condition::all()
        .add(column(Column::ParkId, park))
        .add(column(Column::BankId, bank))
        .add(column(Column::EnterpriseId, enterprise))
}

/// The endpoints a caller may manage: an admin every one, anyone else its own.
fn manageable_by(caller: Scope) -> Condition {
    let live = Condition::all().add(webhook_endpoint::Column::DeletedAt.is_null());
    match caller {
        Scope::All => live,
        other => live.add(owned_by(other)),
    }
}

/// Types as stored: `,a,b,`, so that one type matches with `LIKE '%,a,%'`.
fn stored_types(types: &[EventType]) -> String {
    let mut text = String::from(",");
    for t in types {
        text.push_str(t.as_str());
        text.push(',');
    }
    text
}

/// Serializes the endpoints of one owner on PostgreSQL, so that the count limit holds whatever
/// the concurrency.
async fn lock_owner(db: &impl ConnectionTrait, owner: Scope) -> Result<(), StoreError> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let (kind, id) = match owner {
        Scope::All => (0, 0),
        Scope::Park(id) => (1, id),
        Scope::Bank(id) => (2, id),
        Scope::Enterprise(id) => (3, id),
    };
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1, $2)",
        [(0x7768_0000_i32 + kind).into(), (id as i32 ^ (id >> 32) as i32).into()],
    ))
    .await?;
    Ok(())
}

pub async fn create(
    db: &impl ConnectionTrait,
    new: NewEndpoint,
    now: DateTime<Utc>,
) -> Result<Endpoint, StoreError> {
    lock_owner(db, new.owner).await?;
    let count = webhook_endpoint::Entity::find()
        .filter(owned_by(new.owner))
        .filter(webhook_endpoint::Column::DeletedAt.is_null())
        .count(db)
        .await?;
    if count >= MAX_ENDPOINTS_PER_OWNER {
        return Err(StoreError::Conflict(format!(
            "there are already {MAX_ENDPOINTS_PER_OWNER} webhook endpoints; delete one before adding another"
        )));
    }
    let (park_id, bank_id, enterprise_id) = new.owner.ids();
    let row = webhook_endpoint::ActiveModel {
        url: Set(new.url),
        description: Set(new.description),
        event_types: Set(stored_types(&new.event_types)),
        enabled: Set(true),
        park_id: Set(park_id),
        bank_id: Set(bank_id),
        enterprise_id: Set(enterprise_id),
        secret: Set(new.sealed_secret),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        last_success_at: Set(None),
        disabled_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    to_domain(row)
}

/// An endpoint the caller may manage; any other is not found.
pub async fn get(db: &impl ConnectionTrait, caller: Scope, id: i64) -> Result<Endpoint, StoreError> {
    let row = webhook_endpoint::Entity::find_by_id(id).filter(manageable_by(caller)).one(db).await?;
    to_domain(row.ok_or(StoreError::NotFound)?)
}

/// Like [`get`], holding the row until the transaction ends (on PostgreSQL).
pub async fn get_for_update(
    db: &impl ConnectionTrait,
    caller: Scope,
    id: i64,
) -> Result<Endpoint, StoreError> {
    let row = webhook_endpoint::Entity::find_by_id(id)
        .filter(manageable_by(caller))
        .lock_exclusive()
        .one(db)
        .await?;
    to_domain(row.ok_or(StoreError::NotFound)?)
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: Scope,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Endpoint>, StoreError> {
    let query = webhook_endpoint::Entity::find().filter(manageable_by(caller));
    let page = super::page_by_id(db, query, webhook_endpoint::Column::Id, after, limit, |m| m.id).await?;
    page.try_map(to_domain)
}

/// Writes an endpoint's editable fields and secrets back.
pub async fn save(
    db: &impl ConnectionTrait,
    endpoint: &Endpoint,
    now: DateTime<Utc>,
) -> Result<Endpoint, StoreError> {
    let row = webhook_endpoint::ActiveModel {
        id: Set(endpoint.id),
        url: Set(endpoint.url.clone()),
        description: Set(endpoint.description.clone()),
        event_types: Set(stored_types(&endpoint.event_types)),
        enabled: Set(endpoint.enabled),
        secret: Set(endpoint.sealed_secret.clone()),
        previous_secret: Set(endpoint.sealed_previous_secret.clone()),
        previous_secret_until: Set(endpoint.previous_secret_until),
        disabled_reason: Set(endpoint.disabled_reason.clone()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?;
    to_domain(row)
}

/// Deletes an endpoint: it receives nothing more, and its log goes with it at the retention
/// horizon. The row stays (deliveries refer to it) but is found no more.
pub async fn delete(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::DeletedAt, Expr::value(now))
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .exec(db)
        .await?;
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::State, Expr::value(FAILED))
        .col_expr(webhook_delivery::Column::LeaseToken, Expr::value(Option::<String>::None))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::EndpointId.eq(id))
        .filter(webhook_delivery::Column::State.eq(PENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// A delivery a worker holds: which event goes to which endpoint, and how often it was tried.
#[derive(Clone, Debug)]
pub struct Leased {
    pub delivery_id: i64,
    pub endpoint_id: i64,
    pub event_id: i64,
    pub attempts: u32,
    pub first_attempt_at: Option<DateTime<Utc>>,
    pub token: String,
    /// The lease ends then.
    pub until: DateTime<Utc>,
}

/// Leases up to `limit` deliveries that are due, to endpoints that are enabled, until
/// `until`. On PostgreSQL, rows another worker is leasing at this moment are skipped
/// (`FOR UPDATE SKIP LOCKED`); a lease that lapsed (its worker died) is taken over.
pub async fn lease_due(
    db: &impl ConnectionTrait,
    token: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Leased>, StoreError> {
    use webhook_delivery::Column;
    let enabled = Query::select()
        .column(webhook_endpoint::Column::Id)
        .from(webhook_endpoint::Entity)
        .and_where(webhook_endpoint::Column::Enabled.eq(true))
        .to_owned();
    let due = webhook_delivery::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::State.eq(PENDING))
        .filter(Column::NextAttemptAt.lte(now))
        .filter(Condition::any().add(Column::LeasedUntil.is_null()).add(Column::LeasedUntil.lt(now)))
        .filter(Column::EndpointId.in_subquery(enabled))
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .into_query();
    let leased = webhook_delivery::Entity::update_many()
        .col_expr(Column::LeasedUntil, Expr::value(until))
        .col_expr(Column::LeaseToken, Expr::value(token))
        .filter(Column::Id.in_subquery(due))
        .exec_with_returning(db)
        .await?;
    Ok(leased
        .into_iter()
        .map(|d| Leased {
            delivery_id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            attempts: u32::try_from(d.attempts).unwrap_or(0),
            first_attempt_at: d.first_attempt_at,
            token: token.to_owned(),
            until,
        })
        .collect())
}

/// Endpoints by id, deleted or not, for delivery, each read on its own.
pub async fn endpoints_by_ids(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<Result<Endpoint, StoreError>>, StoreError> {
    let rows =
        webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::Id.is_in(ids)).all(db).await?;
    Ok(rows.into_iter().map(to_domain).collect())
}

/// What became of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Delivered,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// No more attempts.
    Failed,
}

/// Logs an attempt, and moves its delivery on, if the worker still holds it. Answers whether it
/// did: a worker whose lease lapsed (and was taken over) logs its attempt and changes nothing.
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    leased: &Leased,
    attempt: &Attempt,
    next: Next,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    use webhook_delivery::Column;
    webhook_attempt::ActiveModel {
        delivery_id: Set(leased.delivery_id),
        endpoint_id: Set(leased.endpoint_id),
        event_id: Set(leased.event_id),
        attempt: Set(i32::try_from(attempt.attempt).unwrap_or(i32::MAX)),
        status_code: Set(attempt.status_code.map(i32::from)),
        latency_ms: Set(i64::try_from(attempt.latency_ms).unwrap_or(i64::MAX)),
        error: Set(attempt.error.clone()),
        created_at: Set(attempt.created_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let (state, next_at) = match next {
        Next::Delivered => (DELIVERED, now),
        Next::RetryAt(at) => (PENDING, at),
        Next::Failed => (FAILED, now),
    };
    let moved = webhook_delivery::Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::Attempts, Expr::value(i32::try_from(attempt.attempt).unwrap_or(i32::MAX)))
        .col_expr(Column::NextAttemptAt, Expr::value(next_at))
        .col_expr(Column::LeasedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::LeaseToken, Expr::value(Option::<String>::None))
        .col_expr(Column::FirstAttemptAt, Expr::value(leased.first_attempt_at.unwrap_or(attempt.created_at)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(leased.delivery_id))
        .filter(Column::LeaseToken.eq(leased.token.as_str()))
        .filter(Column::State.eq(PENDING))
        .exec(db)
        .await?;
    if moved.rows_affected == 1 && next == Next::Delivered {
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::LastSuccessAt, Expr::value(now))
            .filter(webhook_endpoint::Column::Id.eq(leased.endpoint_id))
            .exec(db)
            .await?;
    }
    Ok(moved.rows_affected == 1)
}

/// Disables an endpoint that failed for a whole retry schedule, if it is still enabled; answers
/// whether it did.
pub async fn disable(
    db: &impl ConnectionTrait,
    id: i64,
    reason: &str,
    failing_since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(webhook_endpoint::Column::DisabledReason, Expr::value(reason))
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(id))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .filter(
            Condition::any()
                .add(webhook_endpoint::Column::LastSuccessAt.is_null())
                .add(webhook_endpoint::Column::LastSuccessAt.lt(failing_since)),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// An endpoint's attempts, in id order.
pub async fn attempts(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Attempt>, StoreError> {
    let query = webhook_attempt::Entity::find().filter(webhook_attempt::Column::EndpointId.eq(endpoint_id));
    let page = super::page_by_id(db, query, webhook_attempt::Column::Id, after, limit, |m| m.id).await?;
    page.try_map(|m| Ok(attempt_to_domain(m)))
}

/// Schedules the delivery of a logged attempt again, now: one more attempt, numbered after the
/// others. A delivery that had spent its schedule stays failed if that attempt fails too. Refused
/// while a worker is sending it.
pub async fn retry_now(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    attempt_id: i64,
    now: DateTime<Utc>,
) -> Result<(i64, DateTime<Utc>), StoreError> {
    use webhook_delivery::Column;
    let attempt = webhook_attempt::Entity::find_by_id(attempt_id)
        .filter(webhook_attempt::Column::EndpointId.eq(endpoint_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let moved = webhook_delivery::Entity::update_many()
        .col_expr(Column::State, Expr::value(PENDING))
        .col_expr(Column::NextAttemptAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(attempt.delivery_id))
        .filter(Condition::any().add(Column::LeasedUntil.is_null()).add(Column::LeasedUntil.lt(now)))
        .exec(db)
        .await?;
    if moved.rows_affected == 0 {
        return Err(StoreError::Conflict("the event is being sent to this endpoint right now".into()));
    }
    Ok((attempt.event_id, now))
}

/// The deliveries waiting for an enabled endpoint (a paused endpoint's wait is its owner's
/// choice), and when the oldest of their events was written.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<(u64, Option<DateTime<Utc>>), StoreError> {
    use entity::event;
    let enabled = Query::select()
        .column(webhook_endpoint::Column::Id)
        .from(webhook_endpoint::Entity)
        .and_where(webhook_endpoint::Column::Enabled.eq(true))
        .to_owned();
    let waiting = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::State.eq(PENDING))
        .filter(webhook_delivery::Column::EndpointId.in_subquery(enabled.clone()))
        .count(db)
        .await?;
    let oldest_event: Option<i64> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::EventId)
        .filter(webhook_delivery::Column::State.eq(PENDING))
        .filter(webhook_delivery::Column::EndpointId.in_subquery(enabled))
        .order_by_asc(webhook_delivery::Column::EventId)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    let oldest = match oldest_event {
        None => None,
        Some(id) => event::Entity::find_by_id(id).one(db).await?.map(|e| e.created_at),
    };
    Ok((waiting, oldest))
}

fn attempt_to_domain(m: webhook_attempt::Model) -> Attempt {
    Attempt {
        id: m.id,
        delivery_id: m.delivery_id,
        endpoint_id: m.endpoint_id,
        event_id: m.event_id,
        attempt: u32::try_from(m.attempt).unwrap_or(0),
        status_code: m.status_code.and_then(|s| u16::try_from(s).ok()),
        latency_ms: u64::try_from(m.latency_ms).unwrap_or(0),
        error: m.error,
        created_at: m.created_at,
    }
}

fn to_domain(m: webhook_endpoint::Model) -> Result<Endpoint, StoreError> {
    let mut event_types = Vec::new();
    for name in m.event_types.split(',').filter(|n| !n.is_empty()) {
        event_types.push(super::decode(EventType::parse, "webhook_endpoints", m.id, "event_types", name)?);
    }
    let owner = Scope::from_ids(m.park_id, m.bank_id, m.enterprise_id).ok_or_else(|| {
        super::corrupt("webhook_endpoints", m.id, "park_id/bank_id/enterprise_id", "several owners")
    })?;
    Ok(Endpoint {
        id: m.id,
        url: m.url,
        description: m.description,
        event_types,
        enabled: m.enabled,
        owner,
        sealed_secret: m.secret,
        sealed_previous_secret: m.previous_secret,
        previous_secret_until: m.previous_secret_until,
        last_success_at: m.last_success_at,
        disabled_reason: m.disabled_reason,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}
