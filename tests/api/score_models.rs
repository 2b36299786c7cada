//! Score models: the default model copied and activated, indicator values computed into scores
//! with their breakdown, immutability once used, and every bad row reported.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, uscc};

/// The three enterprises of the domain's hand-worked example (`domain::score_model`): 56.20,
/// 62.60 and 74.40 with the default model.
fn hand_worked() -> Vec<Value> {
    vec![
        json!({"uscc": uscc(1), "stage": "startup", "values": {
            "rd_expense": 120, "rd_expense_growth": 35, "rd_revenue_share": 12, "st_staff_share": 55,
            "invention_patents": 3, "pct_applications": 0, "tech_contract_turnover": 60,
            "high_tech_revenue": 300, "revenue": 800, "revenue_growth": 45, "postgraduate_share": 25,
            "rd_tax_relief": 12, "return_on_net_assets": -5, "graduates_hired": 6, "venture_capital": 600}}),
        json!({"uscc": uscc(2), "stage": "growth", "values": {
            "rd_expense": 600, "rd_expense_growth": 15, "rd_revenue_share": 6, "st_staff_share": 35,
            "invention_patents": 5, "pct_applications": 1, "tech_contract_turnover": 120,
            "high_tech_revenue": 2000, "revenue": 6000, "revenue_growth": 25, "postgraduate_share": 12,
            "rd_tax_relief": 80, "return_on_net_assets": 12, "graduates_hired": 12, "rd_platforms": 1,
            "st_awards": 0, "st_plan_projects": 2, "venture_capital": 0}}),
        json!({"uscc": uscc(3), "stage": "mature", "values": {
            "rd_expense": 1500, "rd_expense_growth": 5, "rd_revenue_share": 4, "st_staff_share": 22,
            "invention_patents": 8, "pct_applications": 3, "tech_contract_turnover": 600,
            "high_tech_revenue": 12000, "revenue": 30000, "revenue_growth": 8, "postgraduate_share": 18,
            "rd_tax_relief": 350, "return_on_net_assets": 16, "graduates_hired": 25, "rd_platforms": 3,
            "st_awards": 1, "st_plan_projects": 1, "venture_capital": 0}}),
    ]
}

struct Park {
    id: String,
    office: String,
    enterprises: Vec<String>,
}

async fn park(app: &TestApp, code: &str) -> Park {
    let id = app.create_park(code, &format!("{code}园区")).await;
    let mut enterprises = Vec::new();
    for n in 1..=3 {
        enterprises.push(app.create_enterprise(&id, &uscc(n), &format!("企业{n}")).await);
    }
    let office = app.create_key("park_office", Some(("park_id", &id))).await;
    Park { id, office, enterprises }
}

async fn default_model_active(app: &TestApp, park: &Park) -> String {
    let created = app
        .post(&format!("/api/v1/parks/{}/score-models", park.id), &park.office, &json!({"name": "指引 1.0"}))
        .await
        .expect(201);
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["status"], "draft");
    assert_eq!(created.body["indicators"].as_array().unwrap().len(), 18);
    let id = created.id();
    let active =
        app.post(&format!("/api/v1/score-models/{id}/activate"), &park.office, &json!({})).await.expect(200);
    assert_eq!(active.body["status"], "active");
    id
}

async fn score_values(app: &TestApp, park: &Park, period: &str, rows: Vec<Value>) -> crate::helpers::Reply {
    app.post(
        &format!("/api/v1/parks/{}/indicator-values", park.id),
        &park.office,
        &json!({"period": period, "rows": rows}),
    )
    .await
}

