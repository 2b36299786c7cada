//! Fault tests against real services and real `innoloan serve` processes: Redis going away,
//! PostgreSQL restarting, and `kill -9` in the middle of money and score writes.
//!
//! They restart services and kill processes, so they run on their own, one at a time, when
//! `FAULT_TESTS=1` (as `.ci/run` does):
//!
//!   FAULT_TESTS=1 TEST_DATABASE_URL=postgres://postgres@127.0.0.1/test \
//!     cargo test --test faults -- --test-threads=1
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/server.rs"]
mod server;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use innoloan::{domain::Scope, store};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use server::Server;

/// The PostgreSQL URL to make databases from, or `None` (with the reason printed) to skip.
fn fault_setup() -> Option<String> {
    if std::env::var("FAULT_TESTS").as_deref() != Ok("1") {
        server::skip("fault tests", "they restart services and kill processes; run them with FAULT_TESTS=1");
        return None;
    }
    let url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty());
    assert!(url.is_some(), "FAULT_TESTS=1 needs TEST_DATABASE_URL (PostgreSQL)");
    url
}

struct World {
    database_url: String,
    db: DatabaseConnection,
    key: String,
    client: reqwest::Client,
}

/// A fresh database with the schema and an admin key.
async fn world(base: &str) -> World {
    let admin = sea_orm::Database::connect(base).await.unwrap();
    let name = format!("innoloan_fault_{}", uuid::Uuid::new_v4().simple());
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    let database_url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let db = store::connect(&database_url, 4).await.unwrap();
    store::migrate(&db).await.unwrap();
    let key = store::api_keys::create(&db, "faults".into(), Scope::All).await.unwrap().secret;
    World { database_url, db, key, client: reqwest::Client::new() }
}

impl World {
    async fn send(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<&Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut request =
            self.client.request(method, url).bearer_auth(&self.key).timeout(Duration::from_secs(10));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json::<Value>().await.unwrap_or(Value::Null)))
    }

    async fn post(&self, server: &Server, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, format!("{}{path}", server.address), Some(body)).await.unwrap()
    }

    async fn get(&self, server: &Server, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, format!("{}{path}", server.address), None).await.unwrap()
    }

    /// A park with `n` scored enterprises (the i-th scores 50 + i % 900); returns the park id and the
    /// enterprise ids.
    async fn scored_park(&self, server: &Server, n: u32) -> (String, Vec<String>) {
        let (status, park) =
            self.post(server, "/api/v1/parks", &json!({"code": "p", "name": "园区", "region": "r"})).await;
        assert_eq!(status, 201, "{park}");
        let park = park["id"].as_str().unwrap().to_owned();
        let mut ids = Vec::new();
        for i in 0..n {
            let body = json!({"uscc": uscc(i), "name": format!("企业{i}"), "park_id": park, "industry": "software", "size": "small", "founded_on": "2015-01-01"});
            let (status, e) = self.post(server, "/api/v1/enterprises", &body).await;
            assert_eq!(status, 201, "{e}");
            ids.push(e["id"].as_str().unwrap().to_owned());
        }
        let rows: Vec<Value> =
            (0..n).map(|i| json!({"uscc": uscc(i), "score": 50 + i % 900, "stage": "growth"})).collect();
        let (status, body) = self
            .post(server, &format!("/api/v1/parks/{park}/scores"), &json!({"period": "2022", "scores": rows}))
            .await;
        assert_eq!(status, 201, "{body}");
        (park, ids)
    }

    /// A credit line of `amount` fen, granted through the API; returns its id.
    async fn credit_line(&self, server: &Server, park: &str, enterprise: &str, amount: i64) -> String {
        let (_, bank) = self.post(server, "/api/v1/banks", &json!({"code": "b", "name": "银行"})).await;
        let product = json!({
            "code": "p", "name": "积分贷", "credit_type": "pure_credit", "min_amount": 1, "max_amount": amount,
            "rate_bps_min": 400, "rate_bps_max": 400, "term_months_min": 12, "term_months_max": 12,
            "approval_sla_days": 5, "total_quota": amount, "bank_id": bank["id"], "eligibility": {"park_ids": [park]},
        });
        let (status, product) = self.post(server, "/api/v1/products", &product).await;
        assert_eq!(status, 201, "{product}");
        let product = product["id"].as_str().unwrap();
        self.post(server, &format!("/api/v1/products/{product}/publish"), &json!({})).await;
        let application = json!({"product_id": product, "amount": amount, "term_months": 12, "purpose": "研发", "enterprise_id": enterprise});
        let (status, application) = self.post(server, "/api/v1/applications", &application).await;
        assert_eq!(status, 201, "{application}");
        let approval =
            json!({"amount": amount, "rate_bps": 400, "term_months": 12, "expires_on": "2099-01-01"});
        let path = format!("/api/v1/applications/{}/approve", application["id"].as_str().unwrap());
        let (status, approved) = self.post(server, &path, &approval).await;
        assert_eq!(status, 200, "{approved}");
        approved["credit_line"]["id"].as_str().unwrap().to_owned()
    }

    /// Every credit line whose `disbursed_total` is not the sum of its disbursement rows.
    async fn unbalanced_lines(&self) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM credit_lines l WHERE l.disbursed_total > l.amount OR l.disbursed_total <> \
                 COALESCE((SELECT SUM(d.amount) FROM disbursements d WHERE d.credit_line_id = l.id), 0)",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

