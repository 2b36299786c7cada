//! Innovation scores (创新积分): exact two-decimal scores, periods, stages and park ranking.

use std::fmt;

use super::text_enum;

text_enum!(
    /// The enterprise's stage, which decides the indicator weights (初创期, 成长期, 稳定期).
    Stage { Startup => "startup", Growth => "growth", Mature => "mature" }
);

/// A score from 0.00 to 1000.00, held exactly as hundredths of a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct Score(i32);

impl TryFrom<i32> for Score {
    type Error = ScoreError;
    fn try_from(centi: i32) -> Result<Self, ScoreError> {
        Self::from_centi(centi)
    }
}

impl From<Score> for i32 {
    fn from(score: Score) -> i32 {
        score.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("a score is between 0 and 1000, got {0}")]
    OutOfRange(String),
    #[error("a score has at most two decimal places, got {0}")]
    TooPrecise(String),
}

impl Score {
    pub const MAX_CENTI: i32 = 100_000;

    pub fn from_centi(centi: i32) -> Result<Self, ScoreError> {
        if (0..=Self::MAX_CENTI).contains(&centi) {
            Ok(Self(centi))
        } else {
            Err(ScoreError::OutOfRange(format!("{}.{:02}", centi / 100, (centi % 100).abs())))
        }
    }

    /// The score nearest to `centi` hundredths within 0 to 1000.
    pub fn clamped(centi: i32) -> Self {
        Self(centi.clamp(0, Self::MAX_CENTI))
    }

    /// Parses a JSON number such as `72.5`. Values that are not exactly two decimals away from a
    /// hundredth (beyond float noise) are refused rather than rounded.
    pub fn from_f64(value: f64) -> Result<Self, ScoreError> {
        if !value.is_finite() || !(0.0..=1000.0).contains(&value) {
            return Err(ScoreError::OutOfRange(value.to_string()));
        }
        let scaled = value * 100.0;
        let centi = scaled.round();
        if (scaled - centi).abs() > 1e-6 {
            return Err(ScoreError::TooPrecise(value.to_string()));
        }
        // In range by the check above, so the cast is exact.
        Self::from_centi(centi as i32)
    }

    /// Parses text such as `72.50`, as found in a CSV cell.
    pub fn parse(text: &str) -> Result<Self, ScoreError> {
        let text = text.trim();
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 4 || !digits_only(whole) || !digits_only(frac) {
            return Err(ScoreError::OutOfRange(text.to_string()));
        }
        if frac.len() > 2 {
            return Err(ScoreError::TooPrecise(text.to_string()));
        }
        let whole: i32 = whole.parse().map_err(|_| ScoreError::OutOfRange(text.to_string()))?;
        let frac: i32 = format!("{frac:0<2}").parse().unwrap_or(0);
        Self::from_centi(whole * 100 + frac).map_err(|_| ScoreError::OutOfRange(text.to_string()))
    }

    pub fn centi(self) -> i32 {
        self.0
    }

    /// The score as a JSON number. Every hundredth below 1000 round-trips through f64's shortest
    /// representation, so `7250` becomes `72.5` and back.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A scoring period: a year (`2022`), a half (`2022-H1`, `2022-H2`), a quarter (`2022-Q1` to
/// `2022-Q4`) or a month (`2022-01` to `2022-12`), of a year from 1900 to 2200.
///
/// Periods are ordered by the last month they cover, then by the first, so that the latest
/// information comes last: `2022-Q3` < `2022` < `2022-H2` < `2022-Q4` < `2022-12`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    text: String,
    year: i32,
    first_month: u32,
    last_month: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a period is YYYY, YYYY-H1, YYYY-H2, YYYY-Q1 to YYYY-Q4, or YYYY-MM, of a year from 1900 to 2200; got {0:?}"
)]
pub struct PeriodError(pub String);

