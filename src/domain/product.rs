//! Loan products: their terms, the checks on them, and their lifecycle.

use serde::{Deserialize, Serialize};

use super::{
    EnterpriseSize, FieldError, Money, Qualification, RateBps, Scope, Score, Stage,
    events::{Audience, EventType},
    text_enum,
};

text_enum!(
    /// Where a product is in its life: `draft → published ⇄ suspended → retired`.
    ProductStatus { Draft => "draft", Published => "published", Suspended => "suspended", Retired => "retired" }
);

text_enum!(
    /// What secures the loan: nothing (纯信用), a guarantee, or pledged IP.
    CreditType { PureCredit => "pure_credit", Guaranteed => "guaranteed", IpPledge => "ip_pledge" }
);

text_enum!(
    /// A lifecycle action a bank takes on its product.
    Transition { Publish => "publish", Suspend => "suspend", Retire => "retire" }
);

impl Transition {
    /// The word for a product this action has been applied to.
    pub fn past_tense(self) -> &'static str {
        match self {
            Transition::Publish => "published",
            Transition::Suspend => "suspended",
            Transition::Retire => "retired",
        }
    }

    /// The event the action raises.
    pub fn event(self) -> EventType {
        match self {
            Transition::Publish => EventType::ProductPublished,
            Transition::Suspend => EventType::ProductSuspended,
            Transition::Retire => EventType::ProductRetired,
        }
    }
}

impl ProductStatus {
    /// The status after `action`, or `None` when the action is not allowed from here.
    pub fn after(self, action: Transition) -> Option<ProductStatus> {
        use ProductStatus::*;
        match (self, action) {
            (Draft | Suspended, Transition::Publish) => Some(Published),
            (Published, Transition::Suspend) => Some(Suspended),
            (Published | Suspended, Transition::Retire) => Some(Retired),
            _ => None,
        }
    }
}

/// The rules an enterprise must pass. Every rule is optional; an empty list is no rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Eligibility {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_score: Option<Score>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_park_rank: Option<i32>,
    /// Hundredths of a percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_percentile_centi: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub park_ids: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub industries: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<EnterpriseSize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_qualifications: Vec<Qualification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_years_established: Option<u32>,
    /// The stages (初创、成长、稳定) the product is for, as of the enterprise's latest score.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<Stage>,
    /// Hundredths of a percent, within the enterprise's stage in its park.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_stage_percentile_centi: Option<i32>,
}

impl Eligibility {
    /// Whether any rule needs a score: an enterprise without one fails such a product.
    pub fn needs_score(&self) -> bool {
        self.min_score.is_some()
            || self.max_park_rank.is_some()
            || self.min_percentile_centi.is_some()
            || !self.stages.is_empty()
            || self.min_stage_percentile_centi.is_some()
    }
}

/// A cap on the offer by score: from `min_score` up, at most `max_amount`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountTier {
    pub min_score: Score,
    pub max_amount: Money,
}

/// A product's terms, as a bank sets them.
#[derive(Clone, Debug, PartialEq)]
pub struct Terms {
    pub min_amount: Money,
    pub max_amount: Money,
    pub rate_bps_min: RateBps,
    pub rate_bps_max: RateBps,
    pub term_months_min: i32,
    pub term_months_max: i32,
    pub approval_sla_days: i32,
    pub total_quota: Money,
    pub eligibility: Eligibility,
    pub amount_tiers: Vec<AmountTier>,
    /// Its lines are revolving (循环授信): repaid principal may be drawn again.
    pub revolving: bool,
}

/// The largest quota one product may have: ¥10 trillion. It keeps every sum of amounts (per
/// product, bank, park or nation) far from `i64::MAX`.
pub const MAX_TOTAL_QUOTA_FEN: i64 = 1_000_000_000_000_000;
pub const MAX_TERM_MONTHS: i32 = 120;
/// The most parks, industries and amount tiers one product's rules may list.
pub const MAX_PARK_IDS: usize = 100;
pub const MAX_INDUSTRIES: usize = 50;
pub const MAX_TIERS: usize = 20;

