//! What the outside checks found: a hostile caller holding every role's key, and a client
//! generated from the document. Each test failed before its fix.

use innoloan::api::access::OPERATIONS;
use reqwest::{Method, header::HeaderValue};
use serde_json::{Value, json};

use crate::credit::{approval, disbursement, granted_line, lending, post_with_key};
use crate::helpers::{Reply, spawn_app, uscc};

async fn send(
    app: &crate::helpers::TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, HeaderValue)],
    body: Option<Vec<u8>>,
) -> Reply {
    let mut request = app.client.request(method, format!("{}{path}", app.address));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    for (name, value) in headers {
        request = request.header(*name, value.clone());
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null), text }
}

#[tokio::test]
async fn a_large_body_is_not_read_before_the_key_and_role_are_checked() {
    let app = spawn_app().await;
    let park = app.create_park("p", "园区").await;
    let firm = app.create_enterprise(&park, &uscc(1), "企业").await;
    let firm_key = app.create_key("enterprise", Some(("enterprise_id", &firm))).await;
    let path = format!("/api/v1/parks/{park}/scores");
    let big = vec![b' '; 8 * 1024 * 1024];
    let no_key = send(&app, Method::POST, &path, None, &[], Some(big.clone())).await;
    no_key.expect_error(401, "unauthorized");
    let enterprise = send(&app, Method::POST, &path, Some(&firm_key), &[], Some(big)).await;
    enterprise.expect_error(403, "forbidden");
    // Past the limit, a declared length is refused before anything is read.
    let too_big = vec![b' '; 65 * 1024 * 1024];
    let reply = send(&app, Method::POST, &path, Some(&app.admin_key), &[], Some(too_big)).await;
    reply.expect_error(413, "payload_too_large");
}

#[tokio::test]
async fn every_role_check_comes_before_the_body() {
    let app = spawn_app().await;
    let park = app.create_park("p", "园区").await;
    let bank = app.create_bank("b", "银行").await;
    let firm = app.create_enterprise(&park, &uscc(1), "企业").await;
    let keys = [
        ("park_office", app.create_key("park_office", Some(("park_id", &park))).await),
        ("bank", app.create_key("bank", Some(("bank_id", &bank))).await),
        ("enterprise", app.create_key("enterprise", Some(("enterprise_id", &firm))).await),
    ];
    let mut checked = 0;
    for op in OPERATIONS {
        let path = op.path.replace("{id}", "1");
        let method = Method::from_bytes(op.method.as_bytes()).unwrap();
        for (role, key) in &keys {
            if op.roles.iter().any(|r| r.as_str() == *role) {
                continue;
            }
            // An empty object, and a body that is not JSON at all: the role decides first.
            for body in [b"{}".to_vec(), b"not json".to_vec()] {
                let reply = send(&app, method.clone(), &path, Some(key), &[], Some(body)).await;
                assert_eq!(reply.status, 403, "{role} on {} {}: {}", op.method, op.path, reply.text);
                let message = reply.body["error"]["message"].as_str().unwrap_or_default();
                assert!(!message.contains(" a enterprise"), "{message}");
                checked += 1;
            }
        }
    }
    assert!(checked > 40, "only {checked} refusals checked");
}

#[tokio::test]
async fn an_unusable_idempotency_key_is_a_400_never_ignored() {
    let app = spawn_app().await;
    let body = serde_json::to_vec(&json!({"code": "b1", "name": "银行"})).unwrap();
    let bad_keys = [
        HeaderValue::from_bytes("密钥-1".as_bytes()).unwrap(),
        HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        HeaderValue::from_static(" "),
    ];
    for key in bad_keys {
        let headers = [("Idempotency-Key", key.clone())];
        let reply =
            send(&app, Method::POST, "/api/v1/banks", Some(&app.admin_key), &headers, Some(body.clone()))
                .await;
        reply.expect_error(400, "invalid_idempotency_key");
    }
    let banks = app.get("/api/v1/banks", &app.admin_key).await.expect(200);
    assert_eq!(banks.body["items"].as_array().map(Vec::len), Some(0), "a refused request created a bank");
}

