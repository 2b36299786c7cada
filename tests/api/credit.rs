use std::collections::HashSet;

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app, uscc};

pub(crate) struct Lending {
    pub app: TestApp,
    pub park: String,
    pub bank_key: String,
    pub firm: String,
    pub firm_key: String,
    pub product: String,
}

pub(crate) fn product_body(code: &str, min_amount: i64, max_amount: i64, quota: i64) -> Value {
    json!({
        "code": code, "name": "专精特新贷", "credit_type": "pure_credit",
        "min_amount": min_amount, "max_amount": max_amount, "rate_bps_min": 350, "rate_bps_max": 450,
        "term_months_min": 6, "term_months_max": 36, "approval_sla_days": 5, "total_quota": quota,
        "eligibility": {"min_score": 60},
    })
}

/// A park, a bank with a published product, and a scored enterprise with its key.
pub(crate) async fn lending(min_amount: i64, max_amount: i64, quota: i64) -> Lending {
    let app = spawn_app().await;
    let park = app.create_park("nanchang", "南昌高新区").await;
    let bank = app.create_bank("abc", "农业银行").await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let firm = app.create_enterprise(&park, &uscc(1), "江西众加利高科技股份有限公司").await;
    let firm_key = app.create_key("enterprise", Some(("enterprise_id", &firm))).await;
    let scores = json!({"period": "2021", "scores": [{"uscc": uscc(1), "score": 88, "stage": "growth"}]});
    app.post(&format!("/api/v1/parks/{park}/scores"), &app.admin_key, &scores).await.expect(201);
    let product = app
        .post("/api/v1/products", &bank_key, &product_body("zjtx", min_amount, max_amount, quota))
        .await
        .expect(201)
        .id();
    app.post(&format!("/api/v1/products/{product}/publish"), &bank_key, &json!({})).await.expect(200);
    Lending { app, park, bank_key, firm, firm_key, product }
}

pub(crate) fn application(product: &str, amount: i64) -> Value {
    json!({"product_id": product, "amount": amount, "term_months": 12, "purpose": "研发投入"})
}

pub(crate) fn approval(amount: i64) -> Value {
    json!({"amount": amount, "rate_bps": 400, "term_months": 12, "expires_on": "2099-12-31"})
}

pub(crate) async fn apply(l: &Lending, amount: i64) -> String {
    l.app.post("/api/v1/applications", &l.firm_key, &application(&l.product, amount)).await.expect(201).id()
}