#[tokio::test]
async fn the_default_model_computes_the_hand_worked_scores_with_their_breakdown() {
    let app = spawn_app().await;
    let park = park(&app, "sm").await;
    let model = default_model_active(&app, &park).await;
    let reply = score_values(&app, &park, "2025", hand_worked()).await.expect(201);
    assert_eq!(
        reply.body,
        json!({"park_id": park.id, "period": "2025", "model_id": model, "model_version": 1, "scored": 3, "ranked": 3})
    );
    let mut scores = Vec::new();
    for id in &park.enterprises {
        let score = app.get(&format!("/api/v1/enterprises/{id}/score"), &park.office).await.expect(200);
        assert_eq!(score.body["model"], json!({"id": model, "version": 1}));
        let breakdown = score.body["breakdown"].as_array().unwrap();
        assert_eq!(breakdown.len(), 18);
        let sum: f64 = breakdown.iter().map(|b| b["contribution"].as_f64().unwrap()).sum();
        let total = score.body["score"].as_f64().unwrap();
        assert!((sum - total).abs() <= 0.01, "{sum} vs {total}");
        // Alone in its stage.
        assert_eq!(
            (score.body["stage_rank"].as_i64(), score.body["stage_size"].as_i64()),
            (Some(1), Some(1))
        );
        scores.push(total);
    }
    assert_eq!(scores, [56.2, 62.6, 74.4]);
    let startup = app.get(&format!("/api/v1/enterprises/{}/score", park.enterprises[0]), &park.office).await;
    assert_eq!(
        startup.body["breakdown"][0],
        json!({"indicator": "rd_expense", "name": "研发费用金额", "group": "technology", "unit": "万元", "value": 120.0, "points": 40.0, "weight": 0.08, "contribution": 3.2})
    );
    let platforms = &startup.body["breakdown"][14];
    assert_eq!((platforms["indicator"].as_str(), &platforms["value"]), (Some("rd_platforms"), &Value::Null));
    assert_eq!(startup.body["indicators"]["rd_expense"], 120.0);
    let ranking = app.get(&format!("/api/v1/parks/{}/rankings?stage=mature", park.id), &park.office).await;
    assert_eq!(ranking.body["items"][0]["score"], 74.4);
    // An imported score carries no model.
    let office = &park.office;
    app.post(
        &format!("/api/v1/parks/{}/scores", park.id),
        office,
        &json!({"period": "2026", "scores": [{"uscc": uscc(1), "score": 70, "stage": "growth"}]}),
    )
    .await
    .expect(201);
    let imported = app.get(&format!("/api/v1/enterprises/{}/score", park.enterprises[0]), office).await;
    assert!(
        imported.body.get("model").is_none() && imported.body.get("breakdown").is_none(),
        "{}",
        imported.text
    );
}

#[tokio::test]
async fn a_model_that_scored_is_immutable_and_a_new_version_keeps_the_old_period() {
    let app = spawn_app().await;
    let park = park(&app, "im").await;
    let v1 = default_model_active(&app, &park).await;
    // Before it scores, a model may change.
    let renamed = app
        .request(
            Method::PATCH,
            &format!("/api/v1/score-models/{v1}"),
            Some(&park.office),
            Some(&json!({"name": "指引 1.0 园区版"})),
        )
        .await
        .expect(200);
    assert_eq!(renamed.body["in_use"], false);
    score_values(&app, &park, "2025", hand_worked()).await.expect(201);
    let model = app.get(&format!("/api/v1/score-models/{v1}"), &park.office).await.expect(200);
    assert_eq!(model.body["in_use"], true);
    app.request(
        Method::PATCH,
        &format!("/api/v1/score-models/{v1}"),
        Some(&park.office),
        Some(&json!({"name": "x"})),
    )
    .await
    .expect_error(409, "invalid_state");

    // Version 2: the same indicators, every stage weighing R&D expense alone.
    let mut definition = model.body.clone();
    let only_rd: Value = json!({"rd_expense": 1.0});
    definition["stage_weights"] = json!({"startup": only_rd, "growth": only_rd, "mature": only_rd});
    let v2 = app
        .post(
            &format!("/api/v1/parks/{}/score-models", park.id),
            &park.office,
            &json!({"name": "研发优先", "indicators": definition["indicators"], "stage_weights": definition["stage_weights"]}),
        )
        .await
        .expect(201);
    assert_eq!(v2.body["version"], 2);
    app.post(&format!("/api/v1/score-models/{}/activate", v2.id()), &park.office, &json!({}))
        .await
        .expect(200);
    let v1_now = app.get(&format!("/api/v1/score-models/{v1}"), &park.office).await;
    assert_eq!(v1_now.body["status"], "inactive");
    score_values(&app, &park, "2026", hand_worked()).await.expect(201);

    let latest = app.get(&format!("/api/v1/enterprises/{}/score", park.enterprises[0]), &park.office).await;
    // rd_expense 120 → 40 points × 1.0.
    assert_eq!((latest.body["period"].as_str(), latest.body["score"].as_f64()), (Some("2026"), Some(40.0)));
    assert_eq!(latest.body["model"]["version"], 2);
    let old = app.get(&format!("/api/v1/parks/{}/rankings?period=2025", park.id), &park.office).await;
    let old: Vec<f64> =
        old.body["items"].as_array().unwrap().iter().map(|i| i["score"].as_f64().unwrap()).collect();
    assert_eq!(old, [74.4, 62.6, 56.2]);
    let list = app.get(&format!("/api/v1/parks/{}/score-models", park.id), &park.office).await.expect(200);
    let versions: Vec<(i64, &str)> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["version"].as_i64().unwrap(), m["status"].as_str().unwrap()))
        .collect();
    assert_eq!(versions, [(2, "active"), (1, "inactive")]);
}

