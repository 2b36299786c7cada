use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with, test_config, uscc};

/// A park with `n` registered enterprises; returns the park id and the enterprise ids.
async fn park_with_enterprises(app: &TestApp, code: &str, n: u32, first: u32) -> (String, Vec<String>) {
    let park = app.create_park(code, &format!("{code}园区")).await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(app.create_enterprise(&park, &uscc(first + i), &format!("企业{}", first + i)).await);
    }
    (park, ids)
}

fn row(n: u32, score: f64) -> Value {
    json!({"uscc": uscc(n), "score": score, "stage": "growth", "indicators": {"研发费用金额": 1_000_000 + n, "PCT专利申请量": 2}})
}

async fn import(
    app: &TestApp,
    park: &str,
    key: &str,
    period: &str,
    rows: Vec<Value>,
) -> crate::helpers::Reply {
    app.post(&format!("/api/v1/parks/{park}/scores"), key, &json!({"period": period, "scores": rows})).await
}

#[tokio::test]
async fn a_json_import_ranks_the_park_with_shared_ranks_for_ties() {
    let app = spawn_app().await;
    let (park, ids) = park_with_enterprises(&app, "p", 4, 1).await;
    let reply = import(
        &app,
        &park,
        &app.admin_key,
        "2022",
        vec![row(1, 90.0), row(2, 80.5), row(3, 80.5), row(4, 70.25)],
    )
    .await;
    let reply = reply.expect(201);
    assert_eq!(reply.body, json!({"park_id": park, "period": "2022", "imported": 4, "ranked": 4}));

    let score = app.get(&format!("/api/v1/enterprises/{}/score", ids[2]), &app.admin_key).await.expect(200);
    assert_eq!(score.body["score"], 80.5);
    assert_eq!(score.body["rank"], 2);
    assert_eq!(score.body["park_size"], 4);
    assert_eq!(score.body["stage"], "growth");
    assert_eq!(score.body["indicators"]["PCT专利申请量"], 2.0);

    let ranking = app.get(&format!("/api/v1/parks/{park}/rankings"), &app.admin_key).await.expect(200);
    assert_eq!(ranking.body["period"], "2022");
    let ranks: Vec<i64> =
        ranking.body["items"].as_array().unwrap().iter().map(|i| i["rank"].as_i64().unwrap()).collect();
    assert_eq!(ranks, vec![1, 2, 2, 4]);
    assert_eq!(ranking.body["items"][0]["uscc"], uscc(1));
    assert_eq!(ranking.body["items"][0]["name"], "企业1");
    assert_eq!(ranking.body["items"][3]["score"], 70.25);
    assert_eq!(ranking.body["items"][0]["percentile"], 100.0);
}

#[tokio::test]
async fn a_csv_import_with_chinese_indicator_names() {
    let app = spawn_app().await;
    let (park, ids) = park_with_enterprises(&app, "p", 3, 1).await;
    let csv = format!(
        "\u{feff}uscc,score,stage,研发费用金额,科技人员占比\n{},95.5,mature,3000000,0.35\n{},61,startup,,0.5\n{},72.25,growth,100,\n",
        uscc(1),
        uscc(2),
        uscc(3)
    );
    let path = format!("/api/v1/parks/{park}/scores?period=2021");
    let reply = app.post_raw(&path, &app.admin_key, "text/csv; charset=utf-8", csv).await.expect(201);
    assert_eq!(reply.body["imported"], 3);
    let score = app.get(&format!("/api/v1/enterprises/{}/score", ids[0]), &app.admin_key).await.expect(200);
    assert_eq!(score.body["score"], 95.5);
    assert_eq!(score.body["period"], "2021");
    assert_eq!(score.body["indicators"]["研发费用金额"], 3_000_000.0);
    let second = app.get(&format!("/api/v1/enterprises/{}/score", ids[1]), &app.admin_key).await.expect(200);
    assert!(second.body["indicators"].get("研发费用金额").is_none(), "an empty cell is no indicator");

    let no_period = app
        .post_raw(&format!("/api/v1/parks/{park}/scores"), &app.admin_key, "text/csv", "uscc,score,stage\n")
        .await;
    assert_eq!(no_period.expect(422).error_fields(), vec!["period"]);
    let bad_header = app.post_raw(&path, &app.admin_key, "text/csv", "code,points,stage\n").await;
    assert_eq!(bad_header.expect(422).error_fields(), vec!["header"]);
}

