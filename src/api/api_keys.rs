//! API keys: made and revoked by the admin. The secret is shown once, when the key is made.

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::ToJSON,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    error::{ApiError, ApiResult},
    idempotency::{Created, Idempotency, IdempotencyKey, body_hash},
    json::JsonBody,
    pagination::{List, after_id, default_limit, parse_id},
    text,
};
use crate::domain::directory as records;
use crate::domain::{Role, Scope};
use crate::service::directory::{self, NewKey};
use crate::store::{self};

#[derive(Object)]
pub struct NewApiKey {
    /// Who or what uses the key, such as `chengdu-bank-integration`.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub name: String,
    pub role: Role,
    /// Required for `park_office`, refused otherwise.
    #[oai(validator(max_length = 20))]
    pub park_id: Option<String>,
    /// Required for `bank`, refused otherwise.
    #[oai(validator(max_length = 20))]
    pub bank_id: Option<String>,
    /// Required for `enterprise`, refused otherwise.
    #[oai(validator(max_length = 20))]
    pub enterprise_id: Option<String>,
}

#[derive(Object, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub park_id: Option<String>,
    pub bank_id: Option<String>,
    pub enterprise_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<records::ApiKey> for ApiKey {
    fn from(k: records::ApiKey) -> Self {
        let (park_id, bank_id, enterprise_id) = k.scope.ids();
        let text = |id: Option<i64>| id.map(|id| id.to_string());
        Self {
            id: k.id.to_string(),
            name: k.name,
            role: k.scope.role(),
            park_id: text(park_id),
            bank_id: text(bank_id),
            enterprise_id: text(enterprise_id),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key, with its secret. The secret is never shown again.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CreatedApiKey {
    #[oai(flatten)]
    pub key: ApiKey,
    /// Send it as `Authorization: Bearer <secret>`. Store it now: it cannot be shown again, and
    /// an idempotent replay of this request answers without it.
    pub secret: Option<String>,
}

/// The key that made the request: what it may do, and on whose behalf.
#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct CurrentApiKey {
    #[oai(flatten)]
    pub key: ApiKey,
    /// The name of the park, bank or enterprise the key acts for; absent for an admin key.
    pub scope_name: Option<String>,
}

#[derive(ApiResponse)]
pub enum ApiKeyRevoked {
    /// The key is revoked; every server refuses it within 5 seconds.
    #[oai(status = 204)]
    Revoked,
}

/// A scope id from the body: an id that is not a number names no record.
fn scope_id(field: &str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|raw| {
        raw.parse::<i64>()
            .map_err(|_| ApiError::invalid_field(field, format!("there is no record with id {raw:?}")))
    })
    .transpose()
}

pub struct ApiKeysApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::ApiKeys")]
impl ApiKeysApi {
    /// Create an API key
    ///
    /// Admin only. A `park_office` key needs `park_id`, a `bank` key `bank_id`, and an
    /// `enterprise` key `enterprise_id`. The answer carries the secret, this once only.
    #[oai(path = "/api-keys", method = "post", operation_id = "create_api_key")]
    async fn create_api_key(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewApiKey>,
    ) -> ApiResult<Created<CreatedApiKey>> {
        let fingerprint = body_hash(&body.0);
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, fingerprint);
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let body = body.0;
        let new = NewKey {
            park_id: scope_id("park_id", body.park_id.as_deref())?,
            bank_id: scope_id("bank_id", body.bank_id.as_deref())?,
            enterprise_id: scope_id("enterprise_id", body.enterprise_id.as_deref())?,
            role: body.role,
            name: text::line("name", body.name)?,
        };
        // A replay shows the key without its secret: only a hash of the secret is ever stored.
        let without_secret = |created: &CreatedApiKey| {
            CreatedApiKey { key: created.key.clone(), secret: None }.to_json_string()
        };
        let outcome = idempotency
            .run_remembering(201, without_secret, async |w| {
                let created = directory::create_api_key(w, caller.principal(), new).await?;
                Ok(CreatedApiKey { key: created.key.into(), secret: Some(created.secret) })
            })
            .await?;
        Ok(Created::new(outcome))
    }

    /// Read the calling key
    ///
    /// Every key: its own role and scope, and the name of the park, bank or enterprise it acts
    /// for, so that a client can say who is signed in. The secret is never shown.
    #[oai(path = "/me", method = "get", operation_id = "get_current_api_key")]
    async fn get_current_api_key(
        &self,
        caller: Caller,
        state: Data<&AppState>,
    ) -> ApiResult<Json<CurrentApiKey>> {
        let principal = caller.principal();
        let key = store::api_keys::get(state.db(), principal.key_id).await?;
        let scope_name = match principal.scope {
            Scope::All => None,
            Scope::Park(id) => Some(state.park(id).await?.name.clone()),
            Scope::Bank(id) => Some(store::banks::get(state.db(), id).await?.name),
            Scope::Enterprise(id) => state.enterprise(id).await?.map(|e| e.name.clone()),
        };
        Ok(Json(CurrentApiKey { key: key.into(), scope_name }))
    }

    /// List API keys
    ///
    /// Admin only. Secrets are never shown.
    #[oai(path = "/api-keys", method = "get", operation_id = "list_api_keys")]
    async fn list_api_keys(
        &self,
        _caller: Caller,
        state: Data<&AppState>,
        /// How many keys to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<ApiKey>>> {
        let page = store::api_keys::list(state.db(), after_id(cursor.0.as_deref())?, limit.0).await?;
        Ok(Json(List::from_page(page, ApiKey::from)))
    }

    /// Revoke an API key
    ///
    /// Admin only. Every server process refuses the key within 5 seconds.
    #[oai(path = "/api-keys/:id", method = "delete", operation_id = "revoke_api_key")]
    async fn revoke_api_key(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<ApiKeyRevoked> {
        let id = parse_id(&id.0, "the API key")?;
        state
            .write(&caller, async |w| directory::revoke_api_key(w, caller.principal(), id).await)
            .await
            .map_err(|e| e.naming("the API key"))?;
        Ok(ApiKeyRevoked::Revoked)
    }
}
