//! Events and webhooks: the outbox, the feed, and signed deliveries to a real receiver.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::credit::post_with_key;
use crate::helpers::{TestApp, spawn_app, spawn_app_with, test_config, uscc};
use crate::receiver::{Answer, Receiver, signed_with};

/// A park, a bank with a published product, and a scored enterprise, with keys.
struct Market {
    park: String,
    bank: String,
    bank_key: String,
    firm: String,
    firm_key: String,
    product: String,
}

async fn market(app: &TestApp, tag: &str, n: u32) -> Market {
    let park = app.create_park(&format!("park-{tag}"), "高新区").await;
    let bank = app.create_bank(&format!("bank-{tag}"), "银行").await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let firm = app.create_enterprise(&park, &uscc(n), "科技有限公司").await;
    let firm_key = app.create_key("enterprise", Some(("enterprise_id", &firm))).await;
    let scores = json!({"period": "2022", "scores": [{"uscc": uscc(n), "score": 88, "stage": "growth"}]});
    app.post(&format!("/api/v1/parks/{park}/scores"), &app.admin_key, &scores).await.expect(201);
    let product = json!({
        "code": "p", "name": "积分贷", "credit_type": "pure_credit", "min_amount": 10_000, "max_amount": 1_000_000,
        "rate_bps_min": 350, "rate_bps_max": 450, "term_months_min": 6, "term_months_max": 36,
        "approval_sla_days": 5, "total_quota": 100_000_000,
    });
    let product = app.post("/api/v1/products", &bank_key, &product).await.expect(201).id();
    app.post(&format!("/api/v1/products/{product}/publish"), &bank_key, &json!({})).await.expect(200);
    Market { park, bank, bank_key, firm, firm_key, product }
}

async fn apply(app: &TestApp, m: &Market) -> String {
    let body = json!({"product_id": m.product, "amount": 100_000, "term_months": 12, "purpose": "研发"});
    app.post("/api/v1/applications", &m.firm_key, &body).await.expect(201).id()
}

/// Registers an endpoint; returns its id and secret.
async fn endpoint(app: &TestApp, key: &str, url: &str, types: &[&str]) -> (String, String) {
    let made = app
        .post(
            "/api/v1/webhook-endpoints",
            key,
            &json!({"url": url, "event_types": types, "description": "测试"}),
        )
        .await
        .expect(201);
    let secret = made.body["secret"].as_str().expect("the secret, this once").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (made.id(), secret)
}

async fn deliveries(app: &TestApp, key: &str, endpoint: &str) -> Vec<Value> {
    let reply =
        app.get(&format!("/api/v1/webhook-endpoints/{endpoint}/deliveries?limit=500"), key).await.expect(200);
    reply.body["items"].as_array().cloned().unwrap_or_default()
}

/// Waits until the endpoint's log holds `n` attempts.
async fn wait_for_log(app: &TestApp, key: &str, endpoint: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let log = deliveries(app, key, endpoint).await;
        if log.len() >= n {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    deliveries(app, key, endpoint).await
}

#[tokio::test]
async fn a_signed_event_is_retried_until_delivered_and_every_attempt_is_logged() {
    let app = spawn_app().await;
    let m = market(&app, "a", 1).await;
    let receiver = Receiver::start().await;
    receiver.script(&[Answer::Status(500), Answer::Status(500)]);
    let (endpoint, secret) = endpoint(&app, &m.bank_key, &receiver.url, &["application.submitted"]).await;
    let application = apply(&app, &m).await;

    let hits = receiver.wait_until(Duration::from_secs(15), |h| h.len() >= 3).await;
    assert_eq!(hits.len(), 3, "500, 500, then 200");
    let first = &hits[0];
    assert_eq!(first.event_type, "application.submitted");
    let event = first.json();
    assert_eq!(event["type"], "application.submitted");
    assert_eq!(event["id"], first.event_id.as_str());
    assert_eq!(event["data"]["id"], application.as_str());
    assert_eq!(event["data"]["status"], "submitted");
    // The data is the resource exactly as GET renders it (at the moment of the event).
    let read = app.get(&format!("/api/v1/applications/{application}"), &m.bank_key).await.expect(200);
    assert_eq!(event["data"], read.body);
    for hit in &hits {
        assert_eq!(hit.event_id, first.event_id, "the same event each time");
        assert_eq!(hit.body, first.body, "the same bytes each time");
        assert!(signed_with(&hit.signature, &hit.body, &secret), "{}", hit.signature);
        assert!(!signed_with(&hit.signature, &hit.body, "whsec_wrong"));
    }
    // No fourth attempt: it was delivered.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(receiver.hits().len(), 3);

    let log = wait_for_log(&app, &m.bank_key, &endpoint, 3).await;
    assert_eq!(log.len(), 3, "{log:?}");
    let attempts: Vec<(i64, i64)> =
        log.iter().map(|d| (d["attempt"].as_i64().unwrap(), d["status_code"].as_i64().unwrap())).collect();
    assert_eq!(attempts, [(1, 500), (2, 500), (3, 200)]);
    assert!(log.iter().all(|d| d["event_id"] == first.event_id.as_str()));
    assert!(log[0]["error"].as_str().unwrap().contains("500"));
    assert!(log[2].get("error").is_none(), "{:?}", log[2]);

    // The feed has the same event, byte for byte.
    let feed = app.get("/api/v1/events?types=application.submitted", &m.bank_key).await.expect(200);
    let items = feed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0], event);

    // Sending it again on request: the same event, once more.
    let again = log[2]["id"].as_str().unwrap();
    let retried = app
        .post(
            &format!("/api/v1/webhook-endpoints/{endpoint}/deliveries/{again}/retry"),
            &m.bank_key,
            &json!({}),
        )
        .await
        .expect(202);
    assert_eq!(retried.body["event_id"], first.event_id.as_str());
    let hits = receiver.wait_until(Duration::from_secs(10), |h| h.len() >= 4).await;
    assert_eq!(hits[3].event_id, first.event_id);
    let log = wait_for_log(&app, &m.bank_key, &endpoint, 4).await;
    assert_eq!(log[3]["attempt"], 4);
}