#[tokio::test]
async fn a_bad_batch_is_refused_whole_and_lists_every_bad_row() {
    let app = spawn_app().await;
    let (park, ids) = park_with_enterprises(&app, "p", 3, 1).await;
    let (_, _) = park_with_enterprises(&app, "q", 1, 50).await;
    import(&app, &park, &app.admin_key, "2022", vec![row(1, 10.0), row(2, 20.0), row(3, 30.0)])
        .await
        .expect(201);

    let rows = vec![
        row(1, 99.0),                                                          // fine
        json!({"uscc": "91350100M000100Y44", "score": 50, "stage": "growth"}), // bad check character
        json!({"uscc": uscc(2), "score": 1000.5, "stage": "growth"}),          // out of range
        json!({"uscc": uscc(3), "score": 10, "stage": "teenage"}),             // bad stage
        json!({"uscc": uscc(50), "score": 10, "stage": "growth"}),             // another park's
        json!({"uscc": uscc(1), "score": 10, "stage": "growth"}),              // twice
        json!({"uscc": uscc(3), "score": 10, "stage": "growth", "indicators": {"x": "many"}}),
    ];
    let reply =
        import(&app, &park, &app.admin_key, "2022", rows).await.expect_error(422, "validation_failed");
    let details: Vec<(i64, String)> = reply.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["row"].as_i64().unwrap(), d["field"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        details,
        vec![
            (2, "uscc".into()),
            (3, "score".into()),
            (4, "stage".into()),
            (5, "uscc".into()),
            (6, "uscc".into()),
            (7, "x".into())
        ],
        "{}",
        reply.text
    );
    // Nothing of the refused batch was stored: the old period stands.
    let score = app.get(&format!("/api/v1/enterprises/{}/score", ids[0]), &app.admin_key).await.expect(200);
    assert_eq!(score.body["score"], 10.0);

    // Rows that parse but are not registered in the park are refused the same way.
    let reply =
        import(&app, &park, &app.admin_key, "2022", vec![row(1, 50.0), row(50, 50.0), row(99, 1.0)]).await;
    let reply = reply.expect_error(422, "validation_failed");
    let rows: Vec<i64> = reply.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["row"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, vec![2, 3]);
    import(&app, &park, &app.admin_key, "2022", vec![]).await.expect_error(422, "validation_failed");
    import(&app, &park, &app.admin_key, "22", vec![row(1, 5.0)]).await.expect_error(422, "validation_failed");
}

#[tokio::test]
async fn a_reimport_is_seen_at_once() {
    let app = spawn_app().await;
    let (park, ids) = park_with_enterprises(&app, "p", 2, 1).await;
    import(&app, &park, &app.admin_key, "2022", vec![row(1, 60.0), row(2, 70.0)]).await.expect(201);
    let path = format!("/api/v1/enterprises/{}/score", ids[0]);
    let first = app.get(&path, &app.admin_key).await.expect(200);
    assert_eq!(first.header("x-cache"), Some("miss"));
    let second = app.get(&path, &app.admin_key).await.expect(200);
    assert_eq!(second.header("x-cache"), Some("hit"));
    assert_eq!(second.body["rank"], 2);

    import(&app, &park, &app.admin_key, "2022", vec![row(1, 85.0), row(2, 70.0)]).await.expect(201);
    let after = app.get(&path, &app.admin_key).await.expect(200);
    assert_eq!(after.body["score"], 85.0);
    assert_eq!(after.body["rank"], 1);
    assert_eq!(after.header("x-cache"), Some("miss"));

    // A later period becomes the latest score.
    import(&app, &park, &app.admin_key, "2023", vec![row(1, 40.0)]).await.expect(201);
    let latest = app.get(&path, &app.admin_key).await.expect(200);
    assert_eq!((latest.body["period"].as_str(), latest.body["score"].as_f64()), (Some("2023"), Some(40.0)));
    let ranking_2022 =
        app.get(&format!("/api/v1/parks/{park}/rankings?period=2022"), &app.admin_key).await.expect(200);
    assert_eq!(ranking_2022.body["items"].as_array().unwrap().len(), 2);
    let metrics =
        app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("score_cache_total{outcome=\"hit\"}"), "{metrics}");
}