#[tokio::test]
async fn a_replay_answers_what_the_first_request_answered_whatever_changed_since() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let body = crate::credit::application(&l.product, 2_000_000);
    let first =
        post_with_key(&l.app, "/api/v1/applications", &l.firm_key, "apply-1", &body).await.expect(201);
    l.app.post(&format!("/api/v1/products/{}/suspend", l.product), &l.bank_key, &json!({})).await.expect(200);
    let again =
        post_with_key(&l.app, "/api/v1/applications", &l.firm_key, "apply-1", &body).await.expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.id(), first.id());
    // Without the key, the same request is judged on today's state: the product is no longer
    // offered to enterprises.
    l.app.post("/api/v1/applications", &l.firm_key, &body).await.expect(422);
}

#[tokio::test]
async fn dates_are_bounded_and_plain() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let id = crate::credit::apply(&l, 2_000_000).await;
    for expires_on in ["+10000-01-01", "9999-12-31", "2022-13-01", "2030-1-1"] {
        let mut body = approval(2_000_000);
        body["expires_on"] = json!(expires_on);
        let reply = l.app.post(&format!("/api/v1/applications/{id}/approve"), &l.bank_key, &body).await;
        assert_eq!(reply.expect(422).error_fields(), vec!["expires_on"], "{expires_on}");
    }
    let stats = format!("/api/v1/parks/{}/stats", l.park);
    for query in ["to=9999-12-31", "from=%2B10000-01-01", "from=0000-01-01"] {
        l.app.get(&format!("{stats}?{query}"), &l.app.admin_key).await.expect(422);
    }
    l.app.get(&format!("{stats}?from=1900-01-01&to=2200-12-31"), &l.app.admin_key).await.expect(200);
    let firm = json!({"uscc": uscc(7), "name": "企业", "park_id": l.park, "industry": "software", "size": "small", "founded_on": "0000-01-01"});
    let reply = l.app.post("/api/v1/enterprises", &l.app.admin_key, &firm).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["founded_on"]);
}

#[tokio::test]
async fn a_line_granted_far_ahead_is_drawable_on_both_databases() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let id = crate::credit::apply(&l, 2_000_000).await;
    let mut body = approval(2_000_000);
    body["expires_on"] = json!("2200-12-31");
    let approved =
        l.app.post(&format!("/api/v1/applications/{id}/approve"), &l.bank_key, &body).await.expect(200);
    let line = approved.body["credit_line"]["id"].as_str().unwrap().to_owned();
    l.app
        .post(
            &format!("/api/v1/credit-lines/{line}/disbursements"),
            &l.bank_key,
            &disbursement(1_000_000, "far"),
        )
        .await
        .expect(201);
}

#[tokio::test]
async fn drafts_stay_out_of_park_statistics() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let other = l.app.create_bank("other", "他行").await;
    let other_key = l.app.create_key("bank", Some(("bank_id", &other))).await;
    let draft = json!({
        "code": "secret", "name": "未公开的草稿", "credit_type": "pure_credit",
        "min_amount": 1, "max_amount": 10, "rate_bps_min": 1, "rate_bps_max": 2,
        "term_months_min": 1, "term_months_max": 2, "approval_sla_days": 1, "total_quota": 10,
        "eligibility": {"park_ids": [l.park]},
    });
    l.app.post("/api/v1/products", &other_key, &draft).await.expect(201);
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    let stats = l.app.get(&format!("/api/v1/parks/{}/stats", l.park), &office).await.expect(200);
    assert!(!stats.text.contains("未公开的草稿"), "a draft leaked: {}", stats.text);
    assert!(!stats.text.contains("他行"), "a bank with only a draft leaked: {}", stats.text);
}

#[tokio::test]
async fn csv_cells_never_start_a_formula() {
    let app = spawn_app().await;
    let park = app.create_park("p", "园区").await;
    let bank = app.create_bank("evil", "=cmd|' /C calc'!A0").await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let product = json!({
        "code": "p", "name": "贷", "credit_type": "pure_credit", "min_amount": 1, "max_amount": 10,
        "rate_bps_min": 1, "rate_bps_max": 2, "term_months_min": 1, "term_months_max": 2,
        "approval_sla_days": 1, "total_quota": 10, "eligibility": {"park_ids": [park]},
    });
    let product = app.post("/api/v1/products", &bank_key, &product).await.expect(201).id();
    app.post(&format!("/api/v1/products/{product}/publish"), &bank_key, &json!({})).await.expect(200);
    let csv = app
        .client
        .get(format!("{}/api/v1/parks/{park}/stats", app.address))
        .bearer_auth(&app.admin_key)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_owned()).collect();
    assert!(names.contains(&"'=cmd|' /C calc'!A0".to_owned()), "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with(['=', '+', '-', '@'])), "{names:?}");
}

