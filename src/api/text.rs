//! The rules of [`crate::domain::text`], answering a handler's single field with the one error
//! shape.

use super::error::ApiError;
use crate::domain::text;

/// A one-line text such as a name: trimmed, not blank, no control characters.
pub fn line(field: &str, value: String) -> Result<String, ApiError> {
    text::line(field, &value).map_err(|e| ApiError::invalid(vec![e]))
}

/// A longer text such as a description: trimmed, possibly empty, line breaks and tabs allowed.
pub fn paragraph(field: &str, value: String) -> Result<String, ApiError> {
    text::paragraph(field, &value).map_err(|e| ApiError::invalid(vec![e]))
}
