//! Input that must never break the service: control characters, long Unicode, huge lists and
//! amounts at the edge of `i64`.

use serde_json::json;

use crate::helpers::{spawn_app, uscc};

#[tokio::test]
async fn control_characters_are_refused_by_name() {
    let app = spawn_app().await;
    let park = json!({"code": "p", "name": "成都\u{0}高新区", "region": "四川"});
    let reply = app.post("/api/v1/parks", &app.admin_key, &park).await.expect_error(422, "validation_failed");
    assert_eq!(reply.error_fields(), vec!["name"]);
    let bank = json!({"code": "b", "name": "银行\u{7}"});
    assert_eq!(
        app.post("/api/v1/banks", &app.admin_key, &bank).await.expect(422).error_fields(),
        vec!["name"]
    );
    let park = app.create_park("p", "园区").await;
    let firm = json!({"uscc": uscc(1), "name": "企业", "park_id": park, "industry": "soft\u{0}ware", "size": "small", "founded_on": "2015-01-01"});
    assert_eq!(
        app.post("/api/v1/enterprises", &app.admin_key, &firm).await.expect(422).error_fields(),
        vec!["industry"]
    );
    let scores = json!({"period": "2022", "scores": [{"uscc": uscc(1), "score": 1, "stage": "growth", "indicators": {"a\u{0}": 1}}]});
    app.post(&format!("/api/v1/parks/{park}/scores"), &app.admin_key, &scores)
        .await
        .expect_error(422, "validation_failed");
    // PostgreSQL cannot store NUL: an industry in a product's rules is free text too.
    let bank = app.create_bank("b", "银行").await;
    let key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let product = json!({
        "code": "p", "name": "贷", "credit_type": "pure_credit", "min_amount": 1, "max_amount": 10, "rate_bps_min": 1,
        "rate_bps_max": 2, "term_months_min": 1, "term_months_max": 2, "approval_sla_days": 1, "total_quota": 10,
        "eligibility": {"industries": ["software", "", "\u{0}U", "LPT1"]},
    });
    let reply = app.post("/api/v1/products", &key, &product).await.expect(422);
    assert_eq!(reply.error_fields(), vec!["eligibility.industries[2]"]);
}

#[tokio::test]
async fn unicode_names_are_kept_whole_and_measured_in_characters() {
    let app = spawn_app().await;
    let long = "创".repeat(200);
    let reply = app
        .post("/api/v1/parks", &app.admin_key, &json!({"code": "a", "name": long, "region": "🏙️ 四川"}))
        .await;
    let reply = reply.expect(201);
    assert_eq!(reply.body["name"].as_str().map(|n| n.chars().count()), Some(200));
    assert_eq!(reply.body["region"], "🏙️ 四川");
    let too_long = "创".repeat(201);
    let reply = app
        .post("/api/v1/parks", &app.admin_key, &json!({"code": "b", "name": too_long, "region": "r"}))
        .await;
    assert_eq!(reply.expect(422).error_fields(), vec!["name"]);
    let rtl = "شركة التقنية";
    app.post("/api/v1/banks", &app.admin_key, &json!({"code": "c", "name": rtl})).await.expect(201);
}

#[tokio::test]
async fn lists_are_bounded() {
    let app = spawn_app().await;
    let bank = app.create_bank("b", "银行").await;
    let key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let parks: Vec<String> = (1..=101).map(|n| n.to_string()).collect();
    let product = json!({
        "code": "p", "name": "贷", "credit_type": "pure_credit", "min_amount": 1, "max_amount": 10, "rate_bps_min": 1,
        "rate_bps_max": 2, "term_months_min": 1, "term_months_max": 2, "approval_sla_days": 1, "total_quota": 10,
        "eligibility": {"park_ids": parks},
    });
    let reply = app.post("/api/v1/products", &key, &product).await.expect_error(422, "validation_failed");
    assert!(reply.text.contains("park_ids"), "{}", reply.text);
    let park = app.create_park("p", "园区").await;
    app.create_enterprise(&park, &uscc(1), "企业").await;
    let indicators: serde_json::Map<String, serde_json::Value> =
        (0..65).map(|i| (format!("i{i}"), json!(i))).collect();
    let scores = json!({"period": "2022", "scores": [{"uscc": uscc(1), "score": 1, "stage": "growth", "indicators": indicators}]});
    let reply = app.post(&format!("/api/v1/parks/{park}/scores"), &app.admin_key, &scores).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["indicators"]);
}

#[tokio::test]
async fn money_at_i64_max_is_refused_not_wrapped() {
    let app = spawn_app().await;
    let bank = app.create_bank("b", "银行").await;
    let key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let product = |quota: i64, max: i64| {
        json!({
            "code": format!("p{quota}"), "name": "贷", "credit_type": "pure_credit", "min_amount": 1, "max_amount": max,
            "rate_bps_min": 100, "rate_bps_max": 200, "term_months_min": 1, "term_months_max": 12,
            "approval_sla_days": 1, "total_quota": quota,
        })
    };
    let reply = app.post("/api/v1/products", &key, &product(i64::MAX, i64::MAX)).await;
    assert!(reply.expect(422).error_fields().contains(&"total_quota".to_owned()));
    let product = app
        .post("/api/v1/products", &key, &product(1_000_000_000_000_000, 1_000_000_000_000_000))
        .await
        .expect(201)
        .id();
    app.post(&format!("/api/v1/products/{product}/publish"), &key, &json!({})).await.expect(200);
    let park = app.create_park("p", "园区").await;
    let firm = app.create_enterprise(&park, &uscc(1), "企业").await;
    let application = json!({"product_id": product, "amount": i64::MAX, "term_months": 6, "purpose": "x", "enterprise_id": firm});
    let reply = app.post("/api/v1/applications", &app.admin_key, &application).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["amount"]);
    let too_big = json!({"product_id": product, "amount": 9_223_372_036_854_775_808_u64, "term_months": 6, "purpose": "x", "enterprise_id": firm});
    app.post("/api/v1/applications", &app.admin_key, &too_big).await.expect_error(422, "validation_failed");
}
