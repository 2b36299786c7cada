//! The HTTP API: poem-openapi operations under `/api/v1`, one file per tag, and the service
//! endpoints beside them.

pub mod api_keys;
pub mod applications;
pub mod auth;
pub mod banks;
pub mod credit_lines;
pub mod csv;
pub mod enterprises;
pub mod error;
pub mod idempotency;
pub mod matches;
pub mod nullable;
pub mod pagination;
pub mod parks;
pub mod products;
pub mod raw_json;
pub mod scores;
pub mod stats;
pub mod text;

use std::sync::Arc;
use std::time::Instant;

use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler,
    http::{HeaderValue, Method, StatusCode},
    web::{Data, Json as PoemJson},
};
use poem_openapi::{LicenseObject, OpenApiService, OperationId, ServerObject, Tags};
use sea_orm::DatabaseConnection;
use tracing::Instrument;

use crate::{
    auth::Authenticator, cache::ScoreCache, config::Config, domain::product::Product, metrics::Metrics,
};
use error::ApiError;

/// Everything a handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub auth: Authenticator,
    pub scores: ScoreCache,
    pub metrics: Arc<Metrics>,
    pub config: Arc<Config>,
    /// Park records by id. Parks are never edited or deleted, so a remembered park never goes
    /// stale.
    pub parks: moka::future::Cache<i64, Arc<entity::park::Model>>,
    /// Enterprise records by id. An enterprise is never edited, moved or deleted once
    /// registered, so a remembered record never goes stale.
    pub enterprises: moka::future::Cache<i64, Arc<entity::enterprise::Model>>,
    /// Every published product, refreshed from the database at least every 2 seconds, so that
    /// a lifecycle change on any process shows in matches everywhere within 5 seconds.
    pub published: moka::future::Cache<(), Arc<Catalogue>>,
}

/// The published products, each with its JSON serialized once for every response that lists it.
pub struct Catalogue {
    pub products: Vec<(Product, String)>,
}

impl AppState {
    /// Every published product, from the in-process copy (at most 2 seconds old).
    pub async fn published_products(&self) -> Result<Arc<Catalogue>, ApiError> {
        use poem_openapi::types::ToJSON;
        let db = self.db.clone();
        let load = async move {
            let products = crate::store::products::published(&db).await?;
            let products = products
                .into_iter()
                .map(|p| {
                    let json = products::ProductView::from(&p).to_json_string();
                    (p, json)
                })
                .collect();
            Ok::<_, crate::store::StoreError>(Arc::new(Catalogue { products }))
        };
        self.published.try_get_with((), load).await.map_err(|err| {
            tracing::error!(error = %err, "loading published products");
            ApiError::unavailable("the product catalogue is unavailable; retry shortly")
        })
    }

    /// Drops the in-process copy after this process changed a product's status.
    pub async fn forget_published_products(&self) {
        self.published.invalidate(&()).await;
    }

    /// A park's record, from the in-process copy when there is one; 404 when there is no such park.
    pub async fn park(&self, park_id: i64) -> Result<Arc<entity::park::Model>, ApiError> {
        if let Some(found) = self.parks.get(&park_id).await {
            return Ok(found);
        }
        match crate::store::parks::get(&self.db, park_id).await {
            Ok(park) => {
                let park = Arc::new(park);
                self.parks.insert(park_id, park.clone()).await;
                Ok(park)
            }
            Err(crate::store::StoreError::NotFound) => Err(ApiError::not_found("the park")),
            Err(other) => Err(other.into()),
        }
    }

