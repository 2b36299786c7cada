//! Risk-compensation pools: enrolment, computed claims with caps, one claim per loan, approvals
//! that never take a pool below zero (across two processes on PostgreSQL), recoveries returning
//! the pool's share, and a balance that is always its ledger's sum.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::credit::{Lending, apply, approval, lending};
use crate::helpers::TestApp;

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// A pool over the lending world's product: 90%, at most ¥600,000 a loan, enrolling this year.
async fn pool(l: &Lending, office: &str, cap: i64) -> String {
    let year = chrono::Utc::now().date_naive().format("%Y").to_string();
    let body = json!({
        "name": "科技信贷风险补偿资金池", "product_ids": [l.product], "coverage_bps": 9_000, "per_loan_cap": cap,
        "enrol_from": format!("{year}-01-01"), "enrol_to": format!("{year}-12-31"),
    });
    app(l).post(&format!("/api/v1/parks/{}/risk-pools", l.park), office, &body).await.expect(201).id()
}

fn app(l: &Lending) -> &TestApp {
    &l.app
}

/// A line of `amount` for the lending world's enterprise.
async fn line(l: &Lending, amount: i64) -> String {
    let application = apply(l, amount).await;
    let approved = l
        .app
        .post(&format!("/api/v1/applications/{application}/approve"), &l.bank_key, &approval(amount))
        .await;
    approved.expect(200).body["credit_line"]["id"].as_str().unwrap().to_owned()
}

async fn draw(l: &Lending, line: &str, amount: i64, reference: &str) -> String {
    let body = json!({"amount": amount, "reference": reference, "disbursed_on": today()});
    l.app
        .post(&format!("/api/v1/credit-lines/{line}/disbursements"), &l.bank_key, &body)
        .await
        .expect(201)
        .id()
}

async fn repay(l: &Lending, loan: &str, amount: i64, reference: &str) -> Value {
    let body = json!({"amount": amount, "paid_on": today(), "reference": reference});
    l.app.post(&format!("/api/v1/loans/{loan}/repayments"), &l.bank_key, &body).await.expect(201).body
}

async fn substandard(l: &Lending, loan: &str) {
    let body = json!({"classification": "substandard", "reason": "经营困难，现金流紧张"});
    l.app.post(&format!("/api/v1/loans/{loan}/classify"), &l.bank_key, &body).await.expect(200);
}

async fn balance_is_ledger(l: &Lending, pool: &str, office: &str) -> i64 {
    let view = l.app.get(&format!("/api/v1/risk-pools/{pool}"), office).await.expect(200).body;
    let entries =
        l.app.get(&format!("/api/v1/risk-pools/{pool}/entries?limit=500"), office).await.expect(200).body;
    let sum: i64 = entries["items"].as_array().unwrap().iter().map(|e| e["amount"].as_i64().unwrap()).sum();
    assert_eq!(view["balance"].as_i64().unwrap(), sum, "the balance is the sum of the ledger");
    sum
}

