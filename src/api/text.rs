//! Free text from clients: trimmed, and free of control characters, which no name needs and
//! which PostgreSQL refuses to store (NUL), and of invisible formatting characters (zero-width
//! spaces, byte-order marks, bidirectional overrides), which make two names look alike or a
//! name read backwards.

use super::error::ApiError;
use crate::domain::FieldError;

/// Unicode's invisible format characters (general category Cf) that can turn up in pasted
/// text: soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width spaces and
/// joiners, bidirectional marks, embeddings, overrides and isolates, invisible operators, and
/// the byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

fn refuse_controls(field: &str, value: &str, allowed: &[char]) -> Result<(), FieldError> {
    match value.chars().find(|c| (c.is_control() || is_invisible(*c)) && !allowed.contains(c)) {
        Some(c) if c.is_control() => Err(FieldError::new(
            field,
            format!("{field} contains the control character U+{:04X}", u32::from(c)),
        )),
        Some(c) => Err(FieldError::new(
            field,
            format!("{field} contains the invisible character U+{:04X}", u32::from(c)),
        )),
        None => Ok(()),
    }
}

/// A one-line text such as a name: trimmed, not blank, no control characters.
pub fn line(field: &str, value: String) -> Result<String, ApiError> {
    line_problem(field, &value).map_err(|e| ApiError::invalid(vec![e]))
}

/// [`line`] for a caller that gathers every problem of a body before it answers.
pub fn line_problem(field: &str, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, format!("{field} must not be blank")));
    }
    refuse_controls(field, trimmed, &[])?;
    Ok(trimmed.to_owned())
}

/// A longer text such as a description: trimmed, possibly empty, with line breaks and tabs but no
/// other control characters.
pub fn paragraph(field: &str, value: String) -> Result<String, ApiError> {
    let trimmed = value.trim();
    refuse_controls(field, trimmed, &['\n', '\r', '\t']).map_err(|e| ApiError::invalid(vec![e]))?;
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_paragraphs() {
        assert_eq!(line("name", "  成都美洽网络科技有限公司 ".into()).unwrap(), "成都美洽网络科技有限公司");
        assert!(line("name", "   ".into()).is_err());
        assert!(line("name", "a\u{0}b".into()).is_err());
        assert!(line("name", "a\nb".into()).is_err());
        for invisible in ["a\u{200B}b", "\u{FEFF}name", "abc\u{202E}def"] {
            assert!(line("name", invisible.into()).is_err(), "{invisible:?}");
        }
        assert_eq!(paragraph("description", "第一行\n第二行".into()).unwrap(), "第一行\n第二行");
        assert!(paragraph("description", "x\u{7}".into()).is_err());
        assert_eq!(paragraph("description", "".into()).unwrap(), "");
    }
}