#[tokio::test]
async fn rankings_page_best_first() {
    let app = spawn_app().await;
    let (park, _) = park_with_enterprises(&app, "p", 5, 1).await;
    import(
        &app,
        &park,
        &app.admin_key,
        "2022",
        vec![row(1, 50.0), row(2, 90.0), row(3, 70.0), row(4, 70.0), row(5, 10.0)],
    )
    .await
    .expect(201);
    let mut seen = Vec::new();
    let mut path = format!("/api/v1/parks/{park}/rankings?limit=2");
    loop {
        let page = app.get(&path, &app.admin_key).await.expect(200);
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|i| i["score"].as_f64().unwrap()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/parks/{park}/rankings?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![90.0, 70.0, 70.0, 50.0, 10.0]);
    let empty_park = app.create_park("empty", "空园区").await;
    let empty = app.get(&format!("/api/v1/parks/{empty_park}/rankings"), &app.admin_key).await.expect(200);
    assert_eq!(empty.body["period"], Value::Null);
    app.get("/api/v1/parks/999/rankings", &app.admin_key).await.expect_error(404, "not_found");
    app.get(&format!("/api/v1/parks/{park}/rankings?limit=501"), &app.admin_key)
        .await
        .expect_error(422, "validation_failed");
}

#[tokio::test]
async fn score_access_follows_the_roles() {
    let app = spawn_app().await;
    let (park_a, in_a) = park_with_enterprises(&app, "a", 2, 1).await;
    let (park_b, in_b) = park_with_enterprises(&app, "b", 1, 10).await;
    let office_a = app.create_key("park_office", Some(("park_id", &park_a))).await;
    let firm = app.create_key("enterprise", Some(("enterprise_id", &in_a[0]))).await;
    let bank = app.create_bank("bank", "银行").await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;

    import(&app, &park_a, &office_a, "2022", vec![row(1, 60.0), row(2, 70.0)]).await.expect(201);
    import(&app, &park_b, &office_a, "2022", vec![row(10, 60.0)]).await.expect_error(404, "not_found");
    import(&app, &park_a, &bank_key, "2022", vec![row(1, 60.0)]).await.expect_error(403, "forbidden");
    import(&app, &park_a, &firm, "2022", vec![row(1, 60.0)]).await.expect_error(403, "forbidden");
    import(&app, "999", &app.admin_key, "2022", vec![row(1, 60.0)]).await.expect_error(404, "not_found");
    import(&app, &park_b, &app.admin_key, "2022", vec![row(10, 60.0)]).await.expect(201);

    let path = |id: &str| format!("/api/v1/enterprises/{id}/score");
    app.get(&path(&in_a[0]), &firm).await.expect(200);
    app.get(&path(&in_a[1]), &firm).await.expect_error(404, "not_found");
    app.get(&path(&in_a[1]), &office_a).await.expect(200);
    app.get(&path(&in_b[0]), &office_a).await.expect_error(404, "not_found");
    app.get(&path(&in_b[0]), &bank_key).await.expect(200);
    app.get(&path("999"), &app.admin_key).await.expect_error(404, "not_found");

    let unscored = app.create_enterprise(&park_a, &uscc(30), "未评分企业").await;
    app.get(&path(&unscored), &app.admin_key).await.expect_error(404, "no_score");
    // Rankings are public to every authenticated caller.
    app.get(&format!("/api/v1/parks/{park_b}/rankings"), &firm).await.expect(200);
}

/// A TCP server that accepts connections and never answers: a Redis that hangs.
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("redis://{address}")
}

async fn look_up_scores_with_redis_at(redis_url: String) {
    let mut config = test_config().await;
    config.redis_url = Some(redis_url);
    let app = spawn_app_with(config).await;
    let (park, ids) = park_with_enterprises(&app, "p", 1, 1).await;
    import(&app, &park, &app.admin_key, "2022", vec![row(1, 66.0)]).await.expect(201);
    let started = Instant::now();
    for _ in 0..3 {
        let score =
            app.get(&format!("/api/v1/enterprises/{}/score", ids[0]), &app.admin_key).await.expect(200);
        assert_eq!(score.body["score"], 66.0);
    }
    assert!(started.elapsed() < Duration::from_secs(10), "the look-ups fall back within the timeout");
    let ready = app.request(reqwest::Method::GET, "/readyz", None, None).await.expect(200);
    assert_eq!(ready.body["redis"], "down");
    assert_eq!(ready.body["database"], "ok");
}

#[tokio::test]
async fn score_look_ups_succeed_when_redis_is_unreachable() {
    look_up_scores_with_redis_at("redis://127.0.0.1:1".into()).await;
}

#[tokio::test]
async fn score_look_ups_succeed_when_redis_stops_answering() {
    look_up_scores_with_redis_at(silent_server().await).await;
}