impl Period {
    pub fn parse(text: &str) -> Result<Self, PeriodError> {
        let refuse = || PeriodError(text.to_owned());
        let (year, rest) = text.split_at_checked(4).ok_or_else(refuse)?;
        if !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        let year: i32 = year.parse().map_err(|_| refuse())?;
        if !(1900..=2200).contains(&year) {
            return Err(refuse());
        }
        let (first_month, last_month) = match rest {
            "" => (1, 12),
            "-H1" => (1, 6),
            "-H2" => (7, 12),
            "-Q1" => (1, 3),
            "-Q2" => (4, 6),
            "-Q3" => (7, 9),
            "-Q4" => (10, 12),
            month => {
                let digits = month.strip_prefix('-').filter(|m| m.len() == 2).ok_or_else(refuse)?;
                let month: u32 = digits.parse().map_err(|_| refuse())?;
                if !(1..=12).contains(&month) {
                    return Err(refuse());
                }
                (month, month)
            }
        };
        Ok(Self { text: text.to_owned(), year, first_month, last_month })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A key that sorts as text in the periods' order: `YYYY-<last month>-<first month>`. It is
    /// stored beside each score, so that "the latest period" is one indexed `ORDER BY`.
    pub fn key(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.last_month, self.first_month)
    }
}

impl Ord for Period {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.year, self.last_month, self.first_month).cmp(&(other.year, other.last_month, other.first_month))
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// An enterprise's place in its park for one period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    /// Competition rank: ties share a rank and the next rank skips (1, 2, 2, 4).
    pub rank: i32,
    pub park_size: i32,
    /// The share of the park ranked at or below this enterprise, in hundredths of a percent:
    /// the best is 100.00, the last of 4 is 25.00.
    pub percentile_centi: i32,
}