#[tokio::test]
async fn a_claim_pays_coverage_of_the_unpaid_principal_once_and_recoveries_return_the_share() {
    let l = lending(100_000, 200_000_000, 10_000_000_000).await;
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    // ¥600,000 cap.
    let pool = pool(&l, &office, 60_000_000).await;
    let line = line(&l, 110_000_000).await;
    // A ¥1,000,000 loan, ¥200,000 repaid the same day (no interest has accrued: all principal).
    let loan = draw(&l, &line, 100_000_000, "RP-1").await;
    let repaid = repay(&l, &loan, 20_000_000, "RP-R1").await;
    assert_eq!(repaid["principal_paid"], 20_000_000);
    let claims = format!("/api/v1/risk-pools/{pool}/claims");
    // Performing: no claim.
    let refused = l
        .app
        .post(&claims, &l.bank_key, &json!({"loan_id": loan}))
        .await
        .expect_error(422, "validation_failed");
    assert!(refused.body["error"]["details"][0]["message"].as_str().unwrap().contains("non-performing"));
    substandard(&l, &loan).await;
    // ¥800,000 unpaid × 90% = ¥720,000, capped at ¥600,000.
    let claim = l.app.post(&claims, &l.bank_key, &json!({"loan_id": loan})).await.expect(201);
    assert_eq!(
        (
            claim.body["unpaid_principal"].as_i64(),
            claim.body["amount"].as_i64(),
            claim.body["status"].as_str()
        ),
        (Some(80_000_000), Some(60_000_000), Some("filed"))
    );
    let claim = claim.id();
    l.app.post(&claims, &l.bank_key, &json!({"loan_id": loan})).await.expect_error(409, "conflict");
    // ¥150,000 more is repaid before the office decides: the claim is paid on what is unpaid
    // then, ¥650,000 × 90% = ¥585,000.
    repay(&l, &loan, 15_000_000, "RP-R3").await;
    // An empty pool cannot pay.
    let approve = format!("/api/v1/risk-claims/{claim}/approve");
    l.app.post(&approve, &office, &json!({})).await.expect_error(422, "insufficient_pool");
    // A reference with a NUL, which PostgreSQL cannot store, is refused at its field.
    let nul = json!({"amount": 100_000_000, "reference": "E\u{0}ˋ"});
    let refused = l.app.post(&format!("/api/v1/risk-pools/{pool}/top-ups"), &office, &nul).await;
    assert_eq!(refused.expect_error(422, "validation_failed").error_fields(), ["reference"]);
    let top_up = json!({"amount": 100_000_000, "reference": "财政拨付-2026-001"});
    let topped =
        l.app.post(&format!("/api/v1/risk-pools/{pool}/top-ups"), &office, &top_up).await.expect(201);
    assert_eq!(topped.body["balance"], 100_000_000);
    l.app
        .post(&format!("/api/v1/risk-pools/{pool}/top-ups"), &office, &top_up)
        .await
        .expect_error(409, "conflict");
    l.app.post(&approve, &l.bank_key, &json!({})).await.expect_error(403, "forbidden");
    let paid = l.app.post(&approve, &office, &json!({})).await.expect(200);
    assert_eq!(paid.body["status"], "approved");
    assert_eq!(
        (paid.body["amount"].as_i64(), paid.body["unpaid_principal"].as_i64()),
        (Some(58_500_000), Some(65_000_000))
    );
    l.app.post(&approve, &office, &json!({})).await.expect_error(409, "invalid_state");
    let view = l.app.get(&format!("/api/v1/risk-pools/{pool}"), &office).await.expect(200).body;
    assert_eq!(
        (view["balance"].as_i64(), view["claims_paid"].as_i64(), view["paid"].as_i64()),
        (Some(41_500_000), Some(1), Some(58_500_000))
    );
    // ¥650,000 outstanding on ¥415,000.
    assert_eq!(view["enrolled_outstanding"].as_i64(), Some(65_000_000));
    assert!((view["leverage"].as_f64().unwrap() - 65.0 / 41.5).abs() < 1e-9);
    // A ¥100,000 recovery returns the pool's share of the loss: 585,000 ÷ 650,000 = 90%, ¥90,000.
    repay(&l, &loan, 10_000_000, "RP-R2").await;
    let claim_now = l.app.get(&format!("/api/v1/risk-claims/{claim}"), &l.bank_key).await.expect(200).body;
    assert_eq!(claim_now["returned"], 9_000_000);
    assert_eq!(balance_is_ledger(&l, &pool, &office).await, 50_500_000);
    let kinds: Vec<String> =
        l.app.get(&format!("/api/v1/risk-pools/{pool}/entries"), &office).await.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect();
    assert_eq!(kinds, ["top_up", "claim_paid", "recovery_returned"]);
    let stats = l.app.get(&format!("/api/v1/parks/{}/stats", l.park), &office).await.expect(200).body;
    let row = &stats["risk_pools"][0];
    assert_eq!((row["balance"].as_i64(), row["paid"].as_i64()), (Some(50_500_000), Some(58_500_000)));
    // The park hears of the claim and its decision.
    let events =
        l.app.get("/api/v1/events?types=risk_claim.filed,risk_claim.decided", &office).await.expect(200);
    assert_eq!(events.body["items"].as_array().unwrap().len(), 2);

    // A rejected claim needs a reason, and leaves the loan free to be claimed on again.
    let second = draw(&l, &line, 10_000_000, "RP-2").await;
    substandard(&l, &second).await;
    let filed = l.app.post(&claims, &l.bank_key, &json!({"loan_id": second})).await.expect(201);
    assert_eq!(filed.body["amount"], 9_000_000);
    let reject = format!("/api/v1/risk-claims/{}/reject", filed.id());
    l.app.post(&reject, &office, &json!({})).await.expect_error(422, "validation_failed");
    l.app.post(&reject, &office, &json!({"reason": "贷前调查材料不全"})).await.expect(200);
    l.app.post(&claims, &l.bank_key, &json!({"loan_id": second})).await.expect(201);
    // Another park's office, a bank without a covered product, and the enterprise see nothing.
    let other = l.app.create_park("other", "别的园区").await;
    let other_office = l.app.create_key("park_office", Some(("park_id", &other))).await;
    l.app.get(&format!("/api/v1/risk-pools/{pool}"), &other_office).await.expect_error(404, "not_found");
    l.app.post(&approve, &other_office, &json!({})).await.expect_error(404, "not_found");
    let stranger_bank = l.app.create_bank("zz", "别的银行").await;
    let stranger = l.app.create_key("bank", Some(("bank_id", &stranger_bank))).await;
    l.app.get(&format!("/api/v1/risk-pools/{pool}"), &stranger).await.expect_error(404, "not_found");
    l.app.post(&claims, &stranger, &json!({"loan_id": loan})).await.expect_error(404, "not_found");
    l.app.get(&format!("/api/v1/risk-pools/{pool}"), &l.firm_key).await.expect_error(403, "forbidden");
    l.app.verify_totals().await;
}