/// Needs a real Redis: two server processes share it, and an import through one is seen at once
/// through the other.
#[tokio::test]
async fn an_import_invalidates_the_shared_redis_cache_for_every_process() {
    let Some(redis_url) = std::env::var("TEST_REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        assert!(std::env::var("TEST_REQUIRE_SERVICES").is_err(), "TEST_REDIS_URL is required here");
        crate::server::skip(
            "an_import_invalidates_the_shared_redis_cache_for_every_process",
            "TEST_REDIS_URL is not set",
        );
        return;
    };
    let first = spawn_app().await;
    assert_eq!(first.config.redis_url.as_deref(), Some(redis_url.as_str()));
    let second = innoloan::Application::build_with_db(first.config.clone(), first.db.clone()).await.unwrap();
    let second_address = format!("http://127.0.0.1:{}", second.port());
    tokio::spawn(second.run_until_stopped());

    let (park, ids) = park_with_enterprises(&first, "p", 1, 1).await;
    import(&first, &park, &first.admin_key, "2022", vec![row(1, 50.0)]).await.expect(201);
    let read_on_second = || {
        let url = format!("{second_address}/api/v1/enterprises/{}/score", ids[0]);
        let key = first.admin_key.clone();
        async move {
            let reply = reqwest::Client::new().get(url).bearer_auth(key).send().await.unwrap();
            let cache = reply.headers()["x-cache"].to_str().unwrap().to_owned();
            (reply.json::<Value>().await.unwrap()["score"].as_f64().unwrap(), cache)
        }
    };
    assert_eq!(read_on_second().await, (50.0, "miss".to_owned()));
    assert_eq!(read_on_second().await, (50.0, "hit".to_owned()));
    import(&first, &park, &first.admin_key, "2022", vec![row(1, 77.0)]).await.expect(201);
    assert_eq!(read_on_second().await, (77.0, "miss".to_owned()));
    let ready = first.request(reqwest::Method::GET, "/readyz", None, None).await.expect(200);
    assert_eq!(ready.body["redis"], "ok");
}

#[tokio::test]
async fn score_imports_take_bodies_larger_than_other_paths() {
    let app = spawn_app().await;
    let park = app.create_park("p", "园区").await;
    let rows: Vec<Value> = (0..15_000).map(|n| row(n, 1.0)).collect();
    let body = json!({"period": "2022", "scores": rows});
    assert!(body.to_string().len() > 1024 * 1024);
    // Far past the 1 MiB of other paths, and read whole: every row is reported unregistered.
    let reply = app.post(&format!("/api/v1/parks/{park}/scores"), &app.admin_key, &body).await;
    let reply = reply.expect_error(422, "validation_failed");
    assert_eq!(reply.body["error"]["details"].as_array().unwrap().len(), 15_000);
}

#[tokio::test]
async fn periods_follow_their_grammar_and_the_calendar() {
    let app = spawn_app().await;
    let (park, ids) = park_with_enterprises(&app, "p", 1, 1).await;
    // As text, "2022-H1" sorts after "2022-Q3"; in the calendar the third quarter is later.
    import(&app, &park, &app.admin_key, "2022-Q3", vec![row(1, 70.0)]).await.expect(201);
    import(&app, &park, &app.admin_key, "2022-H1", vec![row(1, 60.0)]).await.expect(201);
    let score = app.get(&format!("/api/v1/enterprises/{}/score", ids[0]), &app.admin_key).await.expect(200);
    assert_eq!(score.body["period"], "2022-Q3");
    assert_eq!(score.body["score"], 70.0);
    let ranking = app.get(&format!("/api/v1/parks/{park}/rankings"), &app.admin_key).await.expect(200);
    assert_eq!(ranking.body["period"], "2022-Q3");
    // The whole year ends with the fourth quarter, so it is later than the third.
    import(&app, &park, &app.admin_key, "2022", vec![row(1, 80.0)]).await.expect(201);
    let score = app.get(&format!("/api/v1/enterprises/{}/score", ids[0]), &app.admin_key).await.expect(200);
    assert_eq!(score.body["period"], "2022");
    for bad in ["2022H1", "2022-Q5", "2022-13", "22", "2022-1"] {
        let reply = import(&app, &park, &app.admin_key, bad, vec![row(1, 50.0)]).await;
        assert_eq!(reply.expect(422).error_fields(), vec!["period"], "{bad}");
        let ranking = app.get(&format!("/api/v1/parks/{park}/rankings?period={bad}"), &app.admin_key).await;
        ranking.expect(422);
    }
}

