//! Interest subsidies: claims computed from the interest repaid (with the first-loan bonus and
//! the cap), never counting a repayment twice, rejections that free the interest, approvals that
//! never pass the budget (across two processes on PostgreSQL), and the policies an enterprise
//! qualifies for.

use chrono::{Duration, NaiveDate, Utc};
use futures_util::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

use crate::credit::{Lending, apply, approval, lending, post_with_key};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A granted line of `amount` at 4.00%, backdated `days` so that loans drawn in the past accrue
/// interest by today.
async fn old_line(l: &Lending, amount: i64, days: i64) -> String {
    let application = apply(l, amount).await;
    let approved = l
        .app
        .post(&format!("/api/v1/applications/{application}/approve"), &l.bank_key, &approval(amount))
        .await
        .expect(200);
    let line = approved.body["credit_line"]["id"].as_str().unwrap().to_owned();
    entity::credit_line::Entity::update_many()
        .col_expr(entity::credit_line::Column::GrantedAt, Expr::value(Utc::now() - Duration::days(days)))
        .filter(entity::credit_line::Column::Id.eq(line.parse::<i64>().unwrap()))
        .exec(&l.app.db)
        .await
        .unwrap();
    l.app.rebuild_totals().await;
    line
}

/// A bullet loan of `amount` drawn `days_ago`.
async fn draw(l: &Lending, line: &str, amount: i64, days_ago: i64, reference: &str) -> String {
    let on = today() - Duration::days(days_ago);
    let body = json!({"amount": amount, "reference": reference, "disbursed_on": on.to_string()});
    l.app
        .post(&format!("/api/v1/credit-lines/{line}/disbursements"), &l.bank_key, &body)
        .await
        .expect(201)
        .id()
}

async fn repay(l: &Lending, loan: &str, amount: i64, reference: &str) -> Value {
    let body = json!({"amount": amount, "paid_on": today().to_string(), "reference": reference});
    l.app.post(&format!("/api/v1/loans/{loan}/repayments"), &l.bank_key, &body).await.expect(201).body
}

/// A programme over this year and the next: 30% of interest, 10 points more on the first loan.
fn program(cap: i64, budget: i64, eligibility: Value) -> Value {
    json!({
        "name": "科技贷款贴息", "share_bps": 3_000, "first_loan_bonus_bps": 1_000,
        "per_enterprise_cap": cap, "budget": budget, "eligibility": eligibility,
        "from": (today() - Duration::days(365)).to_string(), "to": (today() + Duration::days(365)).to_string(),
    })
}

fn window() -> Value {
    json!({"from": (today() - Duration::days(365)).to_string(), "to": today().to_string()})
}

