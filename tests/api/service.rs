use reqwest::Method;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    let health = app.request(Method::GET, "/healthz", None, None).await.expect(200);
    assert!(health.header("x-request-id").is_some());
    let ready = app.request(Method::GET, "/readyz", None, None).await.expect(200);
    assert_eq!(ready.body["database"], "ok");
    app.get("/api/v1/parks", &app.admin_key).await.expect(200);
    let metrics = app.request(Method::GET, "/metrics", None, None).await.expect(200);
    assert!(
        metrics.text.contains("http_requests_total{method=\"GET\",route=\"list_parks\",status=\"200\"} 1"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn unknown_routes_answer_in_the_error_shape() {
    let app = spawn_app().await;
    app.request(Method::GET, "/nope", None, None).await.expect_error(404, "not_found");
    app.request(Method::GET, "/api/v1/nope", Some(&app.admin_key), None).await.expect_error(404, "not_found");
    app.request(Method::PUT, "/api/v1/parks", Some(&app.admin_key), None)
        .await
        .expect_error(405, "method_not_allowed");
}

#[tokio::test]
async fn the_request_id_is_echoed() {
    let app = spawn_app().await;
    let reply = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app().await;
    let big = format!("{{\"code\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    app.post_raw("/api/v1/parks", &app.admin_key, "application/json", big)
        .await
        .expect_error(413, "payload_too_large");
}

#[tokio::test]
async fn the_document_is_served_and_committed() {
    let app = spawn_app().await;
    let served = app.request(Method::GET, "/openapi.yaml", None, None).await.expect(200);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.yaml")).unwrap();
    assert!(
        served.text == committed,
        "openapi/openapi.yaml is stale: run `cargo run -- openapi > openapi/openapi.yaml`"
    );
    assert_eq!(innoloan::cli::openapi("yaml"), committed);
    app.request(Method::GET, "/openapi.json", None, None).await.expect(200);
    app.request(Method::GET, "/docs", None, None).await.expect(200);
}

#[tokio::test]
async fn every_migration_goes_down_and_up_again() {
    use migration::MigratorTrait;
    use sea_orm::EntityTrait;
    let config = crate::helpers::test_config().await;
    let db = innoloan::store::connect(&config.database_url, 2).await.unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    entity::product::Entity::find().all(&db).await.unwrap();
    migration::Migrator::down(&db, None).await.unwrap();
    assert!(entity::park::Entity::find().all(&db).await.is_err(), "down drops every table");
    migration::Migrator::up(&db, None).await.unwrap();
    assert!(entity::park::Entity::find().all(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_and_loads_nothing_from_elsewhere() {
    let app = crate::helpers::spawn_app().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let moved = client.get(format!("{}/console", app.address)).send().await.unwrap();
    assert_eq!((moved.status().as_u16(), moved.headers()["location"].to_str().unwrap()), (302, "/console/"));
    let page = client.get(format!("{}/console/", app.address)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("default-src 'self'") && policy.contains("script-src 'self';"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("创新积分贷"));
    // Every script and stylesheet the page names is the binary's own, and is there.
    let assets: Vec<&str> = html.split('"').filter(|s| s.starts_with("/console/assets/")).collect();
    assert!(assets.len() >= 2, "{html}");
    for asset in assets {
        let got = client.get(format!("{}{asset}", app.address)).send().await.unwrap();
        assert_eq!(got.status(), 200, "{asset}");
    }
    assert!(!html.contains("http://") && !html.contains("https://"), "the page names another origin: {html}");
    let missing = client.get(format!("{}/console/nothing-here.js", app.address)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}
