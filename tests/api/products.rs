use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, uscc};

fn product(code: &str) -> Value {
    json!({
        "code": code, "name": "金熊猫积分贷", "description": "纯信用", "credit_type": "pure_credit",
        "min_amount": 10_000_000, "max_amount": 500_000_000, "rate_bps_min": 350, "rate_bps_max": 450,
        "term_months_min": 6, "term_months_max": 36, "approval_sla_days": 5, "total_quota": 760_000_000_000_i64,
    })
}

struct Market {
    app: TestApp,
    park: String,
    bank_a: String,
    bank_b: String,
    key_a: String,
    key_b: String,
}

async fn market() -> Market {
    let app = spawn_app().await;
    let park = app.create_park("chengdu", "成都高新区").await;
    let bank_a = app.create_bank("bocd", "成都银行").await;
    let bank_b = app.create_bank("icbc", "工商银行").await;
    let key_a = app.create_key("bank", Some(("bank_id", &bank_a))).await;
    let key_b = app.create_key("bank", Some(("bank_id", &bank_b))).await;
    Market { app, park, bank_a, bank_b, key_a, key_b }
}

async fn create(m: &Market, key: &str, body: &Value) -> String {
    m.app.post("/api/v1/products", key, body).await.expect(201).id()
}

async fn act(m: &Market, key: &str, id: &str, action: &str) -> crate::helpers::Reply {
    m.app.post(&format!("/api/v1/products/{id}/{action}"), key, &json!({})).await
}

async fn patch(m: &Market, key: &str, id: &str, body: &Value) -> crate::helpers::Reply {
    m.app.request(reqwest::Method::PATCH, &format!("/api/v1/products/{id}"), Some(key), Some(body)).await
}

#[tokio::test]
async fn the_lifecycle_allows_only_its_transitions() {
    let m = market().await;
    let created = m.app.post("/api/v1/products", &m.key_a, &product("p1")).await.expect(201);
    assert_eq!(created.body["status"], "draft");
    assert_eq!(created.body["bank_id"], m.bank_a.as_str());
    assert_eq!(created.body["remaining_quota"], 760_000_000_000_i64);
    let id = created.id();

    let refused = act(&m, &m.key_a, &id, "suspend").await.expect_error(409, "invalid_state");
    assert!(refused.text.contains("draft"), "names the current state: {}", refused.text);
    act(&m, &m.key_a, &id, "retire").await.expect_error(409, "invalid_state");
    let edited = patch(&m, &m.key_a, &id, &json!({"name": "金熊猫积分贷（二期）", "rate_bps_max": 430}))
        .await
        .expect(200);
    assert_eq!(
        (edited.body["name"].as_str(), edited.body["rate_bps_max"].as_i64()),
        (Some("金熊猫积分贷（二期）"), Some(430))
    );
    assert_eq!(edited.body["rate_bps_min"], 350, "absent fields stay");

    let published = act(&m, &m.key_a, &id, "publish").await.expect(200);
    assert_eq!(published.body["status"], "published");
    assert!(published.body["published_at"].is_string());
    act(&m, &m.key_a, &id, "publish").await.expect_error(409, "invalid_state");
    let refused = patch(&m, &m.key_a, &id, &json!({"name": "x"})).await.expect_error(409, "invalid_state");
    assert!(refused.text.contains("published"), "{}", refused.text);
    assert_eq!(act(&m, &m.key_a, &id, "suspend").await.expect(200).body["status"], "suspended");
    act(&m, &m.key_a, &id, "suspend").await.expect_error(409, "invalid_state");
    patch(&m, &m.key_a, &id, &json!({"name": "x"})).await.expect_error(409, "invalid_state");
    assert_eq!(act(&m, &m.key_a, &id, "publish").await.expect(200).body["status"], "published");
    assert_eq!(act(&m, &m.key_a, &id, "retire").await.expect(200).body["status"], "retired");
    for action in ["publish", "suspend", "retire"] {
        act(&m, &m.key_a, &id, action).await.expect_error(409, "invalid_state");
    }
    let second = create(&m, &m.key_a, &product("p2")).await;
    act(&m, &m.key_a, &second, "publish").await.expect(200);
    act(&m, &m.key_a, &second, "suspend").await.expect(200);
    assert_eq!(act(&m, &m.key_a, &second, "retire").await.expect(200).body["status"], "retired");

    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let audited = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::TargetType.eq("product"))
        .all(&m.app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 10, "one row per change: {audited:?}");
}