#[tokio::test]
async fn a_loan_outside_the_window_or_the_products_is_not_enrolled() {
    let l = lending(100_000, 100_000_000, 10_000_000_000).await;
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    let line = line(&l, 50_000_000).await;
    // Drawn before the pool existed, in its window: enrolled when the pool opens.
    let early = draw(&l, &line, 10_000_000, "E-1").await;
    let body = json!({"name": "去年的池", "product_ids": [l.product], "coverage_bps": 5_000, "per_loan_cap": 1_000_000,
                      "enrol_from": "2020-01-01", "enrol_to": "2020-12-31"});
    let old =
        l.app.post(&format!("/api/v1/parks/{}/risk-pools", l.park), &office, &body).await.expect(201).id();
    let pool = pool(&l, &office, 60_000_000).await;
    let view = l.app.get(&format!("/api/v1/risk-pools/{pool}"), &office).await.expect(200).body;
    assert_eq!(view["enrolled_outstanding"], 10_000_000);
    substandard(&l, &early).await;
    let reply = l
        .app
        .post(&format!("/api/v1/risk-pools/{old}/claims"), &l.bank_key, &json!({"loan_id": early}))
        .await;
    assert!(
        reply.expect_error(422, "validation_failed").body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not enrolled")
    );
    l.app
        .post(&format!("/api/v1/risk-pools/{pool}/claims"), &l.bank_key, &json!({"loan_id": early}))
        .await
        .expect(201);
    // Unknown products and a window that ends before it starts are refused whole.
    let bad = json!({"name": "x", "product_ids": ["999999", l.product, l.product], "coverage_bps": 9_000, "per_loan_cap": 1,
                     "enrol_from": "2026-01-01", "enrol_to": "2025-01-01"});
    let reply = l.app.post(&format!("/api/v1/parks/{}/risk-pools", l.park), &office, &bad).await;
    let mut fields = reply.expect_error(422, "validation_failed").error_fields();
    fields.sort();
    assert_eq!(fields, ["enrol_to", "product_ids[2]"]);
}

#[tokio::test]
async fn fifty_approvals_across_two_processes_pay_exactly_what_the_pool_holds() {
    use crate::server::Server;
    if std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()).is_none() {
        assert!(std::env::var("TEST_REQUIRE_SERVICES").is_err(), "TEST_DATABASE_URL is required here");
        crate::server::skip(
            "fifty_approvals_across_two_processes_pay_exactly_what_the_pool_holds",
            "TEST_DATABASE_URL is not set (two processes need a shared PostgreSQL)",
        );
        return;
    }
    let l = lending(100_000, 100_000_000, 100_000_000_000).await;
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    let pool = pool(&l, &office, 300_000_000).await;
    let line = line(&l, 50_000_000).await;
    let mut claims = Vec::new();
    for n in 0..50 {
        // ¥10,000 loans: each claim pays ¥9,000.
        let loan = draw(&l, &line, 1_000_000, &format!("R-{n:02}")).await;
        substandard(&l, &loan).await;
        let path = format!("/api/v1/risk-pools/{pool}/claims");
        claims.push(l.app.post(&path, &l.bank_key, &json!({"loan_id": loan})).await.expect(201).id());
    }
    // Enough for ten.
    let top_up = json!({"amount": 9_000_000, "reference": "TEN"});
    l.app.post(&format!("/api/v1/risk-pools/{pool}/top-ups"), &office, &top_up).await.expect(201);
    let config = &l.app.config;
    let redis = config.redis_url.as_deref();
    let first = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;
    let second = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;
    let client = reqwest::Client::new();
    let requests = claims.iter().enumerate().map(|(n, claim)| {
        let address = if n % 2 == 0 { &first.address } else { &second.address };
        let request = client
            .post(format!("{address}/api/v1/risk-claims/{claim}/approve"))
            .bearer_auth(&office)
            .json(&json!({}));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    });
    let replies = join_all(requests).await;
    let paid = replies.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(paid, 10, "{:?}", replies.iter().filter(|(s, _)| *s != 200 && *s != 422).collect::<Vec<_>>());
    assert!(
        replies.iter().all(|(s, b)| *s == 200 || (*s == 422 && b["error"]["code"] == "insufficient_pool"))
    );
    assert_eq!(balance_is_ledger(&l, &pool, &office).await, 0);
    let approved =
        l.app.get(&format!("/api/v1/risk-claims?pool_id={pool}&status=approved&limit=500"), &office).await;
    assert_eq!(approved.body["items"].as_array().unwrap().len(), 10);
    first.kill().await;
    second.kill().await;
}