impl Terms {
    /// Every rule the terms break, all at once.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        let mut fail = |field: &str, message: String| problems.push(FieldError::new(field, message));
        if self.min_amount.fen() < 1 {
            fail("min_amount", "min_amount must be at least 1 fen".into());
        }
        if self.min_amount > self.max_amount {
            fail(
                "max_amount",
                format!("max_amount {} is below min_amount {}", self.max_amount, self.min_amount),
            );
        }
        if self.total_quota.fen() > MAX_TOTAL_QUOTA_FEN {
            fail("total_quota", format!("total_quota is at most {MAX_TOTAL_QUOTA_FEN} fen (¥10 trillion)"));
        }
        if self.max_amount > self.total_quota {
            fail(
                "total_quota",
                format!("total_quota {} is below max_amount {}", self.total_quota, self.max_amount),
            );
        }
        if self.rate_bps_min > self.rate_bps_max {
            fail(
                "rate_bps_max",
                format!(
                    "rate_bps_max {} is below rate_bps_min {}",
                    self.rate_bps_max.bps(),
                    self.rate_bps_min.bps()
                ),
            );
        }
        if self.term_months_min < 1 {
            fail("term_months_min", "term_months_min must be at least 1".into());
        }
        if self.term_months_min > self.term_months_max {
            fail(
                "term_months_max",
                format!(
                    "term_months_max {} is below term_months_min {}",
                    self.term_months_max, self.term_months_min
                ),
            );
        }
        if self.term_months_max > MAX_TERM_MONTHS {
            fail(
                "term_months_max",
                format!("term_months_max is at most {MAX_TERM_MONTHS}, got {}", self.term_months_max),
            );
        }
        if self.approval_sla_days < 1 {
            fail("approval_sla_days", "approval_sla_days must be at least 1".into());
        }
        let mut previous: Option<&AmountTier> = None;
        for (i, tier) in self.amount_tiers.iter().enumerate() {
            let field = format!("amount_tiers[{i}]");
            if let Some(previous) = previous {
                if tier.min_score <= previous.min_score {
                    fail(
                        &format!("{field}.min_score"),
                        format!(
                            "tiers must ascend strictly by min_score: {} follows {}",
                            tier.min_score, previous.min_score
                        ),
                    );
                }
                if tier.max_amount < previous.max_amount {
                    fail(
                        &format!("{field}.max_amount"),
                        format!(
                            "a higher tier must not offer less: {} follows {}",
                            tier.max_amount, previous.max_amount
                        ),
                    );
                }
            }
            if tier.max_amount < self.min_amount || tier.max_amount > self.max_amount {
                fail(
                    &format!("{field}.max_amount"),
                    format!(
                        "{} is outside the product's range {} to {}",
                        tier.max_amount, self.min_amount, self.max_amount
                    ),
                );
            }
            previous = Some(tier);
        }
        if let Some(rank) = self.eligibility.max_park_rank.filter(|&r| r < 1) {
            fail("eligibility.max_park_rank", format!("max_park_rank must be at least 1, got {rank}"));
        }
        if let Some(p) = self.eligibility.min_percentile_centi.filter(|&p| !(0..=10_000).contains(&p)) {
            fail(
                "eligibility.min_percentile",
                format!("min_percentile is between 0 and 100, got {}", f64::from(p) / 100.0),
            );
        }
        problems
    }
}

