use serde_json::json;

use crate::helpers::{spawn_app, uscc};

#[tokio::test]
async fn admin_creates_and_reads_parks_and_banks() {
    let app = spawn_app().await;
    let park = app
        .post(
            "/api/v1/parks",
            &app.admin_key,
            &json!({"code": "chengdu", "name": "成都高新区", "region": "四川省成都市"}),
        )
        .await
        .expect(201);
    assert_eq!(park.body["name"], "成都高新区");
    let id = park.id();
    let read = app.get(&format!("/api/v1/parks/{id}"), &app.admin_key).await.expect(200);
    assert_eq!(read.body["code"], "chengdu");
    app.post("/api/v1/parks", &app.admin_key, &json!({"code": "chengdu", "name": "x", "region": "y"}))
        .await
        .expect_error(409, "conflict");
    app.get("/api/v1/parks/999", &app.admin_key).await.expect_error(404, "not_found");
    app.get("/api/v1/parks/abc", &app.admin_key).await.expect_error(404, "not_found");

    let bank = app
        .post("/api/v1/banks", &app.admin_key, &json!({"code": "bocd", "name": "成都银行"}))
        .await
        .expect(201);
    app.get(&format!("/api/v1/banks/{}", bank.id()), &app.admin_key).await.expect(200);
    app.post("/api/v1/banks", &app.admin_key, &json!({"code": "bocd", "name": "x"}))
        .await
        .expect_error(409, "conflict");
    app.get("/api/v1/banks/999", &app.admin_key).await.expect_error(404, "not_found");
}

#[tokio::test]
async fn every_role_reads_parks_and_banks() {
    let app = spawn_app().await;
    let park = app.create_park("p1", "一号园区").await;
    let bank = app.create_bank("b1", "一号银行").await;
    let key = app.create_key("bank", Some(("bank_id", &bank))).await;
    app.get(&format!("/api/v1/parks/{park}"), &key).await.expect(200);
    assert_eq!(app.get("/api/v1/banks", &key).await.expect(200).body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn lists_page_with_cursors() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.create_park(&format!("p{i}"), &format!("园区{i}")).await;
    }
    let first = app.get("/api/v1/parks?limit=2", &app.admin_key).await.expect(200);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let mut seen: Vec<String> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = first.body["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = app.get(&format!("/api/v1/parks?limit=2&cursor={c}"), &app.admin_key).await.expect(200);
        seen.extend(
            page.body["items"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()),
        );
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, vec!["p0", "p1", "p2", "p3", "p4"]);
    app.get("/api/v1/parks?limit=0", &app.admin_key).await.expect_error(422, "validation_failed");
    app.get("/api/v1/parks?limit=501", &app.admin_key).await.expect_error(422, "validation_failed");
    app.get("/api/v1/parks?cursor=%%%", &app.admin_key).await.expect_error(400, "invalid_cursor");
}

#[tokio::test]
async fn validation_names_each_field() {
    let app = spawn_app().await;
    let reply = app
        .post("/api/v1/parks", &app.admin_key, &json!({"code": "Bad Code", "name": "x", "region": "y"}))
        .await;
    assert_eq!(reply.expect_error(422, "validation_failed").error_fields(), vec!["code"]);
    let reply =
        app.post("/api/v1/parks", &app.admin_key, &json!({"code": "ok", "name": "   ", "region": "y"})).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["name"]);
    let reply = app
        .post("/api/v1/parks", &app.admin_key, &json!({"code": "ok", "name": "x".repeat(201), "region": "y"}))
        .await;
    assert_eq!(reply.expect(422).error_fields(), vec!["name"]);
    app.post("/api/v1/parks", &app.admin_key, &json!({"code": "ok"}))
        .await
        .expect_error(422, "validation_failed");
}

#[tokio::test]
async fn malformed_json_gets_400_in_the_error_shape() {
    let app = spawn_app().await;
    let reply = app.post_raw("/api/v1/parks", &app.admin_key, "application/json", "{\"code\": ").await;
    reply.expect_error(400, "malformed_body");
    let reply = app.post_raw("/api/v1/parks", &app.admin_key, "application/xml", "<park/>").await;
    reply.expect_error(415, "unsupported_media_type");
}