#[tokio::test]
async fn every_validation_failure_is_reported_at_once() {
    let m = market().await;
    let mut bad = product("p1");
    bad["min_amount"] = json!(600_000_000);
    bad["total_quota"] = json!(100);
    bad["rate_bps_min"] = json!(2400);
    bad["rate_bps_max"] = json!(2300);
    bad["term_months_min"] = json!(0);
    bad["approval_sla_days"] = json!(0);
    bad["amount_tiers"] =
        json!([{"min_score": 80, "max_amount": 100_000_000}, {"min_score": 70, "max_amount": 900_000_000}]);
    bad["eligibility"] = json!({"park_ids": ["999"]});
    let reply = m.app.post("/api/v1/products", &m.key_a, &bad).await.expect_error(422, "validation_failed");
    let fields = reply.error_fields();
    for field in [
        "max_amount",
        "total_quota",
        "rate_bps_max",
        "term_months_min",
        "approval_sla_days",
        "amount_tiers[1].min_score",
        "amount_tiers[0].max_amount",
        "amount_tiers[1].max_amount",
        "eligibility.park_ids",
    ] {
        assert!(fields.contains(&field.to_owned()), "{field} missing from {fields:?}");
    }

    // Past the caps the service takes at all (24% a year, 120 months), a field is refused by name.
    for (field, value) in [("rate_bps_max", 2401), ("term_months_max", 121)] {
        let mut over = product("p1");
        over[field] = json!(value);
        let reply = m.app.post("/api/v1/products", &m.key_a, &over).await.expect(422);
        assert_eq!(reply.error_fields(), vec![field]);
    }

    create(&m, &m.key_a, &product("p1")).await;
    let duplicate = m.app.post("/api/v1/products", &m.key_a, &product("p1")).await.expect(422);
    assert_eq!(duplicate.error_fields(), vec!["code"]);
    // Codes are unique per bank, not across banks.
    create(&m, &m.key_b, &product("p1")).await;
    let mut bad_type = product("p3");
    bad_type["credit_type"] = json!("mortgage");
    assert_eq!(
        m.app.post("/api/v1/products", &m.key_a, &bad_type).await.expect(422).error_fields(),
        vec!["credit_type"]
    );
}

#[tokio::test]
async fn banks_are_isolated_from_each_other() {
    let m = market().await;
    let draft = create(&m, &m.key_a, &product("draft")).await;
    let live = create(&m, &m.key_a, &product("live")).await;
    act(&m, &m.key_a, &live, "publish").await.expect(200);

    patch(&m, &m.key_b, &draft, &json!({"name": "x"})).await.expect_error(404, "not_found");
    patch(&m, &m.key_b, &live, &json!({"name": "x"})).await.expect_error(404, "not_found");
    act(&m, &m.key_b, &draft, "publish").await.expect_error(404, "not_found");
    act(&m, &m.key_b, &live, "suspend").await.expect_error(404, "not_found");
    m.app.get(&format!("/api/v1/products/{draft}"), &m.key_b).await.expect_error(404, "not_found");
    m.app.get(&format!("/api/v1/products/{live}"), &m.key_b).await.expect(200);
    m.app.get(&format!("/api/v1/products/{draft}/prospects"), &m.key_b).await.expect_error(404, "not_found");
    m.app.get(&format!("/api/v1/products/{live}/prospects"), &m.key_b).await.expect_error(404, "not_found");
    let seen_by_b = m.app.get("/api/v1/products", &m.key_b).await.expect(200);
    let ids: Vec<&str> =
        seen_by_b.body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![live.as_str()]);
    let seen_by_a = m.app.get("/api/v1/products", &m.key_a).await.expect(200);
    assert_eq!(seen_by_a.body["items"].as_array().unwrap().len(), 2);

    let office = m.app.create_key("park_office", Some(("park_id", &m.park))).await;
    m.app.post("/api/v1/products", &office, &product("x")).await.expect_error(403, "forbidden");
    act(&m, &office, &live, "suspend").await.expect_error(403, "forbidden");
    m.app.get(&format!("/api/v1/products/{live}/prospects"), &office).await.expect_error(403, "forbidden");
    m.app.get(&format!("/api/v1/products/{draft}"), &office).await.expect_error(404, "not_found");
    m.app.get("/api/v1/products/999", &m.key_a).await.expect_error(404, "not_found");
    // A bank names only itself; an admin must name a bank that exists.
    let mut other = product("y");
    other["bank_id"] = json!(m.bank_b);
    assert_eq!(
        m.app.post("/api/v1/products", &m.key_a, &other).await.expect(422).error_fields(),
        vec!["bank_id"]
    );
    m.app
        .post("/api/v1/products", &m.app.admin_key, &product("z"))
        .await
        .expect_error(422, "validation_failed");
    let by_admin = m.app.post("/api/v1/products", &m.app.admin_key, &other).await.expect(201);
    assert_eq!(by_admin.body["bank_id"], m.bank_b.as_str());
}

