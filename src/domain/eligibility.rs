//! The eligibility engine: one enterprise against one product, with reasons a finance officer
//! can read. Pure: no I/O, no clock (the caller passes `today`).

use chrono::{Datelike, NaiveDate};

use super::{
    EnterpriseSize, Money, Qualification, Score, Stage,
    product::{AmountTier, Eligibility},
};

/// What the engine knows of the enterprise.
#[derive(Clone, Debug)]
pub struct Applicant<'a> {
    pub park_id: i64,
    pub industry: &'a str,
    pub size: EnterpriseSize,
    pub qualifications: &'a [Qualification],
    pub founded_on: NaiveDate,
    /// Its latest score, if it has one.
    pub standing: Option<Standing>,
}

/// What eligibility looks at in an enterprise's record.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub park_id: i64,
    pub industry: String,
    pub size: EnterpriseSize,
    pub qualifications: Vec<Qualification>,
    pub founded_on: NaiveDate,
}

impl Profile {
    /// The enterprise as the engine sees it, with its latest standing if it has one.
    pub fn applicant(&self, standing: Option<Standing>) -> Applicant<'_> {
        Applicant {
            park_id: self.park_id,
            industry: &self.industry,
            size: self.size,
            qualifications: &self.qualifications,
            founded_on: self.founded_on,
            standing,
        }
    }
}

/// An enterprise's latest score and place in its park, and in its stage there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Standing {
    pub score: Score,
    pub rank: i32,
    pub percentile_centi: i32,
    pub stage: Stage,
    pub stage_percentile_centi: i32,
}

/// What the engine needs of the product.
#[derive(Clone, Copy, Debug)]
pub struct Offerable<'a> {
    pub eligibility: &'a Eligibility,
    pub amount_tiers: &'a [AmountTier],
    pub min_amount: Money,
    pub max_amount: Money,
    /// `total_quota` less the credit already granted.
    pub remaining_quota: Money,
}

/// One rule the enterprise fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedRule {
    /// The eligibility field's name, `amount_tiers` or `quota_exhausted`.
    pub rule: &'static str,
    pub required: String,
    pub actual: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Eligible { offer_max_amount: Money },
    Ineligible { failed: Vec<FailedRule> },
}

impl Verdict {
    pub fn offer(&self) -> Option<Money> {
        match self {
            Verdict::Eligible { offer_max_amount } => Some(*offer_max_amount),
            Verdict::Ineligible { .. } => None,
        }
    }
}

fn percent(centi: i32) -> String {
    format!("{}.{:02}", centi / 100, centi % 100)
}

