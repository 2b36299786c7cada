//! Reading a park's score batch: every row is checked, and every bad row is reported.

use std::collections::{BTreeMap, HashMap};

use super::{FieldError, Score, Stage, Uscc};

/// The most rows one import may hold, and the most indicators one row may carry.
pub const MAX_ROWS: usize = 100_000;
pub const MAX_INDICATORS: usize = 64;
pub const MAX_INDICATOR_NAME: usize = 64;

/// A cell as it arrived: a JSON number, or text (a CSV cell or a JSON string), or any other
/// JSON value, kept as its JSON text for the message.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Number(f64),
    Text(String),
    Other(String),
}

/// One row as it arrived, before any check.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// 1-based: the first data row is 1.
    pub row: u32,
    pub uscc: String,
    pub score: Cell,
    pub stage: String,
    pub indicators: Vec<(String, Cell)>,
}

/// One checked row.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRow {
    pub row: u32,
    pub uscc: Uscc,
    pub score: Score,
    pub stage: Stage,
    pub indicators: BTreeMap<String, f64>,
}

pub(crate) fn number(cell: &Cell) -> Result<Option<f64>, String> {
    let value = match cell {
        Cell::Number(n) => *n,
        Cell::Text(t) if t.trim().is_empty() => return Ok(None),
        Cell::Text(t) => t.trim().parse::<f64>().map_err(|_| format!("{t:?} is not a number"))?,
        Cell::Other(json) => return Err(format!("{json} is not a number")),
    };
    if value.is_finite() { Ok(Some(value)) } else { Err("the number is not finite".into()) }
}

fn parse_row(raw: &RawRow, errors: &mut Vec<FieldError>) -> Option<ScoreRow> {
    let before = errors.len();
    let at = |field: &str, message: String| FieldError::at_row(raw.row, field, message);
    let uscc = Uscc::parse(&raw.uscc).map_err(|e| errors.push(at("uscc", e.to_string()))).ok();
    let score = match &raw.score {
        Cell::Number(n) => Score::from_f64(*n).map_err(|e| e.to_string()),
        Cell::Text(t) => Score::parse(t).map_err(|e| e.to_string()),
        Cell::Other(json) => Err(format!("{json} is not a number")),
    }
    .map_err(|message| errors.push(at("score", message)))
    .ok();
    let stage = Stage::parse(raw.stage.trim());
    if stage.is_none() {
        errors.push(at("stage", format!("{:?} is not a stage; use one of {}", raw.stage, Stage::names())));
    }
    if raw.indicators.len() > MAX_INDICATORS {
        errors.push(at("indicators", format!("a row has at most {MAX_INDICATORS} indicators")));
    }
    let mut indicators = BTreeMap::new();
    for (name, cell) in &raw.indicators {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_INDICATOR_NAME || name.chars().any(char::is_control)
        {
            errors.push(at(
                "indicators",
                format!("an indicator name has 1 to {MAX_INDICATOR_NAME} characters"),
            ));
            continue;
        }
        match number(cell) {
            Ok(Some(value)) => {
                indicators.insert(name.to_owned(), value);
            }
            Ok(None) => {}
            Err(message) => errors.push(at(name, format!("indicator {name}: {message}"))),
        }
    }
    if errors.len() > before {
        return None;
    }
    Some(ScoreRow { row: raw.row, uscc: uscc?, score: score?, stage: stage?, indicators })
}

/// A checked batch: the rows that passed, and every problem with the others. The batch may be
/// stored only when `errors` stays empty after the checks that need the database.
#[derive(Debug, Default)]
pub struct Batch {
    pub rows: Vec<ScoreRow>,
    pub errors: Vec<FieldError>,
}

/// Checks every row, including a USCC that appears twice. Returns `Err` only for a batch that
/// cannot be imported at all (empty, or too large).
pub fn parse_rows(raw: &[RawRow]) -> Result<Batch, Vec<FieldError>> {
    let mut errors = Vec::new();
    if raw.is_empty() {
        return Err(vec![FieldError::new("scores", "the batch has no rows")]);
    }
    if raw.len() > MAX_ROWS {
        return Err(vec![FieldError::new(
            "scores",
            format!("a batch has at most {MAX_ROWS} rows, this one {}", raw.len()),
        )]);
    }
    let mut rows = Vec::with_capacity(raw.len());
    let mut first_row_of: HashMap<Uscc, u32> = HashMap::with_capacity(raw.len());
    for raw_row in raw {
        if let Some(row) = parse_row(raw_row, &mut errors) {
            if let Some(first) = first_row_of.insert(row.uscc.clone(), row.row) {
                errors.push(FieldError::at_row(
                    row.row,
                    "uscc",
                    format!("USCC {} is also on row {first}", row.uscc),
                ));
                first_row_of.insert(row.uscc.clone(), first);
            } else {
                rows.push(row);
            }
        }
    }
    Ok(Batch { rows, errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(row: u32, uscc: &str, score: Cell, stage: &str) -> RawRow {
        RawRow { row, uscc: uscc.into(), score, stage: stage.into(), indicators: Vec::new() }
    }

    const GOOD: &str = "91350100M000100Y43";

    #[test]
    fn good_rows_parse() {
        let mut row = raw(1, GOOD, Cell::Number(88.5), "growth");
        row.indicators = vec![
            ("研发费用金额".into(), Cell::Text("1200000".into())),
            ("empty".into(), Cell::Text(String::new())),
        ];
        let batch = parse_rows(&[row]).unwrap();
        assert!(batch.errors.is_empty());
        let rows = batch.rows;
        assert_eq!(rows[0].score.centi(), 8850);
        assert_eq!(rows[0].indicators.get("研发费用金额"), Some(&1_200_000.0));
        assert!(!rows[0].indicators.contains_key("empty"));
    }

    #[test]
    fn every_bad_row_is_reported() {
        let mut bad_indicator = raw(4, GOOD, Cell::Number(1.0), "mature");
        bad_indicator.indicators = vec![("pct".into(), Cell::Other("true".into()))];
        let batch = parse_rows(&[
            raw(1, "91350100M000100Y44", Cell::Number(50.0), "growth"),
            raw(2, GOOD, Cell::Number(1200.0), "growth"),
            raw(3, GOOD, Cell::Text("7.123".into()), "teen"),
            bad_indicator,
            raw(5, GOOD, Cell::Number(10.0), "startup"),
            raw(6, GOOD, Cell::Number(10.0), "startup"),
        ])
        .unwrap();
        let errors = batch.errors;
        assert_eq!(batch.rows.len(), 1, "only row 5 passed");
        let found: Vec<(Option<u32>, &str)> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (Some(1), "uscc"),
                (Some(2), "score"),
                (Some(3), "score"),
                (Some(3), "stage"),
                (Some(4), "pct"),
                (Some(6), "uscc"),
            ]
        );
        assert!(errors[5].message.contains("also on row 5"), "{}", errors[5].message);
    }

    #[test]
    fn empty_and_oversized_batches_are_refused() {
        assert!(parse_rows(&[]).is_err());
    }
}