#[tokio::test]
async fn a_claim_returns_a_share_of_interest_repaid_once_and_approvals_keep_to_the_budget() {
    let l = lending(100_000, 200_000_000, 10_000_000_000).await;
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    let line = old_line(&l, 100_000_000, 100).await;
    // The first loan, ¥360,000 drawn 90 days ago: 360,000 × 4% × 90 ÷ 360 = ¥3,600 of interest.
    let first = draw(&l, &line, 36_000_000, 90, "D-1").await;
    // The second, ¥180,000 drawn 60 days ago: 180,000 × 4% × 60 ÷ 360 = ¥1,200.
    let second = draw(&l, &line, 18_000_000, 60, "D-2").await;
    assert_eq!(repay(&l, &first, 1_000_000, "R-1").await["interest_paid"], 360_000);
    assert_eq!(repay(&l, &second, 500_000, "R-2").await["interest_paid"], 120_000);

    let programs = format!("/api/v1/parks/{}/subsidy-programs", l.park);
    // ¥5,000 budget, at most ¥2,000 an enterprise.
    let made = l.app.post(&programs, &office, &program(200_000, 500_000, json!({"min_score": 60}))).await;
    let made = made.expect(201);
    assert_eq!((made.body["remaining"].as_i64(), made.body["open"].as_bool()), (Some(500_000), Some(true)));
    let program_id = made.id();
    // The enterprise sees it among its policies, with the subsidy on what it repaid:
    // ¥3,600 × 40% = ¥1,440 on the first loan, ¥1,200 × 30% = ¥360 on the second.
    let policies = l.app.get(&format!("/api/v1/enterprises/{}/policies", l.firm), &l.firm_key).await;
    let eligible = &policies.expect(200).body["eligible"];
    assert_eq!(eligible[0]["policy"]["kind"], "subsidy_program");
    assert_eq!(eligible[0]["estimated_amount"], 180_000);

    let claims = format!("/api/v1/subsidy-programs/{program_id}/claims");
    let claim = l.app.post(&claims, &l.firm_key, &window()).await.expect(201);
    assert_eq!(
        (
            claim.body["interest_basis"].as_i64(),
            claim.body["bonus_basis"].as_i64(),
            claim.body["repayments"].as_i64(),
            claim.body["amount"].as_i64(),
            claim.body["status"].as_str()
        ),
        (Some(480_000), Some(360_000), Some(2), Some(180_000), Some("filed"))
    );
    let claim = claim.id();
    // The same interest is never counted twice: nothing is left to claim in the window.
    let again = l.app.post(&claims, &l.firm_key, &window()).await.expect_error(422, "validation_failed");
    assert_eq!(again.error_fields(), ["to"]);
    // A rejection frees it; the park office claims again on the enterprise's behalf.
    let reject = format!("/api/v1/subsidy-claims/{claim}/reject");
    l.app.post(&reject, &office, &json!({})).await.expect_error(422, "validation_failed");
    l.app.post(&reject, &l.firm_key, &json!({"reason": "x"})).await.expect_error(403, "forbidden");
    let rejected = l.app.post(&reject, &office, &json!({"reason": "缺少付息凭证"})).await.expect(200);
    assert_eq!(rejected.body["status"], "rejected");
    l.app.post(&reject, &office, &json!({"reason": "again"})).await.expect_error(409, "invalid_state");
    let mut for_firm = window();
    for_firm["enterprise_id"] = json!(l.firm);
    let refiled = l.app.post(&claims, &office, &for_firm).await.expect(201);
    assert_eq!(refiled.body["amount"], 180_000);
    // Approving pays money, so a retry with the same key replays the answer and pays once.
    let approve = format!("/api/v1/subsidy-claims/{}/approve", refiled.id());
    let approved = post_with_key(&l.app, &approve, &office, "approve-1", &json!({})).await.expect(200);
    assert_eq!(approved.body["status"], "approved");
    let again = post_with_key(&l.app, &approve, &office, "approve-1", &json!({})).await.expect(200);
    assert_eq!((again.header("Idempotent-Replayed"), &again.body), (Some("true"), &approved.body));
    let view = l.app.get(&format!("/api/v1/subsidy-programs/{program_id}"), &l.firm_key).await.expect(200);
    assert_eq!(
        (view.body["paid"].as_i64(), view.body["committed"].as_i64(), view.body["remaining"].as_i64()),
        (Some(180_000), Some(0), Some(320_000))
    );
    // Interest repaid later is claimed up to the cap, ¥2,000 − ¥1,800 = ¥200 left: a third loan,
    // ¥240,000 drawn 45 days ago, has accrued 240,000 × 4% × 45 ÷ 360 = ¥1,200, × 30% = ¥360.
    let third = draw(&l, &line, 24_000_000, 45, "D-3").await;
    assert_eq!(repay(&l, &third, 200_000, "R-3").await["interest_paid"], 120_000);
    let capped = l.app.post(&claims, &l.firm_key, &window()).await.expect(201);
    assert_eq!(
        (capped.body["interest_basis"].as_i64(), capped.body["amount"].as_i64()),
        (Some(120_000), Some(20_000))
    );
    let full = l.app.post(&claims, &l.firm_key, &window()).await.expect_error(422, "validation_failed");
    assert_eq!(full.error_fields(), ["enterprise_id"]);

    // A budget never pays past its total. A second programme, of ¥100 with a cap of ¥1,000,
    // counts the three repayments afresh, but a claim stops at what the budget has left: the
    // first takes ¥100 of the first line (¥1,440), the next ¥100 of the second (¥360).
    let small = l.app.post(&programs, &office, &program(100_000, 10_000, json!({}))).await.expect(201).id();
    let small_claims = format!("/api/v1/subsidy-programs/{small}/claims");
    let first_small = l.app.post(&small_claims, &l.firm_key, &window()).await.expect(201);
    let second_small = l.app.post(&small_claims, &l.firm_key, &window()).await.expect(201);
    assert_eq!(
        (first_small.body["amount"].as_i64(), second_small.body["amount"].as_i64()),
        (Some(10_000), Some(10_000))
    );
    assert_eq!(second_small.body["interest_basis"], 120_000);
    l.app
        .post(&format!("/api/v1/subsidy-claims/{}/approve", first_small.id()), &office, &json!({}))
        .await
        .expect(200);
    let refused = l
        .app
        .post(&format!("/api/v1/subsidy-claims/{}/approve", second_small.id()), &office, &json!({}))
        .await
        .expect_error(422, "budget_exhausted");
    assert_eq!(refused.error_fields(), ["amount"]);
    // Spent, the programme takes no more claims.
    l.app.post(&small_claims, &l.firm_key, &window()).await.expect_error(422, "budget_exhausted");

    // The park's statistics: ¥1,800 + ¥100 paid on the bank's loans under the product, in JSON
    // and CSV.
    let stats = l.app.get(&format!("/api/v1/parks/{}/stats", l.park), &office).await.expect(200).body;
    assert_eq!(stats["policy_money"]["subsidies_paid"], 190_000);
    assert_eq!(
        (stats["banks"][0]["subsidies_paid"].as_i64(), stats["products"][0]["subsidies_paid"].as_i64()),
        (Some(190_000), Some(190_000))
    );
    assert_eq!(stats["subsidy_programs"].as_array().unwrap().len(), 2);
    let response = l
        .app
        .client
        .get(format!("{}/api/v1/parks/{}/stats", l.app.address, l.park))
        .bearer_auth(&office)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    let bytes = response.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let column = reader.headers().unwrap().iter().position(|h| h == "subsidies_paid_fen").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let total = rows.last().unwrap()[column].to_owned();
    assert_eq!(total, "190000");
    // Events for the enterprise and its park office.
    let feed = l.app.get("/api/v1/events?types=subsidy_claim.filed,subsidy_claim.decided", &l.firm_key).await;
    assert!(feed.expect(200).body["items"].as_array().unwrap().len() >= 5);
    l.app.verify_totals().await;
}