/// Whole years from `founded_on` to `today`.
pub fn years_between(founded_on: NaiveDate, today: NaiveDate) -> i32 {
    let mut years = today.year() - founded_on.year();
    if (today.month(), today.day()) < (founded_on.month(), founded_on.day()) {
        years -= 1;
    }
    years.max(0)
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The offer the tiers allow at this score: the largest `max_amount` of the tiers reached, never
/// above the product's `max_amount`. `None` when the tiers exist and none is reached.
pub fn tier_offer(tiers: &[AmountTier], max_amount: Money, score: Option<Score>) -> Option<Money> {
    if tiers.is_empty() {
        return Some(max_amount);
    }
    let score = score?;
    tiers.iter().filter(|t| t.min_score <= score).map(|t| t.max_amount.min(max_amount)).max()
}

/// Judges an enterprise against a product. Every failed rule is reported, not just the first.
pub fn evaluate(product: &Offerable<'_>, applicant: &Applicant<'_>, today: NaiveDate) -> Verdict {
    let rules = product.eligibility;
    let mut failed = Vec::new();
    let mut fail = |rule: &'static str, required: String, actual: String, message: String| {
        failed.push(FailedRule { rule, required, actual, message });
    };
    let standing = applicant.standing;

    if let Some(min) = rules.min_score {
        match standing {
            Some(s) if s.score >= min => {}
            Some(s) => fail(
                "min_score",
                min.to_string(),
                s.score.to_string(),
                format!("score {} is below the minimum {min}", s.score),
            ),
            None => fail(
                "min_score",
                min.to_string(),
                "none".into(),
                format!("the enterprise has no score; the minimum is {min}"),
            ),
        }
    }
    if let Some(max_rank) = rules.max_park_rank {
        match standing {
            Some(s) if s.rank <= max_rank => {}
            Some(s) => fail(
                "max_park_rank",
                max_rank.to_string(),
                s.rank.to_string(),
                format!("rank {} in its park is outside the top {max_rank}", s.rank),
            ),
            None => fail(
                "max_park_rank",
                max_rank.to_string(),
                "none".into(),
                format!("the enterprise has no rank; the top {max_rank} of its park qualify"),
            ),
        }
    }
    if let Some(min) = rules.min_percentile_centi {
        match standing {
            Some(s) if s.percentile_centi >= min => {}
            Some(s) => fail(
                "min_percentile",
                percent(min),
                percent(s.percentile_centi),
                format!(
                    "percentile {} in its park is below the minimum {}",
                    percent(s.percentile_centi),
                    percent(min)
                ),
            ),
            None => fail(
                "min_percentile",
                percent(min),
                "none".into(),
                format!("the enterprise has no score; the minimum percentile is {}", percent(min)),
            ),
        }
    }
    if !rules.stages.is_empty() {
        match standing {
            Some(s) if rules.stages.contains(&s.stage) => {}
            Some(s) => fail(
                "stages",
                list(&rules.stages),
                s.stage.to_string(),
                format!("a {} enterprise is not eligible; stages {} are", s.stage, list(&rules.stages)),
            ),
            None => fail(
                "stages",
                list(&rules.stages),
                "none".into(),
                format!(
                    "the enterprise has no score, so no stage; stages {} are eligible",
                    list(&rules.stages)
                ),
            ),
        }
    }
    if let Some(min) = rules.min_stage_percentile_centi {
        match standing {
            Some(s) if s.stage_percentile_centi >= min => {}
            Some(s) => fail(
                "min_stage_percentile",
                percent(min),
                percent(s.stage_percentile_centi),
                format!(
                    "percentile {} among its park's {} enterprises is below the minimum {}",
                    percent(s.stage_percentile_centi),
                    s.stage,
                    percent(min)
                ),
            ),
            None => fail(
                "min_stage_percentile",
                percent(min),
                "none".into(),
                format!(
                    "the enterprise has no score; the minimum percentile in its stage is {}",
                    percent(min)
                ),
            ),
        }
    }
    if !rules.park_ids.is_empty() && !rules.park_ids.contains(&applicant.park_id) {
        fail(
            "park_ids",
            list(&rules.park_ids),
            applicant.park_id.to_string(),
            "the product is not offered in the enterprise's park".into(),
        );
    }
    if !rules.industries.is_empty() && !rules.industries.iter().any(|i| i == applicant.industry) {
        fail(
            "industries",
            list(&rules.industries),
            applicant.industry.to_owned(),
            format!("industry {} is not one of {}", applicant.industry, list(&rules.industries)),
        );
    }
    if !rules.sizes.is_empty() && !rules.sizes.contains(&applicant.size) {
        fail(
            "sizes",
            list(&rules.sizes),
            applicant.size.to_string(),
            format!("a {} enterprise is not eligible; sizes {} are", applicant.size, list(&rules.sizes)),
        );
    }
    let missing: Vec<Qualification> = rules
        .required_qualifications
        .iter()
        .copied()
        .filter(|q| !applicant.qualifications.contains(q))
        .collect();
    if !missing.is_empty() {
        fail(
            "required_qualifications",
            list(&rules.required_qualifications),
            list(applicant.qualifications),
            format!("the enterprise lacks the qualification {}", list(&missing)),
        );
    }
    if let Some(min_years) = rules.min_years_established {
        let years = years_between(applicant.founded_on, today);
        if i64::from(years) < i64::from(min_years) {
            fail(
                "min_years_established",
                min_years.to_string(),
                years.to_string(),
                format!("founded {years} years ago; at least {min_years} years are required"),
            );
        }
    }
    let offer = tier_offer(product.amount_tiers, product.max_amount, standing.map(|s| s.score));
    if offer.is_none() {
        let lowest =
            product.amount_tiers.iter().map(|t| t.min_score).min().map(|s| s.to_string()).unwrap_or_default();
        let actual = standing.map_or_else(|| "none".to_owned(), |s| s.score.to_string());
        let message = match standing {
            Some(s) => format!("score {} is below the lowest amount tier, {lowest}", s.score),
            None => format!("the enterprise has no score; the lowest amount tier needs {lowest}"),
        };
        fail("amount_tiers", lowest, actual, message);
    }
    if product.remaining_quota < product.min_amount {
        fail(
            "quota_exhausted",
            product.min_amount.to_string(),
            product.remaining_quota.to_string(),
            format!(
                "the product's remaining quota {} is below its smallest loan {}",
                product.remaining_quota, product.min_amount
            ),
        );
    }
    match offer {
        Some(offer_max_amount) if failed.is_empty() => Verdict::Eligible { offer_max_amount },
        _ => Verdict::Ineligible { failed },
    }
}

