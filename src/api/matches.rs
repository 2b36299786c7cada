//! Matching: every published product, split into those an enterprise qualifies for and those it
//! does not, with the reasons.

use chrono::Utc;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

use super::{
    ApiTags, AppState,
    auth::Caller,
    error::{ApiResult, ErrorDetail},
    pagination::parse_id,
    parks::not_found_as,
    products::ProductView,
    scores::latest_score,
};
use crate::domain::{
    Role,
    eligibility::{Verdict, evaluate},
};
use crate::store;

/// The score the match was judged with.
#[derive(Object)]
pub struct MatchScore {
    pub period: String,
    pub score: f64,
    pub rank: i32,
    pub percentile: f64,
}

#[derive(Object)]
pub struct EligibleProduct {
    pub product: ProductView,
    /// The most the enterprise may borrow under this product, in fen.
    pub offer_max_amount: i64,
}

#[derive(Object)]
pub struct IneligibleProduct {
    pub product: ProductView,
    /// Every rule the enterprise fails, each as `{rule, required, actual, message}`.
    pub failed: Vec<ErrorDetail>,
}

#[derive(Object)]
pub struct Matches {
    /// The enterprise's latest score; `null` when it has none.
    pub score: Option<MatchScore>,
    /// Lowest `rate_bps_min` first, then highest `offer_max_amount`.
    pub eligible: Vec<EligibleProduct>,
    pub ineligible: Vec<IneligibleProduct>,
}

pub struct MatchesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Products")]
impl MatchesApi {
    /// Match an enterprise to every published product
    ///
    /// The enterprise itself, its park office, or an admin. Each published product is either
    /// eligible, with the most the enterprise may borrow, or ineligible, with every rule it fails.
    /// A product whose remaining quota is below its smallest loan fails `quota_exhausted`.
    #[oai(path = "/enterprises/:id/matches", method = "get", operation_id = "get_enterprise_matches")]
    async fn get_enterprise_matches(
        &self,
        caller: Caller,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> ApiResult<Json<Matches>> {
        let principal =
            caller.require(&[Role::Enterprise, Role::ParkOffice], "see an enterprise's matches")?;
        let id = parse_id(&id.0, "the enterprise")?;
        let enterprise = store::enterprises::get_visible(&state.db, principal.scope, id)
            .await
            .map_err(|e| not_found_as(e, "the enterprise"))?;
        let (score, _) = latest_score(&state, enterprise.park_id, enterprise.id).await?;
        let products = state.published_products().await?;

        let profile = store::enterprises::profile(&enterprise);
        let applicant = profile.applicant(score.as_ref().map(|s| s.standing()));
        let today = Utc::now().date_naive();
        let mut eligible = Vec::new();
        let mut ineligible = Vec::new();
        for product in products.iter() {
            match evaluate(&product.offerable(), &applicant, today) {
                Verdict::Eligible { offer_max_amount } => eligible.push((product, offer_max_amount)),
                Verdict::Ineligible { failed } => ineligible.push(IneligibleProduct {
                    product: product.into(),
                    failed: failed
                        .into_iter()
                        .map(|f| ErrorDetail {
                            rule: Some(f.rule.to_owned()),
                            required: Some(f.required),
                            actual: Some(f.actual),
                            message: f.message,
                            ..Default::default()
                        })
                        .collect(),
                }),
            }
        }
        eligible.sort_by(|(a, offer_a), (b, offer_b)| {
            a.terms.rate_bps_min.cmp(&b.terms.rate_bps_min).then(offer_b.cmp(offer_a)).then(a.id.cmp(&b.id))
        });
        Ok(Json(Matches {
            score: score.map(|s| MatchScore {
                period: s.period,
                score: s.score.as_f64(),
                rank: s.rank,
                percentile: f64::from(s.percentile_centi) / 100.0,
            }),
            eligible: eligible
                .into_iter()
                .map(|(product, offer)| EligibleProduct {
                    product: product.into(),
                    offer_max_amount: offer.fen(),
                })
                .collect(),
            ineligible,
        }))
    }
}