#[tokio::test]
async fn programmes_are_checked_whole_and_kept_to_their_park() {
    let l = lending(100_000, 200_000_000, 10_000_000_000).await;
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    let programs = format!("/api/v1/parks/{}/subsidy-programs", l.park);
    let mut bad = program(2_000, 1_000, json!({"park_ids": [l.park]}));
    bad["name"] = json!("贴\u{0}息");
    bad["share_bps"] = json!(9_500);
    bad["to"] = json!("2000-01-01");
    let reply = l.app.post(&programs, &office, &bad).await;
    let mut fields = reply.expect_error(422, "validation_failed").error_fields();
    fields.sort();
    assert_eq!(fields, ["eligibility.park_ids", "first_loan_bonus_bps", "name", "to"]);
    l.app.post(&programs, &l.bank_key, &program(1, 1, json!({}))).await.expect_error(403, "forbidden");
    l.app.post(&programs, &l.firm_key, &program(1, 1, json!({}))).await.expect_error(403, "forbidden");
    let id = l
        .app
        .post(&programs, &office, &program(1_000, 1_000, json!({"min_score": 95})))
        .await
        .expect(201)
        .id();

    // Another park's office and enterprise see nothing of it.
    let other_park = l.app.create_park("chengdu", "成都高新区").await;
    let other_office = l.app.create_key("park_office", Some(("park_id", &other_park))).await;
    let other_firm =
        l.app.create_enterprise(&other_park, &crate::helpers::uscc(7), "成都某科技有限公司").await;
    let other_firm_key = l.app.create_key("enterprise", Some(("enterprise_id", &other_firm))).await;
    for key in [&other_office, &other_firm_key] {
        l.app.get(&format!("/api/v1/subsidy-programs/{id}"), key).await.expect_error(404, "not_found");
        l.app.get(&programs, key).await.expect_error(404, "not_found");
        l.app
            .post(&format!("/api/v1/subsidy-programs/{id}/claims"), key, &window())
            .await
            .expect_error(404, "not_found");
        l.app
            .get(&format!("/api/v1/enterprises/{}/policies", l.firm), key)
            .await
            .expect_error(404, "not_found");
    }
    l.app.get(&format!("/api/v1/subsidy-programs/{id}"), &l.bank_key).await.expect_error(403, "forbidden");
    // The office names an enterprise of another park: 422 at the field.
    let mut elsewhere = window();
    elsewhere["enterprise_id"] = json!(other_firm);
    let reply = l.app.post(&format!("/api/v1/subsidy-programs/{id}/claims"), &office, &elsewhere).await;
    assert_eq!(reply.expect_error(422, "validation_failed").error_fields(), ["enterprise_id"]);
    // Scored 88, the enterprise fails min_score 95, with the same reason as a match.
    let reply = l.app.post(&format!("/api/v1/subsidy-programs/{id}/claims"), &l.firm_key, &window()).await;
    let failed = reply.expect_error(422, "ineligible");
    assert_eq!(failed.body["error"]["details"][0]["rule"], "min_score");
    let policies =
        l.app.get(&format!("/api/v1/enterprises/{}/policies", l.firm), &office).await.expect(200).body;
    assert_eq!(policies["ineligible"][0]["policy"]["id"], id.as_str());
    assert_eq!(policies["ineligible"][0]["failed"][0]["rule"], "min_score");
    // A claim window outside the programme's.
    let outside = json!({"from": "2000-01-01", "to": (today() + Duration::days(400)).to_string()});
    let reply = l.app.post(&format!("/api/v1/subsidy-programs/{id}/claims"), &l.firm_key, &outside).await;
    let mut fields = reply.expect_error(422, "validation_failed").error_fields();
    fields.sort();
    assert_eq!(fields, ["from", "to"]);
    l.app.get("/api/v1/subsidy-claims/999999", &office).await.expect_error(404, "not_found");
    l.app.get("/api/v1/subsidy-programs/999999", &office).await.expect_error(404, "not_found");
}

