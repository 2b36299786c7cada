//! A database that goes away is an outage (503, retry later), never the client's fault (4xx).

use serde_json::json;

use crate::credit::{application, lending};

#[tokio::test]
async fn a_database_outage_is_a_503_on_the_application_and_product_paths() {
    let l = lending(1_000_000, 5_000_000_000, 100_000_000_000).await;
    let product = json!({
        "code": "p2", "name": "积分贷", "credit_type": "pure_credit", "min_amount": 1, "max_amount": 10,
        "rate_bps_min": 1, "rate_bps_max": 2, "term_months_min": 1, "term_months_max": 2,
        "approval_sla_days": 1, "total_quota": 10,
    });
    let draft = l.app.post("/api/v1/products", &l.bank_key, &product).await.expect(201).id();
    // Both keys are now remembered by the server, so the requests below reach the use cases.
    l.app.get("/api/v1/applications", &l.firm_key).await.expect(200);

    l.app.db.clone().close().await.unwrap();

    let calls = [
        ("POST", "/api/v1/applications".to_owned(), &l.firm_key, Some(application(&l.product, 2_000_000))),
        ("POST", "/api/v1/products".to_owned(), &l.bank_key, Some(product.clone())),
        ("PATCH", format!("/api/v1/products/{draft}"), &l.bank_key, Some(json!({"name": "新名"}))),
        ("POST", format!("/api/v1/products/{draft}/publish"), &l.bank_key, Some(json!({}))),
        ("GET", format!("/api/v1/enterprises/{}/matches", l.firm), &l.firm_key, None),
    ];
    for (method, path, key, body) in calls {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let reply = l.app.request(method.clone(), &path, Some(key), body.as_ref()).await;
        assert_eq!(reply.status, 503, "{method} {path}: {}", reply.text);
        assert_eq!(reply.body["error"]["code"], "unavailable", "{method} {path}: {}", reply.text);
    }
}
