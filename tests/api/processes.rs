//! Real `innoloan serve` processes sharing one PostgreSQL database.

use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{spawn_app_with, test_config, uscc};
use crate::server::Server;

#[tokio::test]
async fn two_server_processes_never_overdraw_one_line() {
    if std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()).is_none() {
        assert!(std::env::var("TEST_REQUIRE_SERVICES").is_err(), "TEST_DATABASE_URL is required here");
        crate::server::skip(
            "two_server_processes_never_overdraw_one_line",
            "TEST_DATABASE_URL is not set (two processes need a shared PostgreSQL)",
        );
        return;
    }
    let config = test_config().await;
    let app = spawn_app_with(config.clone()).await;
    let park = app.create_park("p", "园区").await;
    let bank = app.create_bank("b", "银行").await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let firm = app.create_enterprise(&park, &uscc(1), "企业").await;
    let scores = json!({"period": "2022", "scores": [{"uscc": uscc(1), "score": 80, "stage": "growth"}]});
    app.post(&format!("/api/v1/parks/{park}/scores"), &app.admin_key, &scores).await.expect(201);
    let product = json!({
        "code": "p", "name": "积分贷", "credit_type": "pure_credit", "min_amount": 50_000, "max_amount": 50_000,
        "rate_bps_min": 400, "rate_bps_max": 400, "term_months_min": 12, "term_months_max": 12,
        "approval_sla_days": 5, "total_quota": 1_000_000,
    });
    let product = app.post("/api/v1/products", &bank_key, &product).await.expect(201).id();
    app.post(&format!("/api/v1/products/{product}/publish"), &bank_key, &json!({})).await.expect(200);
    let application = json!({"product_id": product, "amount": 50_000, "term_months": 12, "purpose": "研发", "enterprise_id": firm});
    let application = app.post("/api/v1/applications", &app.admin_key, &application).await.expect(201).id();
    let approval = json!({"amount": 50_000, "rate_bps": 400, "term_months": 12, "expires_on": "2099-01-01"});
    let approved = app
        .post(&format!("/api/v1/applications/{application}/approve"), &bank_key, &approval)
        .await
        .expect(200);
    let line = approved.body["credit_line"]["id"].as_str().unwrap().to_owned();

    let redis = config.redis_url.as_deref();
    let first_server = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;
    let second_server = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;
    let (first, second) = (&first_server.address, &second_server.address);
    let client = reqwest::Client::new();
    let today = chrono::Utc::now().date_naive().to_string();
    let requests = (0..100).map(|n| {
        let address = if n % 2 == 0 { first } else { second };
        let request = client
            .post(format!("{address}/api/v1/credit-lines/{line}/disbursements"))
            .bearer_auth(&bank_key)
            .json(&json!({"amount": 1_000, "reference": format!("P-{n:03}"), "disbursed_on": today}));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    });
    let replies = join_all(requests).await;
    let created: HashSet<String> = replies
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| b["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        created.len(),
        50,
        "{:?}",
        replies.iter().filter(|(s, _)| *s != 201 && *s != 422).collect::<Vec<_>>()
    );
    assert!(
        replies.iter().all(|(s, b)| *s == 201 || (*s == 422 && b["error"]["code"] == "exceeds_available"))
    );
    let rows =
        app.get(&format!("/api/v1/credit-lines/{line}/disbursements?limit=500"), &bank_key).await.expect(200);
    let stored: HashSet<String> =
        rows.body["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(stored, created, "every 201 has its row, and every row had its 201");
    let line_now = app.get(&format!("/api/v1/credit-lines/{line}"), &bank_key).await.expect(200);
    assert_eq!(line_now.body["disbursed_total"], 50_000);
}

