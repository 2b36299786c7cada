//! The authorization matrix: every operation of the OpenAPI document, called by every role on a
//! record inside the caller's scope and on one outside it.
//!
//! The operations come from the document, so a new endpoint without a row in `MATRIX` fails
//! `every_documented_operation_has_a_row`, and so does a row for an operation that is gone.
//!
//! The callers are scoped to one side of a two-sided world: the park office to park A, the bank
//! to bank X, the enterprise to an enterprise of park A. "Inside" is A's and X's records: an
//! enterprise of park A that applied to bank X and holds a credit line from it. "Outside" is the
//! same records on the other side (park B, bank Y, an enterprise of park B), which none of the
//! scoped callers may see. The admin's scope is everything, so both sides are inside it.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app, uscc};
use crate::receiver::Receiver;

/// What a caller gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// This status; an error status also comes in the one error shape.
    S(u16),
    /// 200, and the list holds the record.
    Listed,
    /// 200, and the list leaves the record out.
    Hidden,
}

use Want::S;

const LISTED: Want = Want::Listed;
const HIDDEN: Want = Want::Hidden;

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            S(status) => write!(f, "{status}"),
            Want::Listed => f.write_str("200 listing the record"),
            Want::Hidden => f.write_str("200 leaving the record out"),
        }
    }
}

/// The callers, in the order of every row's columns.
const ROLES: [&str; 4] = ["admin", "park_office", "bank", "enterprise"];

/// One operation's row: what each role gets, in the order of `ROLES`.
struct Row {
    operation: &'static str,
    inside: [Want; 4],
    /// `None` when the operation names no park, bank or enterprise at all, so that nothing is
    /// outside anyone's scope.
    outside: Option<[Want; 4]>,
}

const fn scoped(operation: &'static str, inside: [Want; 4], outside: [Want; 4]) -> Row {
    Row { operation, inside, outside: Some(outside) }
}

const fn unscoped(operation: &'static str, every: [Want; 4]) -> Row {
    Row { operation, inside: every, outside: None }
}

