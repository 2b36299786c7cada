//! Starts the real server on port 0 for each test, on a fresh database.
//!
//! SQLite in memory by default. With `TEST_DATABASE_URL`, each test gets its own PostgreSQL
//! database, made for it and dropped by a later run once it is an hour old. With
//! `TEST_REDIS_URL`, each test gets its own Redis key prefix.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use innoloan::{Application, config::Config, store};
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub admin_key: String,
    pub db: DatabaseConnection,
    pub config: Config,
    /// The server's use cases, for tests that run what the server runs on its own (the daily job).
    pub services: innoloan::service::Services,
}

/// A response's status, headers and JSON body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts an error in the one error shape, with this status and code.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Self {
        let reply = self.expect(status);
        assert_eq!(reply.body["error"]["code"], code, "body: {}", reply.text);
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(reply.body["error"]["details"].is_array());
        reply
    }

    /// The `field` of every detail of an error.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["error"]["details"]
            .as_array()
            .map(|d| d.iter().filter_map(|x| x["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("the record has an id").to_owned()
    }
}

fn unique_suffix() -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("{seconds}_{}", uuid::Uuid::new_v4().simple().to_string().get(..12).unwrap_or("x"))
}

/// The URL of a fresh PostgreSQL database, made from `TEST_DATABASE_URL`.
async fn fresh_postgres(base_url: &str) -> String {
    static CLEANED: AtomicBool = AtomicBool::new(false);
    let admin = sea_orm::Database::connect(base_url).await.expect("TEST_DATABASE_URL must be reachable");
    if !CLEANED.swap(true, Ordering::SeqCst) {
        drop_stale_databases(&admin).await;
    }
    let name = format!("innoloan_t_{}", unique_suffix());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("the test role may create databases");
    let _ = admin.close().await;
    let (head, _) = base_url.rsplit_once('/').expect("TEST_DATABASE_URL ends with /database");
    format!("{head}/{name}")
}

/// Drops test databases left by runs more than an hour ago.
async fn drop_stale_databases(admin: &DatabaseConnection) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'innoloan_t_%'",
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let made_at = name.split('_').nth(2).and_then(|s| s.parse::<u64>().ok()).unwrap_or(now);
        if now.saturating_sub(made_at) > 3600 {
            let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await;
        }
    }
}

/// The configuration a test server runs with; tests may change it before `spawn_app_with`.
pub async fn test_config() -> Config {
    let database_url = match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(base) => fresh_postgres(&base).await,
        None => "sqlite::memory:".to_owned(),
    };
    Config {
        database_url,
        database_max_connections: 8,
        redis_url: std::env::var("TEST_REDIS_URL").ok().filter(|u| !u.is_empty()),
        redis_key_prefix: format!("innoloan_test:{}", unique_suffix()),
        bind_addr: "127.0.0.1:0".into(),
        secrets_key: Some(crate::server::TEST_SECRETS_KEY.into()),
        webhook_allow_private_networks: true,
        webhook_retry_schedule: innoloan::domain::webhook::RetrySchedule::parse("300ms,300ms,300ms")
            .expect("a schedule"),
        ..Config::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config().await).await
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        innoloan::telemetry::init(&config.log_format, &config.log_filter);
    }
    let db = store::connect(&config.database_url, config.database_max_connections).await.expect("database");
    store::migrate(&db).await.expect("migrations");
    let admin = store::api_keys::create(&db, "test-admin".into(), innoloan::domain::Scope::All)
        .await
        .expect("admin key");
    let app = Application::build_with_db(config.clone(), db.clone()).await.expect("the server builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let services = app.state().services.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp { address, client: reqwest::Client::new(), admin_key: admin.secret, db, config, services }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.address));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        into_reply(request.send().await.expect("the request is sent")).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.request(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.request(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.request(Method::DELETE, path, Some(key), None).await
    }

    /// Sends a raw body with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        key: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.address))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body);
        into_reply(request.send().await.expect("the request is sent")).await
    }

    /// Asserts that every maintained statistics total equals what the rows say (`innoloan
    /// verify`), and that today's statistics read from the totals equal those summed from rows.
    pub async fn verify_totals(&self) {
        let today = chrono::Utc::now().date_naive();
        let found = store::totals::verify(&self.db, today).await.expect("verify runs");
        let drift: Vec<String> = found.drift.iter().map(ToString::to_string).collect();
        assert!(drift.is_empty(), "the totals drifted from the rows:\n{}", drift.join("\n"));
        let national = self.get("/api/v1/stats", &self.admin_key).await.expect(200).body;
        let summed = self.get("/api/v1/stats?from=1900-01-01", &self.admin_key).await.expect(200).body;
        let strip = |mut v: Value| {
            v.as_object_mut().expect("an object").remove("from");
            v
        };
        assert_eq!(strip(national), strip(summed), "today's statistics from the totals differ from the rows");
    }

    /// Rebuilds the totals after a test changed rows behind the use cases' back.
    pub async fn rebuild_totals(&self) {
        store::totals::rebuild(&self.db, chrono::Utc::now().date_naive()).await.expect("rebuild runs");
    }

    pub async fn create_park(&self, code: &str, name: &str) -> String {
        let body = json!({"code": code, "name": name, "region": "测试省"});
        self.post("/api/v1/parks", &self.admin_key, &body).await.expect(201).id()
    }

    pub async fn create_bank(&self, code: &str, name: &str) -> String {
        self.post("/api/v1/banks", &self.admin_key, &json!({"code": code, "name": name}))
            .await
            .expect(201)
            .id()
    }

    pub async fn create_enterprise(&self, park_id: &str, uscc: &str, name: &str) -> String {
        let body = json!({
            "uscc": uscc, "name": name, "park_id": park_id, "industry": "software",
            "size": "small", "founded_on": "2018-03-01", "qualifications": ["high_tech_enterprise"],
        });
        self.post("/api/v1/enterprises", &self.admin_key, &body).await.expect(201).id()
    }

    /// Creates a key for a role, scoped by `scope_field` (`park_id`, `bank_id`, `enterprise_id`).
    pub async fn create_key(&self, role: &str, scope: Option<(&str, &str)>) -> String {
        let mut body = json!({"name": format!("{role}-key"), "role": role});
        if let Some((field, id)) = scope {
            body[field] = json!(id);
        }
        let reply = self.post("/api/v1/api-keys", &self.admin_key, &body).await.expect(201);
        reply.body["secret"].as_str().expect("a secret").to_owned()
    }
}

async fn into_reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}

/// A valid USCC made from a number, for test data.
pub fn uscc(n: u32) -> String {
    innoloan::domain::Uscc::with_check_character(&format!("91510100MA{n:07}"))
        .expect("a valid stem")
        .to_string()
}