#[tokio::test]
async fn a_pool_covered_product_is_a_policy_the_enterprise_qualifies_for() {
    let l = lending(100_000, 200_000_000, 10_000_000_000).await;
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    let year = today().format("%Y").to_string();
    let body = json!({
        "name": "科技信贷风险补偿资金池", "product_ids": [l.product], "coverage_bps": 9_000, "per_loan_cap": 60_000_000,
        "enrol_from": format!("{year}-01-01"), "enrol_to": format!("{year}-12-31"),
    });
    let pool =
        l.app.post(&format!("/api/v1/parks/{}/risk-pools", l.park), &office, &body).await.expect(201).id();
    let policies =
        l.app.get(&format!("/api/v1/enterprises/{}/policies", l.firm), &l.firm_key).await.expect(200).body;
    let eligible = &policies["eligible"][0];
    assert_eq!(
        (
            eligible["policy"]["kind"].as_str(),
            eligible["policy"]["id"].as_str(),
            eligible["policy"]["product_id"].as_str()
        ),
        (Some("risk_pool"), Some(pool.as_str()), Some(l.product.as_str()))
    );
    assert_eq!(eligible["policy"]["coverage_bps"], 9_000);
    assert_eq!(eligible["offer_max_amount"], 200_000_000);
    assert!(eligible.get("estimated_amount").is_none());
    l.app
        .get(&format!("/api/v1/enterprises/{}/policies", l.firm), &l.bank_key)
        .await
        .expect_error(403, "forbidden");
}

