use chrono::{NaiveDate, TimeZone, Utc};
use innoloan::{
    domain::{Money, Principal, RateBps, credit::Approval},
    service::{
        self, Write, applications,
        applications::Apply,
        credit::{self, Draw},
    },
    store::audit::Actor,
};
use sea_orm::TransactionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, uscc};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

struct Known {
    app: TestApp,
    park_a: String,
    park_b: String,
}

/// The command line acting as an admin, as the demo does.
const ADMIN: Principal = Principal::command_line();

/// Runs use cases in one committed transaction, as the demo does.
async fn write<T>(app: &TestApp, work: impl AsyncFnOnce(&mut Write<'_>) -> service::Result<T>) -> T {
    let txn = app.db.begin().await.unwrap();
    let mut w = Write::new(&txn, Actor::command_line());
    let value = work(&mut w).await.unwrap();
    w.close().await.unwrap();
    txn.commit().await.unwrap();
    value
}

/// Grants a line through the use cases, at dates of our choosing; returns the line id.
async fn grant(
    app: &TestApp,
    enterprise: &str,
    product: &str,
    amount: i64,
    submitted: NaiveDate,
    granted: NaiveDate,
) -> i64 {
    let at = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(9, 30, 0).unwrap());
    let apply = Apply {
        enterprise_id: Some(enterprise.parse().unwrap()),
        product_id: product.parse().unwrap(),
        amount: Money::from_fen(amount).unwrap(),
        term_months: 12,
        purpose: "研发".into(),
    };
    let approval = Approval {
        amount: Money::from_fen(amount).unwrap(),
        rate: RateBps::new(400).unwrap(),
        term_months: 12,
        expires_on: date(2099, 1, 1),
    };
    write(app, async |w| {
        let application = applications::submit(w, ADMIN, apply, at(submitted)).await?;
        let (_, line) = applications::approve(w, ADMIN, application.id, approval, at(granted)).await?;
        Ok(line.id)
    })
    .await
}

async fn disburse(app: &TestApp, line: i64, amount: i64, reference: &str, on: NaiveDate) {
    let today = Utc::now().date_naive();
    let draw = Draw {
        line_id: line,
        amount: Money::from_fen(amount).unwrap(),
        reference: reference.into(),
        disbursed_on: on,
        maturity_date: None,
        repayment_method: None,
    };
    write(app, async |w| credit::disburse(w, ADMIN, draw, today).await).await;
}

fn product(code: &str, name: &str, parks: &[&str]) -> Value {
    json!({
        "code": code, "name": name, "credit_type": "pure_credit", "min_amount": 100, "max_amount": 10_000_000,
        "rate_bps_min": 350, "rate_bps_max": 450, "term_months_min": 6, "term_months_max": 36,
        "approval_sla_days": 5, "total_quota": 100_000_000, "eligibility": {"park_ids": parks},
    })
}

