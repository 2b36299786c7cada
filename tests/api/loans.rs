//! Loans: each disbursement's schedule, balances as of a day, and repayments.

use chrono::{Duration, Months, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::credit::{Lending, apply, approval, lending, post_with_key};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A granted line of ¥1,000,000 at 4.00% for 12 months.
async fn line(l: &Lending) -> String {
    let application = apply(l, 100_000_000).await;
    let approved = l
        .app
        .post(&format!("/api/v1/applications/{application}/approve"), &l.bank_key, &approval(100_000_000))
        .await
        .expect(200);
    approved.body["credit_line"]["id"].as_str().unwrap().to_owned()
}

async fn draw(l: &Lending, line: &str, body: Value) -> crate::helpers::Reply {
    l.app.post(&format!("/api/v1/credit-lines/{line}/disbursements"), &l.bank_key, &body).await
}

#[tokio::test]
async fn a_disbursement_is_a_bullet_loan_by_default_with_its_schedule() {
    let l = lending(1_000_000, 100_000_000, 1_000_000_000).await;
    let line = line(&l).await;
    let on = today();
    let made =
        draw(&l, &line, json!({"amount": 36_000_000, "reference": "D-1", "disbursed_on": on.to_string()}))
            .await
            .expect(201);
    let id = made.id();
    let loan = l.app.get(&format!("/api/v1/loans/{id}"), &l.firm_key).await.expect(200).body;
    let maturity = on.checked_add_months(Months::new(12)).unwrap();
    assert_eq!(loan["repayment_method"], "bullet");
    assert_eq!(loan["maturity_date"], maturity.to_string());
    assert_eq!(loan["rate_bps"], 400);
    assert_eq!(loan["principal_outstanding"], 36_000_000);
    assert_eq!(loan["classification"], "normal");
    assert_eq!(loan["days_past_due"], 0);
    let days = (maturity - on).num_days();
    // ¥360,000 × 4% × days / 360, rounded half-up to the fen.
    let interest = (36_000_000_i64 * 400 * days + 1_800_000) / 3_600_000;
    assert_eq!(
        loan["schedule"],
        json!([{
            "n": 1, "due_date": maturity.to_string(), "principal": 36_000_000, "interest": interest,
            "paid_principal": 0, "paid_interest": 0,
        }])
    );
    let listed = l.app.get(&format!("/api/v1/credit-lines/{line}/loans"), &l.bank_key).await.expect(200);
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    let feed = l.app.get("/api/v1/events?types=loan.created", &l.firm_key).await.expect(200);
    assert_eq!(feed.body["items"][0]["data"]["id"], id.as_str());
    assert_eq!(feed.body["items"][0]["data"]["schedule"], loan["schedule"]);
}

#[tokio::test]
async fn installment_loans_take_whole_months_within_the_term() {
    let l = lending(1_000_000, 100_000_000, 1_000_000_000).await;
    let line = line(&l).await;
    let on = today();
    let months = |n| on.checked_add_months(Months::new(n)).unwrap().to_string();
    let body = |reference: &str, maturity: String, method: &str| {
        json!({"amount": 12_000_000, "reference": reference, "disbursed_on": on.to_string(),
               "maturity_date": maturity, "repayment_method": method})
    };
    let made = draw(&l, &line, body("EI-1", months(12), "equal_installment")).await.expect(201);
    let loan = l.app.get(&format!("/api/v1/loans/{}", made.id()), &l.bank_key).await.expect(200).body;
    let schedule = loan["schedule"].as_array().unwrap();
    assert_eq!(schedule.len(), 12);
    assert_eq!(schedule.iter().map(|i| i["principal"].as_i64().unwrap()).sum::<i64>(), 12_000_000);
    let payments: Vec<i64> = schedule[..11]
        .iter()
        .map(|i| i["principal"].as_i64().unwrap() + i["interest"].as_i64().unwrap())
        .collect();
    assert!(payments.iter().max().unwrap() - payments.iter().min().unwrap() <= 1, "{payments:?}");

    let reply = draw(&l, &line, body("EI-2", (on + Duration::days(45)).to_string(), "equal_principal")).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["maturity_date"]);
    let reply = draw(&l, &line, body("EI-3", months(13), "bullet")).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["maturity_date"]);
    let reply = draw(&l, &line, body("EI-4", on.to_string(), "bullet")).await;
    assert_eq!(reply.expect(422).error_fields(), vec!["maturity_date"]);
    let reply = draw(&l, &line, body("EI-5", months(6), "weekly")).await;
    reply.expect(422);
    l.app.verify_totals().await;
}