#[tokio::test]
async fn a_stage_ranks_its_own_enterprises_and_products_may_ask_for_stages() {
    let app = spawn_app().await;
    let (park, ids) = park_with_enterprises(&app, "p", 5, 1).await;
    let staged = |n: u32, score: f64, stage: &str| json!({"uscc": uscc(n), "score": score, "stage": stage});
    let rows = vec![
        staged(1, 95.0, "mature"),
        staged(2, 90.0, "growth"),
        staged(3, 85.0, "startup"),
        staged(4, 80.0, "startup"),
        staged(5, 75.0, "startup"),
    ];
    import(&app, &park, &app.admin_key, "2022", rows).await.expect(201);

    // 85.00 is third in the park (60th percentile) but first of its three start-ups.
    let score =
        app.get(&format!("/api/v1/enterprises/{}/score", ids[2]), &app.admin_key).await.expect(200).body;
    assert_eq!((score["rank"].as_i64(), score["percentile"].as_f64()), (Some(3), Some(60.0)));
    assert_eq!(
        (score["stage_rank"].as_i64(), score["stage_size"].as_i64(), score["stage_percentile"].as_f64()),
        (Some(1), Some(3), Some(100.0))
    );
    let last =
        app.get(&format!("/api/v1/enterprises/{}/score", ids[4]), &app.admin_key).await.expect(200).body;
    assert_eq!((last["stage_rank"].as_i64(), last["stage_percentile"].as_f64()), (Some(3), Some(33.33)));

    let startups = app
        .get(&format!("/api/v1/parks/{park}/rankings?stage=startup"), &app.admin_key)
        .await
        .expect(200)
        .body;
    assert_eq!(startups["stage"], "startup");
    let listed: Vec<(String, i64, f64)> = startups["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["enterprise_id"].as_str().unwrap().to_owned(),
                i["rank"].as_i64().unwrap(),
                i["percentile"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![(ids[2].clone(), 1, 100.0), (ids[3].clone(), 2, 66.66), (ids[4].clone(), 3, 33.33)]
    );
    assert_eq!(startups["period"], "2022");
    let mature = app.get(&format!("/api/v1/parks/{park}/rankings?stage=mature"), &app.admin_key).await;
    let mature = mature.expect(200).body;
    assert_eq!(
        (mature["period"].as_str(), mature["items"].as_array().map(Vec::len)),
        (Some("2022"), Some(1))
    );
    app.get(&format!("/api/v1/parks/{park}/rankings?stage=teenage"), &app.admin_key).await.expect(422);

    // A product for start-ups in the top half of their stage: the second start-up qualifies
    // though the park ranks it fourth; the growing firm fails the stage, in words.
    let bank = app.create_bank("b", "银行").await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let product = json!({
        "code": "young", "name": "初创积分贷", "credit_type": "pure_credit", "min_amount": 100, "max_amount": 10_000_000,
        "rate_bps_min": 350, "rate_bps_max": 450, "term_months_min": 6, "term_months_max": 12,
        "approval_sla_days": 5, "total_quota": 100_000_000,
        "eligibility": {"stages": ["startup"], "min_stage_percentile": 50},
    });
    let product = app.post("/api/v1/products", &bank_key, &product).await.expect(201);
    assert_eq!(product.body["eligibility"], json!({"stages": ["startup"], "min_stage_percentile": 50.0}));
    let product = product.id();
    app.post(&format!("/api/v1/products/{product}/publish"), &bank_key, &json!({})).await.expect(200);
    let prospects =
        app.get(&format!("/api/v1/products/{product}/prospects"), &bank_key).await.expect(200).body;
    let prospects: Vec<&str> =
        prospects["items"].as_array().unwrap().iter().map(|p| p["enterprise_id"].as_str().unwrap()).collect();
    assert_eq!(prospects, vec![ids[2].as_str(), ids[3].as_str()]);
    let matches =
        app.get(&format!("/api/v1/enterprises/{}/matches", ids[1]), &app.admin_key).await.expect(200).body;
    let failed = &matches["ineligible"][0]["failed"];
    assert_eq!(failed[0]["rule"], "stages");
    assert_eq!(failed[0]["message"], "a growth enterprise is not eligible; stages startup are");

    // Scores imported before ranks within a stage existed get them from the migration step, by
    // the same rule.
    use migration::MigratorTrait;
    migration::Migrator::down(&app.db, Some(1)).await.unwrap();
    migration::Migrator::up(&app.db, None).await.unwrap();
    // (Rankings are read from the database, never from the score cache.)
    let again = app
        .get(&format!("/api/v1/parks/{park}/rankings?stage=startup"), &app.admin_key)
        .await
        .expect(200)
        .body;
    assert_eq!(again["items"], startups["items"]);
}
