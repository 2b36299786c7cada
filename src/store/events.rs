//! The outbox: events appended in the writer's transaction, in commit order, each handed at once
//! to the webhook endpoints that subscribe to it.

use chrono::{DateTime, Utc};
use entity::{event, webhook_delivery, webhook_endpoint};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set, Statement,
};

use super::{Page, StoreError};
use crate::domain::{
    Scope,
    events::{Audience, Event, EventType},
};

/// An event to append: its type, its parties, and the resource rendered as JSON text.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub event_type: EventType,
    pub audience: Audience,
    pub data: String,
}

/// What an append wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    pub events: usize,
    /// Deliveries now waiting for a worker.
    pub deliveries: usize,
}

/// The advisory lock every appending transaction takes on PostgreSQL, and holds until it commits,
/// so that ids are handed out in commit order: a reader that has seen event `n` can never later
/// find an event below `n` appear. (SQLite has one writer at a time anyway.)
const APPEND_LOCK: i64 = 0x696e_6e6f_6c6f_616e; // "innoloan"

/// Appends `events` in the caller's transaction, and one delivery for each endpoint that
/// subscribes to each. Call it last in the transaction: on PostgreSQL it holds a lock until the
/// commit.
pub async fn append(
    txn: &impl ConnectionTrait,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<Appended, StoreError> {
    if events.is_empty() {
        return Ok(Appended::default());
    }
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [APPEND_LOCK.into()],
        ))
        .await?;
    }
    let mut appended = Appended::default();
    // Few events (a request's): each finds its endpoints with one precise query. Many (a data
    // set): the endpoints subscribed to any of their types are read once and matched here.
    let candidates = if events.len() > FEW {
        let mut types: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
        types.sort();
        types.dedup();
        let mut subscribed = Condition::any();
        for t in &types {
            subscribed =
                subscribed.add(webhook_endpoint::Column::EventTypes.like(format!("%,{},%", t.as_str())));
        }
        let rows = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .filter(webhook_endpoint::Column::DeletedAt.is_null())
            .filter(subscribed)
            .all(txn)
            .await?;
        Some(rows)
    } else {
        None
    };
    for chunk in events.chunks(500) {
        let rows = chunk.iter().map(|new| event::ActiveModel {
            event_type: Set(new.event_type.as_str().to_owned()),
            created_at: Set(now),
            park_id: Set(new.audience.park_id),
            bank_id: Set(new.audience.bank_id),
            enterprise_id: Set(new.audience.enterprise_id),
            public: Set(new.audience.public),
            data: Set(new.data.clone()),
            ..Default::default()
        });
        let inserted = event::Entity::insert_many(rows).exec_with_returning(txn).await?;
        appended.events += inserted.len();
        let mut deliveries = Vec::new();
        for row in &inserted {
            let audience = Audience {
                park_id: row.park_id,
                bank_id: row.bank_id,
                enterprise_id: row.enterprise_id,
                public: row.public,
            };
            let endpoints: Vec<i64> = match &candidates {
                Some(candidates) => candidates
                    .iter()
                    .filter(|e| e.event_types.contains(&format!(",{},", row.event_type)))
                    // A row with several owners (which the store never writes) is sent nothing.
                    .filter(|e| {
                        Scope::from_ids(e.park_id, e.bank_id, e.enterprise_id)
                            .is_some_and(|o| audience.includes(o))
                    })
                    .map(|e| e.id)
                    .collect(),
                None => {
                    webhook_endpoint::Entity::find()
                        .select_only()
                        .column(webhook_endpoint::Column::Id)
                        .filter(webhook_endpoint::Column::Enabled.eq(true))
                        .filter(webhook_endpoint::Column::DeletedAt.is_null())
                        .filter(webhook_endpoint::Column::EventTypes.like(format!("%,{},%", row.event_type)))
                        .filter(owners_who_see(audience))
                        .into_tuple()
                        .all(txn)
                        .await?
                }
            };
            deliveries.extend(endpoints.into_iter().map(|endpoint_id| webhook_delivery::ActiveModel {
                endpoint_id: Set(endpoint_id),
                event_id: Set(row.id),
                state: Set(super::webhooks::PENDING.to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                leased_until: Set(None),
                lease_token: Set(None),
                first_attempt_at: Set(None),
                updated_at: Set(now),
                ..Default::default()
            }));
        }
        appended.deliveries += deliveries.len();
        for batch in deliveries.chunks(1_000) {
            webhook_delivery::Entity::insert_many(batch.to_vec()).exec_without_returning(txn).await?;
        }
    }
    Ok(appended)
}

