//! Enterprises: registered by the admin or their park's office.

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
    idempotency::{Created, Idempotency, IdempotencyKey, body_hash},
    json::JsonBody,
    pagination::{List, after_id, default_limit, parse_id},
    parks::not_found_as,
    text,
};
use crate::domain::directory as records;
use crate::domain::{EnterpriseSize, Qualification, Uscc};
use crate::service::directory;
use crate::store::{self, enterprises::NewEnterprise as StoreNewEnterprise};

#[derive(Object)]
pub struct NewEnterprise {
    /// The Unified Social Credit Code (统一社会信用代码), 18 characters with a valid check character.
    #[oai(validator(min_length = 1, max_length = 32))]
    pub uscc: String,
    /// The registered name, such as 成都美洽网络科技有限公司.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    /// The park it is registered in.
    #[oai(validator(min_length = 1, max_length = 20))]
    pub park_id: String,
    /// Its industry, such as `software` or `biomedicine`.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub industry: String,
    pub size: EnterpriseSize,
    /// The date it was founded; not in the future.
    pub founded_on: Date,
    #[oai(default, validator(max_items = 4, unique_items = true))]
    pub qualifications: Vec<Qualification>,
}

#[derive(Object)]
pub struct Enterprise {
    pub id: String,
    pub uscc: String,
    pub name: String,
    pub park_id: String,
    pub industry: String,
    pub size: EnterpriseSize,
    pub founded_on: NaiveDate,
    pub qualifications: Vec<Qualification>,
    pub created_at: DateTime<Utc>,
}

impl crate::service::Render for records::Enterprise {
    fn render(&self) -> String {
        poem_openapi::types::ToJSON::to_json_string(&Enterprise::from(self.clone()))
    }
}

impl From<records::Enterprise> for Enterprise {
    fn from(e: records::Enterprise) -> Self {
        Self {
            id: e.id.to_string(),
            uscc: e.uscc.to_string(),
            name: e.name,
            park_id: e.park_id.to_string(),
            industry: e.industry,
            size: e.size,
            founded_on: e.founded_on,
            qualifications: e.qualifications,
            created_at: e.created_at,
        }
    }
}

pub struct EnterprisesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Enterprises")]
impl EnterprisesApi {
    /// Register an enterprise
    ///
    /// An admin, or the office of the park it is registered in. The USCC must be valid
    /// (GB 32100-2015) and not registered yet.
    ///
    /// A USCC registered already, in any park, gets 409 `conflict`. That is all a park office
    /// learns: the answer names neither the park nor the record, which stays 404 to the office.
    /// A USCC is public (it is printed on the business licence and in the national enterprise
    /// credit register), and an enterprise belongs to one park only, so the office must be told
    /// that it cannot register it.
    #[oai(path = "/enterprises", method = "post", operation_id = "create_enterprise")]
    async fn create_enterprise(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewEnterprise>,
    ) -> ApiResult<Created<Enterprise>> {
        let principal = caller.principal();
        let fingerprint = body_hash(&body.0);
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, fingerprint);
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let body = body.0;
        let uscc = Uscc::parse(&body.uscc).map_err(|e| ApiError::invalid_field("uscc", e.to_string()))?;
        let park_id = body.park_id.parse::<i64>().map_err(|_| {
            ApiError::invalid_field("park_id", format!("there is no park with id {:?}", body.park_id))
        })?;
        let new = StoreNewEnterprise {
            uscc,
            name: text::line("name", body.name)?,
            park_id,
            industry: text::line("industry", body.industry)?,
            size: body.size,
            founded_on: body.founded_on.0,
            qualifications: body.qualifications,
        };
        let today = Utc::now().date_naive();
        let outcome = idempotency
            .run(201, async |w| Ok(directory::register_enterprise(w, principal, new, today).await?.into()))
            .await?;
        Ok(Created::new(outcome))
    }

    /// List enterprises
    ///
    /// Scoped: an admin sees all, a park office its park's, an enterprise itself, and a bank
    /// those that applied to its products.
    #[oai(path = "/enterprises", method = "get", operation_id = "list_enterprises")]
    async fn list_enterprises(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        /// Only enterprises of this park.
        #[oai(validator(max_length = 20))]
        park_id: Query<Option<String>>,
        /// How many enterprises to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<Enterprise>>> {
        // An unknown park id matches no enterprise, like any other filter value.
        let park_id = park_id.0.map(|id| id.parse::<i64>().unwrap_or(0));
        let scope = caller.principal().scope;
        let page = store::enterprises::list_visible(
            state.db(),
            scope,
            park_id,
            after_id(cursor.0.as_deref())?,
            limit.0,
        )
        .await?;
        Ok(Json(List::from_page(page, Enterprise::from)))
    }

    /// Get an enterprise
    #[oai(path = "/enterprises/:id", method = "get", operation_id = "get_enterprise")]
    async fn get_enterprise(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<Enterprise>> {
        let id = parse_id(&id.0, "the enterprise")?;
        let found = store::enterprises::get_visible(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| not_found_as(e, "the enterprise"))?;
        Ok(Json(found.into()))
    }
}