/// Ranks scores, best first. Returns one standing per input, in input order.
pub fn rank(scores: &[Score]) -> Vec<Standing> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].cmp(&scores[a]));
    let park_size = i32::try_from(scores.len()).unwrap_or(i32::MAX);
    let mut standings = vec![Standing { rank: 0, park_size, percentile_centi: 0 }; scores.len()];
    let mut rank = 0;
    let mut previous: Option<Score> = None;
    for (position, &index) in order.iter().enumerate() {
        if previous != Some(scores[index]) {
            rank = i32::try_from(position + 1).unwrap_or(i32::MAX);
            previous = Some(scores[index]);
        }
        let at_or_below = i64::from(park_size) - i64::from(rank) + 1;
        let percentile_centi = (at_or_below * 10_000 / i64::from(park_size.max(1))) as i32;
        standings[index] = Standing { rank, park_size, percentile_centi };
    }
    standings
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(centi: i32) -> Score {
        Score::from_centi(centi).unwrap()
    }

    #[test]
    fn scores_parse_exactly() {
        assert_eq!(Score::from_f64(72.5).unwrap().centi(), 7250);
        assert_eq!(Score::from_f64(0.07).unwrap().centi(), 7);
        assert_eq!(Score::from_f64(1000.0).unwrap().centi(), 100_000);
        assert!(matches!(Score::from_f64(1000.01), Err(ScoreError::OutOfRange(_))));
        assert!(matches!(Score::from_f64(-0.01), Err(ScoreError::OutOfRange(_))));
        assert!(matches!(Score::from_f64(72.555), Err(ScoreError::TooPrecise(_))));
        assert!(Score::from_f64(f64::NAN).is_err());
        assert_eq!(Score::parse("72.50").unwrap().centi(), 7250);
        assert_eq!(Score::parse("8").unwrap().centi(), 800);
        assert_eq!(Score::parse("8.1").unwrap().centi(), 810);
        assert!(Score::parse("8.123").is_err());
        assert!(Score::parse("abc").is_err());
        assert!(Score::parse("-1").is_err());
        assert!(Score::parse("1000.01").is_err());
        assert_eq!(s(7250).to_string(), "72.50");
    }

    #[test]
    fn periods() {
        assert!(Period::parse("2022").is_ok());
        assert!(Period::parse("2022-Q3").is_ok());
        assert!(Period::parse("22").is_err());
        assert!(Period::parse("Q3-2022").is_err());
        assert!(Period::parse("2022 H1").is_err());
        for bad in [
            "2022H1",
            "2022-Q5",
            "2022-13",
            "2022-1",
            "2022-H3",
            "1899",
            "2201-Q1",
            "+2022",
            "2022-",
            "２０２２",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn periods_order_by_what_they_cover() {
        let mut periods: Vec<Period> =
            ["2022-12", "2022", "2022-H1", "2021", "2022-Q3", "2022-H2", "2022-Q4", "2022-01"]
                .iter()
                .map(|p| Period::parse(p).unwrap())
                .collect();
        periods.sort();
        let order: Vec<&str> = periods.iter().map(Period::as_str).collect();
        assert_eq!(order, ["2021", "2022-01", "2022-H1", "2022-Q3", "2022", "2022-H2", "2022-Q4", "2022-12"]);
        let keys: Vec<String> = periods.iter().map(Period::key).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "the stored key sorts as the periods do");
    }

    #[test]
    fn ties_share_a_rank() {
        let standings = rank(&[s(9000), s(8000), s(8000), s(7000)]);
        let ranks: Vec<i32> = standings.iter().map(|s| s.rank).collect();
        assert_eq!(ranks, vec![1, 2, 2, 4]);
        assert_eq!(standings[0].percentile_centi, 10_000);
        assert_eq!(standings[3].percentile_centi, 2_500);
        assert!(standings.iter().all(|s| s.park_size == 4));
    }

    #[test]
    fn ranks_follow_input_order() {
        let ranks: Vec<i32> = rank(&[s(1), s(3), s(2)]).iter().map(|s| s.rank).collect();
        assert_eq!(ranks, vec![3, 1, 2]);
        assert!(rank(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn f64_round_trip(centi in 0..=100_000i32) {
            prop_assert_eq!(Score::from_f64(s(centi).as_f64()).unwrap(), s(centi));
            prop_assert_eq!(Score::parse(&s(centi).to_string()).unwrap(), s(centi));
        }

        #[test]
        fn higher_scores_never_rank_lower(centis in proptest::collection::vec(0..1000i32, 1..50)) {
            let scores: Vec<Score> = centis.iter().map(|&c| s(c)).collect();
            let standings = rank(&scores);
            for i in 0..scores.len() {
                for j in 0..scores.len() {
                    if scores[i] > scores[j] { prop_assert!(standings[i].rank < standings[j].rank); }
                    if scores[i] == scores[j] { prop_assert_eq!(standings[i].rank, standings[j].rank); }
                }
            }
        }
    }
}

/// An enterprise's score for one period, with its standing in the park. This is what the score
/// cache holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnterpriseScore {
    pub enterprise_id: i64,
    pub park_id: i64,
    pub period: String,
    pub score: Score,
    pub stage: Stage,
    pub rank: i32,
    pub park_size: i32,
    pub percentile_centi: i32,
    /// Rank, cohort size and percentile among the park's enterprises of the same stage.
    pub stage_rank: i32,
    pub stage_size: i32,
    pub stage_percentile_centi: i32,
    pub indicators: std::collections::BTreeMap<String, f64>,
    pub imported_at: chrono::DateTime<chrono::Utc>,
    /// The model that computed the score, and how; `None` and empty for an imported score.
    pub model: Option<ModelRef>,
    pub breakdown: Vec<super::score_model::Contribution>,
}

/// A score model's id and version within its park.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelRef {
    pub id: i64,
    pub version: i32,
}

impl EnterpriseScore {
    pub fn standing(&self) -> super::eligibility::Standing {
        super::eligibility::Standing {
            score: self.score,
            rank: self.rank,
            percentile_centi: self.percentile_centi,
            stage: self.stage,
            stage_percentile_centi: self.stage_percentile_centi,
        }
    }
}
