//! Loan products: banks write them, everyone browses the published ones (the financial
//! supermarket, 金融超市), and the owning bank sees who qualifies.

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    error::{ApiError, ApiResult},
    idempotency::{Created, Idempotency, IdempotencyKey, body_hash},
    json::JsonBody,
    pagination::{List, after_id, default_limit, encode_score_cursor, filter_id, parse_id, score_cursor},
    parks::not_found_as,
    text,
};
use crate::domain::{
    EnterpriseSize, FieldError, Money, Qualification, RateBps, Scope, Score, Stage,
    product::{AmountTier, CreditType, Eligibility, Product, ProductStatus, Terms, Transition},
};
use crate::service::products;
use crate::store::{
    self,
    products::{Draft, ProductFilter},
};

/// The rules an enterprise must pass. Every rule is optional; the enterprise must pass each one
/// that is set. An enterprise without a score fails every score rule.
#[derive(Object, Clone, Debug, Default)]
#[oai(skip_serializing_if_is_none)]
pub struct EligibilityRules {
    /// score ≥ this (0 to 1000, at most two decimals).
    #[oai(validator(minimum(value = "0"), maximum(value = "1000")))]
    pub min_score: Option<f64>,
    /// rank in its park ≤ this.
    #[oai(validator(minimum(value = "1")))]
    pub max_park_rank: Option<i32>,
    /// percentile in its park ≥ this (0 to 100).
    #[oai(validator(minimum(value = "0"), maximum(value = "100")))]
    pub min_percentile: Option<f64>,
    /// The enterprise's park is one of these; empty or absent means every park.
    #[oai(validator(max_items = 100))]
    pub park_ids: Option<Vec<String>>,
    /// Its industry is one of these.
    #[oai(validator(max_items = 50))]
    pub industries: Option<Vec<String>>,
    /// Its size is one of these.
    #[oai(validator(max_items = 4))]
    pub sizes: Option<Vec<EnterpriseSize>>,
    /// It holds all of these.
    #[oai(validator(max_items = 4))]
    pub required_qualifications: Option<Vec<Qualification>>,
    /// It was founded at least this many years ago.
    #[oai(validator(maximum(value = "200")))]
    pub min_years_established: Option<u32>,
    /// Its stage (初创 startup, 成长 growth, 稳定 mature), as of its latest score, is one of these.
    #[oai(validator(max_items = 3))]
    pub stages: Option<Vec<Stage>>,
    /// Percentile among its park's enterprises of the same stage ≥ this (0 to 100).
    #[oai(validator(minimum(value = "0"), maximum(value = "100")))]
    pub min_stage_percentile: Option<f64>,
}

/// From `min_score` up, the offer is at most `max_amount`.
#[derive(Object, Clone)]
pub struct AmountTierView {
    #[oai(validator(minimum(value = "0"), maximum(value = "1000")))]
    pub min_score: f64,
    /// Fen.
    #[oai(validator(minimum(value = "0")))]
    pub max_amount: i64,
}

/// A product as a bank writes it. Created as `draft`.
#[derive(Object)]
pub struct NewProduct {
    /// Unique among this bank's products, such as `jinxiongmao-2022`.
    #[oai(validator(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9][A-Za-z0-9_-]*$"))]
    pub code: String,
    /// Such as 金熊猫积分贷.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    #[oai(default, validator(max_length = 2000))]
    pub description: String,
    pub credit_type: CreditType,
    /// The smallest loan, in fen.
    #[oai(validator(minimum(value = "0")))]
    pub min_amount: i64,
    /// The largest loan, in fen.
    #[oai(validator(minimum(value = "0")))]
    pub max_amount: i64,
    /// Basis points a year (4.5% = 450); at most 2400.
    #[oai(validator(minimum(value = "0"), maximum(value = "2400")))]
    pub rate_bps_min: i32,
    #[oai(validator(minimum(value = "0"), maximum(value = "2400")))]
    pub rate_bps_max: i32,
    #[oai(validator(minimum(value = "0"), maximum(value = "120")))]
    pub term_months_min: i32,
    /// At most 120.
    #[oai(validator(minimum(value = "0"), maximum(value = "120")))]
    pub term_months_max: i32,
    /// The bank's promised time to a decision, in days; at least 1.
    #[oai(validator(minimum(value = "0"), maximum(value = "365")))]
    pub approval_sla_days: i32,
    /// The most credit the product grants in all, in fen.
    #[oai(validator(minimum(value = "0")))]
    pub total_quota: i64,
    #[oai(default)]
    pub eligibility: EligibilityRules,
    /// Caps on the offer by score, ascending by `min_score`.
    #[oai(default, validator(max_items = 20))]
    pub amount_tiers: Vec<AmountTierView>,
    /// Its credit lines are revolving (循环授信): principal repaid may be drawn again, as long
    /// as the principal outstanding stays within the line. By default, `false`: what was drawn
    /// stays drawn.
    #[oai(default)]
    pub revolving: bool,
    /// The bank that offers it: an admin must say which; a bank key may omit it.
    #[oai(validator(max_length = 20))]
    pub bank_id: Option<String>,
}