    /// An enterprise's record, from the in-process copy when there is one.
    pub async fn enterprise(
        &self,
        enterprise_id: i64,
    ) -> Result<Option<Arc<entity::enterprise::Model>>, ApiError> {
        if let Some(found) = self.enterprises.get(&enterprise_id).await {
            return Ok(Some(found));
        }
        match crate::store::enterprises::get(&self.db, enterprise_id).await {
            Ok(enterprise) => {
                let enterprise = Arc::new(enterprise);
                self.enterprises.insert(enterprise_id, enterprise.clone()).await;
                Ok(Some(enterprise))
            }
            Err(crate::store::StoreError::NotFound) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }
}

/// The request id, taken from `X-Request-Id` or made up, and echoed in the response.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

#[derive(Tags)]
pub enum ApiTags {
    /// High-tech parks (高新区)
    Parks,
    /// Banks
    Banks,
    /// Tech enterprises, identified by their USCC
    Enterprises,
    /// API keys and their roles
    ApiKeys,
    /// Innovation scores (创新积分) and park rankings
    Scores,
    /// Loan products (the financial supermarket, 金融超市) and matching
    Products,
    /// Loan applications and their decisions
    Applications,
    /// Credit lines (授信) and disbursements (放款)
    CreditLines,
    /// Statistics for park offices and the platform
    Stats,
}

pub type Apis = (
    parks::ParksApi,
    banks::BanksApi,
    enterprises::EnterprisesApi,
    api_keys::ApiKeysApi,
    scores::ScoresApi,
    products::ProductsApi,
    matches::MatchesApi,
    applications::ApplicationsApi,
    credit_lines::CreditLinesApi,
    stats::StatsApi,
);

pub fn openapi_service() -> OpenApiService<Apis, ()> {
    let apis = (
        parks::ParksApi,
        banks::BanksApi,
        enterprises::EnterprisesApi,
        api_keys::ApiKeysApi,
        scores::ScoresApi,
        products::ProductsApi,
        matches::MatchesApi,
        applications::ApplicationsApi,
        credit_lines::CreditLinesApi,
        stats::StatsApi,
    );
    OpenApiService::new(apis, "innoloan", env!("CARGO_PKG_VERSION"))
        .server(ServerObject::new("/").description("this server"))
        .license(LicenseObject::new("Apache-2.0").url("https://www.apache.org/licenses/LICENSE-2.0"))
        .description(
            "The marketplace behind innovation-points credit loans (创新积分贷): parks score their \
         enterprises, banks publish loan products whose eligibility uses the score, enterprises \
         apply, and park offices follow credit granted and disbursed.\n\n\
         Every error has the shape `{\"error\": {\"code\", \"message\", \"details\"}}`. Money is \
         integer fen; rates are integer basis points; lists are `{items, next_cursor}`.",
        )
}

/// The whole HTTP application: the API, its document, Swagger UI and the service endpoints.
pub fn app(state: AppState) -> impl Endpoint<Output = Response> {
    let service = openapi_service();
    let metrics = state.metrics.clone();
    let spec_json = service.spec_endpoint();
    let spec_yaml = service.spec_endpoint_yaml();
    let swagger_ui = service.swagger_ui();
    Route::new()
        .nest("/", service)
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .nest("/docs", swagger_ui)
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics_text))
        .data(state)
        .around(move |ep, req| observe(ep, req, metrics.clone()))
}

/// The most a request body may hold: large for score imports, small everywhere else.
fn body_limit(method: &Method, path: &str) -> usize {
    let is_score_import = method == Method::POST
        && path.starts_with("/api/v1/parks/")
        && path.trim_end_matches('/').ends_with("/scores");
    if is_score_import { 64 * 1024 * 1024 } else { 1024 * 1024 }
}

fn request_id(req: &Request) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Gives each request an id and a span, caps its body, turns every error into the one error
/// shape, and records the route's count and latency.
async fn observe<E: Endpoint>(ep: E, mut req: Request, metrics: Arc<Metrics>) -> poem::Result<Response> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    req.set_data(RequestId(id.clone()));

    let mut body = None;
    let result = async {
        if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
            let limit = body_limit(&method, &path);
            match req.take_body().into_bytes_limit(limit).await {
                Ok(bytes) => {
                    // Kept (cheaply: `Bytes` is shared) to name the field of a schema error.
                    body = Some(bytes.clone());
                    req.set_body(bytes);
                }
                Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                    return Err(ApiError::payload_too_large(limit).into());
                }
                Err(err) => {
                    return Err(poem::Error::from_string(err.to_string(), StatusCode::BAD_REQUEST));
                }
            }
        }
        ep.call(req).await.map(IntoResponse::into_response)
    }
    .instrument(span.clone())
    .await;

    let (mut response, operation) = match result {
        Ok(response) => {
            let operation = response.data::<OperationId>().map(|op| op.0);
            (response, operation)
        }
        Err(err) => {
            let operation = err.data::<OperationId>().map(|op| op.0);
            let _entered = span.enter();
            (error::into_response(err, body.as_deref()), operation)
        }
    };
    let route = operation.unwrap_or(match path.as_str() {
        "/healthz" | "/readyz" | "/metrics" | "/openapi.json" | "/openapi.yaml" => path.as_str(),
        p if p.starts_with("/docs") => "/docs",
        _ => "unmatched",
    });
    let status = response.status();
    let elapsed = started.elapsed();
    metrics.observe_request(route, method.as_str(), status.as_u16(), elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            route,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

#[handler]
fn healthz() -> PoemJson<serde_json::Value> {
    PoemJson(serde_json::json!({"status": "ok"}))
}

/// The database and the cache each `ok` or `down`; 503 when the database is down.
#[handler]
async fn readyz(state: Data<&AppState>) -> Response {
    let database_ok = state.db.ping().await.is_ok();
    let redis = match state.scores.ping().await {
        None => "not_configured",
        Some(true) => "ok",
        Some(false) => "down",
    };
    let body = serde_json::json!({
        "database": if database_ok { "ok" } else { "down" },
        "redis": redis,
        "cache": state.scores.kind(),
    });
    let status = if database_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, PoemJson(body)).into_response()
}

#[handler]
fn metrics_text(state: Data<&AppState>) -> Response {
    Response::builder().content_type("text/plain; version=0.0.4").body(state.metrics.render())
}
