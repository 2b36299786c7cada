//! Recommendation lists: written and published by a park office, answered by banks within
//! Chinese working days, seen by the enterprise, tallied in the park's statistics, and told when
//! overdue by the daily job.

use chrono::Utc;
use innoloan::domain::calendar::china;
use serde_json::{Value, json};

use crate::credit::{Lending, apply, approval, lending};
use crate::helpers::uscc;

struct World {
    l: Lending,
    office: String,
    bank: String,
    other_bank: String,
    other_bank_key: String,
    second_firm: String,
}

async fn world() -> World {
    let l = lending(100_000, 10_000_000, 1_000_000_000).await;
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    let me = l.app.get("/api/v1/me", &l.bank_key).await.expect(200);
    let bank = me.body["bank_id"].as_str().unwrap().to_owned();
    let other_bank = l.app.create_bank("boc", "中国银行").await;
    let other_bank_key = l.app.create_key("bank", Some(("bank_id", &other_bank))).await;
    let second_firm = l.app.create_enterprise(&l.park, &uscc(2), "第二家企业").await;
    World { l, office, bank, other_bank, other_bank_key, second_firm }
}

fn named_list(w: &World) -> Value {
    json!({
        "name": "2026年第一批白名单", "bank_ids": [w.bank, w.other_bank], "respond_within_working_days": 3,
        "entries": [
            {"enterprise_id": w.l.firm, "amount": 5_000_000, "term_months": 12, "purpose": "研发投入"},
            {"enterprise_id": w.second_firm},
        ],
    })
}