pub(crate) async fn post_with_key(
    app: &TestApp,
    path: &str,
    key: &str,
    idempotency_key: &str,
    body: &Value,
) -> Reply {
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(key)
        .header("Idempotency-Key", idempotency_key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

/// Approves an application for `amount` and returns the credit line's id.
pub(crate) async fn granted_line(l: &Lending, amount: i64) -> String {
    let id = apply(l, amount).await;
    let approved = l
        .app
        .post(&format!("/api/v1/applications/{id}/approve"), &l.bank_key, &approval(amount))
        .await
        .expect(200);
    approved.body["credit_line"]["id"].as_str().unwrap().to_owned()
}

pub(crate) fn disbursement(amount: i64, reference: &str) -> Value {
    json!({"amount": amount, "reference": reference, "disbursed_on": chrono::Utc::now().date_naive().to_string()})
}

#[tokio::test]
async fn applications_follow_their_state_machine() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let first = l
        .app
        .post("/api/v1/applications", &l.firm_key, &application(&l.product, 5_000_000_000))
        .await
        .expect(201);
    assert_eq!(first.body["status"], "submitted");
    assert_eq!(first.body["score_period"], "2021");
    assert_eq!(first.body["score"], 88.0);
    assert_eq!(first.body["terms"]["rate_bps_max"], 450);
    let id = first.id();
    let again = l.app.post("/api/v1/applications", &l.firm_key, &application(&l.product, 1_000_000)).await;
    again.expect_error(409, "conflict");

    let path = |action: &str| format!("/api/v1/applications/{id}/{action}");
    assert_eq!(
        l.app.post(&path("review"), &l.bank_key, &json!({})).await.expect(200).body["status"],
        "under_review"
    );
    let refused =
        l.app.post(&path("review"), &l.bank_key, &json!({})).await.expect_error(409, "invalid_state");
    assert!(refused.text.contains("under_review"), "{}", refused.text);
    let approved = l.app.post(&path("approve"), &l.bank_key, &approval(5_000_000_000)).await.expect(200);
    assert_eq!(approved.body["application"]["status"], "approved");
    let line = &approved.body["credit_line"];
    assert_eq!(
        (line["amount"].as_i64(), line["available"].as_i64()),
        (Some(5_000_000_000), Some(5_000_000_000))
    );
    assert_eq!(line["status"], "active");
    assert_eq!(line["approval_days"], 0);
    assert_eq!(line["sla_breached"], false);
    l.app.post(&path("withdraw"), &l.firm_key, &json!({})).await.expect_error(409, "invalid_state");
    l.app
        .post(&path("reject"), &l.bank_key, &json!({"reason": "x"}))
        .await
        .expect_error(409, "invalid_state");
    l.app.post(&path("approve"), &l.bank_key, &approval(1_000_000)).await.expect_error(409, "invalid_state");

    // Once decided, the enterprise may apply again; then withdraw, and then nothing else.
    let second = apply(&l, 2_000_000).await;
    let path2 = |action: &str| format!("/api/v1/applications/{second}/{action}");
    assert_eq!(
        l.app.post(&path2("withdraw"), &l.firm_key, &json!({})).await.expect(200).body["status"],
        "withdrawn"
    );
    l.app.post(&path2("review"), &l.bank_key, &json!({})).await.expect_error(409, "invalid_state");
    l.app.post(&path2("approve"), &l.bank_key, &approval(2_000_000)).await.expect_error(409, "invalid_state");
    let third = apply(&l, 2_000_000).await;
    let rejected = l
        .app
        .post(&format!("/api/v1/applications/{third}/reject"), &l.bank_key, &json!({"reason": "资料不全"}))
        .await;
    let rejected = rejected.expect(200);
    assert_eq!(
        (rejected.body["status"].as_str(), rejected.body["decision_reason"].as_str()),
        (Some("rejected"), Some("资料不全"))
    );
    l.app
        .post(&format!("/api/v1/applications/{third}/reject"), &l.bank_key, &json!({"reason": "again"}))
        .await
        .expect(409);
    l.app
        .post(&format!("/api/v1/applications/{third}/reject"), &l.bank_key, &json!({"reason": " "}))
        .await
        .expect(422);

    // Who may do what.
    l.app.post(&path2("withdraw"), &l.bank_key, &json!({})).await.expect_error(403, "forbidden");
    l.app
        .post(&format!("/api/v1/applications/{third}/approve"), &l.firm_key, &approval(1))
        .await
        .expect_error(403, "forbidden");
    let listed = l.app.get("/api/v1/applications?status=approved", &l.firm_key).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    assert_eq!(
        l.app.get("/api/v1/applications", &office).await.expect(200).body["items"].as_array().unwrap().len(),
        3
    );
    l.app
        .post("/api/v1/applications", &office, &application(&l.product, 1_000_000))
        .await
        .expect_error(403, "forbidden");
}

#[tokio::test]
async fn ineligible_and_out_of_range_applications_are_refused() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let mut strict = product_body("strict", 1_000_000, 5_000_000_000, 100_000_000_000);
    strict["eligibility"] = json!({"min_score": 90, "sizes": ["micro"]});
    let strict = l.app.post("/api/v1/products", &l.bank_key, &strict).await.expect(201).id();
    let body = application(&strict, 1_000_000);
    // A draft is invisible to enterprises, as if it did not exist.
    let draft = l.app.post("/api/v1/applications", &l.firm_key, &body).await;
    assert_eq!(draft.expect_error(422, "validation_failed").error_fields(), vec!["product_id"]);
    let mut on_behalf = body.clone();
    on_behalf["enterprise_id"] = json!(l.firm);
    l.app
        .post("/api/v1/applications", &l.app.admin_key, &on_behalf)
        .await
        .expect_error(422, "product_not_published");
    l.app.post(&format!("/api/v1/products/{strict}/publish"), &l.bank_key, &json!({})).await.expect(200);
    let refused =
        l.app.post("/api/v1/applications", &l.firm_key, &body).await.expect_error(422, "ineligible");
    let rules: Vec<&str> = refused.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["min_score", "sizes"]);
    assert_eq!(refused.body["error"]["details"][0]["message"], "score 88.00 is below the minimum 90.00");

    let too_much =
        l.app.post("/api/v1/applications", &l.firm_key, &application(&l.product, 5_000_000_001)).await;
    assert_eq!(too_much.expect(422).error_fields(), vec!["amount"]);
    let too_little = l.app.post("/api/v1/applications", &l.firm_key, &application(&l.product, 999_999)).await;
    assert_eq!(too_little.expect(422).error_fields(), vec!["amount"]);
    let mut long = application(&l.product, 1_000_000);
    long["term_months"] = json!(48);
    assert_eq!(
        l.app.post("/api/v1/applications", &l.firm_key, &long).await.expect(422).error_fields(),
        vec!["term_months"]
    );
    let missing = l.app.post("/api/v1/applications", &l.firm_key, &application("999", 1_000_000)).await;
    assert_eq!(missing.expect(422).error_fields(), vec!["product_id"]);
}