/// Park A: 成都银行 with two products, 工商银行 with one; three lines, three disbursements.
/// Park B: one line of 成都银行's first product, which both parks offer.
async fn known() -> Known {
    let app = spawn_app().await;
    let park_a = app.create_park("a", "成都高新区").await;
    let park_b = app.create_park("b", "南昌高新区").await;
    let bocd = app.create_bank("bocd", "成都银行").await;
    let icbc = app.create_bank("icbc", "工商银行").await;
    let bocd_key = app.create_key("bank", Some(("bank_id", &bocd))).await;
    let icbc_key = app.create_key("bank", Some(("bank_id", &icbc))).await;
    let p1 = app
        .post("/api/v1/products", &bocd_key, &product("p1", "金熊猫积分贷", &[&park_a, &park_b]))
        .await
        .expect(201)
        .id();
    let p2 =
        app.post("/api/v1/products", &bocd_key, &product("p2", "科创贷", &[&park_a])).await.expect(201).id();
    let p3 = app
        .post("/api/v1/products", &icbc_key, &product("p3", "金熊猫积分贷", &[&park_a]))
        .await
        .expect(201)
        .id();
    for (product, key) in [(&p1, &bocd_key), (&p2, &bocd_key), (&p3, &icbc_key)] {
        app.post(&format!("/api/v1/products/{product}/publish"), key, &json!({})).await.expect(200);
    }
    let e1 = app.create_enterprise(&park_a, &uscc(1), "成都美洽网络科技有限公司").await;
    let e2 = app.create_enterprise(&park_a, &uscc(2), "二号企业").await;
    app.create_enterprise(&park_a, &uscc(3), "三号企业").await;
    let e4 = app.create_enterprise(&park_b, &uscc(4), "南昌企业").await;
    let scores = json!({"period": "2022", "scores": [{"uscc": uscc(1), "score": 90, "stage": "growth"}, {"uscc": uscc(2), "score": 80, "stage": "growth"}]});
    app.post(&format!("/api/v1/parks/{park_a}/scores"), &app.admin_key, &scores).await.expect(201);

    // 2022-05-10 and 2022-05-17 are Tuesdays: 7 days, 5 working days; within a 5-day SLA.
    let l1 = grant(&app, &e1, &p1, 1_000_000, date(2022, 5, 10), date(2022, 5, 17)).await;
    let _l2 = grant(&app, &e2, &p2, 2_000_000, date(2022, 5, 31), date(2022, 6, 1)).await;
    // 10 days, 8 working days: over the SLA.
    let l3 = grant(&app, &e1, &p3, 3_000_000, date(2022, 6, 20), date(2022, 6, 30)).await;
    let l4 = grant(&app, &e4, &p1, 4_000_000, date(2022, 6, 30), date(2022, 7, 1)).await;
    disburse(&app, l1, 500_000, "D1", date(2022, 5, 20)).await;
    disburse(&app, l1, 500_000, "D2", date(2022, 6, 1)).await;
    disburse(&app, l3, 1_000_000, "D3", date(2022, 7, 1)).await;
    disburse(&app, l4, 4_000_000, "D4", date(2022, 7, 2)).await;
    Known { app, park_a, park_b }
}

#[tokio::test]
async fn park_stats_have_known_answers() {
    let k = known().await;
    let stats = k.app.get(&format!("/api/v1/parks/{}/stats", k.park_a), &k.app.admin_key).await.expect(200);
    let b = &stats.body;
    assert_eq!(b["park_name"], "成都高新区");
    assert_eq!(b["enterprises_registered"], 3);
    assert_eq!(b["enterprises_scored"], 2);
    assert_eq!(b["enterprises_with_credit"], 2);
    assert_eq!(b["credit_lines"], 3);
    assert_eq!(b["credit_granted"], 6_000_000);
    assert_eq!(b["disbursement_count"], 3);
    assert_eq!(b["disbursed"], 2_000_000);
    assert_eq!(b["avg_approval_days"], 6.0);
    assert_eq!(b["avg_approval_working_days"], 4.67);
    assert_eq!(b["sla_breaches"], 1);
    assert_eq!(b["applications"]["approved"], 3);
    let banks: Vec<(&str, i64, i64, i64, i64)> = b["banks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |f: &str| r[f].as_i64().unwrap();
            (
                r["bank_name"].as_str().unwrap(),
                n("enterprises"),
                n("credit_lines"),
                n("credit_granted"),
                n("disbursed"),
            )
        })
        .collect();
    assert_eq!(
        banks,
        vec![("成都银行", 2, 2, 3_000_000, 1_000_000), ("工商银行", 1, 1, 3_000_000, 1_000_000)]
    );
    let products: Vec<(&str, &str, i64)> = b["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["product_name"].as_str().unwrap(),
                r["bank_name"].as_str().unwrap(),
                r["credit_granted"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        products,
        vec![
            ("金熊猫积分贷", "成都银行", 1_000_000),
            ("科创贷", "成都银行", 2_000_000),
            ("金熊猫积分贷", "工商银行", 3_000_000)
        ]
    );
    k.app.verify_totals().await;
}

