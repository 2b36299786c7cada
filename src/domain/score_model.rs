//! Score models (识): how a park turns an enterprise's indicators into its innovation score.
//!
//! A model is data, not code: a list of indicators, each scored to 0–100 points by **bands**
//! (thresholds to points, as the high-tech enterprise certification scores) or by **min–max**
//! (normalised within the stage's cohort in that period), and per stage a weight for each
//! indicator. The weights of a stage sum to 1, so the score, the weighted sum of the points, runs
//! from 0 to 100. Models are versioned per park; once a model has scored a period it never
//! changes (a change is a new version), so every stored score can be explained by the model that
//! made it.
//!
//! [`default_model`] is the Guidelines' 18 indicators (1.0) with this service's documented
//! default thresholds and weights (the published weight tables are not public): technology counts
//! most for start-ups (60%), growth most for mature firms (50%), auxiliary indicators 15% at
//! every stage.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{FieldError, Score, Stage, score_import::Cell, text_enum};

text_enum!(
    /// An indicator's group in the Guidelines: 技术创新 (technology), 成长经营 (growth), 辅助 (auxiliary).
    IndicatorGroup { Technology => "technology", Growth => "growth", Auxiliary => "auxiliary" }
);

text_enum!(
    /// Whether more of the indicator is better (R&D expense) or less (a defect rate).
    Direction { HigherBetter => "higher_better", LowerBetter => "lower_better" }
);

text_enum!(
    /// How a model adds up its points: each indicator's points (0–100) times its stage weight,
    /// summed. The only method so far; it is named so that later methods (bonus indicators above
    /// 100, as in the Torch Center's 2.0) can be added without changing what a stored model means.
    ScoringMethod { WeightedSum => "weighted_sum" }
);

/// The most indicators a model may have, bands an indicator, and characters in a code.
pub const MAX_INDICATORS: usize = 64;
pub const MAX_BANDS: usize = 20;
pub const MAX_CODE: usize = 32;
pub const MAX_NAME: usize = 64;
pub const MAX_UNIT: usize = 16;
/// The largest magnitude an indicator value may have: far above any real figure (10¹⁵ 万元),
/// and small enough that every computation stays finite.
pub const MAX_VALUE: f64 = 1e15;
/// How far a stage's weights may sum from 1.
const WEIGHT_TOLERANCE: f64 = 1e-6;

/// From `min` up (to the next band's `min`), an indicator earns `points`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub min: f64,
    pub points: f64,
}

/// How an indicator's value becomes points from 0 to 100.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// The points of the highest band whose `min` the value reaches; 0 below the first band.
    /// Bands ascend by `min`; their points rise for a `higher_better` indicator and fall for a
    /// `lower_better` one.
    Bands(Vec<Band>),
    /// 100 × (value − min) ÷ (max − min) within the stage's cohort in the period (reversed for
    /// `lower_better`); an indicator on which the whole cohort is equal tells no one apart and
    /// earns 0.
    MinMax,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// The column name in an import: lower-case letters, digits and `_`.
    pub code: String,
    pub name: String,
    pub group: IndicatorGroup,
    pub unit: String,
    pub direction: Direction,
    /// A required indicator must have a value in every row; a missing optional one earns 0.
    pub required: bool,
    pub scoring: Scoring,
}

/// A model's content: what a park writes and what scores are computed by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDefinition {
    pub method: ScoringMethod,
    pub indicators: Vec<Indicator>,
    /// Per stage, indicator code → weight; an indicator a stage leaves out weighs 0 there.
    pub stage_weights: BTreeMap<Stage, BTreeMap<String, f64>>,
}

fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && code.as_bytes()[0].is_ascii_lowercase()
}

/// Codes an import's own columns use, which no indicator may take.
const RESERVED: [&str; 3] = ["uscc", "stage", "score"];