#[tokio::test]
async fn approvals_stay_within_the_offer_and_the_product() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let id = apply(&l, 3_000_000_000).await;
    let bad =
        json!({"amount": 5_000_000_001_i64, "rate_bps": 500, "term_months": 40, "expires_on": "2020-01-01"});
    let refused = l.app.post(&format!("/api/v1/applications/{id}/approve"), &l.bank_key, &bad).await;
    let fields = refused.expect_error(422, "validation_failed").error_fields();
    assert_eq!(fields, vec!["amount", "rate_bps", "term_months", "expires_on"]);
    let below =
        l.app.post(&format!("/api/v1/applications/{id}/approve"), &l.bank_key, &approval(999_999)).await;
    assert_eq!(below.expect(422).error_fields(), vec!["amount"]);
    let application = l.app.get(&format!("/api/v1/applications/{id}"), &l.firm_key).await.expect(200);
    assert_eq!(application.body["status"], "submitted", "a refused approval changes nothing");
}

#[tokio::test]
async fn racing_approvals_never_exceed_the_quota() {
    // A quota that fits exactly five approvals of 10,000 fen, and twenty applications.
    let l = lending(10_000, 10_000, 50_000).await;
    let mut firms = Vec::new();
    for n in 0..20u32 {
        firms.push(l.app.create_enterprise(&l.park, &uscc(100 + n), &format!("企业{n}")).await);
    }
    // The period is imported whole again: the first enterprise keeps its score.
    let mut rows: Vec<Value> =
        (0..20u32).map(|n| json!({"uscc": uscc(100 + n), "score": 70 + n, "stage": "growth"})).collect();
    rows.push(json!({"uscc": uscc(1), "score": 88, "stage": "growth"}));
    let scores = json!({"period": "2021", "scores": rows});
    l.app.post(&format!("/api/v1/parks/{}/scores", l.park), &l.app.admin_key, &scores).await.expect(201);
    let mut ids = Vec::new();
    for firm in &firms {
        let mut body = application(&l.product, 10_000);
        body["enterprise_id"] = json!(firm);
        ids.push(l.app.post("/api/v1/applications", &l.app.admin_key, &body).await.expect(201).id());
    }
    let body = approval(10_000);
    let paths: Vec<String> = ids.iter().map(|id| format!("/api/v1/applications/{id}/approve")).collect();
    let replies = join_all(paths.iter().map(|path| l.app.post(path, &l.bank_key, &body))).await;
    let approved = replies.iter().filter(|r| r.status == 200).count();
    let refused: Vec<&Reply> = replies.iter().filter(|r| r.status != 200).collect();
    assert_eq!(approved, 5);
    assert!(
        refused.iter().all(|r| r.status == 422 && r.body["error"]["code"] == "quota_exceeded"),
        "{:?}",
        refused.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let product = l.app.get(&format!("/api/v1/products/{}", l.product), &l.bank_key).await.expect(200);
    assert_eq!(
        (product.body["granted_total"].as_i64(), product.body["remaining_quota"].as_i64()),
        (Some(50_000), Some(0))
    );
    let lines = l.app.get("/api/v1/credit-lines", &l.bank_key).await.expect(200);
    assert_eq!(lines.body["items"].as_array().unwrap().len(), 5);

    // An exhausted quota shows in matching.
    let matches =
        l.app.get(&format!("/api/v1/enterprises/{}/matches", l.firm), &l.firm_key).await.expect(200);
    assert_eq!(matches.body["ineligible"][0]["failed"][0]["rule"], "quota_exhausted");
}

#[tokio::test]
async fn racing_disbursements_never_overdraw_a_line() {
    let l = lending(50_000, 50_000, 1_000_000).await;
    let line = granted_line(&l, 50_000).await;
    let path = format!("/api/v1/credit-lines/{line}/disbursements");
    let bodies: Vec<Value> = (0..100).map(|n| disbursement(1_000, &format!("LOAN-{n:03}"))).collect();
    let replies = join_all(bodies.iter().map(|body| l.app.post(&path, &l.bank_key, body))).await;
    let created: Vec<&Reply> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(created.len(), 50);
    for refused in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert_eq!(refused.body["error"]["code"], "exceeds_available");
        assert!(refused.text.contains("0 fen"), "says what is available: {}", refused.text);
    }
    let line_now = l.app.get(&format!("/api/v1/credit-lines/{line}"), &l.firm_key).await.expect(200);
    assert_eq!(
        (line_now.body["disbursed_total"].as_i64(), line_now.body["available"].as_i64()),
        (Some(50_000), Some(0))
    );
    let rows = l.app.get(&format!("{path}?limit=500"), &l.bank_key).await.expect(200);
    let row_ids: HashSet<&str> =
        rows.body["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    let answered: HashSet<&str> = created.iter().map(|r| r.body["id"].as_str().unwrap()).collect();
    assert_eq!(row_ids, answered, "every 201 has its row and every row had its 201");
    let line_id: i64 = line.parse().unwrap();
    assert_eq!(innoloan::store::credit::disbursed_sum(&l.app.db, line_id).await.unwrap(), 50_000);
}

#[tokio::test]
async fn disbursements_check_the_line_and_the_reference() {
    let l = lending(1_000_000, 10_000_000, 1_000_000_000).await;
    let line = granted_line(&l, 5_000_000).await;
    let path = format!("/api/v1/credit-lines/{line}/disbursements");
    l.app.post(&path, &l.bank_key, &disbursement(2_000_000, "REF-1")).await.expect(201);
    l.app.post(&path, &l.bank_key, &disbursement(1, "REF-1")).await.expect_error(409, "conflict");
    let over = l
        .app
        .post(&path, &l.bank_key, &disbursement(3_000_001, "REF-2"))
        .await
        .expect_error(422, "exceeds_available");
    assert!(over.text.contains("3000000 fen"), "{}", over.text);
    l.app
        .post(&path, &l.bank_key, &disbursement(i64::MAX, "REF-3"))
        .await
        .expect_error(422, "exceeds_available");
    let mut future = disbursement(1, "REF-4");
    future["disbursed_on"] = json!("2999-01-01");
    assert_eq!(
        l.app.post(&path, &l.bank_key, &future).await.expect(422).error_fields(),
        vec!["disbursed_on"]
    );
    l.app.post(&path, &l.firm_key, &disbursement(1, "REF-5")).await.expect_error(403, "forbidden");

    // A line past its expiry takes no more disbursements.
    use sea_orm::{EntityTrait, sea_query::Expr};
    entity::credit_line::Entity::update_many()
        .col_expr(
            entity::credit_line::Column::ExpiresOn,
            Expr::value(chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
        )
        .exec(&l.app.db)
        .await
        .unwrap();
    let expired =
        l.app.post(&path, &l.bank_key, &disbursement(1, "REF-6")).await.expect_error(409, "invalid_state");
    assert!(expired.text.contains("expired"), "{}", expired.text);
    assert_eq!(
        l.app.get(&format!("/api/v1/credit-lines/{line}"), &l.bank_key).await.expect(200).body["status"],
        "expired"
    );
}

#[tokio::test]
async fn credit_is_scoped_to_its_bank_enterprise_and_park() {
    let l = lending(1_000_000, 10_000_000, 1_000_000_000).await;
    let line = granted_line(&l, 5_000_000).await;
    let application_id =
        l.app.get("/api/v1/applications", &l.firm_key).await.expect(200).body["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let other_bank = l.app.create_bank("icbc", "工商银行").await;
    let other_bank_key = l.app.create_key("bank", Some(("bank_id", &other_bank))).await;
    let other_firm = l.app.create_enterprise(&l.park, &uscc(2), "另一家企业").await;
    let other_firm_key = l.app.create_key("enterprise", Some(("enterprise_id", &other_firm))).await;
    let other_park = l.app.create_park("kunshan", "昆山高新区").await;
    let other_office = l.app.create_key("park_office", Some(("park_id", &other_park))).await;

    for key in [&other_bank_key, &other_firm_key, &other_office] {
        l.app.get(&format!("/api/v1/credit-lines/{line}"), key).await.expect_error(404, "not_found");
        l.app
            .get(&format!("/api/v1/credit-lines/{line}/disbursements"), key)
            .await
            .expect_error(404, "not_found");
        l.app
            .get(&format!("/api/v1/applications/{application_id}"), key)
            .await
            .expect_error(404, "not_found");
        assert!(
            l.app.get("/api/v1/credit-lines", key).await.expect(200).body["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
    }
    l.app
        .post(&format!("/api/v1/credit-lines/{line}/disbursements"), &other_bank_key, &disbursement(1, "X"))
        .await
        .expect_error(404, "not_found");
    l.app
        .post(&format!("/api/v1/applications/{application_id}/review"), &other_bank_key, &json!({}))
        .await
        .expect_error(404, "not_found");
    l.app
        .post(&format!("/api/v1/applications/{application_id}/withdraw"), &other_firm_key, &json!({}))
        .await
        .expect_error(404, "not_found");
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    l.app.get(&format!("/api/v1/credit-lines/{line}"), &office).await.expect(200);
    l.app.get(&format!("/api/v1/credit-lines/{line}"), &l.firm_key).await.expect(200);
    // A bank sees the enterprises that applied to it, and no others.
    l.app.get(&format!("/api/v1/enterprises/{}", l.firm), &l.bank_key).await.expect(200);
    l.app.get(&format!("/api/v1/enterprises/{other_firm}"), &l.bank_key).await.expect_error(404, "not_found");
    l.app.get("/api/v1/credit-lines/999", &l.app.admin_key).await.expect_error(404, "not_found");
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_and_guard() {
    let l = lending(1_000, 10_000_000, 1_000_000_000).await;
    let line = granted_line(&l, 10_000_000).await;
    let path = format!("/api/v1/credit-lines/{line}/disbursements");
    let body = disbursement(1_000, "IDEM-1");
    let first = post_with_key(&l.app, &path, &l.bank_key, "key-1", &body).await.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let replay = post_with_key(&l.app, &path, &l.bank_key, "key-1", &body).await.expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, first.body);
    let reused = post_with_key(&l.app, &path, &l.bank_key, "key-1", &disbursement(2_000, "IDEM-2")).await;
    reused.expect_error(422, "idempotency_key_reused");
    let rows = l.app.get(&path, &l.bank_key).await.expect(200);
    assert_eq!(rows.body["items"].as_array().unwrap().len(), 1, "a replay creates nothing");

    // Concurrent requests with one key: one effect; the rest replay it or are told it is running.
    let body = disbursement(1_000, "IDEM-3");
    let replies = join_all((0..10).map(|_| post_with_key(&l.app, &path, &l.bank_key, "key-2", &body))).await;
    assert!(
        replies.iter().all(|r| r.status == 201 || r.status == 409),
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let ids: HashSet<&str> =
        replies.iter().filter(|r| r.status == 201).map(|r| r.body["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 1);
    for conflict in replies.iter().filter(|r| r.status == 409) {
        assert_eq!(conflict.body["error"]["code"], "idempotency_key_in_flight");
    }
    assert_eq!(l.app.get(&path, &l.bank_key).await.expect(200).body["items"].as_array().unwrap().len(), 2);

    // A key whose first request is still running answers 409.
    use innoloan::store::idempotency::{Claim, Request, claim};
    let keys = l.app.get("/api/v1/api-keys?limit=500", &l.app.admin_key).await.expect(200);
    let bank_key_id: i64 =
        keys.body["items"].as_array().unwrap().iter().find(|k| k["role"] == "bank").unwrap()["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    let body = disbursement(1_000, "IDEM-4");
    let hash = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(body.to_string()))
    };
    let held =
        Request { api_key_id: bank_key_id, key: "key-3", method: "POST", path: &path, body_hash: &hash };
    assert!(matches!(claim(&l.app.db, &held).await.unwrap(), Claim::Fresh { .. }));
    post_with_key(&l.app, &path, &l.bank_key, "key-3", &body)
        .await
        .expect_error(409, "idempotency_key_in_flight");

    // A failed request does not hold its key: the same key may be used once the problem is fixed.
    let over = disbursement(100_000_000, "IDEM-5");
    post_with_key(&l.app, &path, &l.bank_key, "key-4", &over).await.expect_error(422, "exceeds_available");
    post_with_key(&l.app, &path, &l.bank_key, "key-4", &disbursement(1_000, "IDEM-5")).await.expect(201);

    // Keys are kept a day, then purged.
    let purged =
        innoloan::store::idempotency::purge(&l.app.db, chrono::Utc::now() + chrono::Duration::hours(25))
            .await
            .unwrap();
    assert!(purged >= 3, "purged {purged}");
}

#[tokio::test]
async fn every_creating_post_replays_with_its_key() {
    let l = lending(1_000, 10_000_000, 1_000_000_000).await;
    let park = post_with_key(
        &l.app,
        "/api/v1/parks",
        &l.app.admin_key,
        "p",
        &json!({"code": "x", "name": "X园区", "region": "r"}),
    )
    .await
    .expect(201);
    let again = post_with_key(
        &l.app,
        "/api/v1/parks",
        &l.app.admin_key,
        "p",
        &json!({"code": "x", "name": "X园区", "region": "r"}),
    )
    .await
    .expect(201);
    assert_eq!((again.header("idempotent-replayed"), again.id()), (Some("true"), park.id()));
    let key_body = json!({"name": "ops", "role": "admin"});
    let key = post_with_key(&l.app, "/api/v1/api-keys", &l.app.admin_key, "k", &key_body).await.expect(201);
    assert!(key.body["secret"].is_string());
    let key_again =
        post_with_key(&l.app, "/api/v1/api-keys", &l.app.admin_key, "k", &key_body).await.expect(201);
    assert_eq!(key_again.body["id"], key.body["id"]);
    assert!(key_again.body.get("secret").is_none(), "the secret is shown once only: {}", key_again.text);
    let id = apply(&l, 5_000).await;
    let approve_path = format!("/api/v1/applications/{id}/approve");
    let approved = post_with_key(&l.app, &approve_path, &l.bank_key, "a", &approval(5_000)).await.expect(200);
    let replayed = post_with_key(&l.app, &approve_path, &l.bank_key, "a", &approval(5_000)).await.expect(200);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.body["credit_line"]["id"], approved.body["credit_line"]["id"]);
}

#[tokio::test]
async fn applications_and_lines_filter_by_enterprise_and_tell_their_sla_day() {
    let l = lending(1_000, 100_000_000, 1_000_000_000).await;
    let other = l.app.create_enterprise(&l.park, &uscc(2), "二号企业").await;
    let scores = json!({"period": "2021", "scores": [{"uscc": uscc(1), "score": 88, "stage": "growth"}, {"uscc": uscc(2), "score": 85, "stage": "growth"}]});
    l.app.post(&format!("/api/v1/parks/{}/scores", l.park), &l.app.admin_key, &scores).await.expect(201);
    let mine = apply(&l, 1_000_000).await;
    let mut body = application(&l.product, 2_000_000);
    body["enterprise_id"] = json!(other);
    let theirs = l.app.post("/api/v1/applications", &l.app.admin_key, &body).await.expect(201).body;
    // Submitted today: the SLA of 5 working days falls due on the fifth working day after it.
    let submitted = chrono::Utc::now().date_naive();
    let due = innoloan::domain::credit::sla_due_on(submitted, 5);
    assert_eq!(theirs["sla_due_on"], due.to_string());
    assert_eq!(innoloan::domain::credit::approval_time(submitted, due).1, 5);
    assert_eq!(theirs["sla_working_days_left"], 5, "submitted today: all five working days are left");
    let listed = |query: String| {
        let app = &l.app;
        let key = l.bank_key.clone();
        async move {
            let page = app.get(&format!("/api/v1/{query}"), &key).await.expect(200).body;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(format!("applications?enterprise_id={}", l.firm)).await, vec![mine.clone()]);
    assert_eq!(
        listed(format!("applications?enterprise_id={other}")).await,
        vec![theirs["id"].as_str().unwrap().to_owned()]
    );
    assert!(listed("applications?enterprise_id=999999".into()).await.is_empty());
    let approved = l
        .app
        .post(&format!("/api/v1/applications/{mine}/approve"), &l.bank_key, &approval(1_000_000))
        .await
        .expect(200);
    assert!(
        approved.body["application"].get("sla_working_days_left").is_none(),
        "a decided application has no SLA left"
    );
    assert_eq!(listed(format!("credit-lines?enterprise_id={}", l.firm)).await.len(), 1);
    assert!(listed(format!("credit-lines?enterprise_id={other}")).await.is_empty());
}
