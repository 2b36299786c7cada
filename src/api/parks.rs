//! Parks: created by the admin, read by anyone authenticated.

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    error::ApiResult,
    idempotency::{Created, Idempotency, IdempotencyKey, body_hash},
    json::JsonBody,
    pagination::{List, after_id, default_limit, parse_id},
    text,
};
use crate::domain::directory as records;
use crate::service::directory;
use crate::store::{self, parks::NewPark as StoreNewPark};

#[derive(Object)]
pub struct NewPark {
    /// A short unique handle, such as `optics-valley`.
    #[oai(validator(min_length = 1, max_length = 64, pattern = "^[a-z0-9][a-z0-9-]*$"))]
    pub code: String,
    /// The park's name, such as 武汉东湖新技术开发区.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    /// The region, such as 湖北省武汉市.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub region: String,
}

#[derive(Object)]
pub struct Park {
    pub id: String,
    pub code: String,
    pub name: String,
    pub region: String,
    pub created_at: DateTime<Utc>,
}

impl From<records::Park> for Park {
    fn from(p: records::Park) -> Self {
        Self { id: p.id.to_string(), code: p.code, name: p.name, region: p.region, created_at: p.created_at }
    }
}

pub struct ParksApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Parks")]
impl ParksApi {
    /// Create a park
    ///
    /// Admin only. The code must be unique.
    #[oai(path = "/parks", method = "post", operation_id = "create_park")]
    async fn create_park(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewPark>,
    ) -> ApiResult<Created<Park>> {
        let fingerprint = body_hash(&body.0);
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, fingerprint);
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let new = StoreNewPark {
            code: body.0.code,
            name: text::line("name", body.0.name)?,
            region: text::line("region", body.0.region)?,
        };
        let outcome = idempotency
            .run(201, async |w| Ok(directory::create_park(w, caller.principal(), new).await?.into()))
            .await?;
        Ok(Created::new(outcome))
    }

    /// List parks
    #[oai(path = "/parks", method = "get", operation_id = "list_parks")]
    async fn list_parks(
        &self,
        _caller: Caller,
        state: Data<&AppState>,
        /// How many parks to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<Park>>> {
        let page = store::parks::list(state.db(), after_id(cursor.0.as_deref())?, limit.0).await?;
        Ok(Json(List::from_page(page, Park::from)))
    }

    /// Get a park
    #[oai(path = "/parks/:id", method = "get", operation_id = "get_park")]
    async fn get_park(
        &self,
        _caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<Park>> {
        let id = parse_id(&id.0, "the park")?;
        let park = state.park(id).await?;
        Ok(Json(park.as_ref().clone().into()))
    }
}

/// Names the missing record in a 404.
pub(crate) use super::error::not_found_as;