impl ModelDefinition {
    /// Checks every rule and reports every broken one, each at its field
    /// (`indicators[2].scoring.bands[1].points`, `stage_weights.startup`).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.indicators.is_empty() || self.indicators.len() > MAX_INDICATORS {
            errors.push(FieldError::new(
                "indicators",
                format!("a model has 1 to {MAX_INDICATORS} indicators, this one {}", self.indicators.len()),
            ));
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, indicator) in self.indicators.iter().enumerate() {
            let at = |field: &str| format!("indicators[{i}].{field}");
            if !is_code(&indicator.code) || RESERVED.contains(&indicator.code.as_str()) {
                errors.push(FieldError::new(
                    at("code"),
                    format!(
                        "{:?} is not an indicator code: 1 to {MAX_CODE} lower-case letters, digits and _, starting with a letter, and not uscc, stage or score",
                        indicator.code
                    ),
                ));
            } else if let Some(first) = seen.insert(&indicator.code, i) {
                errors.push(FieldError::new(
                    at("code"),
                    format!("code {} is also indicators[{first}]'s", indicator.code),
                ));
            }
            if let Err(e) = super::text::line_within(&at("name"), &indicator.name, MAX_NAME) {
                errors.push(e);
            }
            if let Err(e) = super::text::optional_line(&at("unit"), Some(&indicator.unit), MAX_UNIT) {
                errors.push(e);
            }
            if let Scoring::Bands(bands) = &indicator.scoring {
                check_bands(bands, indicator.direction, &at("scoring.bands"), &mut errors);
            }
        }
        for stage in Stage::ALL {
            let field = format!("stage_weights.{stage}");
            let Some(weights) = self.stage_weights.get(stage) else {
                errors.push(FieldError::new(field, format!("weights for the {stage} stage are required")));
                continue;
            };
            let mut sum = 0.0;
            for (code, &weight) in weights {
                if !seen.contains_key(code.as_str()) {
                    errors.push(FieldError::new(
                        format!("{field}.{code}"),
                        format!("{code} is not one of the model's indicators"),
                    ));
                }
                if !weight.is_finite() || !(0.0..=1.0).contains(&weight) {
                    errors.push(FieldError::new(format!("{field}.{code}"), "a weight is from 0 to 1"));
                } else {
                    sum += weight;
                }
            }
            if (sum - 1.0).abs() > WEIGHT_TOLERANCE {
                errors.push(FieldError::new(field, format!("the {stage} weights sum to {sum}, not 1")));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }

    fn weight(&self, stage: Stage, code: &str) -> f64 {
        self.stage_weights.get(&stage).and_then(|w| w.get(code)).copied().unwrap_or(0.0)
    }
}

fn check_bands(bands: &[Band], direction: Direction, field: &str, errors: &mut Vec<FieldError>) {
    if bands.is_empty() || bands.len() > MAX_BANDS {
        errors.push(FieldError::new(field, format!("bands scoring has 1 to {MAX_BANDS} bands")));
        return;
    }
    for (k, band) in bands.iter().enumerate() {
        if !band.min.is_finite() {
            errors.push(FieldError::new(format!("{field}[{k}].min"), "min is a finite number"));
        }
        if !band.points.is_finite() || !(0.0..=100.0).contains(&band.points) {
            errors.push(FieldError::new(format!("{field}[{k}].points"), "points are from 0 to 100"));
        }
        if k == 0 {
            continue;
        }
        let before = bands[k - 1];
        if band.min.partial_cmp(&before.min) != Some(std::cmp::Ordering::Greater) {
            errors.push(FieldError::new(
                format!("{field}[{k}].min"),
                "bands ascend strictly by min".to_string(),
            ));
        }
        let (rises, falls) = (band.points >= before.points, band.points <= before.points);
        match direction {
            Direction::HigherBetter if !rises => errors.push(FieldError::new(
                format!("{field}[{k}].points"),
                "a higher_better indicator's points do not fall as its value rises",
            )),
            Direction::LowerBetter if !falls => errors.push(FieldError::new(
                format!("{field}[{k}].points"),
                "a lower_better indicator's points do not rise as its value rises",
            )),
            _ => {}
        }
    }
}

/// One indicator's part in a computed score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub indicator: String,
    /// The indicator's name and group in the model, so that a breakdown reads on its own.
    #[serde(default)]
    pub name: String,
    #[serde(default = "technology")]
    pub group: IndicatorGroup,
    #[serde(default)]
    pub unit: String,
    /// The value as imported; `None` for an optional indicator left empty.
    pub value: Option<f64>,
    /// 0 to 100.
    pub points: f64,
    /// The stage's weight of the indicator.
    pub weight: f64,
    /// points × weight: the contributions sum to the score.
    pub contribution: f64,
}

fn technology() -> IndicatorGroup {
    IndicatorGroup::Technology
}

/// One enterprise's input to a computation: its stage and its values by indicator code.
#[derive(Clone, Debug, PartialEq)]
pub struct Values {
    pub stage: Stage,
    pub values: BTreeMap<String, f64>,
}

/// A computed score and how it was reached.
#[derive(Clone, Debug, PartialEq)]
pub struct Computed {
    pub score: Score,
    pub breakdown: Vec<Contribution>,
}