/// The server's peak resident memory (VmHWM), in MiB.
fn peak_rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[tokio::test]
async fn large_bodies_without_a_key_or_role_cost_the_server_nothing() {
    if !std::path::Path::new("/proc/self/status").exists() {
        crate::server::skip("large_bodies_without_a_key_or_role_cost_the_server_nothing", "no /proc here");
        return;
    }
    let mut config = test_config().await;
    let directory = std::env::temp_dir().join(format!("innoloan-memory-{}", uuid::Uuid::new_v4().simple()));
    if config.database_url.starts_with("sqlite") {
        std::fs::create_dir_all(&directory).unwrap();
        config.database_url = format!("sqlite://{}/db.sqlite?mode=rwc", directory.display());
    }
    let app = spawn_app_with(config.clone()).await;
    let park = app.create_park("p", "园区").await;
    let firm = app.create_enterprise(&park, &uscc(1), "企业").await;
    let firm_key = app.create_key("enterprise", Some(("enterprise_id", &firm))).await;
    let server = Server::start(&config.database_url, None, &config.redis_key_prefix).await;
    let pid = server.child.id().unwrap();
    let before = peak_rss_mib(pid).unwrap();

    let body = bytes::Bytes::from(vec![b' '; 60 * 1024 * 1024]);
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/parks/{park}/scores", server.address);
    let keys: Vec<Option<String>> = (0..8).map(|_| None).chain([Some(firm_key)]).collect();
    let requests = keys.into_iter().map(|key| {
        let mut request = client.post(&url).header("content-type", "application/json").body(body.clone());
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        async move {
            // The server answers and closes without reading; the client may see the answer or
            // a connection closed under its upload. Either way nothing is stored.
            request.send().await.map(|r| r.status().as_u16()).ok()
        }
    });
    let statuses = join_all(requests).await;
    assert!(statuses.iter().flatten().all(|s| *s == 401 || *s == 403), "{statuses:?}");
    assert!(statuses.iter().flatten().count() > 0, "no request got an answer: {statuses:?}");
    let after = peak_rss_mib(pid).unwrap();
    assert!(after < 200, "the server peaked at {after} MiB (it started at {before} MiB)");
    assert!(after < before + 40, "the server grew from {before} MiB to {after} MiB");
    drop(server);
    let _ = std::fs::remove_dir_all(&directory);
}

/// Skips (saying so) unless a PostgreSQL is given; in CI (`TEST_REQUIRE_SERVICES`) its absence
/// fails.
fn postgres_or_skip(test: &str) -> bool {
    if std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()).is_some() {
        return true;
    }
    assert!(std::env::var("TEST_REQUIRE_SERVICES").is_err(), "TEST_DATABASE_URL is required here");
    crate::server::skip(test, "TEST_DATABASE_URL is not set (processes need a shared PostgreSQL)");
    false
}

/// Waits until an endpoint's delivery log holds a delivered attempt of every one of `events`.
async fn wait_for_delivered(app: &crate::helpers::TestApp, endpoint: &str, events: usize) -> Vec<Value> {
    let mut log = Vec::new();
    for _ in 0..600 {
        log = all_attempts(app, endpoint).await;
        let delivered: HashSet<&str> =
            log.iter().filter(|a| a["status_code"] == 200).filter_map(|a| a["event_id"].as_str()).collect();
        if delivered.len() >= events {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    log
}

async fn all_attempts(app: &crate::helpers::TestApp, endpoint: &str) -> Vec<Value> {
    let mut attempts = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/api/v1/webhook-endpoints/{endpoint}/deliveries?limit=500{cursor}");
        let page = app.get(&path, &app.admin_key).await.expect(200);
        attempts.extend(page.body["items"].as_array().cloned().unwrap_or_default());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return attempts,
        }
    }
}

