//! Matching: every published product, split into those an enterprise qualifies for and those it
//! does not, with the reasons.

use chrono::Utc;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
};

use super::{
    ApiTags, AppState,
    auth::Caller,
    error::{ApiError, ApiResult, ErrorDetail},
    nullable::Nullable,
    pagination::parse_id,
    products::{ProductSummary, ProductView},
    raw_json::{Rendered, SerdeJson},
};
use crate::domain::{Scope, product::match_all};
use crate::service::scores;

/// The score the match was judged with.
#[derive(Object, serde::Serialize)]
pub struct MatchScore {
    pub period: String,
    pub score: f64,
    pub rank: i32,
    pub percentile: f64,
}

#[derive(Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct EligibleProduct {
    pub product: Rendered<ProductSummary>,
    /// The whole product, with `?expand=product`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_detail: Option<Rendered<ProductView>>,
    /// The most the enterprise may borrow under this product, in fen.
    pub offer_max_amount: i64,
}

#[derive(Object, serde::Serialize)]
#[oai(skip_serializing_if_is_none)]
pub struct IneligibleProduct {
    pub product: Rendered<ProductSummary>,
    /// The whole product, with `?expand=product`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_detail: Option<Rendered<ProductView>>,
    /// Every rule the enterprise fails, each as `{rule, required, actual, message}`.
    pub failed: Vec<ErrorDetail>,
}

// This type documents the answer and writes it (with serde): each product is the JSON rendered
// once per catalogue, not serialized again for every request.
/// Every published product, split into those the enterprise qualifies for and those it does not.
#[derive(Object, serde::Serialize)]
pub struct Matches {
    /// The enterprise's latest score; `null` when it has none.
    pub score: Nullable<MatchScore>,
    /// Lowest `rate_bps_min` first, then highest `offer_max_amount`.
    pub eligible: Vec<EligibleProduct>,
    pub ineligible: Vec<IneligibleProduct>,
}

#[derive(ApiResponse)]
pub enum MatchesFound {
    /// Every published product, eligible or not.
    #[oai(status = 200)]
    Ok(SerdeJson<Matches>),
}

pub struct MatchesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Products")]
impl MatchesApi {
    /// Match an enterprise to every published product
    ///
    /// The enterprise itself, its park office, or an admin. Each published product is either
    /// eligible, with the most the enterprise may borrow, or ineligible, with every rule it fails.
    /// A product whose remaining quota is below its smallest loan fails `quota_exhausted`. Each
    /// product is a summary (id, bank, name, credit type, amounts, rates, terms); `?expand=product`
    /// adds the whole record as `product_detail`.
    #[oai(path = "/enterprises/:id/matches", method = "get", operation_id = "get_enterprise_matches")]
    async fn get_enterprise_matches(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
        /// `product`: add each product's whole record.
        expand: Query<Option<String>>,
    ) -> ApiResult<MatchesFound> {
        let expand = match expand.0.as_deref() {
            None => false,
            Some("product") => true,
            Some(other) => {
                return Err(ApiError::invalid_field(
                    "expand",
                    format!("{other:?} cannot be expanded; the one expansion is \"product\""),
                ));
            }
        };
        let principal = caller.principal();
        let id = parse_id(&id.0, "the enterprise")?;
        let enterprise = state.enterprise(id).await?.ok_or_else(|| ApiError::not_found("the enterprise"))?;
        let visible = match principal.scope {
            Scope::All => true,
            Scope::Park(park_id) => park_id == enterprise.park_id,
            Scope::Enterprise(own) => own == enterprise.id,
            Scope::Bank(_) => false,
        };
        if !visible {
            return Err(ApiError::not_found("the enterprise"));
        }
        let (score, _) = scores::latest(&state.services, enterprise.park_id, enterprise.id).await?;
        let catalogue = state.published_products().await?;
        let profile = enterprise.profile();
        let applicant = profile.applicant(score.as_ref().map(|s| s.standing()));
        let today = Utc::now().date_naive();

        let matched = match_all(&catalogue.products, |p| &p.product, &applicant, today);

        let score = score.map(|s| MatchScore {
            period: s.period,
            score: s.score.as_f64(),
            rank: s.rank,
            percentile: f64::from(s.percentile_centi) / 100.0,
        });
        let eligible = matched
            .eligible
            .into_iter()
            .map(|(p, offer)| EligibleProduct {
                product: p.summary.clone(),
                product_detail: expand.then(|| p.view.clone()),
                offer_max_amount: offer.fen(),
            })
            .collect();
        let ineligible = matched
            .ineligible
            .into_iter()
            .map(|(p, failed)| IneligibleProduct {
                product: p.summary.clone(),
                product_detail: expand.then(|| p.view.clone()),
                failed: failed.into_iter().map(ErrorDetail::from).collect(),
            })
            .collect();
        Ok(MatchesFound::Ok(SerdeJson(Matches { score: score.into(), eligible, ineligible })))
    }
}