#[tokio::test]
async fn from_and_to_are_inclusive_edges() {
    let k = known().await;
    let path = |q: &str| format!("/api/v1/parks/{}/stats?{q}", k.park_a);
    let june = k.app.get(&path("from=2022-06-01&to=2022-06-30"), &k.app.admin_key).await.expect(200);
    assert_eq!(
        (june.body["credit_lines"].as_i64(), june.body["credit_granted"].as_i64()),
        (Some(2), Some(5_000_000))
    );
    assert_eq!(
        (june.body["disbursement_count"].as_i64(), june.body["disbursed"].as_i64()),
        (Some(1), Some(500_000))
    );
    assert_eq!(june.body["enterprises_with_credit"], 2);
    assert_eq!(june.body["from"], "2022-06-01");
    let inside = k.app.get(&path("from=2022-06-02&to=2022-06-29"), &k.app.admin_key).await.expect(200);
    assert_eq!((inside.body["credit_lines"].as_i64(), inside.body["disbursed"].as_i64()), (Some(0), Some(0)));
    assert_eq!(inside.body["avg_approval_days"], Value::Null);
    let until = k.app.get(&path("to=2022-05-17"), &k.app.admin_key).await.expect(200);
    assert_eq!(until.body["credit_granted"], 1_000_000);
    let since = k.app.get(&path("from=2022-07-01"), &k.app.admin_key).await.expect(200);
    assert_eq!(
        (since.body["credit_lines"].as_i64(), since.body["disbursed"].as_i64()),
        (Some(0), Some(1_000_000))
    );
    let backwards = k.app.get(&path("from=2022-07-01&to=2022-06-01"), &k.app.admin_key).await;
    assert_eq!(backwards.expect_error(422, "validation_failed").error_fields(), vec!["to"]);
    k.app.get(&path("from=yesterday"), &k.app.admin_key).await.expect_error(422, "validation_failed");
}

#[tokio::test]
async fn stats_as_csv_open_in_a_spreadsheet() {
    let k = known().await;
    let response = k
        .app
        .client
        .get(format!("{}/api/v1/parks/{}/stats", k.app.address, k.park_a))
        .bearer_auth(&k.app.admin_key)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a UTF-8 byte-order mark");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(reader.headers().unwrap().get(1), Some("bank_name"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "two banks and a total");
    assert_eq!(&rows[0][1], "成都银行");
    assert_eq!(&rows[1][1], "工商银行");
    assert_eq!(&rows[2][1], "合计 total");
    assert_eq!(&rows[2][4], "6000000");
    assert_eq!(&rows[2][6], "2000000");
}

#[tokio::test]
async fn the_monthly_series() {
    let k = known().await;
    let monthly =
        k.app.get(&format!("/api/v1/parks/{}/stats/monthly", k.park_a), &k.app.admin_key).await.expect(200);
    let months: Vec<(&str, i64, i64, i64, i64)> = monthly.body["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let n = |f: &str| m[f].as_i64().unwrap();
            (
                m["month"].as_str().unwrap(),
                n("credit_lines"),
                n("credit_granted"),
                n("disbursement_count"),
                n("disbursed"),
            )
        })
        .collect();
    assert_eq!(
        months,
        vec![
            ("2022-05", 1, 1_000_000, 1, 500_000),
            ("2022-06", 2, 5_000_000, 1, 500_000),
            ("2022-07", 0, 0, 1, 1_000_000)
        ]
    );
    let june = k
        .app
        .get(
            &format!("/api/v1/parks/{}/stats/monthly?from=2022-06-01&to=2022-06-30", k.park_a),
            &k.app.admin_key,
        )
        .await;
    assert_eq!(june.expect(200).body["months"].as_array().unwrap().len(), 1);
    k.app.verify_totals().await;
}