#[tokio::test]
async fn repayments_are_allocated_refused_past_the_balance_and_idempotent() {
    let l = lending(1_000_000, 100_000_000, 1_000_000_000).await;
    let line = line(&l).await;
    let on = today();
    let id =
        draw(&l, &line, json!({"amount": 10_000_000, "reference": "R-1", "disbursed_on": on.to_string()}))
            .await
            .expect(201)
            .id();
    let path = format!("/api/v1/loans/{id}/repayments");
    let pay = |amount: i64, reference: &str| json!({"amount": amount, "paid_on": on.to_string(), "reference": reference});
    // Disbursed today: no interest has accrued, so a repayment is all principal.
    let paid = post_with_key(&l.app, &path, &l.bank_key, "repay-1", &pay(4_000_000, "P-1")).await.expect(201);
    assert_eq!(
        (paid.body["interest_paid"].as_i64(), paid.body["principal_paid"].as_i64()),
        (Some(0), Some(4_000_000))
    );
    let again =
        post_with_key(&l.app, &path, &l.bank_key, "repay-1", &pay(4_000_000, "P-1")).await.expect(201);
    assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(again.body["id"], paid.body["id"]);
    l.app.post(&path, &l.bank_key, &pay(1, "P-1")).await.expect_error(409, "conflict");
    let over =
        l.app.post(&path, &l.bank_key, &pay(6_000_001, "P-2")).await.expect_error(422, "exceeds_outstanding");
    assert_eq!(over.error_fields(), vec!["amount"]);
    let tomorrow = json!({"amount": 1, "paid_on": (on + Duration::days(1)).to_string(), "reference": "P-3"});
    assert_eq!(l.app.post(&path, &l.bank_key, &tomorrow).await.expect(422).error_fields(), vec!["paid_on"]);
    l.app.post(&path, &l.firm_key, &pay(1, "P-4")).await.expect_error(403, "forbidden");
    let other_bank = l.app.create_bank("other", "他行").await;
    let other_key = l.app.create_key("bank", Some(("bank_id", &other_bank))).await;
    l.app.post(&path, &other_key, &pay(1, "P-5")).await.expect_error(404, "not_found");
    l.app.get(&format!("/api/v1/loans/{id}"), &other_key).await.expect(404);
    l.app.get(&path, &other_key).await.expect(404);

    let loan = l.app.get(&format!("/api/v1/loans/{id}"), &l.firm_key).await.expect(200).body;
    assert_eq!(loan["principal_outstanding"], 6_000_000);
    assert_eq!(loan["principal_repaid"], 4_000_000);
    // Settling it exactly closes it.
    l.app.post(&path, &l.bank_key, &pay(6_000_000, "P-6")).await.expect(201);
    let loan = l.app.get(&format!("/api/v1/loans/{id}"), &l.firm_key).await.expect(200).body;
    assert_eq!(
        (loan["principal_outstanding"].as_i64(), loan["interest_outstanding"].as_i64()),
        (Some(0), Some(0))
    );
    let far = (on + Duration::days(800)).to_string();
    let later = l.app.get(&format!("/api/v1/loans/{id}?as_of={far}"), &l.firm_key).await.expect(200).body;
    assert_eq!(
        (later["days_past_due"].as_i64(), later["classification"].as_str()),
        (Some(0), Some("normal"))
    );
    l.app.post(&path, &l.bank_key, &pay(1, "P-7")).await.expect_error(422, "exceeds_outstanding");
    let listed = l.app.get(&path, &l.firm_key).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);
    let feed = l.app.get("/api/v1/events?types=repayment.recorded", &l.firm_key).await.expect(200);
    assert_eq!(feed.body["items"].as_array().unwrap().len(), 2);
    l.app.verify_totals().await;
}