fn uscc(n: u32) -> String {
    innoloan::domain::Uscc::with_check_character(&format!("91510100MA{n:07}")).unwrap().to_string()
}

/// A Redis of the test's own, on a port of its own, so that it can be stopped and paused.
struct OwnRedis {
    child: std::process::Child,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        // Owned from here on: dropped (and so killed and reaped) on every path.
        let redis = OwnRedis { child };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return redis;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start on {port}");
    }

    fn signal(&self, signal: &str) {
        let status =
            std::process::Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Reads every enterprise's score `rounds` times, 16 at a time; panics on any answer but the
/// right score. Returns how many came from the cache.
async fn read_scores(w: &World, server: &Server, ids: &[String], rounds: usize) -> usize {
    let mut hits = 0;
    for _ in 0..rounds {
        let reads = ids.iter().enumerate().map(|(i, id)| {
            let url = format!("{}/api/v1/enterprises/{id}/score", server.address);
            let request = w.client.get(url).bearer_auth(&w.key).timeout(Duration::from_secs(10));
            async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let cache =
                    response.headers().get("x-cache").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let body: Value = response.json().await.unwrap();
                assert_eq!(status, 200, "a score read failed: {body}");
                assert_eq!(body["score"].as_f64(), Some(50.0 + (i % 900) as f64), "a wrong score: {body}");
                cache == "hit"
            }
        });
        hits += join_all(reads).await.into_iter().filter(|hit| *hit).count();
    }
    hits
}

#[tokio::test]
async fn redis_going_away_loses_nothing_and_the_cache_comes_back() {
    let Some(base) = fault_setup() else { return };
    let w = world(&base).await;
    let port = free_port();
    let redis = OwnRedis::start(port);
    let redis_url = format!("redis://127.0.0.1:{port}");
    let server = Server::start(&w.database_url, Some(&redis_url), "faults").await;
    let (_, ids) = w.scored_park(&server, 40).await;

    read_scores(&w, &server, &ids, 2).await;
    assert!(read_scores(&w, &server, &ids, 1).await > 30, "the cache serves while Redis is up");

    // Paused: Redis holds connections and answers nothing. Reads fall back within the timeout.
    redis.signal("-STOP");
    let started = Instant::now();
    read_scores(&w, &server, &ids, 3).await;
    println!("120 reads with Redis paused took {:?}", started.elapsed());
    let (status, ready) = w.get(&server, "/readyz").await;
    assert_eq!((status, ready["redis"].as_str()), (200, Some("down")));
    redis.signal("-CONT");

    // Stopped: connections are refused.
    redis.stop();
    read_scores(&w, &server, &ids, 3).await;
    let (_, ready) = w.get(&server, "/readyz").await;
    assert_eq!(ready["redis"], "down");

    // Back: the cache serves again, without restarting the server.
    let _redis = OwnRedis::start(port);
    let mut recovered = false;
    for _ in 0..50 {
        if read_scores(&w, &server, &ids, 1).await > 0 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "the cache serves again once Redis is back");
    let (_, ready) = w.get(&server, "/readyz").await;
    assert_eq!(ready["redis"], "ok");
}