#[tokio::test]
async fn national_totals_are_the_sum_of_the_parks() {
    let k = known().await;
    let national = k.app.get("/api/v1/stats", &k.app.admin_key).await.expect(200);
    let parks = national.body["parks"].as_array().unwrap();
    assert_eq!(parks.len(), 2);
    for field in [
        "enterprises_registered",
        "enterprises_scored",
        "enterprises_with_credit",
        "credit_lines",
        "credit_granted",
        "disbursement_count",
        "disbursed",
        "sla_breaches",
    ] {
        let sum: i64 = parks.iter().map(|p| p[field].as_i64().unwrap()).sum();
        assert_eq!(national.body[field].as_i64(), Some(sum), "{field}");
    }
    assert_eq!(national.body["credit_granted"], 10_000_000);
    assert_eq!(national.body["disbursed"], 6_000_000);
    let park_b = parks.iter().find(|p| p["park_id"] == k.park_b.as_str()).unwrap();
    assert_eq!(park_b["credit_granted"], 4_000_000);
    let bocd = national.body["banks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["bank_name"] == "成都银行")
        .unwrap()
        .clone();
    assert_eq!((bocd["credit_lines"].as_i64(), bocd["enterprises"].as_i64()), (Some(3), Some(3)));
    k.app.verify_totals().await;
}

#[tokio::test]
async fn stats_are_scoped_to_the_park_office() {
    let k = known().await;
    let office_a = k.app.create_key("park_office", Some(("park_id", &k.park_a))).await;
    k.app.get(&format!("/api/v1/parks/{}/stats", k.park_a), &office_a).await.expect(200);
    k.app.get(&format!("/api/v1/parks/{}/stats", k.park_b), &office_a).await.expect_error(404, "not_found");
    k.app
        .get(&format!("/api/v1/parks/{}/stats/monthly", k.park_b), &office_a)
        .await
        .expect_error(404, "not_found");
    k.app.get("/api/v1/stats", &office_a).await.expect_error(403, "forbidden");
    let bank = k.app.create_bank("x", "某银行").await;
    let bank_key = k.app.create_key("bank", Some(("bank_id", &bank))).await;
    k.app.get(&format!("/api/v1/parks/{}/stats", k.park_a), &bank_key).await.expect_error(403, "forbidden");
    k.app.get("/api/v1/parks/999/stats", &k.app.admin_key).await.expect_error(404, "not_found");
}

/// Draws a loan through the use case, on a day of our choosing; returns its id.
async fn draw(
    app: &TestApp,
    line: i64,
    amount: i64,
    on: NaiveDate,
    maturity: Option<NaiveDate>,
    method: &str,
) -> String {
    let draw = Draw {
        line_id: line,
        amount: Money::from_fen(amount).unwrap(),
        reference: format!("L-{line}-{on}-{amount}"),
        disbursed_on: on,
        maturity_date: maturity,
        repayment_method: Some(innoloan::domain::servicing::RepaymentMethod::parse(method).unwrap()),
    };
    let today = Utc::now().date_naive();
    let made = write(app, async |w| credit::disburse(w, ADMIN, draw, today).await).await;
    made.id.to_string()
}

fn fen(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("{v} is not a number of fen"))
}