#[tokio::test]
async fn days_past_due_set_the_classification_floor_as_of_a_day() {
    let l = lending(1_000_000, 100_000_000, 1_000_000_000).await;
    let line = line(&l).await;
    let on = today();
    let maturity = on + Duration::days(30);
    let body = json!({"amount": 1_000_000, "reference": "C-1", "disbursed_on": on.to_string(),
                      "maturity_date": maturity.to_string()});
    let id = draw(&l, &line, body).await.expect(201).id();
    for (late, days, class) in [
        (0, 0, "normal"),
        (1, 1, "special_mention"),
        (90, 90, "special_mention"),
        (91, 91, "substandard"),
        (270, 270, "substandard"),
        (271, 271, "doubtful"),
        (360, 360, "doubtful"),
        (361, 361, "loss"),
    ] {
        let as_of = maturity + Duration::days(late);
        let loan =
            l.app.get(&format!("/api/v1/loans/{id}?as_of={as_of}"), &l.bank_key).await.expect(200).body;
        assert_eq!(loan["days_past_due"], days, "{as_of}");
        assert_eq!(loan["classification"], class, "{as_of}");
        assert_eq!(loan["overdue_principal"], if late > 0 { 1_000_000 } else { 0 });
        let listed = l
            .app
            .get(&format!("/api/v1/loans?as_of={as_of}&classification={class}"), &l.bank_key)
            .await
            .expect(200);
        assert_eq!(listed.body["items"][0]["id"], id.as_str(), "{as_of} {class}");
    }
    l.app.get(&format!("/api/v1/loans/{id}?as_of=not-a-day"), &l.bank_key).await.expect(422);
    l.app.verify_totals().await;
}

#[tokio::test]
async fn disbursements_made_before_loans_existed_become_bullet_loans() {
    use migration::MigratorTrait;
    use sea_orm::EntityTrait;
    let l = lending(1_000_000, 100_000_000, 1_000_000_000).await;
    let line = line(&l).await;
    let on = today();
    let id =
        draw(&l, &line, json!({"amount": 5_000_000, "reference": "OLD-1", "disbursed_on": on.to_string()}))
            .await
            .expect(201)
            .id();
    let before = l.app.get(&format!("/api/v1/loans/{id}"), &l.bank_key).await.expect(200).body;
    // Back to the schema before loans (the loans step and every step after it), and forward
    // again: the step makes the loan anew, and the line's balance with it.
    let steps = migration::Migrator::migrations();
    let loans_step = steps.iter().position(|m| m.name() == "m20261129_000007_loans").unwrap();
    migration::Migrator::down(&l.app.db, Some(u32::try_from(steps.len() - loans_step).unwrap()))
        .await
        .unwrap();
    assert!(entity::loan::Entity::find().all(&l.app.db).await.is_err(), "loans are gone");
    migration::Migrator::up(&l.app.db, None).await.unwrap();
    let after = l.app.get(&format!("/api/v1/loans/{id}"), &l.bank_key).await.expect(200).body;
    assert_eq!(after, before);
    let line_now = l.app.get(&format!("/api/v1/credit-lines/{line}"), &l.bank_key).await.expect(200).body;
    assert_eq!(line_now["principal_outstanding"], 5_000_000);
}

#[tokio::test]
async fn a_bank_classifies_worse_never_better_and_writes_off_only_a_loss() {
    let l = lending(1_000_000, 100_000_000, 1_000_000_000).await;
    let line = line(&l).await;
    let on = today();
    let maturity = on + Duration::days(30);
    let body = json!({"amount": 1_000_000, "reference": "W-1", "disbursed_on": on.to_string(),
                      "maturity_date": maturity.to_string()});
    let id = draw(&l, &line, body).await.expect(201).id();
    let classify = format!("/api/v1/loans/{id}/classify");
    let write_off = format!("/api/v1/loans/{id}/write-off");
    l.app.post(&write_off, &l.bank_key, &json!({})).await.expect_error(409, "invalid_state");
    let reply = l
        .app
        .post(&classify, &l.bank_key, &json!({"classification": "doubtful", "reason": "经营困难"}))
        .await
        .expect(200);
    assert_eq!(reply.body["classification"], "doubtful");
    l.app.post(&classify, &l.firm_key, &json!({"classification": "loss", "reason": "x"})).await.expect(403);
    l.app.post(&classify, &l.bank_key, &json!({"classification": "loss", "reason": " "})).await.expect(422);
    l.app.post(&write_off, &l.bank_key, &json!({})).await.expect_error(409, "invalid_state");
    l.app
        .post(&classify, &l.bank_key, &json!({"classification": "loss", "reason": "破产清算"}))
        .await
        .expect(200);
    let written = l.app.post(&write_off, &l.bank_key, &json!({})).await.expect(200);
    assert_eq!(
        (written.body["written_off"].as_bool(), written.body["written_off_on"].as_str()),
        (Some(true), Some(on.to_string().as_str()))
    );
    l.app.post(&write_off, &l.bank_key, &json!({})).await.expect_error(409, "invalid_state");
    // What comes in after a write-off is a recovery.
    let pay = json!({"amount": 1_000, "paid_on": on.to_string(), "reference": "REC-1"});
    let recovered =
        l.app.post(&format!("/api/v1/loans/{id}/repayments"), &l.bank_key, &pay).await.expect(201);
    assert_eq!(recovered.body["recovery"], true);
    let feed =
        l.app.get("/api/v1/events?types=loan.classified,loan.written_off", &l.bank_key).await.expect(200);
    assert_eq!(feed.body["items"].as_array().unwrap().len(), 3);
    l.app.verify_totals().await;
}