/// The products an applicant may borrow under, and those it may not with every rule it fails.
pub struct Matched<'p, T> {
    /// Lowest `rate_bps_min` first, then highest offer, then product id.
    pub eligible: Vec<(&'p T, Money)>,
    /// In the order given.
    pub ineligible: Vec<(&'p T, Vec<super::eligibility::FailedRule>)>,
}

/// Judges every item's product for the applicant, in the order matches are shown.
pub fn match_all<'p, T>(
    items: &'p [T],
    product: impl Fn(&T) -> &Product,
    applicant: &super::eligibility::Applicant<'_>,
    today: chrono::NaiveDate,
) -> Matched<'p, T> {
    use super::eligibility::{Verdict, evaluate};
    let mut eligible = Vec::new();
    let mut ineligible = Vec::new();
    for item in items {
        match evaluate(&product(item).offerable(), applicant, today) {
            Verdict::Eligible { offer_max_amount } => eligible.push((item, offer_max_amount)),
            Verdict::Ineligible { failed } => ineligible.push((item, failed)),
        }
    }
    eligible.sort_by(|(a, offer_a), (b, offer_b)| {
        let (a, b) = (product(a), product(b));
        a.terms.rate_bps_min.cmp(&b.terms.rate_bps_min).then(offer_b.cmp(offer_a)).then(a.id.cmp(&b.id))
    });
    Matched { eligible, ineligible }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(fen: i64) -> Money {
        Money::from_fen(fen).unwrap()
    }

    pub(crate) fn terms() -> Terms {
        Terms {
            min_amount: money(100_000),
            max_amount: money(500_000_000),
            rate_bps_min: RateBps::new(350).unwrap(),
            rate_bps_max: RateBps::new(450).unwrap(),
            term_months_min: 6,
            term_months_max: 36,
            approval_sla_days: 5,
            total_quota: money(1_000_000_000_000),
            eligibility: Eligibility::default(),
            amount_tiers: Vec::new(),
            revolving: false,
        }
    }

    #[test]
    fn good_terms_have_no_problems() {
        assert!(terms().problems().is_empty());
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let mut t = terms();
        t.max_amount = money(1);
        t.total_quota = money(0);
        t.rate_bps_min = RateBps::new(2_400).unwrap();
        t.rate_bps_max = RateBps::new(2_300).unwrap();
        t.term_months_min = 0;
        t.term_months_max = 121;
        t.approval_sla_days = 0;
        let fields: Vec<String> = t.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            vec![
                "max_amount",
                "total_quota",
                "rate_bps_max",
                "term_months_min",
                "term_months_max",
                "approval_sla_days"
            ]
        );
        let mut t = terms();
        t.total_quota = money(1);
        assert_eq!(t.problems()[0].field, "total_quota");
    }

    #[test]
    fn tiers_must_ascend_and_stay_in_range() {
        let tier = |score: i32, fen: i64| AmountTier {
            min_score: Score::from_centi(score).unwrap(),
            max_amount: money(fen),
        };
        let mut t = terms();
        t.amount_tiers = vec![
            tier(6_000, 1_000_000),
            tier(6_000, 2_000_000),
            tier(8_000, 1_500_000),
            tier(9_000, 900_000_000),
        ];
        let fields: Vec<String> = t.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            vec!["amount_tiers[1].min_score", "amount_tiers[2].max_amount", "amount_tiers[3].max_amount"]
        );
    }

    #[test]
    fn lifecycle() {
        use ProductStatus::*;
        assert_eq!(Draft.after(Transition::Publish), Some(Published));
        assert_eq!(Published.after(Transition::Suspend), Some(Suspended));
        assert_eq!(Suspended.after(Transition::Publish), Some(Published));
        assert_eq!(Suspended.after(Transition::Retire), Some(Retired));
        assert_eq!(Published.after(Transition::Retire), Some(Retired));
        assert_eq!(Draft.after(Transition::Suspend), None);
        assert_eq!(Draft.after(Transition::Retire), None);
        assert_eq!(Published.after(Transition::Publish), None);
        assert_eq!(Retired.after(Transition::Publish), None);
        assert_eq!(Suspended.after(Transition::Suspend), None);
    }
}

/// A product as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    pub id: i64,
    pub bank_id: i64,
    pub code: String,
    pub name: String,
    pub description: String,
    pub credit_type: CreditType,
    pub status: ProductStatus,
    pub terms: Terms,
    /// Credit granted so far against `total_quota`.
    pub granted_total: Money,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Product {
    /// Who may read it: everyone while it is published, otherwise its bank alone.
    pub fn audience(&self) -> Audience {
        if self.status == ProductStatus::Published {
            Audience::everyone()
        } else {
            Audience::of(Scope::Bank(self.bank_id))
        }
    }

    pub fn remaining_quota(&self) -> Money {
        self.terms.total_quota.saturating_sub(self.granted_total)
    }

    /// What the eligibility engine needs of this product.
    pub fn offerable(&self) -> super::eligibility::Offerable<'_> {
        super::eligibility::Offerable {
            eligibility: &self.terms.eligibility,
            amount_tiers: &self.terms.amount_tiers,
            min_amount: self.terms.min_amount,
            max_amount: self.terms.max_amount,
            remaining_quota: self.remaining_quota(),
        }
    }
}
