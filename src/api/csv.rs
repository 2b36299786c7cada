//! A `text/csv` payload, for score imports and statistics exports.

use poem::{FromRequest, IntoResponse, Request, RequestBody, Response};
use poem_openapi::{
    payload::{ParsePayload, Payload},
    registry::MetaSchemaRef,
    types::Type,
};

use super::error::{ApiError, ErrorCode};

/// CSV text, UTF-8. A leading byte-order mark is dropped when reading and written when answering,
/// so that spreadsheets open Chinese names intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csv(pub String);

const BOM: &str = "\u{feff}";

impl Payload for Csv {
    const CONTENT_TYPE: &'static str = "text/csv; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "text" && m.subtype() == "csv")
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }
}

impl ParsePayload for Csv {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = Vec::<u8>::from_request(request, body).await?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ApiError::bad_request(ErrorCode::MalformedBody, "the CSV is not UTF-8 text"))?;
        Ok(Self(text.strip_prefix(BOM).map(str::to_owned).unwrap_or(text)))
    }
}

/// A text cell that a spreadsheet will show as text, never run as a formula: a cell that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, as OWASP advises
/// against CSV injection. Use it for every cell whose text came from a client.
pub fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

impl IntoResponse for Csv {
    fn into_response(self) -> Response {
        Response::builder().content_type(Self::CONTENT_TYPE).body(format!("{BOM}{}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(text_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        for risky in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(text_cell(risky).starts_with('\''), "{risky:?}");
        }
        assert_eq!(text_cell("招商银行"), "招商银行");
    }
}
