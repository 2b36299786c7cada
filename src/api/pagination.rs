//! List envelopes and opaque cursors.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use poem_openapi::{
    Object,
    types::{ParseFromJSON, ToJSON},
};

use super::{
    error::{ApiError, ErrorCode},
    nullable::Nullable,
};
use crate::store::{Page, scores::ScoreCursor};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 500;

pub fn default_limit() -> u64 {
    DEFAULT_LIMIT
}

/// A page of records; pass `next_cursor` back as `?cursor=` for the next page.
#[derive(Object)]
pub struct List<T: ParseFromJSON + ToJSON + Send + Sync> {
    pub items: Vec<T>,
    /// `null` on the last page.
    pub next_cursor: Nullable<String>,
}

impl<T: ParseFromJSON + ToJSON + Send + Sync> List<T> {
    pub fn from_page<R>(page: Page<R>, to_item: impl Fn(R) -> T) -> Self {
        Self {
            next_cursor: page.next_after.map(|after| encode_cursor(&after.to_string())).into(),
            items: page.items.into_iter().map(to_item).collect(),
        }
    }
}

pub fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

/// Decodes a cursor this service gave out back into its position text.
pub fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|bytes| String::from_utf8(bytes).ok()).ok_or_else(|| {
        ApiError::bad_request(ErrorCode::InvalidCursor, "the cursor is not one this service gave out")
    })
}

/// Decodes a cursor that holds the id of the last record seen.
pub fn after_id(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    cursor
        .map(|c| {
            decode_cursor(c)?.parse::<i64>().map_err(|_| {
                ApiError::bad_request(ErrorCode::InvalidCursor, "the cursor is not one this service gave out")
            })
        })
        .transpose()
}

/// An id given as a filter (`?bank_id=`): one that is not a number names no record, so it
/// matches nothing.
pub fn filter_id(raw: Option<&str>) -> Option<i64> {
    raw.map(|id| id.parse::<i64>().unwrap_or(0))
}

/// Parses a record id from a path. Ids are decimal strings; anything else names no record.
pub fn parse_id(id: &str, what: &str) -> Result<i64, ApiError> {
    id.parse::<i64>().ok().filter(|&n| n > 0).ok_or_else(|| ApiError::not_found(what))
}

/// Parses a record id given in a body: one that is not a number names no record, which is a 422 at
/// its field (`bank_ids[2]`), collected in `errors` so that every bad field is reported at once.
pub fn body_id(
    raw: &str,
    field: impl Into<String>,
    what: &str,
    errors: &mut Vec<crate::domain::FieldError>,
) -> i64 {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => id,
        _ => {
            errors.push(crate::domain::FieldError::new(field, format!("there is no {what} with id {raw:?}")));
            0
        }
    }
}

pub fn encode_score_cursor(cursor: ScoreCursor) -> String {
    encode_cursor(&format!("{}:{}", cursor.score_centi, cursor.enterprise_id))
}

/// Decodes a cursor of a best-score-first list (a ranking, a product's prospects).
pub fn score_cursor(cursor: Option<&str>) -> Result<Option<ScoreCursor>, ApiError> {
    let Some(cursor) = cursor else { return Ok(None) };
    let text = decode_cursor(cursor)?;
    let parsed = text.split_once(':').and_then(|(score, id)| {
        Some(ScoreCursor { score_centi: score.parse().ok()?, enterprise_id: id.parse().ok()? })
    });
    parsed.map(Some).ok_or_else(|| {
        ApiError::bad_request(ErrorCode::InvalidCursor, "the cursor is not one this service gave out")
    })
}