/// The fields to change in a draft; absent fields stay as they are.
#[derive(Object)]
pub struct ProductPatch {
    #[oai(validator(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9][A-Za-z0-9_-]*$"))]
    pub code: Option<String>,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: Option<String>,
    #[oai(validator(max_length = 2000))]
    pub description: Option<String>,
    pub credit_type: Option<CreditType>,
    #[oai(validator(minimum(value = "0")))]
    pub min_amount: Option<i64>,
    #[oai(validator(minimum(value = "0")))]
    pub max_amount: Option<i64>,
    #[oai(validator(minimum(value = "0"), maximum(value = "2400")))]
    pub rate_bps_min: Option<i32>,
    #[oai(validator(minimum(value = "0"), maximum(value = "2400")))]
    pub rate_bps_max: Option<i32>,
    #[oai(validator(minimum(value = "0"), maximum(value = "120")))]
    pub term_months_min: Option<i32>,
    #[oai(validator(minimum(value = "0"), maximum(value = "120")))]
    pub term_months_max: Option<i32>,
    #[oai(validator(minimum(value = "0"), maximum(value = "365")))]
    pub approval_sla_days: Option<i32>,
    #[oai(validator(minimum(value = "0")))]
    pub total_quota: Option<i64>,
    /// Replaces the rules whole.
    pub eligibility: Option<EligibilityRules>,
    /// Replaces the tiers whole.
    #[oai(validator(max_items = 20))]
    pub amount_tiers: Option<Vec<AmountTierView>>,
    pub revolving: Option<bool>,
}

/// What a list of matches shows of a product: enough to choose one and apply. The whole record
/// is `GET /products/{id}`, or `?expand=product` on the matches.
#[derive(Object)]
pub struct ProductSummary {
    pub id: String,
    pub bank_id: String,
    pub name: String,
    pub credit_type: CreditType,
    pub min_amount: i64,
    pub max_amount: i64,
    pub rate_bps_min: i32,
    pub rate_bps_max: i32,
    pub term_months_min: i32,
    pub term_months_max: i32,
    pub revolving: bool,
}

impl From<&Product> for ProductSummary {
    fn from(p: &Product) -> Self {
        let t = &p.terms;
        Self {
            id: p.id.to_string(),
            bank_id: p.bank_id.to_string(),
            name: p.name.clone(),
            credit_type: p.credit_type,
            min_amount: t.min_amount.fen(),
            max_amount: t.max_amount.fen(),
            rate_bps_min: t.rate_bps_min.bps(),
            rate_bps_max: t.rate_bps_max.bps(),
            term_months_min: t.term_months_min,
            term_months_max: t.term_months_max,
            revolving: t.revolving,
        }
    }
}

#[derive(Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ProductView {
    pub id: String,
    pub bank_id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub credit_type: CreditType,
    pub status: ProductStatus,
    pub min_amount: i64,
    pub max_amount: i64,
    pub rate_bps_min: i32,
    pub rate_bps_max: i32,
    pub term_months_min: i32,
    pub term_months_max: i32,
    pub approval_sla_days: i32,
    pub total_quota: i64,
    /// Credit granted so far against the quota, in fen.
    pub granted_total: i64,
    /// `total_quota` less `granted_total`.
    pub remaining_quota: i64,
    pub eligibility: EligibilityRules,
    pub amount_tiers: Vec<AmountTierView>,
    /// Its credit lines are revolving: principal repaid may be drawn again.
    pub revolving: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