#[tokio::test]
async fn each_party_hears_only_of_its_own_resources() {
    let app = spawn_app().await;
    let a = market(&app, "a", 1).await;
    let b = market(&app, "b", 2).await;
    let office_a = app.create_key("park_office", Some(("park_id", &a.park))).await;
    let every = [
        "enterprise.registered",
        "scores.imported",
        "product.published",
        "product.suspended",
        "application.submitted",
        "application.under_review",
        "application.approved",
        "application.rejected",
        "application.withdrawn",
        "credit_line.granted",
        "disbursement.created",
    ];
    let bank_a = Receiver::start().await;
    let firm_a = Receiver::start().await;
    let park_a = Receiver::start().await;
    let admin = Receiver::start().await;
    endpoint(&app, &a.bank_key, &bank_a.url, &every).await;
    endpoint(&app, &a.firm_key, &firm_a.url, &every).await;
    endpoint(&app, &office_a, &park_a.url, &every).await;
    endpoint(&app, &app.admin_key, &admin.url, &every).await;

    // B's world moves: A's parties hear only of B's published product.
    let b_application = apply(&app, &b).await;
    let approval = json!({"amount": 100_000, "rate_bps": 400, "term_months": 12, "expires_on": "2099-12-31"});
    let approved = app
        .post(&format!("/api/v1/applications/{b_application}/approve"), &b.bank_key, &approval)
        .await
        .expect(200);
    let b_line = approved.body["credit_line"]["id"].as_str().unwrap().to_owned();
    let today = chrono::Utc::now().date_naive().to_string();
    let draw = json!({"amount": 1_000, "reference": "B-1", "disbursed_on": today});
    app.post(&format!("/api/v1/credit-lines/{b_line}/disbursements"), &b.bank_key, &draw).await.expect(201);
    let b_product = json!({
        "code": "q", "name": "新品", "credit_type": "pure_credit", "min_amount": 1, "max_amount": 10,
        "rate_bps_min": 1, "rate_bps_max": 2, "term_months_min": 1, "term_months_max": 2, "approval_sla_days": 1,
        "total_quota": 10,
    });
    let b_product = app.post("/api/v1/products", &b.bank_key, &b_product).await.expect(201).id();
    app.post(&format!("/api/v1/products/{b_product}/publish"), &b.bank_key, &json!({})).await.expect(200);
    app.post(&format!("/api/v1/products/{b_product}/suspend"), &b.bank_key, &json!({})).await.expect(200);
    // And A's world moves too.
    let a_application = apply(&app, &a).await;
    app.post(&format!("/api/v1/applications/{a_application}/review"), &a.bank_key, &json!({}))
        .await
        .expect(200);

    // The admin hears everything: wait for the last of it.
    let heard = admin
        .wait_until(Duration::from_secs(15), |h| h.iter().any(|h| h.event_type == "application.under_review"))
        .await;
    assert!(heard.iter().any(|h| h.event_type == "disbursement.created"));
    for receiver in [&bank_a, &firm_a, &park_a] {
        receiver
            .wait_until(Duration::from_secs(15), |h| {
                h.iter().any(|h| h.event_type == "application.under_review")
            })
            .await;
    }
    let data = |r: &Receiver| -> Vec<Value> { r.hits().iter().map(|h| h.json()).collect() };
    for (who, receiver) in [("bank A", &bank_a), ("enterprise A", &firm_a), ("park office A", &park_a)] {
        let events = data(receiver);
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert!(
            types.contains(&"application.submitted") && types.contains(&"application.under_review"),
            "{who}: {types:?}"
        );
        assert!(types.contains(&"product.published"), "{who}: B's published product is public: {types:?}");
        assert!(
            !types.contains(&"product.suspended"),
            "{who}: B's suspended product is B's alone: {types:?}"
        );
        for e in &events {
            let d = &e["data"];
            for field in ["enterprise_id", "bank_id", "park_id"] {
                let theirs = [b.firm.as_str(), b.bank.as_str(), b.park.as_str()];
                if e["type"] != "product.published" {
                    assert!(!theirs.contains(&d[field].as_str().unwrap_or("")), "{who} heard of B: {e}");
                }
            }
            assert_ne!(d["id"], b_application.as_str(), "{who} heard of B's application");
            assert_ne!(d["id"], b_line.as_str(), "{who} heard of B's credit line");
        }
    }
    // The same holds for the feed.
    let feed = app.get("/api/v1/events?limit=500", &a.firm_key).await.expect(200);
    let types: Vec<&str> =
        feed.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(!types.contains(&"credit_line.granted") && !types.contains(&"disbursement.created"), "{types:?}");
    assert!(
        types.contains(&"enterprise.registered") && types.contains(&"application.submitted"),
        "{types:?}"
    );
    let feed = app.get("/api/v1/events?limit=500", &b.bank_key).await.expect(200);
    let types: Vec<&str> =
        feed.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"disbursement.created") && types.contains(&"product.suspended"), "{types:?}");
    assert!(
        !types.contains(&"application.under_review") && !types.contains(&"enterprise.registered"),
        "{types:?}"
    );
}