/// The servicing figures, summed over the loans as `GET /loans?as_of=` shows them.
async fn summed_over_loans(app: &TestApp, key: &str, day: NaiveDate) -> Value {
    let loans = app.get(&format!("/api/v1/loans?as_of={day}&limit=500"), key).await.expect(200).body;
    let (mut outstanding, mut overdue, mut npl, mut written_off) = (0, 0, 0, 0);
    let (mut principal_repaid, mut interest_repaid, mut recovered) = (0, 0, 0);
    for loan in loans["items"].as_array().unwrap() {
        if loan["disbursed_on"].as_str().unwrap() > day.to_string().as_str() {
            continue;
        }
        let id = loan["id"].as_str().unwrap();
        let repayments =
            app.get(&format!("/api/v1/loans/{id}/repayments?limit=500"), key).await.expect(200).body;
        let mut principal_before_write_off = 0;
        for r in repayments["items"].as_array().unwrap() {
            if r["recovery"] == true {
                if r["paid_on"].as_str().unwrap() <= day.to_string().as_str() {
                    recovered += fen(&r["amount"]);
                }
                continue;
            }
            principal_before_write_off += fen(&r["principal_paid"]);
            if r["paid_on"].as_str().unwrap() <= day.to_string().as_str() {
                principal_repaid += fen(&r["principal_paid"]);
                interest_repaid += fen(&r["interest_paid"]);
            }
        }
        if loan["written_off"] == true {
            written_off += fen(&loan["amount"]) - principal_before_write_off;
            continue;
        }
        outstanding += fen(&loan["principal_outstanding"]);
        overdue += fen(&loan["overdue_principal"]);
        if ["substandard", "doubtful", "loss"].contains(&loan["classification"].as_str().unwrap()) {
            npl += fen(&loan["principal_outstanding"]);
        }
    }
    let ratio =
        if outstanding == 0 { 0.0 } else { (npl as f64 / outstanding as f64 * 10_000.0).round() / 10_000.0 };
    json!({
        "principal_outstanding": outstanding, "overdue_principal": overdue, "npl_balance": npl,
        "npl_ratio": ratio, "principal_repaid": principal_repaid, "interest_repaid": interest_repaid,
        "recovered": recovered, "written_off": written_off,
    })
}

fn servicing_of(figures: &Value) -> Value {
    let names = [
        "principal_outstanding",
        "overdue_principal",
        "npl_balance",
        "npl_ratio",
        "principal_repaid",
        "interest_repaid",
        "recovered",
        "written_off",
    ];
    names.iter().map(|n| (n.to_string(), figures[n].clone())).collect::<serde_json::Map<_, _>>().into()
}