#[tokio::test]
async fn fifty_approvals_across_two_processes_pay_exactly_the_budget() {
    use crate::server::Server;
    if std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()).is_none() {
        assert!(std::env::var("TEST_REQUIRE_SERVICES").is_err(), "TEST_DATABASE_URL is required here");
        crate::server::skip(
            "fifty_approvals_across_two_processes_pay_exactly_the_budget",
            "TEST_DATABASE_URL is not set (two processes need a shared PostgreSQL)",
        );
        return;
    }
    let l = lending(100_000, 100_000_000, 100_000_000_000).await;
    let office = l.app.create_key("park_office", Some(("park_id", &l.park))).await;
    let line = old_line(&l, 60_000_000, 100).await;
    // No bonus, so that every claim is alike: 30% of ¥100 is ¥30; the budget pays ten.
    let mut body = program(100_000_000, 30_000, json!({}));
    body["first_loan_bonus_bps"] = json!(0);
    let program_id = l
        .app
        .post(&format!("/api/v1/parks/{}/subsidy-programs", l.park), &office, &body)
        .await
        .expect(201)
        .id();
    let mut claims = Vec::new();
    for n in 0..50 {
        // ¥10,000 drawn 90 days ago has accrued ¥100; the repayment is all interest, and the
        // claim after it counts only it.
        let loan = draw(&l, &line, 1_000_000, 90, &format!("D-{n:02}")).await;
        assert_eq!(repay(&l, &loan, 10_000, &format!("R-{n:02}")).await["interest_paid"], 10_000);
        let path = format!("/api/v1/subsidy-programs/{program_id}/claims");
        let claim = l.app.post(&path, &l.firm_key, &window()).await.expect(201);
        assert_eq!(claim.body["amount"], 3_000);
        claims.push(claim.id());
    }
    let config = &l.app.config;
    let redis = config.redis_url.as_deref();
    let first = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;
    let second = Server::start(&config.database_url, redis, &config.redis_key_prefix).await;
    let client = reqwest::Client::new();
    let requests = claims.iter().enumerate().map(|(n, claim)| {
        let address = if n % 2 == 0 { &first.address } else { &second.address };
        let request = client
            .post(format!("{address}/api/v1/subsidy-claims/{claim}/approve"))
            .bearer_auth(&office)
            .json(&json!({}));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    });
    let replies = join_all(requests).await;
    let paid = replies.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(paid, 10, "{:?}", replies.iter().filter(|(s, _)| *s != 200 && *s != 422).collect::<Vec<_>>());
    assert!(
        replies.iter().all(|(s, b)| *s == 200 || (*s == 422 && b["error"]["code"] == "budget_exhausted"))
    );
    let view = l.app.get(&format!("/api/v1/subsidy-programs/{program_id}"), &office).await.expect(200).body;
    assert_eq!((view["paid"].as_i64(), view["remaining"].as_i64()), (Some(30_000), Some(0)));
    let approved = l
        .app
        .get(&format!("/api/v1/subsidy-claims?program_id={program_id}&status=approved&limit=500"), &office)
        .await;
    assert_eq!(approved.body["items"].as_array().unwrap().len(), 10);
    first.kill().await;
    second.kill().await;
}
