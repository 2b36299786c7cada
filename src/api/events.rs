//! The events feed: what happened to the caller's resources, in order.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

use super::{
    ApiTags, AppState,
    auth::Caller,
    error::{ApiError, ApiResult},
    nullable::Nullable,
    pagination::default_limit,
    raw_json::Rendered,
};
use crate::domain::events::{Event, EventType};
use crate::store;

/// Something that happened to a resource.
#[derive(Object)]
pub struct EventView {
    /// Strictly increasing, as a number and as text (zero-padded). Receivers deduplicate by it.
    pub id: String,
    #[oai(rename = "type")]
    pub event_type: EventType,
    pub created_at: DateTime<Utc>,
    /// The resource as its `GET` rendered it when the event was written: an enterprise, a
    /// product, an application, a credit line, a disbursement, a webhook endpoint, or for
    /// `scores.imported` the import's summary.
    pub data: serde_json::Value,
}

/// A page of events.
#[derive(Object)]
pub struct EventList {
    pub items: Vec<Rendered<EventView>>,
    /// The id of the last event when the page is full (pass it as `?after=`); `null` when there
    /// is nothing more for now. To follow the feed, ask again with the last id you have seen.
    pub next_cursor: Nullable<String>,
}

pub struct EventsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Events")]
impl EventsApi {
    /// List events
    ///
    /// The events of the caller's resources in id order: a party sees an event exactly when it
    /// could `GET` its resource (a bank those of its products and loans, an enterprise its own,
    /// a park office its park's; a published product is everyone's); an admin sees all. Events
    /// are kept for `EVENT_RETENTION_DAYS` (30 by default).
    #[oai(path = "/events", method = "get", operation_id = "list_events")]
    async fn list_events(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        /// Only events after this id.
        #[oai(validator(max_length = 20, pattern = "^[0-9]+$"))]
        after: Query<Option<String>>,
        /// Only these types: a comma list such as `application.submitted,credit_line.granted`.
        #[oai(validator(max_length = 2000))]
        types: Query<Option<String>>,
        /// How many events to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
    ) -> ApiResult<Json<EventList>> {
        let after =
            match after.0.as_deref() {
                None => None,
                Some(text) => Some(Event::parse_id(text).ok_or_else(|| {
                    ApiError::invalid_field("after", format!("{text:?} is not an event id"))
                })?),
            };
        let mut wanted = Vec::new();
        for name in types.0.as_deref().unwrap_or_default().split(',').map(str::trim).filter(|n| !n.is_empty())
        {
            let t = EventType::parse(name).ok_or_else(|| {
                ApiError::invalid_field(
                    "types",
                    format!("there is no event type {name:?}; the types are {}", EventType::names()),
                )
            })?;
            if !wanted.contains(&t) {
                wanted.push(t);
            }
        }
        let page = store::events::list(state.db(), caller.principal().scope, after, &wanted, limit.0).await?;
        Ok(Json(EventList {
            next_cursor: page.next_after.map(Event::public_id).into(),
            items: page.items.iter().map(|e| Rendered::from_json_text(e.to_json())).collect(),
        }))
    }
}