#[tokio::test]
async fn the_listing_filters_by_status_bank_and_park() {
    let m = market().await;
    let other_park = m.app.create_park("nanchang", "南昌高新区").await;
    let everywhere = create(&m, &m.key_a, &product("everywhere")).await;
    let mut local = product("local");
    local["eligibility"] = json!({"park_ids": [other_park]});
    let local = create(&m, &m.key_b, &local).await;
    for id in [&everywhere, &local] {
        let key = if id == &everywhere { &m.key_a } else { &m.key_b };
        act(&m, key, id, "publish").await.expect(200);
    }
    create(&m, &m.key_a, &product("draft")).await;
    let ids = |reply: crate::helpers::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
    };
    let admin = &m.app.admin_key;
    assert_eq!(ids(m.app.get("/api/v1/products?status=draft", admin).await.expect(200)).len(), 1);
    assert_eq!(
        ids(m.app.get(&format!("/api/v1/products?bank_id={}", m.bank_b), admin).await.expect(200)),
        vec![local.clone()]
    );
    assert_eq!(
        ids(m.app.get(&format!("/api/v1/products?park_id={}", m.park), admin).await.expect(200)).len(),
        2,
        "everywhere and the draft"
    );
    assert_eq!(
        ids(m
            .app
            .get(&format!("/api/v1/products?park_id={other_park}&status=published"), admin)
            .await
            .expect(200)),
        vec![everywhere.clone(), local.clone()]
    );
    m.app.get("/api/v1/products?status=gone", admin).await.expect_error(422, "validation_failed");
}

struct Scored {
    m: Market,
    firm_key: String,
    firm: String,
}

/// A park with five scored enterprises; the first has an enterprise key.
async fn scored_market() -> Scored {
    let m = market().await;
    let mut firms = Vec::new();
    for (n, size, quals) in [
        (1, "small", json!(["high_tech_enterprise", "specialized_sme"])),
        (2, "medium", json!(["high_tech_enterprise"])),
        (3, "small", json!([])),
        (4, "micro", json!(["specialized_sme"])),
        (5, "large", json!(["high_tech_enterprise", "specialized_sme"])),
    ] {
        let body = json!({
            "uscc": uscc(n), "name": format!("企业{n}"), "park_id": m.park, "industry": if n == 3 { "finance" } else { "software" },
            "size": size, "founded_on": "2015-01-01", "qualifications": quals,
        });
        firms.push(m.app.post("/api/v1/enterprises", &m.app.admin_key, &body).await.expect(201).id());
    }
    let scores: Vec<Value> = [(1, 72.5), (2, 91.0), (3, 88.0), (4, 85.0), (5, 60.0)]
        .iter()
        .map(|(n, s)| json!({"uscc": uscc(*n), "score": s, "stage": "growth"}))
        .collect();
    m.app
        .post(
            &format!("/api/v1/parks/{}/scores", m.park),
            &m.app.admin_key,
            &json!({"period": "2022", "scores": scores}),
        )
        .await
        .expect(201);
    let firm_key = m.app.create_key("enterprise", Some(("enterprise_id", &firms[0]))).await;
    Scored { m, firm_key, firm: firms[0].clone() }
}