#[tokio::test]
async fn the_feed_pages_in_id_order_and_filters_by_type() {
    let app = spawn_app().await;
    let m = market(&app, "a", 1).await;
    for _ in 0..3 {
        let id = apply(&app, &m).await;
        app.post(&format!("/api/v1/applications/{id}/withdraw"), &m.firm_key, &json!({})).await.expect(200);
    }
    let all = app.get("/api/v1/events?limit=500", &app.admin_key).await.expect(200);
    let ids: Vec<String> =
        all.body["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ids increase as text");
    assert!(ids.len() >= 9, "{ids:?}");
    // Paging with `after` walks the same events.
    let mut walked = Vec::new();
    let mut after = String::new();
    loop {
        let path = if after.is_empty() {
            "/api/v1/events?limit=2".to_owned()
        } else {
            format!("/api/v1/events?limit=2&after={after}")
        };
        let page = app.get(&path, &app.admin_key).await.expect(200);
        let items = page.body["items"].as_array().unwrap().clone();
        walked.extend(items.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(next) => after = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, ids);
    let withdrawn = app
        .get("/api/v1/events?types=application.withdrawn,%20application.submitted", &m.firm_key)
        .await
        .expect(200);
    let types: Vec<&str> =
        withdrawn.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.len(), 6, "{types:?}");
    app.get("/api/v1/events?types=application.eaten", &m.firm_key)
        .await
        .expect_error(422, "validation_failed");
    app.get("/api/v1/events?after=abc", &m.firm_key).await.expect_error(422, "validation_failed");
    app.request(Method::GET, "/api/v1/events", None, None).await.expect(401);
}

