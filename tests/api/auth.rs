use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, uscc};

#[tokio::test]
async fn every_api_path_needs_a_key() {
    let app = spawn_app().await;
    for path in
        ["/api/v1/parks", "/api/v1/banks", "/api/v1/enterprises", "/api/v1/api-keys", "/api/v1/parks/1"]
    {
        app.request(Method::GET, path, None, None).await.expect_error(401, "unauthorized");
    }
    app.request(Method::POST, "/api/v1/parks", None, Some(&json!({})))
        .await
        .expect_error(401, "unauthorized");
}

#[tokio::test]
async fn unknown_and_malformed_keys_get_401() {
    let app = spawn_app().await;
    app.get("/api/v1/parks", "not-a-key").await.expect_error(401, "unauthorized");
    let (stem, last) = app.admin_key.split_at(app.admin_key.len() - 1);
    let forged = format!("{stem}{}", if last == "x" { "y" } else { "x" });
    app.get("/api/v1/parks", &forged).await.expect_error(401, "unauthorized");
}

#[tokio::test]
async fn a_revoked_key_is_refused_within_five_seconds() {
    let app = spawn_app().await;
    let key = app.create_key("admin", None).await;
    app.get("/api/v1/parks", &key).await.expect(200);
    let keys = app.get("/api/v1/api-keys", &app.admin_key).await.expect(200);
    let id = keys.body["items"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/api/v1/api-keys/{id}"), &app.admin_key).await.expect(204);
    // This process forgets the key at once; every other process within the cache TTL.
    app.get("/api/v1/parks", &key).await.expect_error(401, "unauthorized");
    app.delete(&format!("/api/v1/api-keys/{id}"), &app.admin_key).await.expect_error(404, "not_found");
}

#[tokio::test]
async fn revocation_reaches_another_process_within_five_seconds() {
    // Two servers on one database, as two `innoloan serve` processes would be.
    let first = spawn_app().await;
    let mut config = first.config.clone();
    config.bind_addr = "127.0.0.1:0".into();
    let db = first.db.clone();
    let second = innoloan::Application::build_with_db(config, db).await.unwrap();
    let second_address = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());

    let key = first.create_key("admin", None).await;
    let on_second = |key: String| {
        let url = format!("{second_address}/api/v1/parks");
        async move { reqwest::Client::new().get(url).bearer_auth(key).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(on_second(key.clone()).await, 200);
    let keys = first.get("/api/v1/api-keys?limit=500", &first.admin_key).await.expect(200);
    let id = keys.body["items"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned();
    first.delete(&format!("/api/v1/api-keys/{id}"), &first.admin_key).await.expect(204);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(on_second(key).await, 401);
}

#[tokio::test]
async fn roles_that_may_not_act_get_403() {
    let app = spawn_app().await;
    let park = app.create_park("p1", "一号园区").await;
    let bank = app.create_bank("b1", "一号银行").await;
    let enterprise = app.create_enterprise(&park, &uscc(1), "一号企业").await;
    let office = app.create_key("park_office", Some(("park_id", &park))).await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let firm = app.create_key("enterprise", Some(("enterprise_id", &enterprise))).await;

    for key in [&office, &bank_key, &firm] {
        app.post("/api/v1/parks", key, &json!({"code": "x", "name": "x", "region": "x"}))
            .await
            .expect_error(403, "forbidden");
        app.post("/api/v1/banks", key, &json!({"code": "x", "name": "x"}))
            .await
            .expect_error(403, "forbidden");
        app.post("/api/v1/api-keys", key, &json!({"name": "x", "role": "admin"}))
            .await
            .expect_error(403, "forbidden");
        app.get("/api/v1/api-keys", key).await.expect_error(403, "forbidden");
        app.delete("/api/v1/api-keys/1", key).await.expect_error(403, "forbidden");
    }
    let new_enterprise = json!({
        "uscc": uscc(2), "name": "二号企业", "park_id": park, "industry": "software",
        "size": "small", "founded_on": "2020-01-01",
    });
    app.post("/api/v1/enterprises", &bank_key, &new_enterprise).await.expect_error(403, "forbidden");
    app.post("/api/v1/enterprises", &firm, &new_enterprise).await.expect_error(403, "forbidden");
    app.post("/api/v1/enterprises", &office, &new_enterprise).await.expect(201);
}

#[tokio::test]
async fn api_key_creation_checks_the_scope() {
    let app = spawn_app().await;
    let park = app.create_park("p1", "一号园区").await;
    let reply = app.post("/api/v1/api-keys", &app.admin_key, &json!({"name": "x", "role": "bank"})).await;
    assert_eq!(reply.expect_error(422, "validation_failed").error_fields(), vec!["bank_id"]);
    let body = json!({"name": "x", "role": "admin", "park_id": park});
    assert_eq!(
        app.post("/api/v1/api-keys", &app.admin_key, &body).await.expect(422).error_fields(),
        vec!["park_id"]
    );
    let body = json!({"name": "x", "role": "bank", "bank_id": "999"});
    assert_eq!(
        app.post("/api/v1/api-keys", &app.admin_key, &body).await.expect(422).error_fields(),
        vec!["bank_id"]
    );
    let body = json!({"name": "x", "role": "root"});
    app.post("/api/v1/api-keys", &app.admin_key, &body).await.expect_error(422, "validation_failed");

    let created = app
        .post(
            "/api/v1/api-keys",
            &app.admin_key,
            &json!({"name": "ops", "role": "park_office", "park_id": park}),
        )
        .await
        .expect(201);
    assert!(created.body["secret"].as_str().unwrap().starts_with("ilk_"));
    let listed = app.get("/api/v1/api-keys", &app.admin_key).await.expect(200);
    assert!(!listed.text.contains("secret"), "secrets are never listed: {}", listed.text);
    assert!(!listed.text.contains("hash"));
}

#[tokio::test]
async fn a_key_reads_its_own_role_and_scope() {
    let app = spawn_app().await;
    let park = app.create_park("chengdu", "成都高新区").await;
    let office = app.create_key("park_office", Some(("park_id", &park))).await;
    let me = app.get("/api/v1/me", &office).await.expect(200).body;
    assert_eq!(
        (me["role"].as_str(), me["park_id"].as_str(), me["scope_name"].as_str()),
        (Some("park_office"), Some(park.as_str()), Some("成都高新区"))
    );
    assert!(me.get("secret").is_none());
    let admin = app.get("/api/v1/me", &app.admin_key).await.expect(200).body;
    assert_eq!(admin["role"], "admin");
    assert!(admin.get("scope_name").is_none());
    app.get("/api/v1/me", "ilk_wrong").await.expect_error(401, "unauthorized");
}