#[tokio::test]
async fn a_published_list_gives_each_bank_a_task_per_enterprise_due_in_working_days() {
    let w = world().await;
    let app = &w.l.app;
    let path = format!("/api/v1/parks/{}/recommendation-lists", w.l.park);
    let draft = app.post(&path, &w.office, &named_list(&w)).await.expect(201);
    assert_eq!(draft.body["status"], "draft");
    assert_eq!(draft.body["entry_count"], 2);
    assert_eq!(draft.body["entries"][0]["amount"], 5_000_000);
    assert_eq!(draft.body["entries"][0]["score"], 88.0);
    let id = draft.id();
    // A draft is the park's alone.
    app.get(&format!("/api/v1/recommendation-lists/{id}"), &w.l.bank_key)
        .await
        .expect_error(404, "not_found");
    let lists = app.get("/api/v1/recommendation-lists", &w.l.bank_key).await.expect(200);
    assert_eq!(lists.body["items"], json!([]));

    let published =
        app.post(&format!("/api/v1/recommendation-lists/{id}/publish"), &w.office, &json!({})).await;
    let published = published.expect(200);
    let today = Utc::now().date_naive();
    let due = china().add_working_days(today, 3);
    assert_eq!(published.body["due_on"], due.to_string());
    assert_eq!(published.body["published_on"], today.to_string());
    assert_eq!(published.body["banks"].as_array().unwrap().len(), 2);
    assert_eq!(published.body["banks"][0]["tasks"], 2);
    app.post(&format!("/api/v1/recommendation-lists/{id}/publish"), &w.office, &json!({}))
        .await
        .expect_error(409, "invalid_state");

    // The bank sees the list, its own standing only, and its two tasks.
    let seen = app.get(&format!("/api/v1/recommendation-lists/{id}"), &w.l.bank_key).await.expect(200);
    assert_eq!(seen.body["banks"].as_array().unwrap().len(), 1);
    assert_eq!(seen.body["banks"][0]["bank_id"], w.bank.as_str());
    let tasks = app.get("/api/v1/recommendation-tasks?status=open", &w.l.bank_key).await.expect(200);
    let tasks = tasks.body["items"].as_array().unwrap().clone();
    assert_eq!(tasks.len(), 2);
    assert!(tasks.iter().all(|t| t["due_on"] == due.to_string() && t["overdue"] == false));
    let firm_task = tasks.iter().find(|t| t["enterprise_id"] == w.l.firm.as_str()).unwrap();
    assert_eq!(
        (firm_task["amount"].as_i64(), firm_task["purpose"].as_str()),
        (Some(5_000_000), Some("研发投入"))
    );
    let task = firm_task["id"].as_str().unwrap().to_owned();
    let bank_key = w.l.bank_key.as_str();
    let answer = |body: Value| {
        let path = format!("/api/v1/recommendation-tasks/{task}/answer");
        async move { app.post(&path, bank_key, &body).await }
    };

    // Another bank may not answer it; the enterprise may not either.
    app.post(
        &format!("/api/v1/recommendation-tasks/{task}/answer"),
        &w.other_bank_key,
        &json!({"status": "contacted"}),
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        &format!("/api/v1/recommendation-tasks/{task}/answer"),
        &w.l.firm_key,
        &json!({"status": "contacted"}),
    )
    .await
    .expect_error(403, "forbidden");
    let contacted = answer(json!({"status": "contacted", "reason": "已电话联系"})).await.expect(200);
    assert_eq!(contacted.body["status"], "contacted");
    assert_eq!(contacted.body["response_working_days"], 0);
    answer(json!({"status": "contacted"})).await.expect_error(409, "invalid_state");
    answer(json!({"status": "declined"})).await.expect_error(422, "validation_failed");
    answer(json!({"status": "credit_granted"})).await.expect_error(422, "validation_failed");
    // The enterprise applies; a submitted application is not yet credit granted.
    let application = apply(&w.l, 1_000_000).await;
    let body = json!({"status": "credit_granted", "application_id": application});
    let refused = answer(body.clone()).await.expect_error(422, "validation_failed");
    assert_eq!(refused.error_fields(), ["application_id"]);
    let approved = app
        .post(&format!("/api/v1/applications/{application}/approve"), &w.l.bank_key, &approval(1_000_000))
        .await;
    let line = approved.expect(200).body["credit_line"]["id"].as_str().unwrap().to_owned();
    // Another enterprise's line does not count.
    let wrong = json!({"status": "credit_granted", "credit_line_id": "999999"});
    answer(wrong).await.expect_error(422, "validation_failed");
    let granted =
        answer(json!({"status": "credit_granted", "application_id": application, "credit_line_id": line}))
            .await;
    let granted = granted.expect(200);
    assert_eq!(
        (granted.body["status"].as_str(), granted.body["credit_line_id"].as_str()),
        (Some("credit_granted"), Some(line.as_str()))
    );
    answer(json!({"status": "declined", "reason": "x"})).await.expect_error(409, "invalid_state");

    // The other enterprise's task, declined by the other bank.
    let theirs = app.get("/api/v1/recommendation-tasks", &w.other_bank_key).await.expect(200);
    let second = theirs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["enterprise_id"] == w.second_firm.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/recommendation-tasks/{second}/answer"),
        &w.other_bank_key,
        &json!({"status": "declined", "reason": "经营年限不足"}),
    )
    .await
    .expect(200);

    // The enterprise sees to whom it was recommended, and what they said.
    let mine = app.get("/api/v1/recommendation-tasks", &w.l.firm_key).await.expect(200);
    let mut banks: Vec<(&str, &str)> = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["bank_id"].as_str().unwrap(), t["status"].as_str().unwrap()))
        .collect();
    banks.sort();
    let mut want = vec![(w.bank.as_str(), "credit_granted"), (w.other_bank.as_str(), "open")];
    want.sort();
    assert_eq!(banks, want);
    let events = app.get("/api/v1/events?types=recommendation.answered", &w.l.firm_key).await.expect(200);
    assert_eq!(events.body["items"].as_array().unwrap().len(), 2, "both banks' answers");
    let published_events = app.get("/api/v1/events?types=recommendation.published", &w.l.bank_key).await;
    let published_events = published_events.body["items"].as_array().unwrap().clone();
    assert_eq!(published_events.len(), 1);
    assert_eq!(
        published_events[0]["data"]["banks"].as_array().unwrap().len(),
        1,
        "a bank hears only of its own tasks"
    );

    // The park's statistics: per bank, take-up and response.
    let stats = app.get(&format!("/api/v1/parks/{}/stats", w.l.park), &w.office).await.expect(200);
    let recs = stats.body["recommendations"].as_array().unwrap();
    let row = |bank: &str| recs.iter().find(|r| r["bank_id"] == bank).unwrap().clone();
    let mine = row(&w.bank);
    assert_eq!(
        (
            mine["tasks"].as_i64(),
            mine["answered"].as_i64(),
            mine["taken_up"].as_i64(),
            mine["credit_granted"].as_i64()
        ),
        (Some(2), Some(1), Some(1), Some(1))
    );
    assert_eq!(
        (mine["take_up_rate"].as_f64(), mine["median_response_working_days"].as_f64()),
        (Some(0.5), Some(0.0))
    );
    assert_eq!(mine["bank_name"], "农业银行");
    let other = row(&w.other_bank);
    assert_eq!((other["declined"].as_i64(), other["taken_up"].as_i64()), (Some(1), Some(0)));
    // Before the list was published, there was nothing to tally.
    let before = today - chrono::Duration::days(1);
    let stats =
        app.get(&format!("/api/v1/parks/{}/stats?as_of={before}", w.l.park), &w.office).await.expect(200);
    assert_eq!(stats.body["recommendations"], json!([]));
}