#[tokio::test]
async fn matches_give_offers_and_reasons() {
    let Scored { m, firm_key, firm } = scored_market().await;
    let mut strict = product("strict");
    strict["eligibility"] = json!({"min_score": 80, "sizes": ["micro", "medium"], "required_qualifications": ["specialized_sme"]});
    let strict = create(&m, &m.key_a, &strict).await;
    let mut tiered = product("tiered");
    tiered["rate_bps_min"] = json!(380);
    tiered["amount_tiers"] =
        json!([{"min_score": 60, "max_amount": 50_000_000}, {"min_score": 90, "max_amount": 400_000_000}]);
    let tiered = create(&m, &m.key_b, &tiered).await;
    let mut cheap = product("cheap");
    cheap["rate_bps_min"] = json!(300);
    cheap["max_amount"] = json!(20_000_000);
    let cheap = create(&m, &m.key_b, &cheap).await;
    let mut same_rate_bigger = product("bigger");
    same_rate_bigger["rate_bps_min"] = json!(300);
    let bigger = create(&m, &m.key_a, &same_rate_bigger).await;
    let hidden = create(&m, &m.key_a, &product("hidden")).await;
    for (id, key) in [
        (&strict, &m.key_a),
        (&tiered, &m.key_b),
        (&cheap, &m.key_b),
        (&bigger, &m.key_a),
        (&hidden, &m.key_a),
    ] {
        act(&m, key, id, "publish").await.expect(200);
    }
    act(&m, &m.key_a, &hidden, "suspend").await.expect(200);

    // A product is a summary unless the whole record is asked for.
    let light = m.app.get(&format!("/api/v1/enterprises/{firm}/matches"), &firm_key).await.expect(200);
    let first = &light.body["eligible"][0];
    assert_eq!(first["product"]["rate_bps_min"], 300, "the cheapest first");
    assert!(first["product"].get("code").is_none() && first.get("product_detail").is_none(), "{first}");
    m.app
        .get(&format!("/api/v1/enterprises/{firm}/matches?expand=products"), &firm_key)
        .await
        .expect_error(422, "validation_failed");
    let matches =
        m.app.get(&format!("/api/v1/enterprises/{firm}/matches?expand=product"), &firm_key).await.expect(200);
    assert_eq!(
        matches.body["eligible"][0]["product"]["id"],
        matches.body["eligible"][0]["product_detail"]["id"]
    );
    assert_eq!(matches.body["score"]["score"], 72.5);
    assert_eq!(matches.body["score"]["period"], "2022");
    assert_eq!(matches.body["score"]["rank"], 4);
    let eligible: Vec<(&str, i64)> = matches.body["eligible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["product_detail"]["code"].as_str().unwrap(), e["offer_max_amount"].as_i64().unwrap()))
        .collect();
    assert_eq!(eligible, vec![("bigger", 500_000_000), ("cheap", 20_000_000), ("tiered", 50_000_000)]);
    let ineligible = matches.body["ineligible"].as_array().unwrap();
    assert_eq!(ineligible.len(), 1, "the suspended product is not matched at all");
    assert_eq!(ineligible[0]["product_detail"]["code"], "strict");
    let failed: Vec<&str> =
        ineligible[0]["failed"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(failed, vec!["min_score", "sizes"]);
    assert_eq!(ineligible[0]["failed"][0]["message"], "score 72.50 is below the minimum 80.00");
    assert_eq!(ineligible[0]["failed"][0]["required"], "80.00");
    assert_eq!(ineligible[0]["failed"][0]["actual"], "72.50");
}

#[tokio::test]
async fn an_enterprise_without_a_score_fails_score_rules_only() {
    let Scored { m, .. } = scored_market().await;
    let unscored = m.app.create_enterprise(&m.park, &uscc(40), "新企业").await;
    let mut scored_only = product("scored");
    scored_only["eligibility"] = json!({"max_park_rank": 100});
    let scored_only = create(&m, &m.key_a, &scored_only).await;
    let open = create(&m, &m.key_a, &product("open")).await;
    act(&m, &m.key_a, &scored_only, "publish").await.expect(200);
    act(&m, &m.key_a, &open, "publish").await.expect(200);
    let office = m.app.create_key("park_office", Some(("park_id", &m.park))).await;
    let matches = m
        .app
        .get(&format!("/api/v1/enterprises/{unscored}/matches?expand=product"), &office)
        .await
        .expect(200);
    assert_eq!(matches.body["score"], Value::Null);
    assert_eq!(matches.body["eligible"][0]["product_detail"]["code"], "open");
    assert_eq!(matches.body["ineligible"][0]["failed"][0]["rule"], "max_park_rank");
    assert_eq!(matches.body["ineligible"][0]["failed"][0]["actual"], "none");
}

#[tokio::test]
async fn matches_are_scoped() {
    let Scored { m, firm_key, firm } = scored_market().await;
    let other = m.app.create_enterprise(&m.park, &uscc(41), "别家企业").await;
    m.app
        .get(&format!("/api/v1/enterprises/{other}/matches"), &firm_key)
        .await
        .expect_error(404, "not_found");
    m.app.get(&format!("/api/v1/enterprises/{firm}/matches"), &m.key_a).await.expect_error(403, "forbidden");
    let elsewhere = m.app.create_park("elsewhere", "别的园区").await;
    let office = m.app.create_key("park_office", Some(("park_id", &elsewhere))).await;
    m.app.get(&format!("/api/v1/enterprises/{firm}/matches"), &office).await.expect_error(404, "not_found");
    m.app.get("/api/v1/enterprises/999/matches", &m.app.admin_key).await.expect_error(404, "not_found");
}

#[tokio::test]
async fn prospects_come_best_first_in_pages() {
    let Scored { m, .. } = scored_market().await;
    let mut body = product("prospects");
    body["eligibility"] = json!({"min_score": 70, "industries": ["software"], "required_qualifications": ["high_tech_enterprise"]});
    body["amount_tiers"] =
        json!([{"min_score": 70, "max_amount": 100_000_000}, {"min_score": 90, "max_amount": 300_000_000}]);
    let id = create(&m, &m.key_a, &body).await;
    // Scores: 企业2 91 (high-tech), 企业3 88 (finance), 企业4 85 (no high-tech), 企业1 72.5, 企业5 60.
    let first = m.app.get(&format!("/api/v1/products/{id}/prospects?limit=1"), &m.key_a).await.expect(200);
    assert_eq!(first.body["items"][0]["name"], "企业2");
    assert_eq!(first.body["items"][0]["offer_max_amount"], 300_000_000);
    assert_eq!(first.body["items"][0]["rank"], 1);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = m
        .app
        .get(&format!("/api/v1/products/{id}/prospects?limit=1&cursor={cursor}"), &m.key_a)
        .await
        .expect(200);
    assert_eq!(second.body["items"][0]["name"], "企业1");
    assert_eq!(second.body["items"][0]["offer_max_amount"], 100_000_000);
    assert_eq!(second.body["items"][0]["uscc"], uscc(1));
    assert_eq!(second.body["next_cursor"], Value::Null);
    let all = m.app.get(&format!("/api/v1/products/{id}/prospects"), &m.key_a).await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    m.app
        .get(&format!("/api/v1/products/{id}/prospects?cursor=zz"), &m.key_a)
        .await
        .expect_error(400, "invalid_cursor");
}

#[tokio::test]
async fn an_edit_overtaken_by_another_is_refused_not_lost() {
    use innoloan::domain::Principal;
    use innoloan::service::{self, Write, products};
    use innoloan::store::{self, audit::Actor};
    use sea_orm::TransactionTrait;

    let m = market().await;
    let id = create(&m, &m.key_a, &product("p1")).await;
    let read = store::products::get(&m.app.db, id.parse().unwrap()).await.unwrap();
    // Another edit lands after this one read the product…
    m.app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/products/{id}"),
            Some(&m.key_a),
            Some(&json!({"name": "新名"})),
        )
        .await
        .expect(200);
    // …so this one, laid over what it read, is refused rather than undoing the name.
    let draft = store::products::Draft {
        code: read.code.clone(),
        name: "旧名之上".into(),
        description: read.description.clone(),
        credit_type: read.credit_type,
        terms: read.terms.clone(),
    };
    let txn = m.app.db.begin().await.unwrap();
    let mut w = Write::new(&txn, Actor::command_line());
    let refused =
        products::update_draft(&mut w, Principal::command_line(), read.id, draft, read.updated_at).await;
    assert!(matches!(refused, Err(service::Error::Store(store::StoreError::WrongState(_)))), "{refused:?}");
    w.discard();
    txn.rollback().await.unwrap();
    let now = m.app.get(&format!("/api/v1/products/{id}"), &m.key_a).await.expect(200);
    assert_eq!(now.body["name"], "新名");
}