/// Up to this many events, each finds its endpoints with a query of its own.
const FEW: usize = 8;

/// The endpoint owners who may see an event with `audience`: the admins always, everyone for a
/// public event, otherwise its park, bank and enterprise.
fn owners_who_see(audience: Audience) -> Condition {
    use webhook_endpoint::Column;
    if audience.public {
        return Condition::all();
    }
    let admins = Condition::all()
        .add(Column::ParkId.is_null())
        .add(Column::BankId.is_null())
        .add(Column::EnterpriseId.is_null());
    let mut who = Condition::any().add(admins);
    if let Some(id) = audience.park_id {
        who = who.add(Column::ParkId.eq(id));
    }
    if let Some(id) = audience.bank_id {
        who = who.add(Column::BankId.eq(id));
    }
    if let Some(id) = audience.enterprise_id {
        who = who.add(Column::EnterpriseId.eq(id));
    }
    who
}

/// The events `caller` may see, in id order, after `after`, of `types` (every type when empty).
pub async fn list(
    db: &impl ConnectionTrait,
    caller: Scope,
    after: Option<i64>,
    types: &[EventType],
    limit: u64,
) -> Result<Page<Event>, StoreError> {
    let visible = match caller {
        Scope::All => Condition::all(),
        Scope::Park(id) => {
            Condition::any().add(event::Column::Public.eq(true)).add(event::Column::ParkId.eq(id))
        }
        Scope::Bank(id) => {
            Condition::any().add(event::Column::Public.eq(true)).add(event::Column::BankId.eq(id))
        }
        Scope::Enterprise(id) => {
            Condition::any().add(event::Column::Public.eq(true)).add(event::Column::EnterpriseId.eq(id))
        }
    };
    let mut query = event::Entity::find().filter(visible);
    if !types.is_empty() {
        query = query.filter(event::Column::EventType.is_in(types.iter().map(|t| t.as_str())));
    }
    let page = super::page_by_id(db, query, event::Column::Id, after, limit, |m| m.id).await?;
    page.try_map(to_domain)
}

/// Events by id, for delivery, each read on its own.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> Result<Vec<Result<Event, StoreError>>, StoreError> {
    let rows = event::Entity::find()
        .filter(event::Column::Id.is_in(ids))
        .order_by_asc(event::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(to_domain).collect())
}

/// Forgets events written before `before`, with their finished deliveries and the log of those
/// deliveries' attempts. An event some endpoint still waits for is kept.
pub async fn purge(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, StoreError> {
    use entity::webhook_attempt;
    // A delivery appended while its endpoint was being deleted waits for nothing.
    let deleted = webhook_endpoint::Entity::find()
        .select_only()
        .column(webhook_endpoint::Column::Id)
        .filter(webhook_endpoint::Column::DeletedAt.is_not_null())
        .into_query();
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::State, sea_orm::sea_query::Expr::value(super::webhooks::FAILED))
        .filter(webhook_delivery::Column::State.eq(super::webhooks::PENDING))
        .filter(webhook_delivery::Column::EndpointId.in_subquery(deleted))
        .exec(db)
        .await?;
    let finished = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::Id)
        .filter(webhook_delivery::Column::State.ne(super::webhooks::PENDING))
        .filter(webhook_delivery::Column::UpdatedAt.lt(before))
        .into_query();
    webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::DeliveryId.in_subquery(finished.clone()))
        .exec(db)
        .await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::State.ne(super::webhooks::PENDING))
        .filter(webhook_delivery::Column::UpdatedAt.lt(before))
        .exec(db)
        .await?;
    let waited_for =
        webhook_delivery::Entity::find().select_only().column(webhook_delivery::Column::EventId).into_query();
    let purged = event::Entity::delete_many()
        .filter(event::Column::CreatedAt.lt(before))
        .filter(event::Column::Id.not_in_subquery(waited_for))
        .exec(db)
        .await?;
    Ok(purged.rows_affected)
}

fn to_domain(m: event::Model) -> Result<Event, StoreError> {
    Ok(Event {
        id: m.id,
        event_type: super::decode(EventType::parse, "events", m.id, "event_type", &m.event_type)?,
        created_at: m.created_at,
        audience: Audience {
            park_id: m.park_id,
            bank_id: m.bank_id,
            enterprise_id: m.enterprise_id,
            public: m.public,
        },
        data: m.data,
    })
}