/// Rounds to 4 decimals for display: 18 rounded contributions still sum to the score within 0.01.
fn shown(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn band_points(bands: &[Band], value: f64) -> f64 {
    bands.iter().take_while(|b| value >= b.min).last().map_or(0.0, |b| b.points)
}

/// Scores a period's cohort with `model`, in row order. Min–max indicators are normalised within
/// each stage's rows of this computation, so the whole period is computed at once.
pub fn compute(model: &ModelDefinition, rows: &[Values]) -> Vec<Computed> {
    // (stage, code) → (min, max) over the rows that have a value.
    let mut ranges: HashMap<(Stage, &str), (f64, f64)> = HashMap::new();
    for indicator in model.indicators.iter().filter(|i| i.scoring == Scoring::MinMax) {
        for row in rows {
            if let Some(&v) = row.values.get(&indicator.code) {
                ranges
                    .entry((row.stage, indicator.code.as_str()))
                    .and_modify(|(lo, hi)| {
                        *lo = lo.min(v);
                        *hi = hi.max(v);
                    })
                    .or_insert((v, v));
            }
        }
    }
    rows.iter()
        .map(|row| {
            let mut total = 0.0;
            let breakdown = model
                .indicators
                .iter()
                .map(|indicator| {
                    let value = row.values.get(&indicator.code).copied();
                    let points = value.map_or(0.0, |v| match &indicator.scoring {
                        Scoring::Bands(bands) => band_points(bands, v),
                        Scoring::MinMax => {
                            let (lo, hi) =
                                ranges.get(&(row.stage, indicator.code.as_str())).copied().unwrap_or((v, v));
                            if hi > lo {
                                let share = match indicator.direction {
                                    Direction::HigherBetter => (v - lo) / (hi - lo),
                                    Direction::LowerBetter => (hi - v) / (hi - lo),
                                };
                                100.0 * share
                            } else {
                                0.0
                            }
                        }
                    });
                    let points = if points.is_finite() { points } else { 0.0 };
                    let weight = model.weight(row.stage, &indicator.code);
                    let contribution = points * weight;
                    total += contribution;
                    Contribution {
                        indicator: indicator.code.clone(),
                        name: indicator.name.clone(),
                        group: indicator.group,
                        unit: indicator.unit.clone(),
                        value,
                        points: shown(points),
                        weight,
                        contribution: shown(contribution),
                    }
                })
                .collect();
            // Weights sum to 1 and points are at most 100, so the total is within 0–100 but for
            // float noise; rounding half up to the hundredth, as scores are kept.
            let centi = (total * 100.0).round();
            let score = Score::clamped(if centi.is_finite() { centi as i32 } else { 0 });
            Computed { score, breakdown }
        })
        .collect()
}

/// One row of an indicator-values import as it arrived.
#[derive(Clone, Debug, PartialEq)]
pub struct RawValues {
    /// 1-based.
    pub row: u32,
    pub uscc: String,
    pub stage: String,
    pub values: Vec<(String, Cell)>,
}

/// Checks a row's stage and values against the model: every value a number, every code one of
/// the model's, every required indicator present. Every problem is reported at its row.
pub fn check_row(model: &ModelDefinition, raw: &RawValues, errors: &mut Vec<FieldError>) -> Option<Values> {
    let before = errors.len();
    let stage = Stage::parse(raw.stage.trim());
    if stage.is_none() {
        errors.push(FieldError::at_row(
            raw.row,
            "stage",
            format!("{:?} is not a stage; use one of {}", raw.stage, Stage::names()),
        ));
    }
    let mut values = BTreeMap::new();
    let mut unreadable = Vec::new();
    for (code, cell) in &raw.values {
        if model.indicator(code).is_none() {
            errors.push(FieldError::at_row(
                raw.row,
                code.clone(),
                format!("{code:?} is not an indicator of the park's active model"),
            ));
            continue;
        }
        if raw.values.iter().filter(|(c, _)| c == code).count() > 1 {
            if !unreadable.contains(&code.as_str()) {
                unreadable.push(code.as_str());
                errors.push(FieldError::at_row(raw.row, code.clone(), format!("{code} is given twice")));
            }
            continue;
        }
        match super::score_import::number(cell) {
            Ok(Some(value)) if value.abs() > MAX_VALUE => {
                unreadable.push(code.as_str());
                errors.push(FieldError::at_row(
                    raw.row,
                    code.clone(),
                    format!("{code}: {value} is out of range; a value is within ±{MAX_VALUE}"),
                ));
            }
            Ok(Some(value)) => {
                values.insert(code.clone(), value);
            }
            Ok(None) => {}
            Err(message) => {
                unreadable.push(code.as_str());
                errors.push(FieldError::at_row(raw.row, code.clone(), format!("{code}: {message}")));
            }
        }
    }
    for indicator in model.indicators.iter().filter(|i| i.required) {
        if !values.contains_key(&indicator.code) && !unreadable.contains(&indicator.code.as_str()) {
            errors.push(FieldError::at_row(
                raw.row,
                indicator.code.clone(),
                format!("{} ({}) is required", indicator.code, indicator.name),
            ));
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(Values { stage: stage?, values })
}

text_enum!(
    /// A model's place in its park: a `draft` never used to score; the park's one `active` model,
    /// which scores indicator values; an `inactive` one, active before.
    ModelStatus { Draft => "draft", Active => "active", Inactive => "inactive" }
);

/// A park's score model, one version.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreModel {
    pub id: i64,
    pub park_id: i64,
    pub version: i32,
    pub name: String,
    pub status: ModelStatus,
    pub definition: ModelDefinition,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub activated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it first scored a period; from then on it is immutable.
    pub used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The most characters in a model's name.
pub const MAX_MODEL_NAME: usize = 128;

/// Checks a model's name.
pub fn check_name(name: &str) -> Result<String, FieldError> {
    super::text::line_within("name", name, MAX_MODEL_NAME)
}

/// A checked row of an indicator-values import.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedRow {
    pub row: u32,
    pub uscc: super::Uscc,
    pub values: Values,
}

/// Checks every row of an indicator-values import against the model, including a USCC that
/// appears twice, and reports every problem. All or nothing: any error refuses the batch.
pub fn check_rows(model: &ModelDefinition, raw: &[RawValues]) -> Result<Vec<CheckedRow>, Vec<FieldError>> {
    use super::score_import::MAX_ROWS;
    if raw.is_empty() {
        return Err(vec![FieldError::new("rows", "the batch has no rows")]);
    }
    if raw.len() > MAX_ROWS {
        return Err(vec![FieldError::new(
            "rows",
            format!("a batch has at most {MAX_ROWS} rows, this one {}", raw.len()),
        )]);
    }
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(raw.len());
    let mut first_row_of: HashMap<super::Uscc, u32> = HashMap::with_capacity(raw.len());
    for r in raw {
        let uscc = super::Uscc::parse(&r.uscc)
            .map_err(|e| errors.push(FieldError::at_row(r.row, "uscc", e.to_string())))
            .ok();
        let values = check_row(model, r, &mut errors);
        let (Some(uscc), Some(values)) = (uscc, values) else { continue };
        if let Some(&first) = first_row_of.get(&uscc) {
            errors.push(FieldError::at_row(r.row, "uscc", format!("USCC {uscc} is also on row {first}")));
            continue;
        }
        first_row_of.insert(uscc.clone(), r.row);
        rows.push(CheckedRow { row: r.row, uscc, values });
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

struct DefaultIndicator {
    code: &'static str,
    name: &'static str,
    group: IndicatorGroup,
    unit: &'static str,
    /// (min, points)
    bands: &'static [(f64, f64)],
    /// Percent of the score at the start-up, growth and mature stages.
    weights: [u8; 3],
}

use IndicatorGroup::{Auxiliary, Growth, Technology};

/// The Guidelines' 18 indicators with this service's default thresholds and weights. Money is in
/// 万元 (10,000 yuan), shares and growth rates in percent. Per stage the groups weigh:
///
/// | stage | technology | growth | auxiliary |
/// |---|---|---|---|
/// | startup 初创 | 60% | 25% | 15% |
/// | growth 成长 | 45% | 40% | 15% |
/// | mature 稳定 | 35% | 50% | 15% |
const DEFAULT_INDICATORS: [DefaultIndicator; 18] = [
    DefaultIndicator {
        code: "rd_expense",
        name: "研发费用金额",
        group: Technology,
        unit: "万元",
        bands: &[(0.0, 0.0), (50.0, 20.0), (100.0, 40.0), (300.0, 60.0), (500.0, 80.0), (1000.0, 100.0)],
        weights: [8, 7, 6],
    },
    DefaultIndicator {
        code: "rd_expense_growth",
        name: "研发费用增速",
        group: Technology,
        unit: "%",
        bands: &[(0.0, 20.0), (10.0, 40.0), (20.0, 60.0), (30.0, 80.0), (50.0, 100.0)],
        weights: [8, 6, 4],
    },
    DefaultIndicator {
        code: "rd_revenue_share",
        name: "研发费用占营业收入比例",
        group: Technology,
        unit: "%",
        bands: &[(3.0, 20.0), (4.0, 40.0), (5.0, 60.0), (10.0, 80.0), (15.0, 100.0)],
        weights: [10, 8, 6],
    },
    DefaultIndicator {
        code: "st_staff_share",
        name: "科技人员占比",
        group: Technology,
        unit: "%",
        bands: &[(10.0, 40.0), (20.0, 60.0), (30.0, 80.0), (50.0, 100.0)],
        weights: [10, 6, 4],
    },
    DefaultIndicator {
        code: "invention_patents",
        name: "发明专利申请量",
        group: Technology,
        unit: "件",
        bands: &[(1.0, 40.0), (2.0, 60.0), (4.0, 80.0), (6.0, 100.0)],
        weights: [12, 9, 8],
    },
    DefaultIndicator {
        code: "pct_applications",
        name: "PCT专利申请量",
        group: Technology,
        unit: "件",
        bands: &[(1.0, 60.0), (2.0, 80.0), (3.0, 100.0)],
        weights: [4, 3, 3],
    },
    DefaultIndicator {
        code: "tech_contract_turnover",
        name: "技术合同成交额",
        group: Technology,
        unit: "万元",
        bands: &[(10.0, 40.0), (50.0, 60.0), (100.0, 80.0), (500.0, 100.0)],
        weights: [8, 6, 4],
    },
    DefaultIndicator {
        code: "high_tech_revenue",
        name: "高新技术产品收入",
        group: Growth,
        unit: "万元",
        bands: &[(100.0, 20.0), (500.0, 40.0), (1000.0, 60.0), (5000.0, 80.0), (10000.0, 100.0)],
        weights: [4, 7, 10],
    },
    DefaultIndicator {
        code: "revenue",
        name: "营业收入",
        group: Growth,
        unit: "万元",
        bands: &[(100.0, 20.0), (1000.0, 40.0), (5000.0, 60.0), (10000.0, 80.0), (50000.0, 100.0)],
        weights: [3, 5, 10],
    },
    DefaultIndicator {
        code: "revenue_growth",
        name: "营业收入增长率",
        group: Growth,
        unit: "%",
        bands: &[(0.0, 20.0), (10.0, 40.0), (20.0, 60.0), (30.0, 80.0), (50.0, 100.0)],
        weights: [8, 10, 8],
    },
    DefaultIndicator {
        code: "postgraduate_share",
        name: "研究生以上人员占比",
        group: Growth,
        unit: "%",
        bands: &[(5.0, 40.0), (10.0, 60.0), (20.0, 80.0), (30.0, 100.0)],
        weights: [5, 6, 6],
    },
    DefaultIndicator {
        code: "rd_tax_relief",
        name: "研发费用加计扣除所得税减免额",
        group: Growth,
        unit: "万元",
        bands: &[(10.0, 40.0), (50.0, 60.0), (100.0, 80.0), (300.0, 100.0)],
        weights: [3, 6, 8],
    },
    DefaultIndicator {
        code: "return_on_net_assets",
        name: "净资产利润率",
        group: Growth,
        unit: "%",
        bands: &[(0.0, 20.0), (5.0, 40.0), (10.0, 60.0), (15.0, 80.0), (20.0, 100.0)],
        weights: [2, 6, 8],
    },
    DefaultIndicator {
        code: "graduates_hired",
        name: "吸纳应届毕业生人数",
        group: Auxiliary,
        unit: "人",
        bands: &[(1.0, 40.0), (5.0, 60.0), (10.0, 80.0), (20.0, 100.0)],
        weights: [3, 3, 3],
    },
    DefaultIndicator {
        code: "rd_platforms",
        name: "省级及以上研发平台",
        group: Auxiliary,
        unit: "个",
        bands: &[(1.0, 80.0), (2.0, 100.0)],
        weights: [3, 3, 3],
    },
    DefaultIndicator {
        code: "st_awards",
        name: "省级及以上科技奖励",
        group: Auxiliary,
        unit: "项",
        bands: &[(1.0, 80.0), (2.0, 100.0)],
        weights: [3, 3, 3],
    },
    DefaultIndicator {
        code: "st_plan_projects",
        name: "省级及以上科技计划项目",
        group: Auxiliary,
        unit: "项",
        bands: &[(1.0, 60.0), (2.0, 80.0), (3.0, 100.0)],
        weights: [3, 3, 3],
    },
    DefaultIndicator {
        code: "venture_capital",
        name: "获得风险投资金额",
        group: Auxiliary,
        unit: "万元",
        bands: &[(100.0, 40.0), (500.0, 60.0), (1000.0, 80.0), (5000.0, 100.0)],
        weights: [3, 3, 3],
    },
];

/// The name the default model goes by.
pub const DEFAULT_MODEL_NAME: &str = "创新积分 Guidelines 1.0 (innoloan default weights)";

/// The default model: the Guidelines' 18 indicators, scored by bands, weighted by stage as
/// documented on [`DEFAULT_INDICATORS`]. Technology and growth indicators are required;
/// auxiliary ones (awards, platforms, venture capital) may be left empty and then earn 0.
pub fn default_model() -> ModelDefinition {
    let mut stage_weights: BTreeMap<Stage, BTreeMap<String, f64>> = BTreeMap::new();
    let indicators = DEFAULT_INDICATORS
        .iter()
        .map(|d| {
            for (stage, percent) in [Stage::Startup, Stage::Growth, Stage::Mature].into_iter().zip(d.weights)
            {
                stage_weights.entry(stage).or_default().insert(d.code.to_owned(), f64::from(percent) / 100.0);
            }
            Indicator {
                code: d.code.to_owned(),
                name: d.name.to_owned(),
                group: d.group,
                unit: d.unit.to_owned(),
                direction: Direction::HigherBetter,
                required: d.group != IndicatorGroup::Auxiliary,
                scoring: Scoring::Bands(d.bands.iter().map(|&(min, points)| Band { min, points }).collect()),
            }
        })
        .collect();
    ModelDefinition { method: ScoringMethod::WeightedSum, indicators, stage_weights }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_default_model_is_valid_and_weighs_technology_first_for_start_ups() {
        let model = default_model();
        model.validate().unwrap();
        assert_eq!(model.indicators.len(), 18);
        let group_share = |stage: Stage, group: IndicatorGroup| -> f64 {
            model.indicators.iter().filter(|i| i.group == group).map(|i| model.weight(stage, &i.code)).sum()
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(group_share(Stage::Startup, Technology), 0.60));
        assert!(close(group_share(Stage::Startup, Growth), 0.25));
        assert!(close(group_share(Stage::Growth, Technology), 0.45));
        assert!(close(group_share(Stage::Growth, Growth), 0.40));
        assert!(close(group_share(Stage::Mature, Technology), 0.35));
        assert!(close(group_share(Stage::Mature, Growth), 0.50));
        for stage in Stage::ALL {
            assert!(close(group_share(*stage, Auxiliary), 0.15));
        }
    }

    fn values(stage: Stage, pairs: &[(&str, f64)]) -> Values {
        Values { stage, values: pairs.iter().map(|(c, v)| ((*c).to_owned(), *v)).collect() }
    }

    /// Three enterprises, one per stage, scored by hand with the default model. Each line is
    /// `indicator: value → band → points × weight = contribution`.
    #[test]
    fn the_default_model_by_hand() {
        let startup = values(
            Stage::Startup,
            &[
                ("rd_expense", 120.0),            // ≥100 → 40 × 0.08 = 3.20
                ("rd_expense_growth", 35.0),      // ≥30 → 80 × 0.08 = 6.40
                ("rd_revenue_share", 12.0),       // ≥10 → 80 × 0.10 = 8.00
                ("st_staff_share", 55.0),         // ≥50 → 100 × 0.10 = 10.00
                ("invention_patents", 3.0),       // ≥2 → 60 × 0.12 = 7.20
                ("pct_applications", 0.0),        // <1 → 0 × 0.04 = 0.00
                ("tech_contract_turnover", 60.0), // ≥50 → 60 × 0.08 = 4.80
                ("high_tech_revenue", 300.0),     // ≥100 → 20 × 0.04 = 0.80
                ("revenue", 800.0),               // ≥100 → 20 × 0.03 = 0.60
                ("revenue_growth", 45.0),         // ≥30 → 80 × 0.08 = 6.40
                ("postgraduate_share", 25.0),     // ≥20 → 80 × 0.05 = 4.00
                ("rd_tax_relief", 12.0),          // ≥10 → 40 × 0.03 = 1.20
                ("return_on_net_assets", -5.0),   // <0 → 0 × 0.02 = 0.00
                ("graduates_hired", 6.0),         // ≥5 → 60 × 0.03 = 1.80
                // rd_platforms, st_awards, st_plan_projects: empty → 0
                ("venture_capital", 600.0), // ≥500 → 60 × 0.03 = 1.80
            ],
        );
        // 3.20 + 6.40 + 8.00 + 10.00 + 7.20 + 0 + 4.80 = 39.60 (technology)
        // 0.80 + 0.60 + 6.40 + 4.00 + 1.20 + 0 = 13.00 (growth)
        // 1.80 + 1.80 = 3.60 (auxiliary)
        // 39.60 + 13.00 + 3.60 = 56.20
        let growth = values(
            Stage::Growth,
            &[
                ("rd_expense", 600.0),             // ≥500 → 80 × 0.07 = 5.60
                ("rd_expense_growth", 15.0),       // ≥10 → 40 × 0.06 = 2.40
                ("rd_revenue_share", 6.0),         // ≥5 → 60 × 0.08 = 4.80
                ("st_staff_share", 35.0),          // ≥30 → 80 × 0.06 = 4.80
                ("invention_patents", 5.0),        // ≥4 → 80 × 0.09 = 7.20
                ("pct_applications", 1.0),         // ≥1 → 60 × 0.03 = 1.80
                ("tech_contract_turnover", 120.0), // ≥100 → 80 × 0.06 = 4.80
                ("high_tech_revenue", 2000.0),     // ≥1000 → 60 × 0.07 = 4.20
                ("revenue", 6000.0),               // ≥5000 → 60 × 0.05 = 3.00
                ("revenue_growth", 25.0),          // ≥20 → 60 × 0.10 = 6.00
                ("postgraduate_share", 12.0),      // ≥10 → 60 × 0.06 = 3.60
                ("rd_tax_relief", 80.0),           // ≥50 → 60 × 0.06 = 3.60
                ("return_on_net_assets", 12.0),    // ≥10 → 60 × 0.06 = 3.60
                ("graduates_hired", 12.0),         // ≥10 → 80 × 0.03 = 2.40
                ("rd_platforms", 1.0),             // ≥1 → 80 × 0.03 = 2.40
                ("st_awards", 0.0),                // <1 → 0
                ("st_plan_projects", 2.0),         // ≥2 → 80 × 0.03 = 2.40
                ("venture_capital", 0.0),          // <100 → 0
            ],
        );
        // 5.60 + 2.40 + 4.80 + 4.80 + 7.20 + 1.80 + 4.80 = 31.40
        // 4.20 + 3.00 + 6.00 + 3.60 + 3.60 + 3.60 = 24.00
        // 2.40 + 2.40 + 0 + 2.40 + 0 = 7.20
        // 31.40 + 24.00 + 7.20 = 62.60
        let mature = values(
            Stage::Mature,
            &[
                ("rd_expense", 1500.0),            // ≥1000 → 100 × 0.06 = 6.00
                ("rd_expense_growth", 5.0),        // ≥0 → 20 × 0.04 = 0.80
                ("rd_revenue_share", 4.0),         // ≥4 → 40 × 0.06 = 2.40
                ("st_staff_share", 22.0),          // ≥20 → 60 × 0.04 = 2.40
                ("invention_patents", 8.0),        // ≥6 → 100 × 0.08 = 8.00
                ("pct_applications", 3.0),         // ≥3 → 100 × 0.03 = 3.00
                ("tech_contract_turnover", 600.0), // ≥500 → 100 × 0.04 = 4.00
                ("high_tech_revenue", 12000.0),    // ≥10000 → 100 × 0.10 = 10.00
                ("revenue", 30000.0),              // ≥10000 → 80 × 0.10 = 8.00
                ("revenue_growth", 8.0),           // ≥0 → 20 × 0.08 = 1.60
                ("postgraduate_share", 18.0),      // ≥10 → 60 × 0.06 = 3.60
                ("rd_tax_relief", 350.0),          // ≥300 → 100 × 0.08 = 8.00
                ("return_on_net_assets", 16.0),    // ≥15 → 80 × 0.08 = 6.40
                ("graduates_hired", 25.0),         // ≥20 → 100 × 0.03 = 3.00
                ("rd_platforms", 3.0),             // ≥2 → 100 × 0.03 = 3.00
                ("st_awards", 1.0),                // ≥1 → 80 × 0.03 = 2.40
                ("st_plan_projects", 1.0),         // ≥1 → 60 × 0.03 = 1.80
                ("venture_capital", 0.0),          // <100 → 0
            ],
        );
        // 6.00 + 0.80 + 2.40 + 2.40 + 8.00 + 3.00 + 4.00 = 26.60
        // 10.00 + 8.00 + 1.60 + 3.60 + 8.00 + 6.40 = 37.60
        // 3.00 + 3.00 + 2.40 + 1.80 + 0 = 10.20
        // 26.60 + 37.60 + 10.20 = 74.40
        let computed = compute(&default_model(), &[startup, growth, mature]);
        let scores: Vec<String> = computed.iter().map(|c| c.score.to_string()).collect();
        assert_eq!(scores, ["56.20", "62.60", "74.40"]);
        for c in &computed {
            assert_eq!(c.breakdown.len(), 18);
            let sum: f64 = c.breakdown.iter().map(|b| b.contribution).sum();
            assert!((sum - c.score.as_f64()).abs() <= 0.01, "{sum} vs {}", c.score);
        }
        let first = &computed[0].breakdown[0];
        assert_eq!((first.indicator.as_str(), first.value, first.points), ("rd_expense", Some(120.0), 40.0));
        assert!((first.weight - 0.08).abs() < 1e-12 && (first.contribution - 3.2).abs() < 1e-9);
        let platforms = computed[0].breakdown.iter().find(|b| b.indicator == "rd_platforms").unwrap();
        assert_eq!((platforms.value, platforms.points, platforms.contribution), (None, 0.0, 0.0));
    }

    fn min_max_model(direction: Direction) -> ModelDefinition {
        let weights: BTreeMap<String, f64> = [("x".to_owned(), 1.0)].into();
        ModelDefinition {
            method: ScoringMethod::WeightedSum,
            indicators: vec![Indicator {
                code: "x".into(),
                name: "x".into(),
                group: Technology,
                unit: String::new(),
                direction,
                required: true,
                scoring: Scoring::MinMax,
            }],
            stage_weights: Stage::ALL.iter().map(|s| (*s, weights.clone())).collect(),
        }
    }

    #[test]
    fn min_max_normalises_within_each_stage() {
        let rows = [
            values(Stage::Growth, &[("x", 10.0)]),
            values(Stage::Growth, &[("x", 30.0)]),
            values(Stage::Growth, &[("x", 15.0)]),
            // Alone in its stage: no spread, no points.
            values(Stage::Mature, &[("x", 1000.0)]),
        ];
        let up: Vec<i32> =
            compute(&min_max_model(Direction::HigherBetter), &rows).iter().map(|c| c.score.centi()).collect();
        // (15 − 10) ÷ (30 − 10) = 25%.
        assert_eq!(up, [0, 10_000, 2_500, 0]);
        let down: Vec<i32> =
            compute(&min_max_model(Direction::LowerBetter), &rows).iter().map(|c| c.score.centi()).collect();
        assert_eq!(down, [10_000, 0, 7_500, 0]);
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let mut model = default_model();
        let mut twin = model.indicators[0].clone();
        twin.name = "again".into();
        let mut bad = twin.clone();
        bad.code = "Bad Code".into();
        model.indicators.extend([twin, bad]);
        model.indicators[3].scoring =
            Scoring::Bands(vec![Band { min: 5.0, points: 50.0 }, Band { min: 5.0, points: 40.0 }]);
        model.stage_weights.get_mut(&Stage::Mature).unwrap().insert("nope".into(), 0.5);
        model.stage_weights.remove(&Stage::Growth);
        let fields: Vec<String> = model.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "indicators[3].scoring.bands[1].min",
                "indicators[3].scoring.bands[1].points",
                "indicators[18].code",
                "indicators[19].code",
                "stage_weights.growth",
                "stage_weights.mature.nope",
                "stage_weights.mature",
            ]
        );
    }

    #[test]
    fn rows_are_checked_against_the_model() {
        let model = default_model();
        let mut errors = Vec::new();
        let raw = RawValues {
            row: 7,
            uscc: "91350100M000100Y43".into(),
            stage: "teen".into(),
            values: vec![
                ("rd_expense".into(), Cell::Text("lots".into())),
                ("shoe_size".into(), Cell::Number(42.0)),
                ("revenue".into(), Cell::Text(String::new())),
            ],
        };
        assert!(check_row(&model, &raw, &mut errors).is_none());
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(errors.iter().all(|e| e.row == Some(7)));
        assert_eq!(&fields[..3], ["stage", "rd_expense", "shoe_size"]);
        // Every other required indicator, revenue (left empty) among them, is missing.
        assert!(fields.contains(&"revenue") && fields.contains(&"rd_expense_growth"));
        assert!(!fields.contains(&"venture_capital"), "auxiliary indicators are optional");
        // A CSV with a column twice.
        let mut errors = Vec::new();
        let twice = RawValues {
            row: 1,
            uscc: "91350100M000100Y43".into(),
            stage: "growth".into(),
            values: vec![("rd_expense".into(), Cell::Number(1.0)), ("rd_expense".into(), Cell::Number(2.0))],
        };
        assert!(check_row(&model, &twice, &mut errors).is_none());
        assert_eq!(errors.iter().filter(|e| e.field == "rd_expense").count(), 1);
        assert!(errors[0].message.contains("twice"), "{}", errors[0].message);
    }

    fn any_model() -> impl Strategy<Value = ModelDefinition> {
        // Up to six indicators, each by bands (rising) or min–max, with random weights per stage.
        let indicator = (any::<bool>(), proptest::collection::vec((0.0f64..100.0, 0.0f64..100.0), 1..6));
        (proptest::collection::vec(indicator, 1..6), proptest::collection::vec(0.01f64..1.0, 18)).prop_map(
            |(specs, raw_weights)| {
                let indicators: Vec<Indicator> = specs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (min_max, mut bands))| {
                        bands.sort_by(|a, b| a.0.total_cmp(&b.0));
                        bands.dedup_by(|a, b| a.0 == b.0);
                        let mut points: Vec<f64> = bands.iter().map(|b| b.1).collect();
                        points.sort_by(f64::total_cmp);
                        Indicator {
                            code: format!("i{i}"),
                            name: format!("i{i}"),
                            group: Technology,
                            unit: String::new(),
                            direction: Direction::HigherBetter,
                            required: false,
                            scoring: if min_max {
                                Scoring::MinMax
                            } else {
                                Scoring::Bands(
                                    bands
                                        .iter()
                                        .zip(points)
                                        .map(|(b, p)| Band { min: b.0, points: p })
                                        .collect(),
                                )
                            },
                        }
                    })
                    .collect();
                let n = indicators.len();
                let stage_weights = Stage::ALL
                    .iter()
                    .enumerate()
                    .map(|(s, stage)| {
                        let raw = &raw_weights[s * 6..s * 6 + n];
                        let sum: f64 = raw.iter().sum();
                        (*stage, (0..n).map(|i| (format!("i{i}"), raw[i] / sum)).collect())
                    })
                    .collect();
                ModelDefinition { method: ScoringMethod::WeightedSum, indicators, stage_weights }
            },
        )
    }

    proptest! {
        /// Raising one higher_better indicator of one enterprise, all else equal, never lowers
        /// its score: not by its bands, nor by moving its cohort's minimum or maximum.
        #[test]
        fn raising_a_higher_better_indicator_never_lowers_the_score(
            model in any_model(),
            cohort in proptest::collection::vec((0usize..3, proptest::collection::vec(-10.0f64..120.0, 6)), 1..8),
            who in any::<prop::sample::Index>(),
            which in any::<prop::sample::Index>(),
            raise in 0.0f64..200.0,
        ) {
            let n = model.indicators.len();
            let rows: Vec<Values> = cohort
                .iter()
                .map(|(stage, vals)| Values {
                    stage: Stage::ALL[*stage],
                    values: (0..n).map(|i| (format!("i{i}"), vals[i])).collect(),
                })
                .collect();
            let who = who.index(rows.len());
            let code = format!("i{}", which.index(n));
            let before = compute(&model, &rows)[who].score;
            let mut raised = rows.clone();
            *raised[who].values.get_mut(&code).unwrap() += raise;
            let after = compute(&model, &raised)[who].score;
            prop_assert!(after >= before, "{code} +{raise}: {before} → {after}");
        }
    }
}
