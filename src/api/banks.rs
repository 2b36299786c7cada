//! Banks: created by the admin, read by anyone authenticated.

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
    parks::not_found_as,
    text,
};
use crate::domain::directory as records;
use crate::service::directory;
use crate::store::{self, banks::NewBank as StoreNewBank};

#[derive(Object)]
pub struct NewBank {
    /// A short unique handle, such as `bank-of-chengdu`.
    #[oai(validator(min_length = 1, max_length = 64, pattern = "^[a-z0-9][a-z0-9-]*$"))]
    pub code: String,
    /// The bank's name, such as 成都银行.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
}

#[derive(Object)]
pub struct Bank {
    pub id: String,
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<records::Bank> for Bank {
    fn from(b: records::Bank) -> Self {
        Self { id: b.id.to_string(), code: b.code, name: b.name, created_at: b.created_at }
    }
}

pub struct BanksApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Banks")]
impl BanksApi {
    /// Create a bank
    ///
    /// Admin only. The code must be unique.
    #[oai(path = "/banks", method = "post", operation_id = "create_bank")]
    async fn create_bank(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewBank>,
    ) -> ApiResult<Created<Bank>> {
        let fingerprint = body_hash(&body.0);
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, fingerprint);
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let new = StoreNewBank { code: body.0.code, name: text::line("name", body.0.name)? };
        let outcome = idempotency
            .run(201, async |w| Ok(directory::create_bank(w, caller.principal(), new).await?.into()))
            .await?;
        Ok(Created::new(outcome))
    }

    /// List banks
    #[oai(path = "/banks", method = "get", operation_id = "list_banks")]
    async fn list_banks(
        &self,
        _caller: Caller,
        state: Data<&AppState>,
        /// How many banks to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<Bank>>> {
        let page = store::banks::list(state.db(), after_id(cursor.0.as_deref())?, limit.0).await?;
        Ok(Json(List::from_page(page, Bank::from)))
    }

    /// Get a bank
    #[oai(path = "/banks/:id", method = "get", operation_id = "get_bank")]
    async fn get_bank(
        &self,
        _caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<Bank>> {
        let id = parse_id(&id.0, "the bank")?;
        let bank = store::banks::get(state.db(), id).await.map_err(|e| not_found_as(e, "the bank"))?;
        Ok(Json(bank.into()))
    }
}