#[tokio::test]
async fn a_loan_past_due_may_not_be_classified_better_than_its_floor() {
    use innoloan::domain::{Principal, Scope, servicing::Classification};
    use innoloan::service::{self, Write, loans};
    use innoloan::store::audit::Actor;
    use sea_orm::TransactionTrait;
    let l = lending(1_000_000, 100_000_000, 1_000_000_000).await;
    let line = line(&l).await;
    let on = today();
    let maturity = on + Duration::days(30);
    let body = json!({"amount": 1_000_000, "reference": "F-1", "disbursed_on": on.to_string(),
                      "maturity_date": maturity.to_string()});
    let id: i64 = draw(&l, &line, body).await.expect(201).id().parse().unwrap();
    let bank: i64 = l.app.get(&format!("/api/v1/loans/{id}"), &l.bank_key).await.expect(200).body["bank_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let bank = Principal { key_id: 0, scope: Scope::Bank(bank) };
    // 100 days past due: at least substandard.
    let later = maturity + Duration::days(100);
    let txn = l.app.db.begin().await.unwrap();
    let mut w = Write::new(&txn, Actor::command_line());
    let refused = loans::classify(&mut w, bank, id, Classification::SpecialMention, "x".into(), later).await;
    assert!(
        matches!(refused, Err(service::Error::Store(innoloan::store::StoreError::Refused { .. }))),
        "{refused:?}"
    );
    let doubtful =
        loans::classify(&mut w, bank, id, Classification::Doubtful, "x".into(), later).await.unwrap();
    assert_eq!(doubtful.classification(later), Classification::Doubtful);
    w.discard();
    txn.rollback().await.unwrap();
}

#[tokio::test]
async fn a_closed_line_draws_no_more_and_its_loans_are_serviced() {
    let l = lending(1_000_000, 100_000_000, 1_000_000_000).await;
    let line = line(&l).await;
    let on = today().to_string();
    let id = draw(&l, &line, json!({"amount": 1_000_000, "reference": "CL-1", "disbursed_on": on}))
        .await
        .expect(201)
        .id();
    let close = format!("/api/v1/credit-lines/{line}/close");
    l.app.post(&close, &l.firm_key, &json!({})).await.expect(403);
    let other_bank = l.app.create_bank("other", "他行").await;
    let other_key = l.app.create_key("bank", Some(("bank_id", &other_bank))).await;
    l.app.post(&close, &other_key, &json!({})).await.expect(404);
    let closed = l.app.post(&close, &l.bank_key, &json!({})).await.expect(200);
    assert_eq!(closed.body["status"], "closed");
    l.app.post(&close, &l.bank_key, &json!({})).await.expect_error(409, "invalid_state");
    draw(&l, &line, json!({"amount": 1, "reference": "CL-2", "disbursed_on": on}))
        .await
        .expect_error(409, "invalid_state");
    let pay = json!({"amount": 1_000, "paid_on": on, "reference": "CL-R1"});
    l.app.post(&format!("/api/v1/loans/{id}/repayments"), &l.bank_key, &pay).await.expect(201);
    let feed = l.app.get("/api/v1/events?types=credit_line.closed", &l.firm_key).await.expect(200);
    assert_eq!(feed.body["items"][0]["data"]["status"], "closed");
}

#[tokio::test]
async fn the_daily_job_tells_of_loans_falling_overdue_and_reclassified_once_a_day() {
    use innoloan::service::daily::{DayRun, run_day};
    let l = lending(1_000_000, 100_000_000, 1_000_000_000).await;
    let line = line(&l).await;
    let on = today();
    let maturity = on + Duration::days(30);
    let body = json!({"amount": 1_000_000, "reference": "J-1", "disbursed_on": on.to_string(),
                      "maturity_date": maturity.to_string()});
    let id = draw(&l, &line, body).await.expect(201).id();
    let services = &l.app.services;
    // The day after maturity it falls past due, and special mention.
    let day = maturity + Duration::days(1);
    assert_eq!(run_day(services, day).await.unwrap(), Some(DayRun { overdue: 1, reclassified: 1 }));
    assert_eq!(run_day(services, day).await.unwrap(), None, "a day runs once");
    // Day 91: substandard; day 92: nothing new.
    assert_eq!(
        run_day(services, maturity + Duration::days(91)).await.unwrap(),
        Some(DayRun { overdue: 0, reclassified: 1 })
    );
    assert_eq!(run_day(services, maturity + Duration::days(92)).await.unwrap(), Some(DayRun::default()));
    let feed = l.app.get("/api/v1/events?types=loan.overdue,loan.classified", &l.firm_key).await.expect(200);
    let types: Vec<&str> =
        feed.body["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["loan.overdue", "loan.classified", "loan.classified"]);
    assert!(feed.body["items"].as_array().unwrap().iter().all(|e| e["data"]["id"] == id.as_str()));
    l.app.verify_totals().await;
}

/// A line of `amount` fen granted under a revolving product of the same bank.
pub(crate) async fn revolving_line(l: &Lending, amount: i64) -> String {
    let mut body = crate::credit::product_body("revolving", 1_000, 100_000_000, 1_000_000_000);
    body["revolving"] = json!(true);
    let product = l.app.post("/api/v1/products", &l.bank_key, &body).await.expect(201);
    assert_eq!(product.body["revolving"], true);
    let product = product.id();
    l.app.post(&format!("/api/v1/products/{product}/publish"), &l.bank_key, &json!({})).await.expect(200);
    let application = json!({"product_id": product, "amount": amount, "term_months": 12, "purpose": "周转"});
    let application = l.app.post("/api/v1/applications", &l.firm_key, &application).await.expect(201).id();
    let approved = l
        .app
        .post(&format!("/api/v1/applications/{application}/approve"), &l.bank_key, &approval(amount))
        .await
        .expect(200);
    assert_eq!(approved.body["credit_line"]["revolving"], true);
    approved.body["credit_line"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn repaid_principal_may_be_drawn_again_on_a_revolving_line_only() {
    let l = lending(1_000, 100_000_000, 1_000_000_000).await;
    let on = today().to_string();
    let l = &l;
    let pay = |loan: &str, amount: i64, reference: &str| {
        let path = format!("/api/v1/loans/{loan}/repayments");
        let body = json!({"amount": amount, "paid_on": on, "reference": reference});
        async move { l.app.post(&path, &l.bank_key, &body).await }
    };

    // A line that does not revolve: what was drawn stays drawn.
    let fixed = line(l).await;
    let loan = draw(l, &fixed, json!({"amount": 100_000_000, "reference": "F-1", "disbursed_on": on}))
        .await
        .expect(201)
        .id();
    pay(&loan, 40_000_000, "F-R1").await.expect(201);
    let after = l.app.get(&format!("/api/v1/credit-lines/{fixed}"), &l.bank_key).await.expect(200).body;
    assert_eq!(
        (after["revolving"].clone(), after["principal_outstanding"].clone()),
        (json!(false), json!(60_000_000))
    );
    assert_eq!(after["available"], 0);
    draw(l, &fixed, json!({"amount": 1, "reference": "F-2", "disbursed_on": on}))
        .await
        .expect_error(422, "exceeds_available");

    // A revolving line: repaid principal is available again, never more.
    let line = revolving_line(l, 1_000_000).await;
    let first = draw(l, &line, json!({"amount": 1_000_000, "reference": "R-1", "disbursed_on": on}))
        .await
        .expect(201)
        .id();
    draw(l, &line, json!({"amount": 1, "reference": "R-2", "disbursed_on": on}))
        .await
        .expect_error(422, "exceeds_available");
    // Repaid on the day it was drawn, no interest has accrued: all of it is principal.
    let repaid = pay(&first, 300_000, "R-R1").await.expect(201);
    assert_eq!(repaid.body["principal_paid"], 300_000);
    let now = l.app.get(&format!("/api/v1/credit-lines/{line}"), &l.bank_key).await.expect(200).body;
    assert_eq!(now["available"], 300_000);
    assert_eq!(now["principal_outstanding"], 700_000);
    draw(l, &line, json!({"amount": 300_001, "reference": "R-3", "disbursed_on": on}))
        .await
        .expect_error(422, "exceeds_available");
    draw(l, &line, json!({"amount": 300_000, "reference": "R-4", "disbursed_on": on})).await.expect(201);
    let now = l.app.get(&format!("/api/v1/credit-lines/{line}"), &l.bank_key).await.expect(200).body;
    assert_eq!(
        (now["disbursed_total"].clone(), now["principal_outstanding"].clone(), now["available"].clone()),
        (json!(1_300_000), json!(1_000_000), json!(0))
    );
    l.app.verify_totals().await;
}