/// Judges an enterprise against rules alone, with no amounts or quota: a policy's eligibility.
/// Every failed rule, with the same reasons as a product's.
pub fn judge_rules(rules: &Eligibility, applicant: &Applicant<'_>, today: NaiveDate) -> Vec<FailedRule> {
    let rules_only = Offerable {
        eligibility: rules,
        amount_tiers: &[],
        min_amount: Money::ZERO,
        max_amount: Money::ZERO,
        remaining_quota: Money::ZERO,
    };
    match evaluate(&rules_only, applicant, today) {
        Verdict::Eligible { .. } => Vec::new(),
        Verdict::Ineligible { failed } => failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(fen: i64) -> Money {
        Money::from_fen(fen).unwrap()
    }

    fn score(centi: i32) -> Score {
        Score::from_centi(centi).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2022, 9, 29);

    fn today() -> NaiveDate {
        date(TODAY.0, TODAY.1, TODAY.2)
    }

    fn applicant(standing: Option<Standing>) -> Applicant<'static> {
        Applicant {
            park_id: 1,
            industry: "biomedicine",
            size: EnterpriseSize::Small,
            qualifications: &[Qualification::HighTechEnterprise],
            founded_on: date(2019, 9, 29),
            standing,
        }
    }

    fn standing(centi: i32, rank: i32, percentile_centi: i32) -> Option<Standing> {
        Some(Standing {
            score: score(centi),
            rank,
            percentile_centi,
            stage: Stage::Growth,
            stage_percentile_centi: percentile_centi,
        })
    }

    fn judge(rules: &Eligibility, tiers: &[AmountTier], who: &Applicant<'_>) -> Verdict {
        let product = Offerable {
            eligibility: rules,
            amount_tiers: tiers,
            min_amount: money(100),
            max_amount: money(1_000_000),
            remaining_quota: money(10_000_000),
        };
        evaluate(&product, who, today())
    }

    fn failed_rules(verdict: &Verdict) -> Vec<&'static str> {
        match verdict {
            Verdict::Ineligible { failed } => failed.iter().map(|f| f.rule).collect(),
            Verdict::Eligible { .. } => Vec::new(),
        }
    }

    #[test]
    fn no_rules_means_eligible_for_the_maximum() {
        let verdict = judge(&Eligibility::default(), &[], &applicant(None));
        assert_eq!(verdict, Verdict::Eligible { offer_max_amount: money(1_000_000) });
    }

    #[test]
    fn min_score_boundary_and_message() {
        let rules = Eligibility { min_score: Some(score(8_000)), ..Default::default() };
        assert!(judge(&rules, &[], &applicant(standing(8_000, 1, 10_000))).offer().is_some());
        let verdict = judge(&rules, &[], &applicant(standing(7_250, 1, 10_000)));
        let Verdict::Ineligible { failed } = verdict else { panic!("should fail") };
        assert_eq!(failed[0].message, "score 72.50 is below the minimum 80.00");
        assert_eq!((failed[0].required.as_str(), failed[0].actual.as_str()), ("80.00", "72.50"));
    }

    #[test]
    fn rank_and_percentile_boundaries() {
        let rules =
            Eligibility { max_park_rank: Some(100), min_percentile_centi: Some(9_000), ..Default::default() };
        assert!(judge(&rules, &[], &applicant(standing(5_000, 100, 9_000))).offer().is_some());
        assert_eq!(
            failed_rules(&judge(&rules, &[], &applicant(standing(5_000, 101, 8_999)))),
            vec!["max_park_rank", "min_percentile"]
        );
    }

    #[test]
    fn stages_and_the_percentile_within_the_stage() {
        let rules = Eligibility {
            stages: vec![Stage::Startup, Stage::Growth],
            min_stage_percentile_centi: Some(8_000),
            ..Default::default()
        };
        let young = |stage, stage_percentile_centi| {
            Some(Standing {
                score: score(6_000),
                rank: 40,
                percentile_centi: 5_000,
                stage,
                stage_percentile_centi,
            })
        };
        // Half way down the park, yet in the top fifth of its stage: eligible.
        assert!(judge(&rules, &[], &applicant(young(Stage::Startup, 8_000))).offer().is_some());
        let verdict = judge(&rules, &[], &applicant(young(Stage::Mature, 7_999)));
        assert_eq!(failed_rules(&verdict), vec!["stages", "min_stage_percentile"]);
        let Verdict::Ineligible { failed } = verdict else { panic!() };
        assert_eq!(failed[0].message, "a mature enterprise is not eligible; stages startup, growth are");
        assert_eq!(
            failed[1].message,
            "percentile 79.99 among its park's mature enterprises is below the minimum 80.00"
        );
        assert_eq!(
            failed_rules(&judge(&rules, &[], &applicant(None))),
            vec!["stages", "min_stage_percentile"],
            "no score, no stage"
        );
    }

    #[test]
    fn no_score_fails_every_score_rule() {
        let rules = Eligibility {
            min_score: Some(score(1)),
            max_park_rank: Some(10),
            min_percentile_centi: Some(1),
            ..Default::default()
        };
        assert_eq!(
            failed_rules(&judge(&rules, &[], &applicant(None))),
            vec!["min_score", "max_park_rank", "min_percentile"]
        );
    }

    #[test]
    fn park_industry_size_and_qualifications() {
        let rules = Eligibility {
            park_ids: vec![2, 3],
            industries: vec!["software".into()],
            sizes: vec![EnterpriseSize::Micro],
            required_qualifications: vec![Qualification::HighTechEnterprise, Qualification::SpecializedSme],
            ..Default::default()
        };
        let verdict = judge(&rules, &[], &applicant(None));
        assert_eq!(
            failed_rules(&verdict),
            vec!["park_ids", "industries", "sizes", "required_qualifications"]
        );
        let Verdict::Ineligible { failed } = verdict else { panic!() };
        assert_eq!(failed[3].message, "the enterprise lacks the qualification specialized_sme");
        let passing = Eligibility {
            park_ids: vec![1],
            industries: vec!["biomedicine".into()],
            sizes: vec![EnterpriseSize::Small],
            required_qualifications: vec![Qualification::HighTechEnterprise],
            ..Default::default()
        };
        assert!(judge(&passing, &[], &applicant(None)).offer().is_some());
    }

    #[test]
    fn years_established_boundary() {
        let rules = Eligibility { min_years_established: Some(3), ..Default::default() };
        assert!(judge(&rules, &[], &applicant(None)).offer().is_some(), "exactly three years on the day");
        let mut younger = applicant(None);
        younger.founded_on = date(2019, 9, 30);
        assert_eq!(failed_rules(&judge(&rules, &[], &younger)), vec!["min_years_established"]);
        assert_eq!(years_between(date(2020, 2, 29), date(2021, 2, 28)), 0);
        assert_eq!(years_between(date(2030, 1, 1), date(2021, 2, 28)), 0);
    }

    #[test]
    fn tiers_cap_the_offer() {
        let tiers = [
            AmountTier { min_score: score(6_000), max_amount: money(200_000) },
            AmountTier { min_score: score(8_000), max_amount: money(500_000) },
        ];
        let rules = Eligibility::default();
        assert_eq!(
            failed_rules(&judge(&rules, &tiers, &applicant(standing(5_999, 1, 1)))),
            vec!["amount_tiers"]
        );
        assert_eq!(failed_rules(&judge(&rules, &tiers, &applicant(None))), vec!["amount_tiers"]);
        assert_eq!(judge(&rules, &tiers, &applicant(standing(6_000, 1, 1))).offer(), Some(money(200_000)));
        assert_eq!(judge(&rules, &tiers, &applicant(standing(7_999, 1, 1))).offer(), Some(money(200_000)));
        assert_eq!(judge(&rules, &tiers, &applicant(standing(9_900, 1, 1))).offer(), Some(money(500_000)));
    }

    #[test]
    fn an_exhausted_quota_is_a_failed_rule() {
        let rules = Eligibility::default();
        let product = Offerable {
            eligibility: &rules,
            amount_tiers: &[],
            min_amount: money(100),
            max_amount: money(1_000),
            remaining_quota: money(99),
        };
        let verdict = evaluate(&product, &applicant(None), today());
        assert_eq!(failed_rules(&verdict), vec!["quota_exhausted"]);
        let exact = Offerable { remaining_quota: money(100), ..product };
        assert!(evaluate(&exact, &applicant(None), today()).offer().is_some());
    }

    fn tiers_strategy() -> impl Strategy<Value = Vec<AmountTier>> {
        proptest::collection::vec((0..100_000i32, 1..2_000_000i64), 0..6).prop_map(|mut raw| {
            raw.sort();
            raw.dedup_by_key(|(s, _)| *s);
            let mut amounts: Vec<i64> = raw.iter().map(|(_, a)| *a).collect();
            amounts.sort();
            raw.iter()
                .zip(amounts)
                .map(|((s, _), a)| AmountTier { min_score: score(*s), max_amount: money(a) })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn tiers_never_offer_above_max_amount(tiers in tiers_strategy(), centi in 0..=100_000i32, max in 1..3_000_000i64) {
            if let Some(offer) = tier_offer(&tiers, money(max), Some(score(centi))) {
                prop_assert!(offer <= money(max));
            }
        }

        #[test]
        fn a_higher_score_never_lowers_the_offer(tiers in tiers_strategy(), a in 0..=100_000i32, b in 0..=100_000i32) {
            let (low, high) = (a.min(b), a.max(b));
            let rules = Eligibility::default();
            let low_offer = judge(&rules, &tiers, &applicant(standing(low, 5, 5_000))).offer();
            let high_offer = judge(&rules, &tiers, &applicant(standing(high, 5, 5_000))).offer();
            if let Some(low_offer) = low_offer {
                prop_assert!(high_offer.is_some_and(|h| h >= low_offer));
            }
        }
    }
}