#[tokio::test]
async fn endpoints_are_their_owners_and_checked() {
    let app = spawn_app().await;
    let a = market(&app, "a", 1).await;
    let b = market(&app, "b", 2).await;
    let receiver = Receiver::start().await;
    let (id, _) = endpoint(&app, &a.bank_key, &receiver.url, &["application.submitted"]).await;
    let path = format!("/api/v1/webhook-endpoints/{id}");
    // Another bank, an enterprise: not found, exactly as a missing one.
    for key in [&b.bank_key, &a.firm_key] {
        app.get(&path, key).await.expect_error(404, "not_found");
        app.request(Method::PATCH, &path, Some(key), Some(&json!({"enabled": false}))).await.expect(404);
        app.delete(&path, key).await.expect(404);
        app.post(&format!("{path}/rotate-secret"), key, &json!({})).await.expect(404);
        app.get(&format!("{path}/deliveries"), key).await.expect(404);
    }
    app.get("/api/v1/webhook-endpoints/999999", &a.bank_key).await.expect(404);
    let listed = app.get("/api/v1/webhook-endpoints", &b.bank_key).await.expect(200);
    assert_eq!(listed.body["items"], json!([]));
    let listed = app.get("/api/v1/webhook-endpoints", &app.admin_key).await.expect(200);
    assert_eq!(listed.body["items"][0]["bank_id"], a.bank.as_str());
    assert!(listed.body["items"][0].get("secret").is_none(), "the secret is shown once only");

    // Bad input is a 422 naming the field.
    for body in [
        json!({"url": "ftp://example.com/x", "event_types": ["product.published"]}),
        json!({"url": "not a url", "event_types": ["product.published"]}),
        json!({"url": "https://user:pw@example.com/", "event_types": ["product.published"]}),
    ] {
        let reply = app.post("/api/v1/webhook-endpoints", &a.bank_key, &body).await.expect(422);
        assert_eq!(reply.error_fields(), vec!["url"], "{body}");
    }
    app.post("/api/v1/webhook-endpoints", &a.bank_key, &json!({"url": receiver.url, "event_types": []}))
        .await
        .expect(422);
    app.post("/api/v1/webhook-endpoints", &a.bank_key, &json!({"url": receiver.url, "event_types": ["x.y"]}))
        .await
        .expect(422);
    app.request(Method::GET, "/api/v1/webhook-endpoints", None, None).await.expect(401);

    // PATCH: pause, change types; the answer is the endpoint.
    let patched = app
        .request(
            Method::PATCH,
            &path,
            Some(&a.bank_key),
            Some(&json!({"enabled": false, "event_types": ["application.approved"]})),
        )
        .await
        .expect(200);
    assert_eq!(patched.body["enabled"], false);
    assert_eq!(patched.body["event_types"], json!(["application.approved"]));
    app.request(Method::PATCH, &path, Some(&a.bank_key), Some(&json!({"url": "gopher://x"})))
        .await
        .expect(422);

    // At most 16 endpoints per owner.
    for _ in 1..16 {
        endpoint(&app, &a.bank_key, &receiver.url, &["product.published"]).await;
    }
    let body = json!({"url": receiver.url, "event_types": ["product.published"]});
    app.post("/api/v1/webhook-endpoints", &a.bank_key, &body).await.expect_error(409, "conflict");
    // Deleting one makes room; a deleted endpoint is gone.
    app.delete(&path, &a.bank_key).await.expect(204);
    app.get(&path, &a.bank_key).await.expect(404);
    app.delete(&path, &a.bank_key).await.expect(404);
    app.post("/api/v1/webhook-endpoints", &a.bank_key, &body).await.expect(201);
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_new_one() {
    let app = spawn_app().await;
    let m = market(&app, "a", 1).await;
    let receiver = Receiver::start().await;
    let (id, old) = endpoint(&app, &m.bank_key, &receiver.url, &["application.submitted"]).await;
    let rotated = app
        .post(&format!("/api/v1/webhook-endpoints/{id}/rotate-secret"), &m.bank_key, &json!({}))
        .await
        .expect(200);
    let new = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated.body["previous_secret_expires_at"].is_string(), "{}", rotated.body);
    apply(&app, &m).await;
    let hits = receiver.wait_until(Duration::from_secs(10), |h| !h.is_empty()).await;
    let hit = &hits[0];
    assert_eq!(hit.signature.matches("v1=").count(), 2, "{}", hit.signature);
    assert!(signed_with(&hit.signature, &hit.body, &new) && signed_with(&hit.signature, &hit.body, &old));
}