#[tokio::test]
async fn the_daily_job_tells_each_overdue_task_once() {
    use innoloan::service::daily::run_day;
    let w = world().await;
    let app = &w.l.app;
    let path = format!("/api/v1/parks/{}/recommendation-lists", w.l.park);
    let id = app.post(&path, &w.office, &named_list(&w)).await.expect(201).id();
    let list = app.post(&format!("/api/v1/recommendation-lists/{id}/publish"), &w.office, &json!({})).await;
    let due: chrono::NaiveDate = list.body["due_on"].as_str().unwrap().parse().unwrap();
    // One task answered in time is never overdue.
    let tasks = app.get("/api/v1/recommendation-tasks", &w.l.bank_key).await.expect(200);
    let first = tasks.body["items"][0]["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/recommendation-tasks/{first}/answer"),
        &w.l.bank_key,
        &json!({"status": "contacted"}),
    )
    .await
    .expect(200);
    // On the deadline nothing is overdue; the day after, the three unanswered tasks are.
    run_day(&app.services, due).await.unwrap();
    let overdue = |key: &str| {
        let key = key.to_owned();
        async move {
            let events = app.get("/api/v1/events?types=recommendation.overdue", &key).await.expect(200);
            events.body["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(overdue(&app.admin_key).await, 0);
    run_day(&app.services, due.succ_opt().unwrap()).await.unwrap();
    assert_eq!(overdue(&app.admin_key).await, 3);
    assert_eq!(overdue(&w.l.bank_key).await, 1);
    assert_eq!(overdue(&w.other_bank_key).await, 2);
    run_day(&app.services, due + chrono::Duration::days(2)).await.unwrap();
    assert_eq!(overdue(&app.admin_key).await, 3, "each task is told once");
}

#[tokio::test]
async fn a_rule_chooses_from_the_latest_scores_and_bad_lists_are_refused_whole() {
    let w = world().await;
    let app = &w.l.app;
    let third = app.create_enterprise(&w.l.park, &uscc(3), "第三家企业").await;
    let scores = json!({"period": "2022", "scores": [
        {"uscc": uscc(1), "score": 91, "stage": "mature"},
        {"uscc": uscc(2), "score": 72.5, "stage": "startup"},
        {"uscc": uscc(3), "score": 85, "stage": "startup"},
    ]});
    app.post(&format!("/api/v1/parks/{}/scores", w.l.park), &w.office, &scores).await.expect(201);
    let path = format!("/api/v1/parks/{}/recommendation-lists", w.l.park);
    let body = |rule: Value| json!({"name": "初创企业推荐", "bank_ids": [w.bank], "respond_within_working_days": 5, "rule": rule});
    let list = app.post(&path, &w.office, &body(json!({"stages": ["startup"], "top": 5}))).await.expect(201);
    let chosen: Vec<(&str, f64)> = list.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["enterprise_id"].as_str().unwrap(), e["score"].as_f64().unwrap()))
        .collect();
    assert_eq!(chosen, [(third.as_str(), 85.0), (w.second_firm.as_str(), 72.5)]);
    assert_eq!(list.body["rule"], json!({"top": 5, "stages": ["startup"]}));
    let top = app.post(&path, &w.office, &body(json!({"top": 1}))).await.expect(201);
    assert_eq!(top.body["entries"][0]["enterprise_id"], w.l.firm.as_str());
    app.post(&path, &w.office, &body(json!({"min_score": 95}))).await.expect_error(422, "validation_failed");

    // Both entries and a rule; ids that are not numbers; then an unknown bank, another park's
    // enterprise and a bank named twice, all reported at once.
    let other_park = app.create_park("elsewhere", "别的园区").await;
    let stranger = app.create_enterprise(&other_park, &uscc(4), "外园企业").await;
    let mut both = named_list(&w);
    both["rule"] = json!({"top": 1});
    app.post(&path, &w.office, &both).await.expect_error(422, "validation_failed");
    let bad = json!({
        "name": "坏", "bank_ids": [w.bank, "999999", w.bank], "respond_within_working_days": 3,
        "entries": [{"enterprise_id": stranger}, {"enterprise_id": "x"}],
    });
    let reply = app.post(&path, &w.office, &bad).await.expect_error(422, "validation_failed");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["entries[1].enterprise_id"]);
    let bad = json!({
        "name": "坏", "bank_ids": [w.bank, "999999", w.bank], "respond_within_working_days": 3,
        "entries": [{"enterprise_id": stranger}],
    });
    let reply = app.post(&path, &w.office, &bad).await.expect_error(422, "validation_failed");
    assert_eq!(reply.error_fields(), ["bank_ids[2]"]);
    let bad = json!({
        "name": "坏", "bank_ids": [w.bank, "999999"], "respond_within_working_days": 3,
        "entries": [{"enterprise_id": stranger}],
    });
    let reply = app.post(&path, &w.office, &bad).await.expect_error(422, "validation_failed");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["bank_ids[1]", "entries[0].enterprise_id"]);
    // Roles and scope.
    app.post(&path, &w.l.bank_key, &named_list(&w)).await.expect_error(403, "forbidden");
    let other_office = app.create_key("park_office", Some(("park_id", &other_park))).await;
    app.post(&path, &other_office, &named_list(&w)).await.expect_error(404, "not_found");
    app.get(&format!("/api/v1/recommendation-lists/{}", list.id()), &other_office)
        .await
        .expect_error(404, "not_found");
    app.get("/api/v1/recommendation-lists", &w.l.firm_key).await.expect_error(403, "forbidden");
}
