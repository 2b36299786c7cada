//! The HTTP API: poem-openapi operations under `/api/v1`, one file per tag, and the service
//! endpoints beside them.

pub mod access;
pub mod api_keys;
pub mod applications;
pub mod auth;
pub mod banks;
pub mod console;
pub mod credit_lines;
pub mod csv;
pub mod date;
pub mod document;
pub mod enterprises;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod json;
pub mod loans;
pub mod matches;
pub mod nullable;
pub mod pagination;
pub mod parks;
pub mod products;
pub mod raw_json;
pub mod recommendations;
pub mod risk_pools;
pub mod score_models;
pub mod scores;
pub mod stats;
pub mod subsidies;
pub mod text;
pub mod webhooks;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use std::time::Instant;

use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler,
    http::{HeaderValue, Method, StatusCode},
    web::{Data, Json as PoemJson},
};
use poem_openapi::{LicenseObject, OpenApiService, OperationId, ServerObject, Tags};
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::{
    config::Config,
    domain::product::Product,
    metrics::Metrics,
    service::{Catalogue, Db, Services, Write},
};
use error::{ApiError, ErrorCode};
use raw_json::Rendered;

/// Everything a handler needs, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub metrics: Arc<Metrics>,
    pub config: Arc<Config>,
    /// The JSON of each published product, rendered once per catalogue the services read.
    rendered: Arc<std::sync::Mutex<Option<Arc<RenderedCatalogue>>>>,
}

pub struct RenderedProduct {
    pub product: Product,
    pub view: Rendered<products::ProductView>,
    pub summary: Rendered<products::ProductSummary>,
}

/// The published products, each with its JSON serialized once for every response that lists it.
pub struct RenderedCatalogue {
    /// The catalogue these were rendered from.
    source: Arc<Catalogue>,
    /// Each product with its whole record and its summary, each rendered once.
    pub products: Vec<RenderedProduct>,
}

impl AppState {
    pub fn new(services: Services, metrics: Arc<Metrics>, config: Arc<Config>) -> Self {
        Self { services, metrics, config, rendered: Arc::default() }
    }

    /// The database, for reads.
    pub fn db(&self) -> &Db {
        self.services.db()
    }

