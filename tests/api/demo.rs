//! The demo data set reproduces the figures reported for each park (DOMAIN.md).

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with, test_config};

fn park_id(parks: &Value, code: &str) -> String {
    parks["items"].as_array().unwrap().iter().find(|p| p["code"] == code).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn bank_id(banks: &Value, name: &str) -> String {
    banks["items"].as_array().unwrap().iter().find(|b| b["name"] == name).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The enterprise of that name in the park's ranking, and its ranking entry.
async fn ranked(app: &TestApp, park: &str, period: &str, name: &str) -> Value {
    let ranking = app
        .get(&format!("/api/v1/parks/{park}/rankings?period={period}&limit=100"), &app.admin_key)
        .await
        .expect(200);
    ranking.body["items"].as_array().unwrap().iter().find(|e| e["name"] == name).cloned().unwrap()
}

async fn stats(app: &TestApp, park: &str) -> Value {
    app.get(&format!("/api/v1/parks/{park}/stats"), &app.admin_key).await.expect(200).body
}

/// The credit lines an enterprise holds, read with a key of its own.
async fn lines_of(app: &TestApp, enterprise: &str) -> Vec<Value> {
    let key = app.create_key("enterprise", Some(("enterprise_id", enterprise))).await;
    app.get("/api/v1/credit-lines", &key).await.expect(200).body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_demo_reproduces_the_reported_figures() {
    let mut config = test_config().await;
    // The figures are checked on SQLite, as `innoloan demo` runs by default.
    config.database_url = "sqlite::memory:".into();
    let app = spawn_app_with(config).await;
    let keys = innoloan::demo::seed(&app.db).await.unwrap();
    let admin = &app.admin_key;
    let parks = app.get("/api/v1/parks", admin).await.expect(200).body;
    let banks = app.get("/api/v1/banks", admin).await.expect(200).body;

    // 光谷: 6,527 scored; 2,610 with credit; ¥66.485 bn granted, ¥17.825 bn disbursed; 武汉波睿达
    // scores at least 90 and holds a ¥30 m 汉口银行 line.
    let optics = park_id(&parks, "optics-valley");
    let s = stats(&app, &optics).await;
    assert_eq!(s["enterprises_scored"], 6_527);
    assert_eq!(s["enterprises_with_credit"], 2_610);
    assert_eq!(s["credit_granted"], 6_648_500_000_000_i64);
    assert_eq!(s["disbursed"], 1_782_500_000_000_i64);
    let boruida = ranked(&app, &optics, "2022", "武汉波睿达生物科技有限公司").await;
    assert!(boruida["score"].as_f64().unwrap() >= 90.0);
    let lines = lines_of(&app, boruida["enterprise_id"].as_str().unwrap()).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["amount"], 3_000_000_000_i64);
    assert_eq!(lines[0]["bank_id"], bank_id(&banks, "汉口银行").as_str());

    // 南昌: at least 1,000 scored and a 2021 top-100; 10 banks with 20 published products; 243 with
    // credit; at least ¥6 bn granted; ¥2.8 bn disbursed; 江西众加利 is 32nd and drew a ¥50 m
    // 农业银行 专精特新贷, pure credit.
    let nanchang = park_id(&parks, "nanchang");
    let s = stats(&app, &nanchang).await;
    assert!(s["enterprises_scored"].as_i64().unwrap() >= 1_000);
    assert_eq!(s["enterprises_with_credit"], 243);
    assert!(s["credit_granted"].as_i64().unwrap() >= 600_000_000_000);
    assert_eq!(s["disbursed"], 280_000_000_000_i64);
    let top =
        app.get(&format!("/api/v1/parks/{nanchang}/rankings?period=2021&limit=100"), admin).await.expect(200);
    assert_eq!(top.body["items"].as_array().unwrap().len(), 100);
    let products = app
        .get(&format!("/api/v1/products?park_id={nanchang}&status=published&limit=500"), admin)
        .await
        .expect(200);
    let local: Vec<&Value> = products.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["eligibility"]["park_ids"] == json!([nanchang]))
        .collect();
    assert_eq!(local.len(), 20);
    let lenders: std::collections::HashSet<&str> =
        local.iter().map(|p| p["bank_id"].as_str().unwrap()).collect();
    assert_eq!(lenders.len(), 10);
    let zhongjiali = ranked(&app, &nanchang, "2021", "江西众加利高科技股份有限公司").await;
    assert_eq!(zhongjiali["rank"], 32);
    let lines = lines_of(&app, zhongjiali["enterprise_id"].as_str().unwrap()).await;
    assert_eq!(
        (lines[0]["amount"].as_i64(), lines[0]["disbursed_total"].as_i64()),
        (Some(5_000_000_000), Some(5_000_000_000))
    );
    assert_eq!(lines[0]["bank_id"], bank_id(&banks, "农业银行").as_str());
    let product = app
        .get(&format!("/api/v1/products/{}", lines[0]["product_id"].as_str().unwrap()), admin)
        .await
        .expect(200);
    assert_eq!(
        (product.body["name"].as_str(), product.body["credit_type"].as_str()),
        (Some("专精特新贷"), Some("pure_credit"))
    );

    // 成都: 6,700 scored; 金熊猫积分贷 643 grants, 成都银行 454 for ¥7.6 bn and 工商银行 189 for
    // ¥2.6 bn; rates at most 4.5%; approval within 5 working days on average; 成都美洽's ¥5 m
    // 成都银行 line granted on 2022-05-17.
    let chengdu = park_id(&parks, "chengdu");
    assert_eq!(chengdu, keys.chengdu_park_id.to_string());
    let s = stats(&app, &chengdu).await;
    assert_eq!(s["enterprises_scored"], 6_700);
    let jinxiongmao: Vec<&Value> =
        s["products"].as_array().unwrap().iter().filter(|p| p["product_name"] == "金熊猫积分贷").collect();
    assert_eq!(jinxiongmao.iter().map(|p| p["credit_lines"].as_i64().unwrap()).sum::<i64>(), 643);
    let by_bank = |name: &str| {
        jinxiongmao
            .iter()
            .find(|p| p["bank_name"] == name)
            .map(|p| (p["credit_lines"].as_i64().unwrap(), p["credit_granted"].as_i64().unwrap()))
    };
    assert_eq!(by_bank("成都银行"), Some((454, 760_000_000_000)));
    assert_eq!(by_bank("工商银行"), Some((189, 260_000_000_000)));
    assert!(s["avg_approval_working_days"].as_f64().unwrap() <= 5.0);
    let office = app.get("/api/v1/credit-lines?limit=500", &keys.park_office).await.expect(200);
    let mut rates = office.body["items"].as_array().unwrap().clone();
    let mut cursor = office.body["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = app
            .get(&format!("/api/v1/credit-lines?limit=500&cursor={c}"), &keys.park_office)
            .await
            .expect(200);
        rates.extend(page.body["items"].as_array().unwrap().iter().cloned());
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(rates.len(), 643);
    assert!(rates.iter().all(|l| l["rate_bps"].as_i64().unwrap() <= 450));
    let meiqia = app.get("/api/v1/credit-lines", &keys.enterprise).await.expect(200);
    let line = &meiqia.body["items"][0];
    assert_eq!(line["amount"], 500_000_000);
    assert!(line["granted_at"].as_str().unwrap().starts_with("2022-05-17"));
    assert_eq!(line["bank_id"], bank_id(&banks, "成都银行").as_str());

    // 昆山: 工商银行's 火炬贷 with a ¥10 bn quota, 1,000 scored, and four partner banks.
    let kunshan = park_id(&parks, "kunshan");
    let s = stats(&app, &kunshan).await;
    assert_eq!(s["enterprises_scored"], 1_000);
    let mut partners: Vec<&str> =
        s["banks"].as_array().unwrap().iter().map(|b| b["bank_name"].as_str().unwrap()).collect();
    partners.sort();
    let mut expected = vec!["工商银行", "兴业银行", "交通银行", "农业银行"];
    expected.sort();
    assert_eq!(partners, expected);
    let torch = app.get(&format!("/api/v1/products?park_id={kunshan}&limit=500"), admin).await.expect(200);
    let torch =
        torch.body["items"].as_array().unwrap().iter().find(|p| p["name"] == "火炬贷").cloned().unwrap();
    assert_eq!(torch["total_quota"], 1_000_000_000_000_i64);
    assert_eq!(torch["bank_id"], bank_id(&banks, "工商银行").as_str());

    // The printed keys work, each in its role.
    app.get(&format!("/api/v1/enterprises/{}/matches", keys.meiqia_id), &keys.enterprise).await.expect(200);
    app.get(&format!("/api/v1/products/{}/prospects?limit=5", keys.jinxiongmao_id), &keys.bank)
        .await
        .expect(200);
    app.get("/api/v1/stats", &keys.admin).await.expect(200);

    // Synthetic servicing (see the README): 成都高新区's lines run loans drawn in the last year, a
    // few past due, an NPL ratio near 1%; 光谷's 2022 loans were repaid at maturity but for two
    // written off, with recoveries. The reported figures above are untouched.
    let s = stats(&app, &chengdu).await;
    let ratio = s["npl_ratio"].as_f64().unwrap();
    assert!((0.005..=0.02).contains(&ratio), "Chengdu's NPL ratio is {ratio}");
    assert!(s["overdue_principal"].as_i64().unwrap() > 0);
    assert!(s["principal_outstanding"].as_i64().unwrap() > 0 && s["interest_repaid"].as_i64().unwrap() > 0);
    let national = app.get("/api/v1/stats", &keys.admin).await.expect(200).body;
    let ratio = national["npl_ratio"].as_f64().unwrap();
    assert!((0.005..=0.02).contains(&ratio), "the national NPL ratio is {ratio}");
    let s = stats(&app, &optics).await;
    assert_eq!(s["principal_outstanding"], 0, "光谷's loans are repaid or written off");
    assert!(s["written_off"].as_i64().unwrap() > 0 && s["recovered"].as_i64().unwrap() > 0);
    let s = stats(&app, &nanchang).await;
    assert_eq!(
        (s["principal_outstanding"].as_i64(), s["principal_repaid"].as_i64()),
        (Some(0), Some(280_000_000_000))
    );
    let loans = app.get("/api/v1/loans?limit=500", &keys.bank).await.expect(200).body;
    let loans = loans["items"].as_array().unwrap();
    for class in ["normal", "special_mention", "substandard"] {
        assert!(loans.iter().any(|l| l["classification"] == class), "成都银行 has a {class} loan");
    }
    assert!(loans.iter().any(|l| l["repayment_method"] == "equal_installment"));
    assert!(loans.iter().any(|l| l["repayment_method"] == "monthly_interest"));

    // Synthetic score model (see the README): 昆山 scores 2023 with the default model; each
    // score explains itself, and the contributions add up to it.
    let ranking =
        app.get(&format!("/api/v1/parks/{kunshan}/rankings?limit=500"), admin).await.expect(200).body;
    assert_eq!(ranking["period"], "2023");
    let items = ranking["items"].as_array().unwrap();
    let (best, worst) =
        (items[0]["score"].as_f64().unwrap(), items[items.len() - 1]["score"].as_f64().unwrap());
    assert!(best > 70.0 && worst < best - 20.0, "2023 scores run from {worst} to {best}");
    let top = items[0]["enterprise_id"].as_str().unwrap();
    let score = app.get(&format!("/api/v1/enterprises/{top}/score"), admin).await.expect(200).body;
    assert_eq!(score["model"]["version"], 1);
    let sum: f64 =
        score["breakdown"].as_array().unwrap().iter().map(|b| b["contribution"].as_f64().unwrap()).sum();
    assert!((sum - score["score"].as_f64().unwrap()).abs() <= 0.01);
    let models = app.get(&format!("/api/v1/parks/{kunshan}/score-models"), admin).await.expect(200).body;
    assert_eq!(
        (models["items"][0]["status"].as_str(), models["items"][0]["in_use"].as_bool()),
        (Some("active"), Some(true))
    );

    // Synthetic list: 成都's 30 enterprises pushed to 成都银行 and 工商银行 eight working days ago,
    // due in five; most answered in one to three, some overdue. 成都美洽 sees it was recommended.
    let lists = app.get("/api/v1/recommendation-lists", &keys.park_office).await.expect(200).body;
    let list = lists["items"][0]["id"].as_str().unwrap();
    let list =
        app.get(&format!("/api/v1/recommendation-lists/{list}"), &keys.park_office).await.expect(200).body;
    assert_eq!((list["status"].as_str(), list["entry_count"].as_i64()), (Some("published"), Some(30)));
    let bocd = list["banks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["bank_id"] == bank_id(&banks, "成都银行").as_str())
        .unwrap()
        .clone();
    assert_eq!((bocd["tasks"].as_i64(), bocd["overdue"].as_i64()), (Some(30), Some(9)));
    let median = bocd["median_response_working_days"].as_f64().unwrap();
    assert!((1.0..=3.0).contains(&median), "median response {median}");
    let s = stats(&app, &chengdu).await;
    assert_eq!(s["recommendations"].as_array().unwrap().len(), 2);
    let mine = app.get("/api/v1/recommendation-tasks", &keys.enterprise).await.expect(200).body;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    let open = app.get("/api/v1/recommendation-tasks?status=open", &keys.bank).await.expect(200).body;
    assert!(open["items"].as_array().unwrap().iter().any(|t| t["enterprise_id"] == keys_meiqia(&keys)));
    chengdu_pool(&app, &keys, &chengdu).await;
}

async fn chengdu_pool(app: &TestApp, keys: &innoloan::demo::DemoKeys, chengdu: &str) {
    // Synthetic pool: 成都's fund over 成都银行's 金熊猫积分贷, ¥50 m, one claim paid, one waiting.
    let pools =
        app.get(&format!("/api/v1/parks/{chengdu}/risk-pools"), &keys.park_office).await.expect(200).body;
    let pool = &pools["items"][0];
    assert_eq!(pool["product_ids"], json!([keys.jinxiongmao_id.to_string()]));
    let claims = app.get("/api/v1/risk-claims?limit=500", &keys.bank).await.expect(200).body;
    let claims = claims["items"].as_array().unwrap();
    let statuses: Vec<&str> = claims.iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["approved", "filed"]);
    let paid = claims[0]["amount"].as_i64().unwrap();
    assert!(paid > 0 && paid <= 300_000_000);
    assert_eq!(pool["balance"].as_i64().unwrap(), 5_000_000_000 - paid);
    assert!(pool["enrolled_outstanding"].as_i64().unwrap() > 0 && pool["leverage"].as_f64().unwrap() > 0.0);
    let national = app.get("/api/v1/stats", &keys.admin).await.expect(200).body;
    assert_eq!(national["risk_pools"][0]["id"], pool["id"]);
    chengdu_subsidy(app, keys, chengdu).await;
}

async fn chengdu_subsidy(app: &TestApp, keys: &innoloan::demo::DemoKeys, chengdu: &str) {
    // Synthetic programme: 30% of interest repaid, three claims, two paid.
    let programs = app
        .get(&format!("/api/v1/parks/{chengdu}/subsidy-programs"), &keys.park_office)
        .await
        .expect(200)
        .body;
    let program = &programs["items"][0];
    assert_eq!((program["share_bps"].as_i64(), program["budget"].as_i64()), (Some(3_000), Some(500_000_000)));
    let claims = app
        .get(
            &format!("/api/v1/subsidy-claims?program_id={}", program["id"].as_str().unwrap()),
            &keys.park_office,
        )
        .await
        .expect(200)
        .body;
    let claims = claims["items"].as_array().unwrap();
    let statuses: Vec<&str> = claims.iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["approved", "approved", "filed"]);
    let paid: i64 = claims[..2].iter().map(|c| c["amount"].as_i64().unwrap()).sum();
    assert!(paid > 0);
    assert_eq!(
        (program["paid"].as_i64(), program["committed"].as_i64()),
        (Some(paid), claims[2]["amount"].as_i64())
    );
    // 成都美洽 has not claimed: the programme and the pool are among its policies.
    let policies = app
        .get(&format!("/api/v1/enterprises/{}/policies", keys.meiqia_id), &keys.enterprise)
        .await
        .expect(200)
        .body;
    let kinds: Vec<&str> = policies["eligible"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["subsidy_program", "risk_pool"], "{policies}");
    assert!(policies["eligible"][0]["estimated_amount"].as_i64().unwrap() > 0, "{policies}");
}

fn keys_meiqia(keys: &innoloan::demo::DemoKeys) -> String {
    keys.meiqia_id.to_string()
}