#[tokio::test]
async fn a_bank_honours_applications_made_before_a_suspension_or_retirement() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let product = format!("/api/v1/products/{}", l.product);
    let first = crate::credit::apply(&l, 2_000_000).await;
    l.app.post(&format!("{product}/suspend"), &l.bank_key, &json!({})).await.expect(200);
    let approve = format!("/api/v1/applications/{first}/approve");
    l.app.post(&approve, &l.bank_key, &approval(2_000_000)).await.expect(200);
    l.app.post(&format!("{product}/publish"), &l.bank_key, &json!({})).await.expect(200);
    let second = crate::credit::apply(&l, 3_000_000).await;
    l.app.post(&format!("{product}/retire"), &l.bank_key, &json!({})).await.expect(200);
    let approve = format!("/api/v1/applications/{second}/approve");
    l.app.post(&approve, &l.bank_key, &approval(3_000_000)).await.expect(200);
    // New applications are what a suspension or retirement stops.
    l.app
        .post("/api/v1/applications", &l.firm_key, &crate::credit::application(&l.product, 2_000_000))
        .await
        .expect(422);
}

#[tokio::test]
async fn made_up_methods_and_paths_share_one_metrics_label() {
    let app = spawn_app().await;
    for method in ["XMETH1", "XMETH2", "FOO"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        send(&app, method, "/healthz", None, &[], None).await;
    }
    send(&app, Method::GET, "/made/up/path/1", None, &[], None).await;
    send(&app, Method::GET, "/made/up/path/2", None, &[], None).await;
    let metrics =
        app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("XMETH"), "a made-up method became a label");
    assert!(!metrics.contains("/made/up"), "a made-up path became a label");
    assert!(metrics.contains("method=\"other\""));
}

#[tokio::test]
async fn messages_speak_the_documents_language() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let line = granted_line(&l, 2_000_000).await;
    let path = format!("/api/v1/credit-lines/{line}/disbursements");
    let probes = [
        json!({"amount": "many", "reference": "r", "disbursed_on": "2026-01-01"}),
        json!({"amount": 0, "reference": "r", "disbursed_on": "2026-01-01"}),
        json!({"amount": 1}),
    ];
    for probe in probes {
        let reply = l.app.post(&path, &l.bank_key, &probe).await.expect(422);
        for internal in ["NewDisbursement", "integer_int64", "exclusive:", "optional_"] {
            assert!(!reply.text.contains(internal), "{internal} in {}", reply.text);
        }
    }
    let product = json!({"eligibility": {"min_score": "high"}});
    let reply = l.app.post("/api/v1/products", &l.bank_key, &product).await.expect(422);
    assert!(reply.error_fields().contains(&"eligibility.min_score".to_owned()), "{}", reply.text);
    assert!(!reply.text.contains("optional_EligibilityRules"), "{}", reply.text);
    let limit = l.app.get("/api/v1/parks?limit=0", &l.bank_key).await.expect(422);
    assert!(limit.text.contains("limit must be at least 1"), "{}", limit.text);
    // An empty body is malformed, not a validation failure.
    let empty = send(&l.app, Method::POST, &path, Some(&l.bank_key), &[], Some(Vec::new())).await;
    empty.expect_error(400, "malformed_body");
    // Invisible characters are refused in names.
    for name in ["银\u{200B}行", "\u{FEFF}银行", "银行\u{202E}"] {
        let reply =
            l.app.post("/api/v1/banks", &l.app.admin_key, &json!({"code": "inv", "name": name})).await;
        assert_eq!(reply.expect(422).error_fields(), vec!["name"], "{name:?}");
    }
}

#[tokio::test]
async fn another_parks_enterprise_is_a_conflict_that_reveals_nothing_else() {
    let app = spawn_app().await;
    let mine = app.create_park("mine", "本园区").await;
    let theirs = app.create_park("theirs", "他园区").await;
    let firm = app.create_enterprise(&theirs, &uscc(9), "他园企业").await;
    let office = app.create_key("park_office", Some(("park_id", &mine))).await;
    let body = json!({"uscc": uscc(9), "name": "我的企业", "park_id": mine, "industry": "software", "size": "small", "founded_on": "2015-01-01"});
    let reply = app.post("/api/v1/enterprises", &office, &body).await.expect_error(409, "conflict");
    for secret in [theirs.as_str(), "他园区", "他园企业", "theirs"] {
        assert!(!reply.text.contains(secret), "the answer names {secret}: {}", reply.text);
    }
    app.get(&format!("/api/v1/enterprises/{firm}"), &office).await.expect(404);
}