#[tokio::test]
async fn a_server_killed_mid_delivery_loses_no_event() {
    use crate::receiver::{Answer, Receiver};
    if !postgres_or_skip("a_server_killed_mid_delivery_loses_no_event") {
        return;
    }
    let mut config = test_config().await;
    config.webhook_delivery = false;
    let app = spawn_app_with(config.clone()).await;
    let park = app.create_park("p", "园区").await;
    let receiver = Receiver::start().await;
    // The first request is never answered: the server dies while it waits.
    receiver.script(&[Answer::Hang]);
    let body = json!({"url": receiver.url, "event_types": ["enterprise.registered"]});
    let endpoint = app.post("/api/v1/webhook-endpoints", &app.admin_key, &body).await.expect(201).id();
    let env = [("WEBHOOK_TIMEOUT_MS", "1000")];
    let redis = config.redis_url.as_deref();
    let free_port = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let first =
        Server::start_with(free_port(), &config.database_url, redis, &config.redis_key_prefix, &env).await;
    // The event is committed (the registration answered 201) and then sent.
    let firm = app.create_enterprise(&park, &uscc(1), "企业").await;
    let hits = receiver.wait_until(std::time::Duration::from_secs(10), |h| !h.is_empty()).await;
    assert_eq!(hits.len(), 1, "the first server took the delivery");
    first.kill().await;
    let second =
        Server::start_with(free_port(), &config.database_url, redis, &config.redis_key_prefix, &env).await;
    // Its lease lapses (twice the timeout and 5 s), and the second server sends the event again.
    let hits = receiver.wait_until(std::time::Duration::from_secs(20), |h| h.len() >= 2).await;
    assert_eq!(hits.len(), 2, "the event was delivered after the restart");
    assert_eq!(hits[1].event_id, hits[0].event_id);
    assert_eq!(hits[1].json()["data"]["id"], firm.as_str());
    let log = wait_for_delivered(&app, &endpoint, 1).await;
    assert!(log.iter().any(|a| a["status_code"] == 200), "{log:?}");
    drop(second);
}

#[tokio::test]
async fn two_servers_deliver_a_thousand_events_each_once_at_a_time() {
    use crate::receiver::Receiver;
    use innoloan::service::{Write, directory};
    use innoloan::store::{audit::Actor, enterprises::NewEnterprise};
    use sea_orm::TransactionTrait;
    if !postgres_or_skip("two_servers_deliver_a_thousand_events_each_once_at_a_time") {
        return;
    }
    let mut config = test_config().await;
    config.webhook_delivery = false;
    let app = spawn_app_with(config.clone()).await;
    let park = app.create_park("p", "园区").await;
    let receiver = Receiver::start().await;
    // Each answer takes a moment, so that two workers holding one delivery would overlap.
    receiver.delay(std::time::Duration::from_millis(5));
    let body = json!({"url": receiver.url, "event_types": ["enterprise.registered"]});
    let endpoint = app.post("/api/v1/webhook-endpoints", &app.admin_key, &body).await.expect(201).id();
    let redis = config.redis_url.as_deref();
    let first = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;
    let second = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;

    // A thousand registrations in one transaction: a thousand events at once.
    let park_id: i64 = park.parse().unwrap();
    let batch: Vec<NewEnterprise> = (0..1_000)
        .map(|i| NewEnterprise {
            uscc: innoloan::domain::Uscc::parse(&uscc(i + 1)).unwrap(),
            name: format!("企业{i}"),
            park_id,
            industry: "software".into(),
            size: innoloan::domain::EnterpriseSize::Small,
            founded_on: chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
            qualifications: Vec::new(),
        })
        .collect();
    let txn = app.db.begin().await.unwrap();
    let mut w = Write::new(&txn, Actor::command_line());
    directory::register_enterprises(&mut w, innoloan::domain::Principal::command_line(), park_id, batch)
        .await
        .unwrap();
    w.close().await.unwrap();
    txn.commit().await.unwrap();

    let hits = receiver
        .wait_until(std::time::Duration::from_secs(90), |h| {
            h.iter().map(|h| h.event_id.as_str()).collect::<HashSet<_>>().len() >= 1_000
        })
        .await;
    let received: HashSet<&str> = hits.iter().map(|h| h.event_id.as_str()).collect();
    assert_eq!(received.len(), 1_000, "every event reached its endpoint");
    assert_eq!(receiver.concurrent_duplicates(), 0, "no event was sent by two workers at once");
    let log = wait_for_delivered(&app, &endpoint, 1_000).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let log_now = all_attempts(&app, &endpoint).await;
    assert!(log_now.len() >= log.len());
    let hits = receiver.hits();
    // An attempt that never reached the receiver (a reset connection) is logged without a status.
    let answered = log_now.iter().filter(|a| a["status_code"].is_number()).count();
    assert_eq!(answered, hits.len(), "each attempt is in the log once");
    let ids: HashSet<&str> = log_now.iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids.len(), log_now.len());
    drop((first, second));
}