    /// Runs a use case in one transaction, as the caller, and its effects after commit.
    pub async fn write<T>(
        &self,
        caller: &auth::Caller,
        work: impl AsyncFnOnce(&mut Write<'_>) -> crate::service::Result<T>,
    ) -> Result<T, ApiError> {
        Ok(self.services.write(caller.actor(), work).await?)
    }

    /// Every published product with its JSON, from the in-process copy (at most 2 seconds old).
    pub async fn published_products(&self) -> Result<Arc<RenderedCatalogue>, ApiError> {
        let catalogue = self.services.published_products().await?;
        let cached = self.rendered.lock().ok().and_then(|slot| slot.clone());
        if let Some(rendered) = cached.filter(|r| Arc::ptr_eq(&r.source, &catalogue)) {
            return Ok(rendered);
        }
        let products = catalogue
            .products
            .iter()
            .map(|p| RenderedProduct {
                product: p.clone(),
                view: Rendered::new(&products::ProductView::from(p)),
                summary: Rendered::new(&products::ProductSummary::from(p)),
            })
            .collect();
        let rendered = Arc::new(RenderedCatalogue { source: catalogue, products });
        if let Ok(mut slot) = self.rendered.lock() {
            *slot = Some(rendered.clone());
        }
        Ok(rendered)
    }

    /// A park's record; 404 when there is no such park.
    pub async fn park(&self, park_id: i64) -> Result<Arc<crate::domain::directory::Park>, ApiError> {
        self.services.park(park_id).await?.ok_or_else(|| ApiError::not_found("the park"))
    }

    /// An enterprise's record, if there is one.
    pub async fn enterprise(
        &self,
        enterprise_id: i64,
    ) -> Result<Option<Arc<crate::domain::directory::Enterprise>>, ApiError> {
        Ok(self.services.enterprise(enterprise_id).await?)
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
    /// Loans (借据): schedules, balances, repayments
    Loans,
    /// Statistics for park offices and the platform
    Stats,
    /// The events feed: what happened to the caller's resources
    Events,
    /// Webhook endpoints: events pushed to the caller, signed
    Webhooks,
    /// Recommendation lists (白名单推送): a park's enterprises pushed to banks, and the banks' answers
    Recommendations,
    /// Policy money (合): risk-compensation pools, interest subsidies, and the policies an
    /// enterprise qualifies for
    Policies,
}

pub type Apis = (
    parks::ParksApi,
    banks::BanksApi,
    enterprises::EnterprisesApi,
    api_keys::ApiKeysApi,
    scores::ScoresApi,
    score_models::ScoreModelsApi,
    recommendations::RecommendationsApi,
    // Policy money: risk pools, then interest subsidies (a pair, as poem-openapi joins at most 16).
    (risk_pools::RiskPoolsApi, subsidies::SubsidiesApi),
    products::ProductsApi,
    matches::MatchesApi,
    applications::ApplicationsApi,
    credit_lines::CreditLinesApi,
    loans::LoansApi,
    stats::StatsApi,
    events::EventsApi,
    webhooks::WebhooksApi,
);

pub fn openapi_service() -> OpenApiService<Apis, ()> {
    let apis = (
        parks::ParksApi,
        banks::BanksApi,
        enterprises::EnterprisesApi,
        api_keys::ApiKeysApi,
        scores::ScoresApi,
        score_models::ScoreModelsApi,
        recommendations::RecommendationsApi,
        (risk_pools::RiskPoolsApi, subsidies::SubsidiesApi),
        products::ProductsApi,
        matches::MatchesApi,
        applications::ApplicationsApi,
        credit_lines::CreditLinesApi,
        loans::LoansApi,
        stats::StatsApi,
        events::EventsApi,
        webhooks::WebhooksApi,
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
    let large_bodies = Arc::new(Semaphore::new(LARGE_BODIES_AT_ONCE));
    // Swagger UI with the document clients receive, not poem-openapi's raw one.
    let swagger_ui = service.swagger_ui_html().replace(&service.spec(), &document::json());
    Route::new()
        .nest("/", service)
        .at("/openapi.json", get(openapi_json))
        .at("/openapi.yaml", get(openapi_yaml))
        .at("/docs", get(poem::endpoint::make_sync(move |_| poem::web::Html(swagger_ui.clone()))))
        .nest("/console", console::endpoint())
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at("/metrics", get(metrics_text))
        .data(state)
        .around(move |ep, req| observe(ep, req, metrics.clone(), large_bodies.clone()))
}

/// The most a request body may hold: large for score imports, small everywhere else.
fn body_limit(method: &Method, path: &str) -> usize {
    let is_score_import = method == Method::POST
        && path.starts_with("/api/v1/parks/")
        && path.trim_end_matches('/').ends_with("/scores");
    if is_score_import { LARGE_BODY_LIMIT } else { BODY_LIMIT }
}

/// The body limit of every path but score imports.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The body limit of score imports (100,000 rows of 64 indicators fit).
pub const LARGE_BODY_LIMIT: usize = 64 * 1024 * 1024;
/// How many large bodies one process reads at once; more wait their turn, so that imports
/// cannot drive the process's memory up without bound.
pub const LARGE_BODIES_AT_ONCE: usize = 2;

/// The longest `Idempotency-Key`.
pub const IDEMPOTENCY_KEY_MAX: usize = 255;

fn request_id(req: &Request) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// An `Idempotency-Key` that cannot be honoured is refused, never ignored: it must be 1 to 255
/// characters of printable ASCII.
fn check_idempotency_key(req: &Request) -> Result<(), ApiError> {
    let mut values = req.headers().get_all("idempotency-key").iter();
    let Some(value) = values.next() else { return Ok(()) };
    let bytes = value.as_bytes();
    let problem = if values.next().is_some() {
        Some("send one Idempotency-Key header, not several")
    } else if bytes.iter().all(|b| *b == b' ') {
        Some("the Idempotency-Key is blank")
    } else if bytes.len() > IDEMPOTENCY_KEY_MAX {
        Some("the Idempotency-Key is longer than 255 characters")
    } else if !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        Some("the Idempotency-Key must be printable ASCII (for example a UUID)")
    } else {
        None
    };
    match problem {
        Some(message) => Err(ApiError::bad_request(ErrorCode::InvalidIdempotencyKey, message)),
        None => Ok(()),
    }
}

/// The method as a metrics label: one of the methods HTTP defines, or `other`, so that made-up
/// methods cannot add series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Caps a request body as it is read. The body is not read here: the operation reads it after it
/// has checked the caller's key and role, so that a request without a key costs nothing.
fn limit_body(req: &mut Request, limit: usize, exceeded: Arc<AtomicBool>) {
    use futures_util::StreamExt;
    let mut read = 0usize;
    let stream = req.take_body().into_bytes_stream().map(move |chunk| {
        let chunk = chunk?;
        read = read.saturating_add(chunk.len());
        if read > limit {
            exceeded.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("the body is larger than this path accepts"));
        }
        Ok(chunk)
    });
    req.set_body(poem::Body::from_bytes_stream(stream));
}

/// Gives each request an id and a span, caps its body, turns every error into the one error
/// shape, and records the route's count and latency.
async fn observe<E: Endpoint>(
    ep: E,
    mut req: Request,
    metrics: Arc<Metrics>,
    large_bodies: Arc<Semaphore>,
) -> poem::Result<Response> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    req.set_data(RequestId(id.clone()));