#[tokio::test]
async fn every_bad_row_is_reported_and_nothing_is_stored() {
    let app = spawn_app().await;
    let park = park(&app, "bad").await;
    // No active model yet.
    score_values(&app, &park, "2025", hand_worked()).await.expect_error(409, "invalid_state");
    default_model_active(&app, &park).await;
    let mut rows = hand_worked();
    rows[0]["values"]["shoe_size"] = json!(42);
    rows[1]["values"].as_object_mut().unwrap().remove("revenue");
    rows[2]["values"]["rd_expense"] = json!("lots");
    rows.push(json!({"uscc": uscc(9), "stage": "growth", "values": rows[1]["values"].clone()}));
    let reply = score_values(&app, &park, "2025", rows).await.expect_error(422, "validation_failed");
    let details: Vec<(i64, &str)> = reply.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["row"].as_i64().unwrap(), d["field"].as_str().unwrap()))
        .collect();
    assert!(details.contains(&(1, "shoe_size")), "{details:?}");
    assert!(details.contains(&(2, "revenue")), "{details:?}");
    assert!(details.contains(&(3, "rd_expense")), "{details:?}");
    assert!(details.contains(&(4, "uscc")), "{details:?}");
    app.get(&format!("/api/v1/enterprises/{}/score", park.enterprises[0]), &park.office)
        .await
        .expect_error(404, "no_score");
    // The model did not score, so it may still change.
    let models = app.get(&format!("/api/v1/parks/{}/score-models", park.id), &park.office).await;
    assert_eq!(models.body["items"][0]["in_use"], false);
}

#[tokio::test]
async fn a_csv_of_indicator_values_is_scored_as_json_is() {
    let app = spawn_app().await;
    let park = park(&app, "csv").await;
    default_model_active(&app, &park).await;
    let model = app.get("/api/v1/default-score-model", &park.office).await.expect(200);
    let codes: Vec<String> = model.body["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect();
    let mut csv = format!("uscc,stage,{}\n", codes.join(","));
    for row in hand_worked() {
        let cells: Vec<String> =
            codes.iter().map(|c| row["values"].get(c).map(|v| v.to_string()).unwrap_or_default()).collect();
        csv += &format!(
            "{},{},{}\n",
            row["uscc"].as_str().unwrap(),
            row["stage"].as_str().unwrap(),
            cells.join(",")
        );
    }
    let path = format!("/api/v1/parks/{}/indicator-values?period=2025", park.id);
    app.post_raw(&path, &park.office, "text/csv", csv.clone()).await.expect(201);
    let growth = app.get(&format!("/api/v1/enterprises/{}/score", park.enterprises[1]), &park.office).await;
    assert_eq!(growth.body["score"], 62.6);
    // A value that is not a number, in CSV too.
    let bad = csv.replacen(",600,", ",six hundred,", 1);
    let reply =
        app.post_raw(&path, &park.office, "text/csv", bad).await.expect_error(422, "validation_failed");
    assert_eq!(reply.body["error"]["details"][0]["row"], 2);
}

#[tokio::test]
async fn models_are_the_park_offices_and_checked_whole() {
    let app = spawn_app().await;
    let park = park(&app, "own").await;
    let other = app.create_park("other", "别的园区").await;
    let other_office = app.create_key("park_office", Some(("park_id", &other))).await;
    let bank = app.create_bank("b", "银行").await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let path = format!("/api/v1/parks/{}/score-models", park.id);
    app.post(&path, &bank_key, &json!({"name": "x"})).await.expect_error(403, "forbidden");
    app.post(&path, &other_office, &json!({"name": "x"})).await.expect_error(404, "not_found");
    app.get(&path, &other_office).await.expect_error(404, "not_found");
    let id = app.post(&path, &park.office, &json!({"name": "x"})).await.expect(201).id();
    app.get(&format!("/api/v1/score-models/{id}"), &other_office).await.expect_error(404, "not_found");
    app.post(&format!("/api/v1/score-models/{id}/activate"), &other_office, &json!({}))
        .await
        .expect_error(404, "not_found");
    // Weights that do not sum to 1, a duplicate code, bands that fall, and both scorings at once.
    let bad = json!({"name": "坏", "method": "weighted_sum", "indicators": [
        {"code": "a", "name": "A", "group": "technology", "scoring": {"bands": [{"min": 0, "points": 50}, {"min": 1, "points": 10}]}},
        {"code": "a", "name": "A again", "group": "growth", "scoring": {"min_max": {}}},
        {"code": "b", "name": "B", "group": "growth", "scoring": {"min_max": {}, "bands": [{"min": 0, "points": 1}]}}
    ], "stage_weights": {"startup": {"a": 0.5}, "growth": {"a": 1.0}, "mature": {"a": 0.5, "b": 0.5}}});
    let reply = app.post(&path, &park.office, &bad).await.expect_error(422, "validation_failed");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "indicators[0].scoring.bands[1].points",
            "indicators[1].code",
            "indicators[2].scoring",
            "stage_weights.startup"
        ]
    );
    app.post(&path, &park.office, &json!({"name": "x", "indicators": bad["indicators"]}))
        .await
        .expect_error(422, "validation_failed");
}