fn percent(centi: i32) -> f64 {
    f64::from(centi) / 100.0
}

fn some_list<T: Clone, U>(items: &[T], map: impl Fn(&T) -> U) -> Option<Vec<U>> {
    (!items.is_empty()).then(|| items.iter().map(map).collect())
}

impl From<&Eligibility> for EligibilityRules {
    fn from(e: &Eligibility) -> Self {
        Self {
            min_score: e.min_score.map(Score::as_f64),
            max_park_rank: e.max_park_rank,
            min_percentile: e.min_percentile_centi.map(percent),
            park_ids: some_list(&e.park_ids, ToString::to_string),
            industries: some_list(&e.industries, Clone::clone),
            sizes: some_list(&e.sizes, |s| *s),
            required_qualifications: some_list(&e.required_qualifications, |q| *q),
            min_years_established: e.min_years_established,
            stages: some_list(&e.stages, |s| *s),
            min_stage_percentile: e.min_stage_percentile_centi.map(percent),
        }
    }
}

impl crate::service::Render for Product {
    fn render(&self) -> String {
        poem_openapi::types::ToJSON::to_json_string(&ProductView::from(self))
    }
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        let t = &p.terms;
        Self {
            id: p.id.to_string(),
            bank_id: p.bank_id.to_string(),
            code: p.code.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            credit_type: p.credit_type,
            status: p.status,
            min_amount: t.min_amount.fen(),
            max_amount: t.max_amount.fen(),
            rate_bps_min: t.rate_bps_min.bps(),
            rate_bps_max: t.rate_bps_max.bps(),
            term_months_min: t.term_months_min,
            term_months_max: t.term_months_max,
            approval_sla_days: t.approval_sla_days,
            total_quota: t.total_quota.fen(),
            granted_total: p.granted_total.fen(),
            remaining_quota: p.remaining_quota().fen(),
            eligibility: (&t.eligibility).into(),
            amount_tiers: t
                .amount_tiers
                .iter()
                .map(|tier| AmountTierView {
                    min_score: tier.min_score.as_f64(),
                    max_amount: tier.max_amount.fen(),
                })
                .collect(),
            revolving: t.revolving,
            created_at: p.created_at,
            updated_at: p.updated_at,
            published_at: p.published_at,
        }
    }
}

/// Parses the rules and tiers, noting each field that cannot be read.
pub(super) fn parse_rules(
    rules: &EligibilityRules,
    tiers: &[AmountTierView],
    problems: &mut Vec<FieldError>,
) -> (Eligibility, Vec<AmountTier>) {
    let mut score = |field: String, value: f64| {
        Score::from_f64(value).map_err(|e| problems.push(FieldError::new(field, e.to_string()))).ok()
    };
    let min_score = rules.min_score.and_then(|v| score("eligibility.min_score".into(), v));
    let parsed_tiers: Vec<Option<(Score, i64)>> = tiers
        .iter()
        .enumerate()
        .map(|(i, t)| score(format!("amount_tiers[{i}].min_score"), t.min_score).map(|s| (s, t.max_amount)))
        .collect();
    let mut park_ids = Vec::new();
    for raw in rules.park_ids.iter().flatten() {
        match raw.parse::<i64>() {
            Ok(id) => park_ids.push(id),
            Err(_) => problems
                .push(FieldError::new("eligibility.park_ids", format!("there is no park with id {raw:?}"))),
        }
    }
    let mut percentile = |field: &str, value: Option<f64>| {
        value.and_then(|p| {
            let centi = (p * 100.0).round();
            if (p * 100.0 - centi).abs() > 1e-6 {
                problems.push(FieldError::new(field, "at most two decimals"));
                return None;
            }
            Some(centi as i32)
        })
    };
    let min_percentile_centi = percentile("eligibility.min_percentile", rules.min_percentile);
    let min_stage_percentile_centi =
        percentile("eligibility.min_stage_percentile", rules.min_stage_percentile);
    let mut amount_tiers = Vec::new();
    for (i, tier) in parsed_tiers.into_iter().enumerate() {
        let Some((min_score, fen)) = tier else { continue };
        match Money::from_fen(fen) {
            Ok(max_amount) => amount_tiers.push(AmountTier { min_score, max_amount }),
            Err(e) => problems.push(FieldError::new(format!("amount_tiers[{i}].max_amount"), e.to_string())),
        }
    }
    let mut industries = Vec::new();
    for (i, raw) in rules.industries.iter().flatten().enumerate() {
        if raw.trim().is_empty() {
            continue; // a blank entry names no industry
        }
        match crate::domain::text::line(&format!("eligibility.industries[{i}]"), raw) {
            Ok(industry) => industries.push(industry),
            Err(problem) => problems.push(problem),
        }
    }
    let eligibility = Eligibility {
        min_score,
        max_park_rank: rules.max_park_rank,
        min_percentile_centi,
        park_ids,
        industries,
        sizes: rules.sizes.clone().unwrap_or_default(),
        required_qualifications: rules.required_qualifications.clone().unwrap_or_default(),
        min_years_established: rules.min_years_established,
        stages: {
            let mut stages = rules.stages.clone().unwrap_or_default();
            stages.sort();
            stages.dedup();
            stages
        },
        min_stage_percentile_centi,
    };
    (eligibility, amount_tiers)
}

