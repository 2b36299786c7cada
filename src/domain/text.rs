//! Free text from clients: trimmed, and free of control characters, which no name needs and
//! which PostgreSQL refuses to store (NUL), and of invisible formatting characters (zero-width
//! spaces, byte-order marks, bidirectional overrides), which make two names look alike or a
//! name read backwards.

use super::FieldError;

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
pub fn line(field: &str, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, format!("{field} must not be blank")));
    }
    refuse_controls(field, trimmed, &[])?;
    Ok(trimmed.to_owned())
}

/// [`line`] of at most `max` characters.
pub fn line_within(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let line = line(field, value)?;
    if line.chars().count() > max {
        return Err(FieldError::new(field, format!("{field} has at most {max} characters")));
    }
    Ok(line)
}

/// An optional one-line text such as a reason: `None` when absent or blank, else [`line_within`].
pub fn optional_line(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => line_within(field, v, max).map(Some),
    }
}

/// A longer text such as a description: trimmed, possibly empty, with line breaks and tabs but no
/// other control characters.
pub fn paragraph(field: &str, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    refuse_controls(field, trimmed, &['\n', '\r', '\t'])?;
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_paragraphs() {
        assert_eq!(line("name", "  成都美洽网络科技有限公司 ").unwrap(), "成都美洽网络科技有限公司");
        assert!(line("name", "   ").is_err());
        assert!(line("name", "a\u{0}b").is_err());
        assert!(line("name", "a\nb").is_err());
        for invisible in ["a\u{200B}b", "\u{FEFF}name", "abc\u{202E}def"] {
            assert!(line("name", invisible).is_err(), "{invisible:?}");
        }
        assert!(line_within("reference", "一二三", 2).is_err());
        assert_eq!(optional_line("reason", Some("  "), 10).unwrap(), None);
        assert!(optional_line("reason", Some("E\u{0}"), 10).is_err());
        assert_eq!(paragraph("description", "第一行\n第二行").unwrap(), "第一行\n第二行");
        assert!(paragraph("description", "x\u{7}").is_err());
        assert_eq!(paragraph("description", "").unwrap(), "");
    }
}