#[tokio::test]
async fn an_endpoint_that_fails_its_whole_schedule_is_disabled_and_told() {
    let mut config = test_config().await;
    config.webhook_retry_schedule = innoloan::domain::webhook::RetrySchedule::parse("100ms,100ms").unwrap();
    let app = spawn_app_with(config).await;
    let m = market(&app, "a", 1).await;
    let receiver = Receiver::start().await;
    receiver.otherwise(Answer::Status(503));
    let (id, _) = endpoint(&app, &m.bank_key, &receiver.url, &["application.submitted"]).await;
    let (_, _) =
        endpoint(&app, &m.bank_key, &Receiver::start().await.url, &["webhook_endpoint.disabled"]).await;
    apply(&app, &m).await;
    receiver.wait_until(Duration::from_secs(10), |h| h.len() >= 3).await;
    let mut read = Value::Null;
    for _ in 0..100 {
        read = app.get(&format!("/api/v1/webhook-endpoints/{id}"), &m.bank_key).await.expect(200).body;
        if read["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(read["enabled"], false, "{read}");
    assert!(read["disabled_reason"].as_str().unwrap().contains("retry schedule"), "{read}");
    assert_eq!(receiver.hits().len(), 3, "the first attempt and one after each delay");
    let feed = app.get("/api/v1/events?types=webhook_endpoint.disabled", &m.bank_key).await.expect(200);
    assert_eq!(feed.body["items"][0]["data"]["id"], id.as_str());
    // Another bank does not hear of it.
    let other = app.create_bank("other", "他行").await;
    let other_key = app.create_key("bank", Some(("bank_id", &other))).await;
    let feed = app.get("/api/v1/events?types=webhook_endpoint.disabled", &other_key).await.expect(200);
    assert_eq!(feed.body["items"], json!([]));
    // A disabled endpoint is not sent to, and says so on a retry.
    let log = deliveries(&app, &m.bank_key, &id).await;
    let attempt = log[0]["id"].as_str().unwrap();
    app.post(&format!("/api/v1/webhook-endpoints/{id}/deliveries/{attempt}/retry"), &m.bank_key, &json!({}))
        .await
        .expect(409);
    // Enabling it again clears the reason.
    let enabled = app
        .request(
            Method::PATCH,
            &format!("/api/v1/webhook-endpoints/{id}"),
            Some(&m.bank_key),
            Some(&json!({"enabled": true})),
        )
        .await
        .expect(200);
    assert!(enabled.body.get("disabled_reason").is_none(), "{}", enabled.body);
}

#[tokio::test]
async fn private_addresses_are_refused_without_the_flag() {
    let mut config = test_config().await;
    config.webhook_allow_private_networks = false;
    let app = spawn_app_with(config).await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.0.0.8/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0/",
    ] {
        let body = json!({"url": url, "event_types": ["product.published"]});
        let reply = app.post("/api/v1/webhook-endpoints", &app.admin_key, &body).await.expect(422);
        assert_eq!(reply.error_fields(), vec!["url"], "{url}: {}", reply.text);
    }
    // A public address is accepted (nothing is sent to it here: nothing it subscribes to happens).
    let body = json!({"url": "https://93.184.215.14/hooks", "event_types": ["scores.imported"]});
    app.post("/api/v1/webhook-endpoints", &app.admin_key, &body).await.expect(201);
}

#[tokio::test]
async fn an_idempotent_replay_of_a_registration_does_not_show_the_secret_again() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let body = json!({"url": receiver.url, "event_types": ["product.published"]});
    let first =
        post_with_key(&app, "/api/v1/webhook-endpoints", &app.admin_key, "hook-1", &body).await.expect(201);
    assert!(first.body["secret"].is_string());
    let again =
        post_with_key(&app, "/api/v1/webhook-endpoints", &app.admin_key, "hook-1", &body).await.expect(201);
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(again.body["id"], first.body["id"]);
    assert!(again.body.get("secret").is_none());
}

#[tokio::test]
async fn old_events_are_forgotten_unless_an_endpoint_still_waits_for_them() {
    let app = spawn_app().await;
    let m = market(&app, "a", 1).await;
    let receiver = Receiver::start().await;
    receiver.otherwise(Answer::Hang);
    let (endpoint, _) = endpoint(&app, &m.bank_key, &receiver.url, &["application.submitted"]).await;
    apply(&app, &m).await;
    receiver.wait_until(Duration::from_secs(10), |h| !h.is_empty()).await;
    let before = app.get("/api/v1/events?limit=500", &app.admin_key).await.expect(200);
    let total = before.body["items"].as_array().unwrap().len();
    assert!(total > 1, "{total}");
    // Everything is older than a horizon in the future: all goes but the event the endpoint
    // still waits for.
    let horizon = chrono::Utc::now() + chrono::Duration::days(1);
    let purged = innoloan::store::events::purge(&app.db, horizon).await.unwrap();
    assert_eq!(purged as usize, total - 1);
    let after = app.get("/api/v1/events?limit=500", &app.admin_key).await.expect(200);
    let left: Vec<&str> =
        after.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(left, ["application.submitted"]);
    app.get(&format!("/api/v1/webhook-endpoints/{endpoint}"), &m.bank_key).await.expect(200);
}