/// Builds a draft, or answers 422 with every field that cannot be read.
fn draft_from(
    code: String,
    name: String,
    description: String,
    credit_type: CreditType,
    amounts: [i64; 3],
    rates: [i32; 2],
    terms_months: [i32; 2],
    approval_sla_days: i32,
    rules: &EligibilityRules,
    tiers: &[AmountTierView],
) -> Result<Draft, ApiError> {
    let mut problems = Vec::new();
    let (eligibility, amount_tiers) = parse_rules(rules, tiers, &mut problems);
    let mut money = |field: &str, fen: i64| {
        Money::from_fen(fen)
            .map_err(|e| problems.push(FieldError::new(field, e.to_string())))
            .unwrap_or_default()
    };
    let [min_amount, max_amount, total_quota] = amounts;
    let min_amount = money("min_amount", min_amount);
    let max_amount = money("max_amount", max_amount);
    let total_quota = money("total_quota", total_quota);
    let rate = |bps: i32| RateBps::new(i64::from(bps));
    let (Ok(rate_bps_min), Ok(rate_bps_max)) = (rate(rates[0]), rate(rates[1])) else {
        let message = format!("rates are between 0 and {} basis points", RateBps::MAX);
        return Err(ApiError::invalid_field("rate_bps_max", message));
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    Ok(Draft {
        code,
        name: text::line("name", name)?,
        description: text::paragraph("description", description)?,
        credit_type,
        terms: Terms {
            min_amount,
            max_amount,
            rate_bps_min,
            rate_bps_max,
            term_months_min: terms_months[0],
            term_months_max: terms_months[1],
            approval_sla_days,
            total_quota,
            eligibility,
            amount_tiers,
            revolving: false,
        },
    })
}

fn as_view_tiers(product: &Product) -> Vec<AmountTierView> {
    ProductView::from(product).amount_tiers
}

/// An enterprise that qualifies for the product.
#[derive(Object)]
pub struct ProspectView {
    pub enterprise_id: String,
    pub uscc: String,
    pub name: String,
    pub park_id: String,
    pub period: String,
    pub score: f64,
    pub rank: i32,
    pub percentile: f64,
    /// The most it may borrow under this product, in fen.
    pub offer_max_amount: i64,
}

/// Reads a product that the caller's bank owns (any product, for an admin). Another bank's
/// product is not found.
async fn owned_product(state: &AppState, caller: &Caller, id: i64) -> Result<Product, ApiError> {
    let product = store::products::get(state.db(), id).await.map_err(|e| not_found_as(e, "the product"))?;
    match caller.principal().scope {
        Scope::Bank(bank_id) if bank_id != product.bank_id => Err(ApiError::not_found("the product")),
        _ => Ok(product),
    }
}

async fn transition(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Transition,
) -> ApiResult<Json<ProductView>> {
    let id = parse_id(id, "the product")?;
    let principal = caller.principal();
    let product = state
        .write(caller, async |w| products::transition(w, principal, id, action).await)
        .await
        .map_err(|e| e.naming("the product"))?;
    Ok(Json((&product).into()))
}

pub struct ProductsApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Products")]
impl ProductsApi {
    /// Create a loan product
    ///
    /// A bank, for itself (an admin names the bank). It starts as a `draft`. Every broken rule is
    /// reported at once: `min_amount ≤ max_amount ≤ total_quota`, `rate_bps_min ≤ rate_bps_max ≤
    /// 2400`, `1 ≤ term_months_min ≤ term_months_max ≤ 120`, `approval_sla_days ≥ 1`, tiers ascending
    /// strictly by `min_score` within the amount range, parks that exist, and a code unique at the
    /// bank.
    #[oai(path = "/products", method = "post", operation_id = "create_product")]
    async fn create_product(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        req: &Request,
        /// Makes the request safe to retry: the same key with the same body replays the first
        /// response.
        #[oai(name = "Idempotency-Key", validator(min_length = 1, max_length = 255))]
        idempotency_key: IdempotencyKey,
        body: JsonBody<NewProduct>,
    ) -> ApiResult<Created<ProductView>> {
        let principal = caller.principal();
        let fingerprint = body_hash(&body.0);
        let idempotency = Idempotency::new(&state, &caller, idempotency_key.0, req, fingerprint);
        if let Some(replayed) = idempotency.replay().await? {
            return Ok(Created::new(replayed));
        }
        let body = body.0;
        // A bank id that is not a number names no bank.
        let bank_id = match body.bank_id.as_deref() {
            None => None,
            Some(given) => Some(given.parse::<i64>().map_err(|_| {
                ApiError::invalid_field("bank_id", format!("there is no bank with id {given:?}"))
            })?),
        };
        let draft = draft_from(
            body.code,
            body.name,
            body.description,
            body.credit_type,
            [body.min_amount, body.max_amount, body.total_quota],
            [body.rate_bps_min, body.rate_bps_max],
            [body.term_months_min, body.term_months_max],
            body.approval_sla_days,
            &body.eligibility,
            &body.amount_tiers,
        )?;
        let draft = Draft { terms: Terms { revolving: body.revolving, ..draft.terms }, ..draft };
        let outcome = idempotency
            .run(201, async |w| Ok(ProductView::from(&products::create(w, principal, bank_id, draft).await?)))
            .await?;
        Ok(Created::new(outcome))
    }

    /// Edit a draft product
    ///
    /// The owning bank. Only a `draft` can be edited: a published product keeps the terms its
    /// applications were judged on (409). Absent fields stay as they are; the result is checked
    /// whole, as at creation. An edit that another edit of the same draft overtook is refused
    /// (409) rather than undoing the other's fields: read the product again and resend.
    #[oai(path = "/products/:id", method = "patch", operation_id = "update_product")]
    async fn update_product(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        body: JsonBody<ProductPatch>,
    ) -> ApiResult<Json<ProductView>> {
        // The patch is laid over the product as it is now; the edit itself, and the check that
        // the product is still a draft, happen in the use case.
        let id = parse_id(&id.0, "the product")?;
        let current = owned_product(&state, &caller, id).await?;
        let patch = body.0;
        let t = &current.terms;
        let rules = patch.eligibility.unwrap_or_else(|| (&t.eligibility).into());
        let tiers = patch.amount_tiers.unwrap_or_else(|| as_view_tiers(&current));
        let draft = draft_from(
            patch.code.unwrap_or(current.code.clone()),
            patch.name.unwrap_or(current.name.clone()),
            patch.description.unwrap_or(current.description.clone()),
            patch.credit_type.unwrap_or(current.credit_type),
            [
                patch.min_amount.unwrap_or(t.min_amount.fen()),
                patch.max_amount.unwrap_or(t.max_amount.fen()),
                patch.total_quota.unwrap_or(t.total_quota.fen()),
            ],
            [
                patch.rate_bps_min.unwrap_or(t.rate_bps_min.bps()),
                patch.rate_bps_max.unwrap_or(t.rate_bps_max.bps()),
            ],
            [
                patch.term_months_min.unwrap_or(t.term_months_min),
                patch.term_months_max.unwrap_or(t.term_months_max),
            ],
            patch.approval_sla_days.unwrap_or(t.approval_sla_days),
            &rules,
            &tiers,
        )?;
        let revolving = patch.revolving.unwrap_or(t.revolving);
        let draft = Draft { terms: Terms { revolving, ..draft.terms }, ..draft };
        let principal = caller.principal();
        let product = state
            .write(&caller, async |w| {
                products::update_draft(w, principal, id, draft, current.updated_at).await
            })
            .await
            .map_err(|e| e.naming("the product"))?;
        Ok(Json((&product).into()))
    }

    /// Publish a product
    ///
    /// The owning bank. From `draft` or `suspended`; anything else is 409 and names the current
    /// status. Every server process shows it in matches within 5 seconds.
    #[oai(path = "/products/:id/publish", method = "post", operation_id = "publish_product")]
    async fn publish_product(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ProductView>> {
        transition(&state, &caller, &id.0, Transition::Publish).await
    }

    /// Suspend a product
    ///
    /// The owning bank. From `published` only; it drops out of matches until published again.
    #[oai(path = "/products/:id/suspend", method = "post", operation_id = "suspend_product")]
    async fn suspend_product(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ProductView>> {
        transition(&state, &caller, &id.0, Transition::Suspend).await
    }

    /// Retire a product
    ///
    /// The owning bank. From `published` or `suspended`; for good.
    #[oai(path = "/products/:id/retire", method = "post", operation_id = "retire_product")]
    async fn retire_product(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ProductView>> {
        transition(&state, &caller, &id.0, Transition::Retire).await
    }

    /// List products (the financial supermarket)
    ///
    /// Enterprises and park offices see published products; a bank also sees all of its own; an
    /// admin sees all.
    #[oai(path = "/products", method = "get", operation_id = "list_products")]
    async fn list_products(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        /// Only products in this status.
        status: Query<Option<ProductStatus>>,
        /// Only this bank's products.
        #[oai(validator(max_length = 20))]
        bank_id: Query<Option<String>>,
        /// Only products offered in this park: those listing it, and those listing no park.
        #[oai(validator(max_length = 20))]
        park_id: Query<Option<String>>,
        /// How many products to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<ProductView>>> {
        // An id that is not a number matches nothing, like any unknown id.
        let filter = ProductFilter {
            status: status.0,
            bank_id: filter_id(bank_id.0.as_deref()),
            park_id: filter_id(park_id.0.as_deref()),
        };
        let after = after_id(cursor.0.as_deref())?;
        let page =
            store::products::list_visible(state.db(), caller.principal().scope, filter, after, limit.0)
                .await?;
        Ok(Json(List::from_page(page, |p| ProductView::from(&p))))
    }

    /// Get a product
    #[oai(path = "/products/:id", method = "get", operation_id = "get_product")]
    async fn get_product(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<ProductView>> {
        let id = parse_id(&id.0, "the product")?;
        let product = store::products::get_visible(state.db(), caller.principal().scope, id)
            .await
            .map_err(|e| not_found_as(e, "the product"))?;
        Ok(Json((&product).into()))
    }

    /// List a product's prospects
    ///
    /// The owning bank. Scored enterprises that pass every rule, best latest score first, each
    /// with what it may borrow.
    #[oai(path = "/products/:id/prospects", method = "get", operation_id = "list_product_prospects")]
    async fn list_product_prospects(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// How many prospects to return.
        #[oai(default = "default_limit", validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<u64>,
        /// The `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<List<ProspectView>>> {
        let product = owned_product(&state, &caller, parse_id(&id.0, "the product")?).await?;
        let after = score_cursor(cursor.0.as_deref())?;
        let today = Utc::now().date_naive();
        let (prospects, next) =
            store::products::prospects(state.db(), &product, after, limit.0, today).await?;
        let items = prospects
            .into_iter()
            .map(|p| ProspectView {
                enterprise_id: p.enterprise.id.to_string(),
                uscc: p.enterprise.uscc.to_string(),
                name: p.enterprise.name,
                park_id: p.enterprise.park_id.to_string(),
                period: p.score.period,
                score: f64::from(p.score.score_centi) / 100.0,
                rank: p.score.rank,
                percentile: percent(p.score.percentile_centi),
                offer_max_amount: p.offer_max_amount.fen(),
            })
            .collect();
        let next_cursor = next.map(encode_score_cursor);
        Ok(Json(List { items, next_cursor: next_cursor.into() }))
    }
}