#[tokio::test]
async fn enterprises_are_registered_with_a_valid_uscc() {
    let app = spawn_app().await;
    let park = app.create_park("p1", "一号园区").await;
    let body = |code: &str| {
        json!({
            "uscc": code, "name": "成都美洽网络科技有限公司", "park_id": park, "industry": "software",
            "size": "small", "founded_on": "2015-06-01", "qualifications": ["tech_sme", "high_tech_enterprise"],
        })
    };
    let created =
        app.post("/api/v1/enterprises", &app.admin_key, &body("91350100M000100Y43")).await.expect(201);
    assert_eq!(created.body["name"], "成都美洽网络科技有限公司");
    assert_eq!(created.body["qualifications"], json!(["high_tech_enterprise", "tech_sme"]));

    let bad = app.post("/api/v1/enterprises", &app.admin_key, &body("91350100M000100Y44")).await;
    let bad = bad.expect_error(422, "validation_failed");
    assert_eq!(bad.error_fields(), vec!["uscc"]);
    assert!(bad.text.contains("check character"), "{}", bad.text);
    app.post("/api/v1/enterprises", &app.admin_key, &body("91350100m000100y43"))
        .await
        .expect_error(409, "conflict");

    let mut future = body(&uscc(5));
    future["founded_on"] = json!("2999-01-01");
    assert_eq!(
        app.post("/api/v1/enterprises", &app.admin_key, &future).await.expect(422).error_fields(),
        vec!["founded_on"]
    );
    let mut no_park = body(&uscc(6));
    no_park["park_id"] = json!("999");
    assert_eq!(
        app.post("/api/v1/enterprises", &app.admin_key, &no_park).await.expect(422).error_fields(),
        vec!["park_id"]
    );
    let mut bad_size = body(&uscc(7));
    bad_size["size"] = json!("huge");
    app.post("/api/v1/enterprises", &app.admin_key, &bad_size).await.expect_error(422, "validation_failed");
}

#[tokio::test]
async fn enterprise_reads_are_scoped() {
    let app = spawn_app().await;
    let park_a = app.create_park("a", "甲园区").await;
    let park_b = app.create_park("b", "乙园区").await;
    let in_a = app.create_enterprise(&park_a, &uscc(1), "甲企业").await;
    let in_b = app.create_enterprise(&park_b, &uscc(2), "乙企业").await;
    let office_a = app.create_key("park_office", Some(("park_id", &park_a))).await;
    let firm_a = app.create_key("enterprise", Some(("enterprise_id", &in_a))).await;
    let bank = app.create_bank("b1", "一号银行").await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;

    app.get(&format!("/api/v1/enterprises/{in_a}"), &office_a).await.expect(200);
    app.get(&format!("/api/v1/enterprises/{in_b}"), &office_a).await.expect_error(404, "not_found");
    app.get(&format!("/api/v1/enterprises/{in_a}"), &firm_a).await.expect(200);
    app.get(&format!("/api/v1/enterprises/{in_b}"), &firm_a).await.expect_error(404, "not_found");
    app.get(&format!("/api/v1/enterprises/{in_a}"), &bank_key).await.expect_error(404, "not_found");

    let listed = app.get("/api/v1/enterprises", &office_a).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["items"][0]["id"], in_a.as_str());
    let all = app.get("/api/v1/enterprises", &app.admin_key).await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    let filtered =
        app.get(&format!("/api/v1/enterprises?park_id={park_b}"), &app.admin_key).await.expect(200);
    assert_eq!(filtered.body["items"][0]["id"], in_b.as_str());

    // A park office registers only in its own park; another park is as if it did not exist.
    let body = json!({"uscc": uscc(3), "name": "丙企业", "park_id": park_b, "industry": "x", "size": "micro", "founded_on": "2020-01-01"});
    assert_eq!(
        app.post("/api/v1/enterprises", &office_a, &body).await.expect(422).error_fields(),
        vec!["park_id"]
    );
}

#[tokio::test]
async fn changes_are_audited() {
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    let park = app.create_park("p1", "一号园区").await;
    app.create_enterprise(&park, &uscc(1), "一号企业").await;
    let rows = entity::audit_log::Entity::find().all(&app.db).await.unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert!(actions.contains(&"park.create"), "{actions:?}");
    assert!(actions.contains(&"enterprise.create"));
    assert!(
        rows.iter()
            .filter(|r| r.action != "api_key.create")
            .all(|r| r.actor_key_id.is_some() && r.request_id.is_some())
    );
}
