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