    let limit = body_limit(&method, &path);
    let exceeded = Arc::new(AtomicBool::new(false));
    let result = async {
        check_idempotency_key(&req)?;
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(ApiError::payload_too_large(limit).into());
        }
        let _permit = if limit > BODY_LIMIT && method == Method::POST {
            Some(large_bodies.acquire().await.map_err(|_| ApiError::internal())?)
        } else {
            None
        };
        limit_body(&mut req, limit, exceeded.clone());
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
            let response = if exceeded.load(Ordering::Relaxed) {
                ApiError::payload_too_large(limit).into_response()
            } else {
                error::into_response(err)
            };
            (response, operation)
        }
    };
    if exceeded.load(Ordering::Relaxed) && response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        response = ApiError::payload_too_large(limit).into_response();
    }
    let route = operation.unwrap_or(match path.as_str() {
        "/healthz" | "/readyz" | "/metrics" | "/openapi.json" | "/openapi.yaml" => path.as_str(),
        p if p.starts_with("/docs") => "/docs",
        _ => "unmatched",
    });
    let status = response.status();
    let elapsed = started.elapsed();
    metrics.observe_request(route, method_label(&method), status.as_u16(), elapsed.as_secs_f64());
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
fn openapi_json() -> Response {
    Response::builder().content_type("application/json").body(document::json())
}

#[handler]
fn openapi_yaml() -> Response {
    Response::builder().content_type("application/yaml").body(document::yaml())
}

#[handler]
fn healthz() -> PoemJson<serde_json::Value> {
    PoemJson(serde_json::json!({"status": "ok"}))
}

/// The database and the cache each `ok` or `down`; 503 when the database is down.
#[handler]
async fn readyz(state: Data<&AppState>) -> Response {
    let database_ok = state.services.ping().await;
    let redis = match state.services.scores().ping().await {
        None => "not_configured",
        Some(true) => "ok",
        Some(false) => "down",
    };
    let body = serde_json::json!({
        "database": if database_ok { "ok" } else { "down" },
        "redis": redis,
        "cache": state.services.scores().kind(),
    });
    let status = if database_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, PoemJson(body)).into_response()
}

#[handler]
fn metrics_text(state: Data<&AppState>) -> Response {
    Response::builder().content_type("text/plain; version=0.0.4").body(state.metrics.render())
}