#[tokio::test]
async fn a_postgres_restart_fails_requests_cleanly_and_the_pool_recovers() {
    let Some(base) = fault_setup() else { return };
    let w = world(&base).await;
    let server = Server::start(&w.database_url, None, "faults").await;
    let (park, _) = w.scored_park(&server, 5).await;
    let cluster = std::fs::read_dir("/etc/postgresql").unwrap().next().unwrap().unwrap().file_name();
    let cluster = cluster.to_string_lossy().into_owned();

    let restart = tokio::task::spawn_blocking(move || {
        std::process::Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &cluster, "main", "restart", "-m", "fast"])
            .status()
            .unwrap()
    });
    // Ranking reads go to the database every time: during the restart they must fail cleanly.
    let mut statuses = HashSet::new();
    let mut saw_down = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !restart.is_finished() && Instant::now() < deadline {
        if let Ok((status, body)) = w
            .send(reqwest::Method::GET, format!("{}/api/v1/parks/{park}/rankings", server.address), None)
            .await
        {
            statuses.insert(status);
            if status != 200 {
                assert_eq!(status, 503, "a database outage answers 503: {body}");
                assert_eq!(body["error"]["code"], "unavailable", "in the one error shape: {body}");
            }
        }
        if !saw_down
            && let Ok((503, ready)) =
                w.send(reqwest::Method::GET, format!("{}/readyz", server.address), None).await
        {
            assert_eq!(ready["database"], "down");
            saw_down = true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(restart.await.unwrap().success(), "PostgreSQL restarted");
    println!("statuses seen during the restart: {statuses:?}; /readyz said down: {saw_down}");

    // The same process, the same pool: it recovers.
    let mut recovered = false;
    for _ in 0..100 {
        let (status, _) = w.get(&server, &format!("/api/v1/parks/{park}/rankings")).await;
        let (ready, _) = w.get(&server, "/readyz").await;
        if status == 200 && ready == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "requests succeed again without restarting the server");
}

#[tokio::test]
async fn kill_9_in_a_disbursement_storm_loses_no_money() {
    let Some(base) = fault_setup() else { return };
    let w = world(&base).await;
    let server = Server::start(&w.database_url, None, "faults").await;
    let port = server.port();
    let (park, ids) = w.scored_park(&server, 1).await;
    let line = w.credit_line(&server, &park, &ids[0], 100_000_000).await;

    let today = chrono::Utc::now().date_naive().to_string();
    let storm = (0..400).map(|n| {
        let url = format!("{}/api/v1/credit-lines/{line}/disbursements", server.address);
        let body = json!({"amount": 1_000 + n, "reference": format!("CRASH-{n}"), "disbursed_on": today});
        let request = w.client.post(url).bearer_auth(&w.key).json(&body).timeout(Duration::from_secs(10));
        async move {
            match request.send().await {
                Ok(response) if response.status().as_u16() == 201 => {
                    response.json::<Value>().await.ok().and_then(|b| b["id"].as_str().map(str::to_owned))
                }
                _ => None,
            }
        }
    });
    let storm = tokio::spawn(join_all(storm));
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill().await;
    let answered: HashSet<String> = storm.await.unwrap().into_iter().flatten().collect();
    println!("{} disbursements answered 201 before kill -9", answered.len());

    let server = Server::start_on(port, &w.database_url, None, "faults").await;
    assert_eq!(w.unbalanced_lines().await, 0, "every line's disbursed_total is the sum of its rows");
    let (_, rows) = w.get(&server, &format!("/api/v1/credit-lines/{line}/disbursements?limit=500")).await;
    let stored: HashSet<String> =
        rows["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
    assert!(answered.is_subset(&stored), "every 201 the client received has its row");
}

#[tokio::test]
async fn kill_9_in_a_score_import_leaves_the_period_whole() {
    let Some(base) = fault_setup() else { return };
    let w = world(&base).await;
    // 20,000 enterprises, registered through the store to save time; the imports go through HTTP.
    let n = 20_000u32;
    let new = innoloan::store::parks::NewPark { code: "p".into(), name: "园区".into(), region: "r".into() };
    let park = innoloan::store::parks::create(&w.db, new).await.unwrap().id;
    let batch = (0..n)
        .map(|i| innoloan::store::enterprises::NewEnterprise {
            uscc: innoloan::domain::Uscc::parse(&uscc(i)).unwrap(),
            name: format!("企业{i}"),
            park_id: park,
            industry: "software".into(),
            size: innoloan::domain::EnterpriseSize::Small,
            founded_on: chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
            qualifications: Vec::new(),
        })
        .collect();
    innoloan::store::enterprises::create_many(&w.db, park, batch).await.unwrap();
    let import = |stage: &str| {
        let rows: Vec<Value> =
            (0..n).map(|i| json!({"uscc": uscc(i), "score": 10 + i % 900, "stage": stage})).collect();
        json!({"period": "2022", "scores": rows})
    };

    let mut server = Server::start(&w.database_url, None, "faults").await;
    let port = server.port();
    let (status, body) = w.post(&server, &format!("/api/v1/parks/{park}/scores"), &import("growth")).await;
    assert_eq!(status, 201, "{body}");
    // Kill the server at several points of a re-import: while the body is read and checked, and
    // while the transaction runs. Each time the period must be wholly old or wholly new.
    for (round, delay_ms) in [50u64, 250, 500, 800, 1_200, 1_800].into_iter().enumerate() {
        let stage = ["mature", "startup"][round % 2];
        let request = w
            .client
            .post(format!("{}/api/v1/parks/{park}/scores", server.address))
            .bearer_auth(&w.key)
            .json(&import(stage));
        let sent = tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        server.kill().await;
        let outcome = sent.await.unwrap();
        let row = w
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                w.db.get_database_backend(),
                "SELECT COUNT(*) AS total, COUNT(DISTINCT stage) AS stages, MIN(stage) AS stage FROM scores WHERE period = '2022'",
            ))
            .await
            .unwrap()
            .unwrap();
        let total = row.try_get::<i64>("", "total").unwrap();
        let stages = row.try_get::<i64>("", "stages").unwrap();
        let stored = row.try_get::<String>("", "stage").unwrap();
        println!(
            "kill -9 after {delay_ms} ms: the import answered {:?}; the period is {stored}",
            outcome.as_ref().ok()
        );
        assert_eq!((total, stages), (i64::from(n), 1), "the period is whole: every row, all old or all new");
        if matches!(outcome, Ok(201)) {
            assert_eq!(stored, stage, "an import that answered 201 is stored");
        }
        server = Server::start_on(port, &w.database_url, None, "faults").await;
    }
}