/// Every operation, in the document's order: what admin, park_office, bank and enterprise get on
/// a record inside the caller's scope, then on one outside it. `S(n)` is status `n`.
///
/// Outside its scope a caller gets 404 for a record named in the path, exactly as for one that
/// does not exist; for a record named in the body (`park_id`, `bank_id`, `enterprise_id`) that
/// is the 422 a missing id gets. The test sends each such call again with a missing id and wants
/// the same answer. A role that may never take the action gets 403 on either side; the admin
/// passes every role check. Lists answer 200 and leave out what the caller may not see. A
/// published product is public: inside is bank X's published product, outside is bank Y's draft.
/// Any bank may read any enterprise's score, so a bank gets 200 on both sides of
/// `get_enterprise_score`. A webhook endpoint is its owner's: inside is bank X's endpoint, outside
/// bank Y's; every role may register its own. The event listed is the submission of the side's
/// application, which its park office, bank and enterprise all hear of.
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //        operationId               admin   office  bank    firm      admin   office  bank    firm
    unscoped("create_park",            [S(201), S(403), S(403), S(403)]),
    scoped("list_parks",               [LISTED, LISTED, LISTED, LISTED], [LISTED, LISTED, LISTED, LISTED]),
    scoped("get_park",                 [S(200), S(200), S(200), S(200)], [S(200), S(200), S(200), S(200)]),
    unscoped("create_bank",            [S(201), S(403), S(403), S(403)]),
    scoped("list_banks",               [LISTED, LISTED, LISTED, LISTED], [LISTED, LISTED, LISTED, LISTED]),
    scoped("get_bank",                 [S(200), S(200), S(200), S(200)], [S(200), S(200), S(200), S(200)]),
    scoped("create_enterprise",        [S(201), S(201), S(403), S(403)], [S(201), S(422), S(403), S(403)]),
    scoped("list_enterprises",         [LISTED, LISTED, LISTED, LISTED], [LISTED, HIDDEN, HIDDEN, HIDDEN]),
    scoped("get_enterprise",           [S(200), S(200), S(200), S(200)], [S(200), S(404), S(404), S(404)]),
    scoped("create_api_key",           [S(201), S(403), S(403), S(403)], [S(201), S(403), S(403), S(403)]),
    scoped("list_api_keys",            [LISTED, S(403), S(403), S(403)], [LISTED, S(403), S(403), S(403)]),
    scoped("revoke_api_key",           [S(204), S(403), S(403), S(403)], [S(204), S(403), S(403), S(403)]),
    unscoped("get_current_api_key",    [S(200), S(200), S(200), S(200)]),
    scoped("import_scores",            [S(201), S(201), S(403), S(403)], [S(201), S(404), S(403), S(403)]),
    scoped("get_enterprise_score",     [S(200), S(200), S(200), S(200)], [S(200), S(404), S(200), S(404)]),
    scoped("get_park_ranking",         [S(200), S(200), S(200), S(200)], [S(200), S(200), S(200), S(200)]),
    scoped("create_score_model",       [S(201), S(201), S(403), S(403)], [S(201), S(404), S(403), S(403)]),
    scoped("list_score_models",        [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    unscoped("get_default_score_model",[S(200), S(200), S(200), S(200)]),
    scoped("get_score_model",          [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    scoped("update_score_model",       [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    scoped("activate_score_model",     [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    scoped("import_indicator_values",  [S(201), S(201), S(403), S(403)], [S(201), S(404), S(403), S(403)]),
    scoped("create_recommendation_list",  [S(201), S(201), S(403), S(403)], [S(201), S(404), S(403), S(403)]),
    scoped("list_recommendation_lists",   [LISTED, LISTED, LISTED, S(403)], [LISTED, HIDDEN, HIDDEN, S(403)]),
    scoped("get_recommendation_list",     [S(200), S(200), S(200), S(403)], [S(200), S(404), S(404), S(403)]),
    scoped("publish_recommendation_list", [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    scoped("list_recommendation_tasks",   [LISTED, LISTED, LISTED, LISTED], [LISTED, HIDDEN, HIDDEN, HIDDEN]),
    scoped("get_recommendation_task",     [S(200), S(200), S(200), S(200)], [S(200), S(404), S(404), S(404)]),
    scoped("answer_recommendation_task",  [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("create_risk_pool",         [S(201), S(201), S(403), S(403)], [S(201), S(404), S(403), S(403)]),
    scoped("list_risk_pools",          [LISTED, LISTED, LISTED, S(403)], [LISTED, S(404), HIDDEN, S(403)]),
    scoped("get_risk_pool",            [S(200), S(200), S(200), S(403)], [S(200), S(404), S(404), S(403)]),
    scoped("top_up_risk_pool",         [S(201), S(201), S(403), S(403)], [S(201), S(404), S(403), S(403)]),
    scoped("list_risk_pool_entries",   [S(200), S(200), S(200), S(403)], [S(200), S(404), S(404), S(403)]),
    scoped("create_risk_claim",        [S(201), S(403), S(201), S(403)], [S(201), S(403), S(404), S(403)]),
    scoped("list_risk_pool_claims",    [S(200), S(200), S(200), S(403)], [S(200), S(404), S(404), S(403)]),
    scoped("list_risk_claims",         [LISTED, LISTED, LISTED, S(403)], [LISTED, HIDDEN, HIDDEN, S(403)]),
    scoped("get_risk_claim",           [S(200), S(200), S(200), S(403)], [S(200), S(404), S(404), S(403)]),
    scoped("approve_risk_claim",       [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    scoped("reject_risk_claim",        [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    scoped("create_subsidy_program",   [S(201), S(201), S(403), S(403)], [S(201), S(404), S(403), S(403)]),
    scoped("list_subsidy_programs",    [LISTED, LISTED, S(403), LISTED], [LISTED, S(404), S(403), S(404)]),
    scoped("get_subsidy_program",      [S(200), S(200), S(403), S(200)], [S(200), S(404), S(403), S(404)]),
    scoped("create_subsidy_claim",     [S(201), S(201), S(403), S(201)], [S(201), S(404), S(403), S(404)]),
    scoped("list_subsidy_program_claims", [S(200), S(200), S(403), S(200)], [S(200), S(404), S(403), S(404)]),
    scoped("list_subsidy_claims",      [LISTED, LISTED, S(403), LISTED], [LISTED, HIDDEN, S(403), HIDDEN]),
    scoped("get_subsidy_claim",        [S(200), S(200), S(403), S(200)], [S(200), S(404), S(403), S(404)]),
    scoped("approve_subsidy_claim",    [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    scoped("reject_subsidy_claim",     [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    scoped("get_enterprise_policies",  [S(200), S(200), S(403), S(200)], [S(200), S(404), S(403), S(404)]),
    scoped("create_product",           [S(201), S(403), S(201), S(403)], [S(201), S(403), S(422), S(403)]),
    scoped("list_products",            [LISTED, LISTED, LISTED, LISTED], [LISTED, HIDDEN, HIDDEN, HIDDEN]),
    scoped("update_product",           [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("get_product",              [S(200), S(200), S(200), S(200)], [S(200), S(404), S(404), S(404)]),
    scoped("publish_product",          [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("suspend_product",          [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("retire_product",           [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("list_product_prospects",   [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("get_enterprise_matches",   [S(200), S(200), S(403), S(200)], [S(200), S(404), S(403), S(404)]),
    scoped("create_application",       [S(201), S(403), S(403), S(201)], [S(201), S(403), S(403), S(422)]),
    scoped("list_applications",        [LISTED, LISTED, LISTED, LISTED], [LISTED, HIDDEN, HIDDEN, HIDDEN]),
    scoped("get_application",          [S(200), S(200), S(200), S(200)], [S(200), S(404), S(404), S(404)]),
    scoped("review_application",       [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("approve_application",      [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("reject_application",       [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("withdraw_application",     [S(200), S(403), S(403), S(200)], [S(200), S(403), S(403), S(404)]),
    scoped("list_credit_lines",        [LISTED, LISTED, LISTED, LISTED], [LISTED, HIDDEN, HIDDEN, HIDDEN]),
    scoped("get_credit_line",          [S(200), S(200), S(200), S(200)], [S(200), S(404), S(404), S(404)]),
    scoped("create_disbursement",      [S(201), S(403), S(201), S(403)], [S(201), S(403), S(404), S(403)]),
    scoped("list_disbursements",       [S(200), S(200), S(200), S(200)], [S(200), S(404), S(404), S(404)]),
    scoped("list_credit_line_loans",   [S(200), S(200), S(200), S(200)], [S(200), S(404), S(404), S(404)]),
    scoped("list_loans",               [LISTED, LISTED, LISTED, LISTED], [LISTED, HIDDEN, HIDDEN, HIDDEN]),
    scoped("get_loan",                 [S(200), S(200), S(200), S(200)], [S(200), S(404), S(404), S(404)]),
    scoped("create_repayment",         [S(201), S(403), S(201), S(403)], [S(201), S(403), S(404), S(403)]),
    scoped("classify_loan",            [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("write_off_loan",           [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("close_credit_line",        [S(200), S(403), S(200), S(403)], [S(200), S(403), S(404), S(403)]),
    scoped("list_repayments",          [S(200), S(200), S(200), S(200)], [S(200), S(404), S(404), S(404)]),
    scoped("get_park_stats",           [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    scoped("get_park_monthly_stats",   [S(200), S(200), S(403), S(403)], [S(200), S(404), S(403), S(403)]),
    unscoped("get_national_stats",     [S(200), S(403), S(403), S(403)]),
    scoped("list_events",              [LISTED, LISTED, LISTED, LISTED], [LISTED, HIDDEN, HIDDEN, HIDDEN]),
    unscoped("create_webhook_endpoint",[S(201), S(201), S(201), S(201)]),
    scoped("list_webhook_endpoints",   [LISTED, HIDDEN, LISTED, HIDDEN], [LISTED, HIDDEN, HIDDEN, HIDDEN]),
    scoped("get_webhook_endpoint",     [S(200), S(404), S(200), S(404)], [S(200), S(404), S(404), S(404)]),
    scoped("update_webhook_endpoint",  [S(200), S(404), S(200), S(404)], [S(200), S(404), S(404), S(404)]),
    scoped("delete_webhook_endpoint",  [S(204), S(404), S(204), S(404)], [S(204), S(404), S(404), S(404)]),
    scoped("rotate_webhook_secret",    [S(200), S(404), S(200), S(404)], [S(200), S(404), S(404), S(404)]),
    scoped("list_webhook_deliveries",  [S(200), S(404), S(200), S(404)], [S(200), S(404), S(404), S(404)]),
    scoped("retry_webhook_delivery",   [S(202), S(404), S(202), S(404)], [S(202), S(404), S(404), S(404)]),
];

/// An operation of the OpenAPI document.
struct Operation {
    /// Upper case, as `GET`.
    method: String,
    /// The path template, as `/api/v1/parks/{id}`.
    path: String,
    id: String,
    /// The statuses the document lists for it.
    statuses: Vec<u16>,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} {})", self.id, self.method, self.path)
    }
}

/// Every operation of the document the service serves (`openapi/openapi.yaml` is exactly it).
fn documented_operations() -> Vec<Operation> {
    let document: Value =
        serde_json::from_str(&innoloan::cli::openapi("json")).expect("the OpenAPI document is JSON");
    let paths = document["paths"].as_object().expect("the document has paths");
    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let mut operations = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for (method, operation) in item.iter().filter(|(method, _)| methods.contains(&method.as_str())) {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{} {path} has no operationId", method.to_uppercase()));
            let statuses = operation["responses"]
                .as_object()
                .map(|r| r.keys().filter_map(|s| s.parse().ok()).collect())
                .unwrap_or_default();
            operations.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                id: id.to_owned(),
                statuses,
            });
        }
    }
    operations
}

/// Pairs every documented operation with its row. Fails on an operation without a row, on a row
/// for an operation the document no longer has, and on an operation with two rows.
fn matrix() -> Vec<(Operation, &'static Row)> {
    let documented = documented_operations();
    let without_row: Vec<String> = documented
        .iter()
        .filter(|op| !MATRIX.iter().any(|row| row.operation == op.id))
        .map(ToString::to_string)
        .collect();
    assert!(
        without_row.is_empty(),
        "these operations of the OpenAPI document have no row in MATRIX (tests/api/matrix.rs); add one \
         saying what each role gets inside and outside its scope, and its request in World::call:\n  {}",
        without_row.join("\n  ")
    );
    let stale: Vec<&str> = MATRIX
        .iter()
        .filter(|row| !documented.iter().any(|op| op.id == row.operation))
        .map(|row| row.operation)
        .collect();
    assert!(stale.is_empty(), "MATRIX has rows for operations the OpenAPI document no longer has: {stale:?}");
    let mut seen = HashSet::new();
    let twice: Vec<&str> =
        MATRIX.iter().map(|row| row.operation).filter(|operation| !seen.insert(*operation)).collect();
    assert!(twice.is_empty(), "MATRIX has more than one row for {twice:?}");
    documented
        .into_iter()
        .map(|op| {
            let row = MATRIX.iter().find(|row| row.operation == op.id).expect("every operation has a row");
            (op, row)
        })
        .collect()
}

/// Whether a concrete path (with or without a query) fills in a path template.
fn follows_template(template: &str, path: &str) -> bool {
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    template.len() == path.len()
        && template.iter().zip(&path).all(|(t, p)| {
            t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty() && !p.contains('/'))
        })
}

#[derive(Clone, Copy, Debug)]
enum Side {
    Inside,
    Outside,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Inside => "inside",
            Side::Outside => "outside",
        })
    }
}

/// One request, and the record its list answer is checked for.
struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
    /// The id the list must hold (`LISTED`) or leave out (`HIDDEN`).
    record: Option<String>,
}

impl Call {
    fn new(method: Method, path: impl Into<String>, body: Option<Value>) -> Self {
        Self { method, path: path.into(), body, record: None }
    }

    fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path, None)
    }

    fn post(path: impl Into<String>, body: Value) -> Self {
        Self::new(Method::POST, path, Some(body))
    }

    /// A list, as long as lists go, to be checked for `record`.
    fn list(path: &str, record: &str) -> Self {
        Self { record: Some(record.to_owned()), ..Self::get(format!("{path}?limit=500")) }
    }

    /// The same call naming records that do not exist: every id in the path, and the park, bank
    /// and enterprise named in the body.
    fn naming_missing_records(&self) -> Self {
        let path = self
            .path
            .split('/')
            .map(|segment| if is_id(segment) { MISSING_ID } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        let mut body = self.body.clone();
        for field in ["park_id", "bank_id", "enterprise_id"] {
            if let Some(value) = body.as_mut().and_then(|b| b.get_mut(field)) {
                *value = json!(MISSING_ID);
            }
        }
        Self { method: self.method.clone(), path, body, record: None }
    }
}

/// An id no record has.
const MISSING_ID: &str = "999999999";

fn is_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The text with every run of digits replaced by `#`, to compare answers about different ids.
fn without_ids(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    for c in text.chars() {
        if !c.is_ascii_digit() {
            masked.push(c);
        } else if !masked.ends_with('#') {
            masked.push('#');
        }
    }
    masked
}

/// The smallest loan of every product, and the amount every application asks for and is granted.
const LOAN: i64 = 1_000_000;

fn product_body(code: &str, bank: &str) -> Value {
    json!({
        "code": code, "name": "创新积分贷", "credit_type": "pure_credit",
        "min_amount": LOAN, "max_amount": 500_000_000, "rate_bps_min": 350, "rate_bps_max": 450,
        "term_months_min": 6, "term_months_max": 36, "approval_sla_days": 5,
        "total_quota": 100_000_000_000_i64, "eligibility": {"min_score": 60}, "bank_id": bank,
    })
}

fn application_body(product: &str, enterprise: &str) -> Value {
    json!({
        "product_id": product, "enterprise_id": enterprise, "amount": LOAN, "term_months": 12,
        "purpose": "研发投入",
    })
}

fn approval_body() -> Value {
    json!({"amount": LOAN, "rate_bps": 400, "term_months": 12, "expires_on": "2099-12-31"})
}

/// One side of the world: a park, a bank, and an enterprise of the park that applied to the bank
/// and was granted a credit line, with keys for them.
struct Tenant {
    park: String,
    /// A park_office key for the park: its id, and its secret.
    office_key_id: String,
    office_key: String,
    bank: String,
    bank_key: String,
    firm: String,
    firm_key: String,
    /// The park's score import, which the park's enterprise passes every product with.
    scores: Value,
    /// Published by the bank; the firm's application to it was approved.
    product: String,
    /// The bank's draft.
    draft: String,
    application: String,
    line: String,
    /// A loan drawn on the line (a bullet loan, repaid a little at a time by the matrix).
    loan: String,
    /// The bank's webhook endpoint, sent disbursements.
    endpoint: String,
    /// The id of the event of the application's submission.
    submitted_event: String,
    /// A published recommendation list of the park to the bank, naming the enterprise, and its
    /// one task.
    list: String,
    task: String,
    /// A risk pool over the product, topped up, and a claim filed on it.
    pool: String,
    claim: String,
    /// A subsidy programme of the park, and a claim filed on it for the enterprise's interest.
    program: String,
    subsidy_claim: String,
}

impl Tenant {
    async fn build(app: &TestApp, tag: &str, n: u32, receiver: &str) -> Self {
        let park = app.create_park(&format!("park-{tag}"), &format!("{tag} 高新区")).await;
        let (office_key_id, office_key) = key(app, "park_office", "park_id", &park).await;
        let bank = app.create_bank(&format!("bank-{tag}"), &format!("{tag} 银行")).await;
        let (_, bank_key) = key(app, "bank", "bank_id", &bank).await;
        let firm = app.create_enterprise(&park, &uscc(n), &format!("{tag} 科技有限公司")).await;
        let (_, firm_key) = key(app, "enterprise", "enterprise_id", &firm).await;
        let scores = json!({"period": "2022", "scores": [{"uscc": uscc(n), "score": 88, "stage": "growth"}]});
        app.post(&format!("/api/v1/parks/{park}/scores"), &app.admin_key, &scores).await.expect(201);

        let product =
            app.post("/api/v1/products", &bank_key, &product_body("main", &bank)).await.expect(201).id();
        app.post(&format!("/api/v1/products/{product}/publish"), &bank_key, &json!({})).await.expect(200);
        let draft =
            app.post("/api/v1/products", &bank_key, &product_body("draft", &bank)).await.expect(201).id();
        let application = app
            .post("/api/v1/applications", &firm_key, &application_body(&product, &firm))
            .await
            .expect(201)
            .id();
        let approved = app
            .post(&format!("/api/v1/applications/{application}/approve"), &bank_key, &approval_body())
            .await
            .expect(200);
        let line = approved.body["credit_line"]["id"].as_str().expect("a credit line").to_owned();
        let draw = json!({
            "amount": LOAN / 2, "reference": format!("loan-{tag}"),
            "disbursed_on": chrono::Utc::now().date_naive().to_string(),
        });
        let loan = app
            .post(&format!("/api/v1/credit-lines/{line}/disbursements"), &bank_key, &draw)
            .await
            .expect(201)
            .id();
        let endpoint =
            app.post("/api/v1/webhook-endpoints", &bank_key, &endpoint_body(receiver)).await.expect(201).id();
        let events =
            app.get("/api/v1/events?types=application.submitted&limit=500", &bank_key).await.expect(200);
        let submitted_event = events.body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|e| e["data"]["id"] == application.as_str()))
            .and_then(|e| e["id"].as_str())
            .expect("the submission's event")
            .to_owned();
        let (list, task) = recommended(app, &park, &bank, &firm, true).await;
        let year = chrono::Utc::now().date_naive().format("%Y").to_string();
        let pool_body = json!({"name": "风险池", "product_ids": [product], "coverage_bps": 8_000,
                               "per_loan_cap": LOAN, "enrol_from": format!("{year}-01-01"), "enrol_to": format!("{year}-12-31")});
        let path = format!("/api/v1/parks/{park}/risk-pools");
        let pool = app.post(&path, &app.admin_key, &pool_body).await.expect(201).id();
        let top_up = json!({"amount": 1_000_000_000_000_i64, "reference": "matrix"});
        app.post(&format!("/api/v1/risk-pools/{pool}/top-ups"), &app.admin_key, &top_up).await.expect(201);
        let bad = bad_loan(app, &firm_key, &bank_key, &product, &firm, &format!("bad-{tag}")).await;
        let claim = claim_on(app, &bank_key, &pool, &bad).await;
        repaid_interest(app, &firm_key, &bank_key, &product, &firm, tag).await;
        let (program, subsidy_claim) = subsidy_claim(app, &park, &firm).await;
        Self {
            park,
            office_key_id,
            office_key,
            bank,
            bank_key,
            firm,
            firm_key,
            scores,
            product,
            draft,
            application,
            line,
            loan,
            endpoint,
            submitted_event,
            list,
            task,
            pool,
            claim,
            program,
            subsidy_claim,
        }
    }
}

/// A loan of `firm` under `product` drawn 90 days ago on a line backdated for it, and repaid
/// today with its interest: ¥10,000 × 4% × 90 ÷ 360 = ¥100.
async fn repaid_interest(
    app: &TestApp,
    firm_key: &str,
    bank_key: &str,
    product: &str,
    firm: &str,
    tag: &str,
) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let application =
        app.post("/api/v1/applications", firm_key, &application_body(product, firm)).await.expect(201).id();
    let approved =
        app.post(&format!("/api/v1/applications/{application}/approve"), bank_key, &approval_body()).await;
    let line = approved.expect(200).body["credit_line"]["id"].as_str().expect("a line").to_owned();
    let granted = chrono::Utc::now() - chrono::Duration::days(100);
    entity::credit_line::Entity::update_many()
        .col_expr(entity::credit_line::Column::GrantedAt, sea_orm::sea_query::Expr::value(granted))
        .filter(entity::credit_line::Column::Id.eq(line.parse::<i64>().expect("an id")))
        .exec(&app.db)
        .await
        .expect("the line backdated");
    app.rebuild_totals().await;
    let on = chrono::Utc::now().date_naive() - chrono::Duration::days(90);
    let draw = json!({"amount": LOAN, "reference": format!("old-{tag}"), "disbursed_on": on.to_string()});
    let path = format!("/api/v1/credit-lines/{line}/disbursements");
    let loan = app.post(&path, bank_key, &draw).await.expect(201).id();
    let repay = json!({"amount": 20_000, "paid_on": chrono::Utc::now().date_naive().to_string(), "reference": format!("old-{tag}")});
    let paid = app.post(&format!("/api/v1/loans/{loan}/repayments"), bank_key, &repay).await.expect(201);
    assert_eq!(paid.body["interest_paid"], 10_000);
}

/// A new subsidy programme of `park`, made by the admin.
async fn subsidy_program(app: &TestApp, park: &str) -> String {
    let today = chrono::Utc::now().date_naive();
    let body = json!({
        "name": "贴息", "share_bps": 3_000, "first_loan_bonus_bps": 1_000, "per_enterprise_cap": LOAN,
        "budget": 1_000_000_000_i64, "from": (today - chrono::Duration::days(365)).to_string(), "to": today.to_string(),
    });
    let path = format!("/api/v1/parks/{park}/subsidy-programs");
    app.post(&path, &app.admin_key, &body).await.expect(201).id()
}

/// A new subsidy programme of `park`, and a claim on it for `firm`'s interest, by the admin.
async fn subsidy_claim(app: &TestApp, park: &str, firm: &str) -> (String, String) {
    let today = chrono::Utc::now().date_naive();
    let program = subsidy_program(app, park).await;
    let claim = json!({"enterprise_id": firm, "from": (today - chrono::Duration::days(365)).to_string(), "to": today.to_string()});
    let path = format!("/api/v1/subsidy-programs/{program}/claims");
    let claim = app.post(&path, &app.admin_key, &claim).await.expect(201).id();
    (program, claim)
}

/// A new non-performing loan of `firm` under `product`: applied for, approved, drawn, and
/// classified substandard by its bank.
async fn bad_loan(
    app: &TestApp,
    firm_key: &str,
    bank_key: &str,
    product: &str,
    firm: &str,
    reference: &str,
) -> String {
    let application =
        app.post("/api/v1/applications", firm_key, &application_body(product, firm)).await.expect(201).id();
    let approved =
        app.post(&format!("/api/v1/applications/{application}/approve"), bank_key, &approval_body()).await;
    let line = approved.expect(200).body["credit_line"]["id"].as_str().expect("a line").to_owned();
    let draw = json!({"amount": LOAN, "reference": reference, "disbursed_on": chrono::Utc::now().date_naive().to_string()});
    let path = format!("/api/v1/credit-lines/{line}/disbursements");
    let loan = app.post(&path, bank_key, &draw).await.expect(201).id();
    let classify = json!({"classification": "substandard", "reason": "逾期"});
    app.post(&format!("/api/v1/loans/{loan}/classify"), bank_key, &classify).await.expect(200);
    loan
}

async fn claim_on(app: &TestApp, bank_key: &str, pool: &str, loan: &str) -> String {
    let path = format!("/api/v1/risk-pools/{pool}/claims");
    app.post(&path, bank_key, &json!({"loan_id": loan})).await.expect(201).id()
}

/// A recommendation list of `park` to `bank` naming `firm`, made by the admin; when published, its
/// one task too.
async fn recommended(app: &TestApp, park: &str, bank: &str, firm: &str, publish: bool) -> (String, String) {
    let body = json!({
        "name": "推荐清单", "bank_ids": [bank], "respond_within_working_days": 5,
        "entries": [{"enterprise_id": firm, "amount": LOAN, "term_months": 12, "purpose": "研发投入"}],
    });
    let path = format!("/api/v1/parks/{park}/recommendation-lists");
    let list = app.post(&path, &app.admin_key, &body).await.expect(201).id();
    if !publish {
        return (list, String::new());
    }
    app.post(&format!("/api/v1/recommendation-lists/{list}/publish"), &app.admin_key, &json!({}))
        .await
        .expect(200);
    let tasks =
        app.get(&format!("/api/v1/recommendation-tasks?list_id={list}"), &app.admin_key).await.expect(200);
    let task = tasks.body["items"][0]["id"].as_str().expect("the list's task").to_owned();
    (list, task)
}

/// The default model's required indicators (technology and growth).
const REQUIRED_INDICATORS: [&str; 13] = [
    "rd_expense",
    "rd_expense_growth",
    "rd_revenue_share",
    "st_staff_share",
    "invention_patents",
    "pct_applications",
    "tech_contract_turnover",
    "high_tech_revenue",
    "revenue",
    "revenue_growth",
    "postgraduate_share",
    "rd_tax_relief",
    "return_on_net_assets",
];

/// An endpoint for disbursements, at the world's receiver.
fn endpoint_body(receiver: &str) -> Value {
    json!({"url": receiver, "event_types": ["disbursement.created"], "description": "matrix"})
}

/// Makes a scoped API key; returns its id and its secret.
async fn key(app: &TestApp, role: &str, field: &str, id: &str) -> (String, String) {
    let body = json!({"name": format!("matrix {role}"), "role": role, field: id});
    let made = app.post("/api/v1/api-keys", &app.admin_key, &body).await.expect(201);
    let secret = made.body["secret"].as_str().expect("a secret").to_owned();
    (made.id(), secret)
}

/// Two parks, two banks and their enterprises: the callers' side (A, X) and the other (B, Y).
struct World {
    app: TestApp,
    /// Where the endpoints send: it answers 200.
    receiver: Receiver,
    inside: Tenant,
    outside: Tenant,
    /// Makes codes, USCCs and references unique.
    serial: AtomicU32,
}

impl World {
    async fn build() -> Self {
        let app = spawn_app().await;
        let receiver = Receiver::start().await;
        let inside = Tenant::build(&app, "a", 1, &receiver.url).await;
        let outside = Tenant::build(&app, "b", 2, &receiver.url).await;
        Self { app, receiver, inside, outside, serial: AtomicU32::new(100) }
    }

    /// The key each role calls with, in the order of `ROLES`.
    fn callers(&self) -> [&str; 4] {
        [&self.app.admin_key, &self.inside.office_key, &self.inside.bank_key, &self.inside.firm_key]
    }

    fn tenant(&self, side: Side) -> &Tenant {
        match side {
            Side::Inside => &self.inside,
            Side::Outside => &self.outside,
        }
    }

    fn next(&self) -> u32 {
        self.serial.fetch_add(1, Ordering::Relaxed)
    }

    /// A new product of the tenant's bank, published or left a draft.
    async fn fresh_product(&self, t: &Tenant, publish: bool) -> String {
        let body = product_body(&format!("m{}", self.next()), &t.bank);
        let id = self.app.post("/api/v1/products", &t.bank_key, &body).await.expect(201).id();
        if publish {
            self.app
                .post(&format!("/api/v1/products/{id}/publish"), &t.bank_key, &json!({}))
                .await
                .expect(200);
        }
        id
    }

    /// A new copy of the default model in the tenant's park, made by the admin, and activated.
    async fn fresh_model(&self, t: &Tenant, activate: bool) -> String {
        let path = format!("/api/v1/parks/{}/score-models", t.park);
        let id = self.app.post(&path, &self.app.admin_key, &json!({"name": "matrix"})).await.expect(201).id();
        if activate {
            let path = format!("/api/v1/score-models/{id}/activate");
            self.app.post(&path, &self.app.admin_key, &json!({})).await.expect(200);
        }
        id
    }

    /// A new submitted application of the tenant's enterprise, to a new product of its bank.
    async fn fresh_application(&self, t: &Tenant) -> String {
        let product = self.fresh_product(t, true).await;
        self.app
            .post("/api/v1/applications", &t.firm_key, &application_body(&product, &t.firm))
            .await
            .expect(201)
            .id()
    }

    /// The request for `operation` on the records of one side, making fresh records where the
    /// call changes their state. `None` for an operation it does not know.
    async fn call(&self, operation: &str, side: Side) -> Option<Call> {
        let t = self.tenant(side);
        let n = self.next();
        let call = match operation {
            "create_park" => Call::post(
                "/api/v1/parks",
                json!({"code": format!("matrix-{n}"), "name": "新园区", "region": "测试省"}),
            ),
            "list_parks" => Call::list("/api/v1/parks", &t.park),
            "get_park" => Call::get(format!("/api/v1/parks/{}", t.park)),
            "create_bank" => {
                Call::post("/api/v1/banks", json!({"code": format!("matrix-{n}"), "name": "新银行"}))
            }
            "list_banks" => Call::list("/api/v1/banks", &t.bank),
            "get_bank" => Call::get(format!("/api/v1/banks/{}", t.bank)),
            "create_enterprise" => Call::post(
                "/api/v1/enterprises",
                json!({
                    "uscc": uscc(n), "name": format!("新企业 {n}"), "park_id": t.park, "industry": "software",
                    "size": "small", "founded_on": "2018-03-01", "qualifications": ["tech_sme"],
                }),
            ),
            "list_enterprises" => Call::list("/api/v1/enterprises", &t.firm),
            "get_enterprise" => Call::get(format!("/api/v1/enterprises/{}", t.firm)),
            "create_api_key" => Call::post(
                "/api/v1/api-keys",
                json!({"name": format!("matrix {n}"), "role": "park_office", "park_id": t.park}),
            ),
            "list_api_keys" => Call::list("/api/v1/api-keys", &t.office_key_id),
            "get_current_api_key" => Call::get("/api/v1/me"),
            "revoke_api_key" => {
                let (id, _) = key(&self.app, "park_office", "park_id", &t.park).await;
                Call::new(Method::DELETE, format!("/api/v1/api-keys/{id}"), None)
            }
            // The park's own import again, so that every score stays as it was.
            "import_scores" => Call::post(format!("/api/v1/parks/{}/scores", t.park), t.scores.clone()),
            "get_enterprise_score" => Call::get(format!("/api/v1/enterprises/{}/score", t.firm)),
            "get_park_ranking" => Call::get(format!("/api/v1/parks/{}/rankings", t.park)),
            "create_score_model" => {
                Call::post(format!("/api/v1/parks/{}/score-models", t.park), json!({"name": format!("m{n}")}))
            }
            "list_score_models" => Call::get(format!("/api/v1/parks/{}/score-models", t.park)),
            "get_default_score_model" => Call::get("/api/v1/default-score-model"),
            "get_score_model" => {
                Call::get(format!("/api/v1/score-models/{}", self.fresh_model(t, false).await))
            }
            "update_score_model" => Call::new(
                Method::PATCH,
                format!("/api/v1/score-models/{}", self.fresh_model(t, false).await),
                Some(json!({"name": format!("第 {n} 版")})),
            ),
            "activate_score_model" => Call::post(
                format!("/api/v1/score-models/{}/activate", self.fresh_model(t, false).await),
                json!({}),
            ),
            // An earlier period than the park's scores, so that every latest score stays as it was.
            "import_indicator_values" => {
                self.fresh_model(t, true).await;
                let values: serde_json::Map<String, Value> =
                    REQUIRED_INDICATORS.iter().map(|code| ((*code).to_owned(), json!(10))).collect();
                let rows: Vec<Value> = t.scores["scores"]
                    .as_array()
                    .expect("the tenant's scores")
                    .iter()
                    .map(|s| json!({"uscc": s["uscc"], "stage": "growth", "values": values}))
                    .collect();
                Call::post(
                    format!("/api/v1/parks/{}/indicator-values", t.park),
                    json!({"period": "2019", "rows": rows}),
                )
            }
            "create_recommendation_list" => Call::post(
                format!("/api/v1/parks/{}/recommendation-lists", t.park),
                json!({"name": format!("清单 {n}"), "bank_ids": [t.bank], "respond_within_working_days": 3,
                       "entries": [{"enterprise_id": t.firm}]}),
            ),
            "list_recommendation_lists" => Call::list("/api/v1/recommendation-lists", &t.list),
            "get_recommendation_list" => Call::get(format!("/api/v1/recommendation-lists/{}", t.list)),
            "publish_recommendation_list" => {
                let (list, _) = recommended(&self.app, &t.park, &t.bank, &t.firm, false).await;
                Call::post(format!("/api/v1/recommendation-lists/{list}/publish"), json!({}))
            }
            "list_recommendation_tasks" => Call::list("/api/v1/recommendation-tasks", &t.task),
            "get_recommendation_task" => Call::get(format!("/api/v1/recommendation-tasks/{}", t.task)),
            "answer_recommendation_task" => {
                let (_, task) = recommended(&self.app, &t.park, &t.bank, &t.firm, true).await;
                Call::post(
                    format!("/api/v1/recommendation-tasks/{task}/answer"),
                    json!({"status": "contacted"}),
                )
            }
            "create_risk_pool" => Call::post(
                format!("/api/v1/parks/{}/risk-pools", t.park),
                json!({"name": format!("池 {n}"), "product_ids": [t.product], "coverage_bps": 5_000,
                       "per_loan_cap": LOAN, "enrol_from": "2020-01-01", "enrol_to": "2020-12-31"}),
            ),
            "list_risk_pools" => Call::list(&format!("/api/v1/parks/{}/risk-pools", t.park), &t.pool),
            "get_risk_pool" => Call::get(format!("/api/v1/risk-pools/{}", t.pool)),
            "top_up_risk_pool" => Call::post(
                format!("/api/v1/risk-pools/{}/top-ups", t.pool),
                json!({"amount": 100, "reference": format!("top-up-{n}")}),
            ),
            "list_risk_pool_entries" => Call::get(format!("/api/v1/risk-pools/{}/entries", t.pool)),
            "create_risk_claim" => {
                let loan =
                    bad_loan(&self.app, &t.firm_key, &t.bank_key, &t.product, &t.firm, &format!("bad-{n}"))
                        .await;
                Call::post(format!("/api/v1/risk-pools/{}/claims", t.pool), json!({"loan_id": loan}))
            }
            "list_risk_claims" => Call::list("/api/v1/risk-claims", &t.claim),
            "list_risk_pool_claims" => Call::get(format!("/api/v1/risk-pools/{}/claims", t.pool)),
            "get_risk_claim" => Call::get(format!("/api/v1/risk-claims/{}", t.claim)),
            "approve_risk_claim" | "reject_risk_claim" => {
                let loan =
                    bad_loan(&self.app, &t.firm_key, &t.bank_key, &t.product, &t.firm, &format!("bad-{n}"))
                        .await;
                let claim = claim_on(&self.app, &t.bank_key, &t.pool, &loan).await;
                let action = if operation == "approve_risk_claim" { "approve" } else { "reject" };
                Call::post(format!("/api/v1/risk-claims/{claim}/{action}"), json!({"reason": "审核意见"}))
            }
            "create_subsidy_program" => {
                let today = chrono::Utc::now().date_naive();
                Call::post(
                    format!("/api/v1/parks/{}/subsidy-programs", t.park),
                    json!({"name": format!("贴息 {n}"), "share_bps": 2_000, "per_enterprise_cap": LOAN,
                           "budget": LOAN, "from": "2020-01-01", "to": today.to_string()}),
                )
            }
            "list_subsidy_programs" => {
                Call::list(&format!("/api/v1/parks/{}/subsidy-programs", t.park), &t.program)
            }
            "get_subsidy_program" => Call::get(format!("/api/v1/subsidy-programs/{}", t.program)),
            // A new programme each time, so that the enterprise's interest is unclaimed in it.
            "create_subsidy_claim" => {
                let program = subsidy_program(&self.app, &t.park).await;
                let today = chrono::Utc::now().date_naive();
                Call::post(
                    format!("/api/v1/subsidy-programs/{program}/claims"),
                    json!({"enterprise_id": t.firm, "from": (today - chrono::Duration::days(365)).to_string(),
                           "to": today.to_string()}),
                )
            }
            "list_subsidy_program_claims" => {
                Call::get(format!("/api/v1/subsidy-programs/{}/claims", t.program))
            }
            "list_subsidy_claims" => Call::list("/api/v1/subsidy-claims", &t.subsidy_claim),
            "get_subsidy_claim" => Call::get(format!("/api/v1/subsidy-claims/{}", t.subsidy_claim)),
            "approve_subsidy_claim" | "reject_subsidy_claim" => {
                let (_, claim) = subsidy_claim(&self.app, &t.park, &t.firm).await;
                let action = if operation == "approve_subsidy_claim" { "approve" } else { "reject" };
                Call::post(format!("/api/v1/subsidy-claims/{claim}/{action}"), json!({"reason": "审核意见"}))
            }
            "get_enterprise_policies" => Call::get(format!("/api/v1/enterprises/{}/policies", t.firm)),
            "create_product" => Call::post("/api/v1/products", product_body(&format!("m{n}"), &t.bank)),
            "list_products" => Call::list("/api/v1/products", self.product_to_read(side)),
            "update_product" => Call::new(
                Method::PATCH,
                format!("/api/v1/products/{}", t.draft),
                Some(json!({"description": format!("第 {n} 版")})),
            ),
            "get_product" => Call::get(format!("/api/v1/products/{}", self.product_to_read(side))),
            "publish_product" => {
                let id = self.fresh_product(t, false).await;
                Call::post(format!("/api/v1/products/{id}/publish"), json!({}))
            }
            "suspend_product" => {
                let id = self.fresh_product(t, true).await;
                Call::post(format!("/api/v1/products/{id}/suspend"), json!({}))
            }
            "retire_product" => {
                let id = self.fresh_product(t, true).await;
                Call::post(format!("/api/v1/products/{id}/retire"), json!({}))
            }
            "list_product_prospects" => Call::get(format!("/api/v1/products/{}/prospects", t.product)),
            "get_enterprise_matches" => Call::get(format!("/api/v1/enterprises/{}/matches", t.firm)),
            // A new product each time: an enterprise has one open application per product.
            "create_application" => {
                let product = self.fresh_product(t, true).await;
                Call::post("/api/v1/applications", application_body(&product, &t.firm))
            }
            "list_applications" => Call::list("/api/v1/applications", &t.application),
            "get_application" => Call::get(format!("/api/v1/applications/{}", t.application)),
            "review_application" => {
                let id = self.fresh_application(t).await;
                Call::post(format!("/api/v1/applications/{id}/review"), json!({}))
            }
            "approve_application" => {
                let id = self.fresh_application(t).await;
                Call::post(format!("/api/v1/applications/{id}/approve"), approval_body())
            }
            "reject_application" => {
                let id = self.fresh_application(t).await;
                Call::post(format!("/api/v1/applications/{id}/reject"), json!({"reason": "资料不全"}))
            }
            "withdraw_application" => {
                let id = self.fresh_application(t).await;
                Call::post(format!("/api/v1/applications/{id}/withdraw"), json!({}))
            }
            "list_credit_lines" => Call::list("/api/v1/credit-lines", &t.line),
            "get_credit_line" => Call::get(format!("/api/v1/credit-lines/{}", t.line)),
            "create_disbursement" => Call::post(
                format!("/api/v1/credit-lines/{}/disbursements", t.line),
                json!({
                    "amount": 100, "reference": format!("matrix-{n}"),
                    "disbursed_on": chrono::Utc::now().date_naive().to_string(),
                }),
            ),
            "list_disbursements" => Call::get(format!("/api/v1/credit-lines/{}/disbursements", t.line)),
            "get_park_stats" => Call::get(format!("/api/v1/parks/{}/stats", t.park)),
            "get_park_monthly_stats" => Call::get(format!("/api/v1/parks/{}/stats/monthly", t.park)),
            "get_national_stats" => Call::get("/api/v1/stats"),
            "list_events" => Call::list("/api/v1/events", &t.submitted_event),
            "list_credit_line_loans" => Call::get(format!("/api/v1/credit-lines/{}/loans", t.line)),
            "list_loans" => Call::list("/api/v1/loans", &t.loan),
            "get_loan" => Call::get(format!("/api/v1/loans/{}", t.loan)),
            "create_repayment" => Call::post(
                format!("/api/v1/loans/{}/repayments", t.loan),
                json!({
                    "amount": 100, "reference": format!("matrix-repay-{n}"),
                    "paid_on": chrono::Utc::now().date_naive().to_string(),
                }),
            ),
            "list_repayments" => Call::get(format!("/api/v1/loans/{}/repayments", t.loan)),
            "classify_loan" => Call::post(
                format!("/api/v1/loans/{}/classify", t.loan),
                json!({"classification": "special_mention", "reason": "经营困难"}),
            ),
            "write_off_loan" => {
                let loan = self.fresh_loss(t).await;
                Call::post(format!("/api/v1/loans/{loan}/write-off"), json!({}))
            }
            "close_credit_line" => {
                let id = self.fresh_application(t).await;
                let approved = self
                    .app
                    .post(&format!("/api/v1/applications/{id}/approve"), &t.bank_key, &approval_body())
                    .await
                    .expect(200);
                let line = approved.body["credit_line"]["id"].as_str().expect("a credit line").to_owned();
                Call::post(format!("/api/v1/credit-lines/{line}/close"), json!({}))
            }
            "create_webhook_endpoint" => {
                Call::post("/api/v1/webhook-endpoints", endpoint_body(&self.receiver.url))
            }
            "list_webhook_endpoints" => Call::list("/api/v1/webhook-endpoints", &t.endpoint),
            "get_webhook_endpoint" => Call::get(format!("/api/v1/webhook-endpoints/{}", t.endpoint)),
            "update_webhook_endpoint" => Call::new(
                Method::PATCH,
                format!("/api/v1/webhook-endpoints/{}", t.endpoint),
                Some(json!({"description": format!("第 {n} 版")})),
            ),
            "delete_webhook_endpoint" => {
                let id = self.fresh_endpoint(t).await;
                Call::new(Method::DELETE, format!("/api/v1/webhook-endpoints/{id}"), None)
            }
            "rotate_webhook_secret" => {
                Call::post(format!("/api/v1/webhook-endpoints/{}/rotate-secret", t.endpoint), json!({}))
            }
            "list_webhook_deliveries" => {
                Call::get(format!("/api/v1/webhook-endpoints/{}/deliveries", t.endpoint))
            }
            "retry_webhook_delivery" => {
                let (endpoint, attempt) = self.fresh_attempt(t).await;
                Call::post(
                    format!("/api/v1/webhook-endpoints/{endpoint}/deliveries/{attempt}/retry"),
                    json!({}),
                )
            }
            _ => return None,
        };
        Some(call)
    }

    /// A new loan on the tenant's line, classified loss by its bank.
    async fn fresh_loss(&self, t: &Tenant) -> String {
        let draw = json!({
            "amount": 100, "reference": format!("matrix-loss-{}", self.next()),
            "disbursed_on": chrono::Utc::now().date_naive().to_string(),
        });
        let loan = self
            .app
            .post(&format!("/api/v1/credit-lines/{}/disbursements", t.line), &t.bank_key, &draw)
            .await
            .expect(201)
            .id();
        let loss = json!({"classification": "loss", "reason": "破产清算"});
        self.app.post(&format!("/api/v1/loans/{loan}/classify"), &t.bank_key, &loss).await.expect(200);
        loan
    }

    /// A new webhook endpoint of the tenant's bank.
    async fn fresh_endpoint(&self, t: &Tenant) -> String {
        let body = endpoint_body(&self.receiver.url);
        self.app.post("/api/v1/webhook-endpoints", &t.bank_key, &body).await.expect(201).id()
    }

    /// A new endpoint of the tenant's bank that has been sent one event: the endpoint's id and
    /// its attempt's, delivered, so that the attempt may be sent again at once.
    async fn fresh_attempt(&self, t: &Tenant) -> (String, String) {
        let endpoint = self.fresh_endpoint(t).await;
        let draw = json!({
            "amount": 100, "reference": format!("matrix-retry-{}", self.next()),
            "disbursed_on": chrono::Utc::now().date_naive().to_string(),
        });
        self.app
            .post(&format!("/api/v1/credit-lines/{}/disbursements", t.line), &t.bank_key, &draw)
            .await
            .expect(201);
        let log = format!("/api/v1/webhook-endpoints/{endpoint}/deliveries");
        for _ in 0..200 {
            let reply = self.app.get(&log, &t.bank_key).await.expect(200);
            if let Some(attempt) = reply.body["items"][0]["id"].as_str() {
                return (endpoint, attempt.to_owned());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the endpoint was never sent its event");
    }

    /// Published products are public: inside is bank X's published product, outside bank Y's
    /// draft, which only bank Y and the admin may see.
    fn product_to_read(&self, side: Side) -> &str {
        match side {
            Side::Inside => &self.inside.product,
            Side::Outside => &self.outside.draft,
        }
    }

    async fn send(&self, key: &str, call: &Call) -> Reply {
        self.app.request(call.method.clone(), &call.path, Some(key), call.body.as_ref()).await
    }
}

/// The error code that goes with an error status in the matrix.
fn error_code(status: u16) -> Option<&'static str> {
    match status {
        403 => Some("forbidden"),
        404 => Some("not_found"),
        422 => Some("validation_failed"),
        _ => None,
    }
}

/// Checks an answer against what the matrix wants; the error says what differs.
fn check(reply: &Reply, want: Want, record: Option<&str>) -> Result<(), String> {
    let status = reply.status.as_u16();
    let expected = match want {
        S(status) => status,
        Want::Listed | Want::Hidden => 200,
    };
    if status != expected {
        return Err(format!("expected {want}, got {status}: {}", reply.text));
    }
    match want {
        S(status) => match error_code(status) {
            Some(code) => {
                let error = &reply.body["error"];
                let shaped = error["code"] == code
                    && error["message"].as_str().is_some_and(|m| !m.is_empty())
                    && error["details"].is_array();
                if shaped { Ok(()) } else { Err(format!("expected a {code} error, got {}", reply.text)) }
            }
            None => Ok(()),
        },
        Want::Listed | Want::Hidden => {
            let record = record.ok_or("the call names no record to look for in the list")?;
            let items = reply.body["items"].as_array().ok_or_else(|| format!("no items: {}", reply.text))?;
            let ids: Vec<&str> = items.iter().filter_map(|item| item["id"].as_str()).collect();
            if ids.contains(&record) == (want == Want::Listed) {
                Ok(())
            } else {
                Err(format!("expected {want} {record}; the list holds {ids:?}"))
            }
        }
    }
}

/// Checks that a refusal outside the caller's scope says exactly what the answer about a record
/// that does not exist says, ids aside.
fn same_as_missing(outside: &Reply, missing: &Reply) -> Result<(), String> {
    let error = |reply: &Reply| (reply.status, without_ids(&reply.body["error"].to_string()));
    if error(outside) == error(missing) {
        Ok(())
    } else {
        Err(format!(
            "answered {} {} but a missing record gets {} {}",
            outside.status, outside.text, missing.status, missing.text
        ))
    }
}

#[test]
fn every_documented_operation_has_a_row() {
    let rows = matrix();
    assert_eq!(rows.len(), MATRIX.len(), "an operationId appears twice in the OpenAPI document");
}

#[tokio::test]
async fn every_role_gets_what_the_contract_gives_inside_and_outside_its_scope() {
    let rows = matrix();
    let world = World::build().await;
    let mut failures = Vec::new();
    let mut calls = 0;
    for (operation, row) in &rows {
        let sides = [(Side::Inside, Some(row.inside)), (Side::Outside, row.outside)];
        for (side, wants) in sides.into_iter().filter_map(|(side, wants)| Some((side, wants?))) {
            for ((role, key), want) in ROLES.iter().zip(world.callers()).zip(wants) {
                let call = world.call(&operation.id, side).await.unwrap_or_else(|| {
                    panic!("MATRIX has a row for {operation}, but World::call has no request for it")
                });
                assert!(
                    call.method.as_str() == operation.method && follows_template(&operation.path, &call.path),
                    "World::call for {operation} sends {} {} instead",
                    call.method,
                    call.path
                );
                let reply = world.send(key, &call).await;
                calls += 1;
                if !operation.statuses.contains(&reply.status.as_u16()) {
                    failures.push(format!(
                        "{operation} as {role} answered {}, which the document does not list for it ({:?})",
                        reply.status, operation.statuses
                    ));
                }
                if let Err(problem) = check(&reply, want, call.record.as_deref()) {
                    failures.push(format!("{operation} as {role}, {side} its scope: {problem}"));
                }
                // Refused for its scope: the answer must be the one a record that does not exist gets.
                if let (Side::Outside, S(404 | 422)) = (side, want) {
                    let missing = world.send(key, &call.naming_missing_records()).await;
                    calls += 1;
                    if let Err(problem) = same_as_missing(&reply, &missing) {
                        failures.push(format!("{operation} as {role}, outside its scope: {problem}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls did not answer as the matrix says:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every call above went through the use cases: not one total may drift from the rows.
    world.app.verify_totals().await;
}