#[tokio::test]
async fn servicing_figures_are_the_sums_over_loans_as_of_any_day() {
    use chrono::Duration;
    let app = spawn_app().await;
    let park = app.create_park("a", "成都高新区").await;
    let bank = app.create_bank("bocd", "成都银行").await;
    let bank_key = app.create_key("bank", Some(("bank_id", &bank))).await;
    let office = app.create_key("park_office", Some(("park_id", &park))).await;
    let p = app
        .post("/api/v1/products", &bank_key, &product("p1", "金熊猫积分贷", &[&park]))
        .await
        .expect(201)
        .id();
    app.post(&format!("/api/v1/products/{p}/publish"), &bank_key, &json!({})).await.expect(200);
    let e1 = app.create_enterprise(&park, &uscc(1), "一号企业").await;
    let e2 = app.create_enterprise(&park, &uscc(2), "二号企业").await;
    let today = Utc::now().date_naive();
    let ago = |days: i64| today - Duration::days(days);
    let line1 = grant(&app, &e1, &p, 10_000_000, ago(421), ago(420)).await;
    let line2 = grant(&app, &e2, &p, 10_000_000, ago(421), ago(420)).await;
    let pay = async |loan: &str, amount: i64, on: NaiveDate| {
        let body =
            json!({"amount": amount, "paid_on": on.to_string(), "reference": format!("R-{loan}-{on}")});
        app.post(&format!("/api/v1/loans/{loan}/repayments"), &bank_key, &body).await.expect(201).body
    };

    // Past due about 35 days: special mention.
    draw(&app, line1, 3_000_000, ago(400), None, "bullet").await;
    // Twelve installments, the first repaid: past due since the second, about 340 days: doubtful.
    let installments = draw(
        &app,
        line1,
        6_000_000,
        ago(400),
        Some(ago(400).checked_add_months(chrono::Months::new(12)).unwrap()),
        "equal_installment",
    )
    .await;
    pay(&installments, 600_000, ago(360)).await;
    // Running, repaid in part twice: normal.
    let running = draw(&app, line2, 5_000_000, ago(100), None, "bullet").await;
    pay(&running, 1_000_000, ago(50)).await;
    pay(&running, 500_000, ago(10)).await;
    // Matured about 217 days ago: substandard; the bank calls it a loss, writes it off, and
    // recovers some.
    let bad = draw(
        &app,
        line2,
        4_000_000,
        ago(400),
        Some(ago(400).checked_add_months(chrono::Months::new(6)).unwrap()),
        "bullet",
    )
    .await;
    pay(&bad, 250_000, ago(200)).await;
    let classify = json!({"classification": "loss", "reason": "经营困难，无力偿还"});
    app.post(&format!("/api/v1/loans/{bad}/classify"), &bank_key, &classify).await.expect(200);
    app.post(&format!("/api/v1/loans/{bad}/write-off"), &bank_key, &json!({})).await.expect(200);
    // A recovery is paid on or after the write-off, never dated before it.
    let early = json!({"amount": 100_000, "paid_on": ago(100).to_string(), "reference": "EARLY"});
    let refused = app.post(&format!("/api/v1/loans/{bad}/repayments"), &bank_key, &early).await;
    refused.expect_error(422, "validation_failed");
    let recovered = pay(&bad, 100_000, today).await;
    assert_eq!(recovered["recovery"], true);

    for day in [today, ago(55), ago(201), ago(365), today + Duration::days(200)] {
        let stats =
            app.get(&format!("/api/v1/parks/{park}/stats?as_of={day}"), &office).await.expect(200).body;
        assert_eq!(stats["as_of"], day.to_string());
        let expected = summed_over_loans(&app, &office, day).await;
        assert_eq!(servicing_of(&stats), expected, "park totals as of {day}");
        assert_eq!(servicing_of(&stats["banks"][0]), expected, "the bank's row as of {day}");
        assert_eq!(servicing_of(&stats["products"][0]), expected, "the product's row as of {day}");
        let national = app.get(&format!("/api/v1/stats?as_of={day}"), &app.admin_key).await.expect(200).body;
        assert_eq!(servicing_of(&national), expected, "national totals as of {day}");
        assert_eq!(servicing_of(&national["parks"][0]), expected, "the park's national row as of {day}");
        if day == today {
            for figure in [
                "principal_outstanding",
                "overdue_principal",
                "npl_balance",
                "principal_repaid",
                "interest_repaid",
                "recovered",
                "written_off",
            ] {
                assert!(fen(&expected[figure]) > 0, "{figure} is exercised: {expected}");
            }
        }
    }
    // A loan read as of a day before its repayments stands as it did then.
    let before =
        app.get(&format!("/api/v1/loans/{running}?as_of={}", ago(55)), &office).await.expect(200).body;
    assert_eq!((fen(&before["principal_outstanding"]), fen(&before["principal_repaid"])), (5_000_000, 0));
    assert_eq!(before["schedule"][0]["paid_principal"], 0);
    let between =
        app.get(&format!("/api/v1/loans/{running}?as_of={}", ago(20)), &office).await.expect(200).body;
    assert_eq!(fen(&between["principal_repaid"]) + fen(&between["principal_outstanding"]), 5_000_000);
    assert!(fen(&between["principal_repaid"]) > 0 && fen(&between["principal_repaid"]) <= 1_000_000);
    // As of 55 days ago the bad loan was not yet written off: it was outstanding and
    // non-performing then.
    let then =
        app.get(&format!("/api/v1/parks/{park}/stats?as_of={}", ago(55)), &office).await.expect(200).body;
    assert_eq!(then["written_off"], 0);
    assert_eq!(then["recovered"], 0);

    // A window that ends in the future reads balances as of today, not as of its end.
    let ahead = today + Duration::days(100);
    let window = app.get(&format!("/api/v1/parks/{park}/stats?to={ahead}"), &office).await.expect(200).body;
    assert_eq!(
        (window["to"].as_str(), window["as_of"].as_str()),
        (Some(ahead.to_string().as_str()), Some(today.to_string().as_str()))
    );

    // The monthly series holds every repayment.
    let monthly = app.get(&format!("/api/v1/parks/{park}/stats/monthly"), &office).await.expect(200).body;
    let months = monthly["months"].as_array().unwrap();
    let now = app.get(&format!("/api/v1/parks/{park}/stats"), &office).await.expect(200).body;
    for (figure, total) in [
        ("principal_repaid", "principal_repaid"),
        ("interest_repaid", "interest_repaid"),
        ("recovered", "recovered"),
    ] {
        assert_eq!(months.iter().map(|m| fen(&m[figure])).sum::<i64>(), fen(&now[total]), "{figure}");
    }
    assert_eq!(
        months.iter().map(|m| fen(&m["repayment_count"])).sum::<i64>(),
        4,
        "four repayments, and one recovery apart"
    );

    // And as CSV, for the nation too.
    let csv = app
        .client
        .get(format!("{}/api/v1/stats", app.address))
        .bearer_auth(&app.admin_key)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(text.lines().next().unwrap().contains("npl_balance_fen"), "{text}");
    assert!(text.contains(&now["npl_balance"].to_string()), "{text}");
    app.verify_totals().await;
}