#[tokio::test]
async fn a_string_field_takes_only_strings() {
    let app = spawn_app().await;
    let reply = app.post("/api/v1/banks", &app.admin_key, &json!({"code": false, "name": "银行"})).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["code"]);
    let reply = app.post("/api/v1/banks", &app.admin_key, &json!({"code": 12, "name": "银行"})).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["code"]);
    let park = app.create_park("p", "园区").await;
    let park_number: i64 = park.parse().unwrap();
    let firm = json!({"uscc": uscc(1), "name": "企业", "park_id": park_number, "industry": "software", "size": "small", "founded_on": "2015-01-01"});
    let reply = app.post("/api/v1/enterprises", &app.admin_key, &firm).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["park_id"]);
    let banks = app.get("/api/v1/banks", &app.admin_key).await.expect(200);
    assert_eq!(banks.body["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn use_cases_hold_their_own_rules_whoever_calls_them() {
    use innoloan::domain::{
        Money, Principal, RateBps, Scope,
        credit::{ApplicationAction, Approval},
    };
    use innoloan::service::{self, Write, applications};
    use innoloan::store::audit::Actor;
    use sea_orm::TransactionTrait;

    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let id: i64 = crate::credit::apply(&l, 2_000_000).await.parse().unwrap();
    let firm = Principal { key_id: 0, scope: Scope::Enterprise(l.firm.parse().unwrap()) };
    let approval = Approval {
        amount: Money::from_fen(2_000_000).unwrap(),
        rate: RateBps::new(400).unwrap(),
        term_months: 12,
        expires_on: chrono::NaiveDate::from_ymd_opt(2099, 1, 1).unwrap(),
    };
    let txn = l.app.db.begin().await.unwrap();
    let mut w = Write::new(&txn, Actor::command_line());
    let now = chrono::Utc::now();
    // An enterprise may not approve its own application, whatever the API would have let through.
    let refused = applications::approve(&mut w, firm, id, approval, now).await;
    assert!(matches!(refused, Err(service::Error::Forbidden(_))), "{refused:?}");
    // An approval always grants its line: `act` does not approve.
    let admin = Principal::command_line();
    let refused = applications::act(&mut w, admin, id, ApplicationAction::Approve, None, now).await;
    assert!(matches!(refused, Err(service::Error::Store(_))), "{refused:?}");
    w.discard();
    txn.rollback().await.unwrap();
    let app = l.app.get(&format!("/api/v1/applications/{id}"), &l.bank_key).await.expect(200);
    assert_eq!(app.body["status"], "submitted");
}

#[tokio::test]
async fn a_request_that_outlived_its_idempotency_lease_cannot_complete() {
    use innoloan::store::idempotency::{self, Claim, Request};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

    let app = spawn_app().await;
    let hash = "0".repeat(64);
    let request =
        Request { api_key_id: 1, key: "k-1", method: "POST", path: "/api/v1/banks", body_hash: &hash };
    let Claim::Fresh { id, lease: first } = idempotency::claim(&app.db, &request).await.unwrap() else {
        panic!("the first claim is fresh")
    };
    // The first request stalls past its lease; a retry takes the key over.
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    entity::idempotency_key::Entity::update_many()
        .col_expr(entity::idempotency_key::Column::LockedUntil, sea_orm::sea_query::Expr::value(past))
        .filter(entity::idempotency_key::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    let Claim::Fresh { id: taken, lease: second } = idempotency::claim(&app.db, &request).await.unwrap()
    else {
        panic!("an expired claim is taken over")
    };
    assert_eq!(taken, id);
    assert_ne!(first, second);
    // The stalled request may not record its answer: its transaction must roll back.
    let txn = app.db.begin().await.unwrap();
    assert!(idempotency::complete(&txn, id, first, 201, "{}").await.is_err());
    txn.rollback().await.unwrap();
    // Nor may it release the retry's claim; the retry completes.
    idempotency::release(&app.db, id, first).await.unwrap();
    let txn = app.db.begin().await.unwrap();
    idempotency::complete(&txn, id, second, 201, "{}").await.unwrap();
    txn.commit().await.unwrap();
    assert!(matches!(idempotency::claim(&app.db, &request).await.unwrap(), Claim::Replay { .. }));
}