/// Draws and repayments race on one revolving line through two server processes: the principal
/// outstanding never exceeds the line (a CHECK would refuse the row), and the line's balances
/// equal the sums of its rows.
#[tokio::test]
async fn draws_and_repayments_racing_across_two_processes_keep_a_revolving_line_within_its_amount() {
    if !postgres_or_skip(
        "draws_and_repayments_racing_across_two_processes_keep_a_revolving_line_within_its_amount",
    ) {
        return;
    }
    let l = crate::credit::lending(1_000, 100_000_000, 1_000_000_000).await;
    let line = crate::loans::revolving_line(&l, 50_000).await;
    let today = chrono::Utc::now().date_naive().to_string();
    // Five loans fill the line.
    let mut loans = Vec::new();
    for n in 0..5 {
        let body = json!({"amount": 10_000, "reference": format!("FILL-{n}"), "disbursed_on": today});
        let path = format!("/api/v1/credit-lines/{line}/disbursements");
        loans.push(l.app.post(&path, &l.bank_key, &body).await.expect(201).id());
    }
    let config = &l.app.config;
    let redis = config.redis_url.as_deref();
    let first_server = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;
    let second_server = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;
    let (first, second) = (&first_server.address, &second_server.address);
    let client = reqwest::Client::new();
    // 50 repayments of 1,000 fen (ten on each loan, repaying all of it) and 50 draws of 1,000.
    let requests = (0..100).map(|n| {
        let address = if n % 2 == 0 { first } else { second };
        let request = if n % 2 == 0 {
            let loan = &loans[(n / 2) % 5];
            client
                .post(format!("{address}/api/v1/loans/{loan}/repayments"))
                .json(&json!({"amount": 1_000, "reference": format!("PAY-{n:03}"), "paid_on": today}))
        } else {
            client
                .post(format!("{address}/api/v1/credit-lines/{line}/disbursements"))
                .json(&json!({"amount": 1_000, "reference": format!("DRAW-{n:03}"), "disbursed_on": today}))
        };
        let request = request.bearer_auth(&l.bank_key);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (n, status, response.json::<Value>().await.unwrap())
        }
    });
    let replies = join_all(requests).await;
    let repaid = replies.iter().filter(|(n, s, _)| n % 2 == 0 && *s == 201).count() as i64;
    let drawn = replies.iter().filter(|(n, s, _)| n % 2 == 1 && *s == 201).count() as i64;
    assert_eq!(repaid, 50, "every repayment fits its loan: {replies:?}");
    assert!(
        replies.iter().all(|(_, s, b)| *s == 201 || (*s == 422 && b["error"]["code"] == "exceeds_available")),
        "{replies:?}"
    );
    assert!(drawn <= repaid, "{drawn} draws of 1,000 fen beside {repaid} repayments");

    let line_now = l.app.get(&format!("/api/v1/credit-lines/{line}"), &l.bank_key).await.expect(200).body;
    let outstanding = line_now["principal_outstanding"].as_i64().unwrap();
    assert!(outstanding <= 50_000, "{line_now}");
    assert_eq!(outstanding, 50_000 + 1_000 * drawn - 1_000 * repaid);
    let disbursements = l
        .app
        .get(&format!("/api/v1/credit-lines/{line}/disbursements?limit=500"), &l.bank_key)
        .await
        .expect(200)
        .body;
    let disbursed: i64 =
        disbursements["items"].as_array().unwrap().iter().map(|d| d["amount"].as_i64().unwrap()).sum();
    assert_eq!(line_now["disbursed_total"].as_i64().unwrap(), disbursed);
    let loans_now = l
        .app
        .get(&format!("/api/v1/credit-lines/{line}/loans?limit=500"), &l.bank_key)
        .await
        .expect(200)
        .body;
    let loan_outstanding: i64 = loans_now["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["principal_outstanding"].as_i64().unwrap())
        .sum();
    assert_eq!(outstanding, loan_outstanding, "the line's balance is the sum over its loans");
}