#[tokio::test]
async fn todays_statistics_read_the_totals_and_verify_finds_a_total_that_drifted() {
    use sea_orm::ConnectionTrait;
    let k = known().await;
    let path = format!("/api/v1/parks/{}/stats", k.park_a);
    let before = k.app.get(&path, &k.app.admin_key).await.expect(200).body;
    assert_eq!(before["disbursed"], 2_000_000);

    // A total changed behind the use cases' back: today's figures show it (they read the
    // totals), a window's do not (they sum the rows), and verify names it.
    k.app
        .db
        .execute_unprepared("UPDATE stat_flow_totals SET disbursed = disbursed + 7 WHERE disbursements > 0")
        .await
        .unwrap();
    let drifted = k.app.get(&path, &k.app.admin_key).await.expect(200).body;
    // Park a drew under products 1 and 3: two all-time rows.
    assert_eq!(drifted["disbursed"], 2_000_000 + 7 * 2);
    let windowed = k.app.get(&format!("{path}?from=2000-01-01"), &k.app.admin_key).await.expect(200).body;
    assert_eq!(windowed["disbursed"], 2_000_000);
    let found = innoloan::store::totals::verify(&k.app.db, chrono::Utc::now().date_naive()).await.unwrap();
    let columns: Vec<(&str, &str, i64)> =
        found.drift.iter().map(|d| (d.table, d.column.as_str(), d.stored - d.expected)).collect();
    assert_eq!(columns, vec![("stat_flow_totals", "disbursed", 7); 3], "{found:?}");

    // Rebuilt from the rows, the totals agree again.
    k.app.rebuild_totals().await;
    assert_eq!(k.app.get(&path, &k.app.admin_key).await.expect(200).body, before);
    k.app.verify_totals().await;
}

#[tokio::test]
async fn balances_left_from_an_earlier_day_roll_to_today_at_the_first_read() {
    use sea_orm::ConnectionTrait;
    let k = known().await;
    // Balances left as of an earlier day (the daily job has not run today): the first reader
    // rolls them to today, and they equal the rows'.
    let stale = format!("UPDATE stat_balances SET as_of = '2000-01-01' WHERE park_id = {}", k.park_a);
    k.app.db.execute_unprepared(&stale).await.unwrap();
    let path = format!("/api/v1/parks/{}/stats", k.park_a);
    let stats = k.app.get(&path, &k.app.admin_key).await.expect(200).body;
    let summed = k.app.get(&format!("{path}?from=1900-01-01"), &k.app.admin_key).await.expect(200).body;
    assert_eq!(stats["principal_outstanding"], summed["principal_outstanding"]);
    assert_eq!(stats["overdue_principal"], summed["overdue_principal"]);
    assert_eq!(stats["npl_balance"], summed["npl_balance"]);
    k.app.verify_totals().await;
}
