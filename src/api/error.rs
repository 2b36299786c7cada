//! The one error shape: `{"error": {"code", "message", "details"}}`, for every error the service
//! answers, whether a handler, the request parser or the router raised it.

use poem::{IntoResponse, Response, http::StatusCode};
use poem_openapi::{
    ApiResponse, Object,
    error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
    },
    payload::Json,
};

use crate::store::{FieldError, StoreError};

/// One failed field, import row or eligibility rule.
#[derive(Object, Clone, Debug, Default, PartialEq)]
#[oai(skip_serializing_if_is_none)]
pub struct ErrorDetail {
    /// The 1-based data row of an import (the header is row 0).
    pub row: Option<u32>,
    /// The input field at fault.
    pub field: Option<String>,
    /// The eligibility rule that failed.
    pub rule: Option<String>,
    /// What the rule requires.
    pub required: Option<String>,
    /// What the enterprise has.
    pub actual: Option<String>,
    pub message: String,
}

#[derive(Object, Clone, Debug)]
pub struct ErrorInfo {
    /// A stable snake_case code, such as `validation_failed` or `not_found`.
    pub code: String,
    /// A sentence for a person.
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

#[derive(Object, Clone, Debug)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

/// Every error status an operation can answer, each in the one error shape.
#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// Malformed input: the body is not JSON, or a cursor is not one this service gave out.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No API key, or an unknown or revoked one.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// The caller's role may not do this at all.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such resource, or one outside the caller's scope.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// A state conflict, a duplicate, or a request in flight with the same idempotency key.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The body is larger than this path accepts.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The body's content type is not one this operation accepts.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Validation or a business rule failed; `details` lists each failure.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// An internal error. The message never shows internals.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A service this one depends on is down; retry later.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

pub type ApiResult<T> = Result<T, ApiError>;

pub(crate) fn body(code: &str, message: impl Into<String>, details: Vec<ErrorDetail>) -> Json<ErrorBody> {
    Json(ErrorBody { error: ErrorInfo { code: code.to_owned(), message: message.into(), details } })
}

impl ApiError {
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::BadRequest(body(code, message, Vec::new()))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(body("unauthorized", message, Vec::new()))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(body("forbidden", message, Vec::new()))
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(body("not_found", format!("{what} was not found"), Vec::new()))
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::Conflict(body(code, message, Vec::new()))
    }

    pub fn payload_too_large(limit: usize) -> Self {
        let message = format!("the body is larger than the {limit} bytes this path accepts");
        Self::PayloadTooLarge(body("payload_too_large", message, Vec::new()))
    }

    pub fn unprocessable(code: &str, message: impl Into<String>, details: Vec<ErrorDetail>) -> Self {
        Self::Unprocessable(body(code, message, details))
    }

    /// A validation failure on one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let summary = match errors.as_slice() {
            [one] if one.message.contains(one.field.as_str()) => one.message.clone(),
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid; see details", many.len()),
        };
        let details = errors
            .into_iter()
            .map(|e| ErrorDetail {
                row: e.row,
                field: Some(e.field),
                message: e.message,
                ..Default::default()
            })
            .collect();
        Self::unprocessable("validation_failed", summary, details)
    }

    pub fn internal() -> Self {
        Self::Internal(body("internal", "something went wrong on our side; it has been logged", Vec::new()))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(body("unavailable", message, Vec::new()))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::not_found("the resource"),
            StoreError::Conflict(message) => Self::conflict("conflict", message),
            StoreError::WrongState(message) => Self::conflict("invalid_state", message),
            StoreError::Invalid(errors) => Self::invalid(errors),
            StoreError::Refused { code, message, details } => Self::unprocessable(
                code,
                message,
                details
                    .into_iter()
                    .map(|d| ErrorDetail {
                        row: d.row,
                        field: Some(d.field),
                        message: d.message,
                        ..Default::default()
                    })
                    .collect(),
            ),
            StoreError::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                Self::unavailable("the database is unavailable; retry shortly")
            }
            StoreError::Db(cause) => {
                tracing::error!(error = %cause, "database error");
                Self::internal()
            }
        }
    }
}

/// The field named in one of poem-openapi's parse messages, such as
/// ``failed to parse "Park": field `code` verification failed. maxLength(64)``.
fn field_in(reason: &str) -> Option<String> {
    let start = reason.rfind("field `")? + "field `".len();
    let len = reason[start..].find('`')?;
    Some(reason[start..start + len].to_owned())
}

/// Rewrites poem-openapi's validator message (``... field `code` verification failed.
/// maxLength(64)``) as a sentence.
fn readable(field: &str, reason: &str) -> String {
    let Some((_, rule)) = reason.rsplit_once("verification failed. ") else {
        return reason.to_owned();
    };
    let (name, argument) = rule.split_once('(').unwrap_or((rule, ""));
    let argument = argument.strip_suffix(')').unwrap_or(argument);
    match name {
        "maxLength" => format!("{field} must have at most {argument} characters"),
        "minLength" => format!("{field} must have at least {argument} characters"),
        "pattern" => format!("{field} must match the pattern {argument}"),
        "maximum" => format!("{field} must be at most {argument}"),
        "minimum" => format!("{field} must be at least {argument}"),
        "maxItems" => format!("{field} must have at most {argument} items"),
        "minItems" => format!("{field} must have at least {argument} items"),
        "uniqueItems" => format!("{field} must not repeat an item"),
        _ => format!("{field} is invalid: {rule}"),
    }
}

/// serde_json's syntax errors end with their position; poem-openapi's schema errors don't.
fn is_syntax_error(reason: &str) -> bool {
    let Some((_, position)) = reason.rsplit_once(" at line ") else {
        return false;
    };
    let mut parts = position.split(" column ");
    matches!((parts.next(), parts.next()), (Some(l), Some(c)) if l.parse::<u64>().is_ok() && c.parse::<u64>().is_ok())
}

/// The path of the first member of `value` that holds the JSON text `found` (such as `"root"`).
fn locate(value: &serde_json::Value, found: &str, prefix: &str) -> Option<String> {
    let members: Vec<(String, &serde_json::Value)> = match value {
        serde_json::Value::Object(map) => map.iter().map(|(k, v)| (format!("{prefix}{k}"), v)).collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{}[{i}]", prefix.trim_end_matches('.')), v))
            .collect(),
        _ => return None,
    };
    for (path, member) in &members {
        if !member.is_object()
            && !member.is_array()
            && serde_json::to_string(member).ok().as_deref() == Some(found)
        {
            return Some(path.clone());
        }
    }
    members.iter().find_map(|(path, member)| locate(member, found, &format!("{path}.")))
}

/// A body that poem-openapi could not read: broken JSON is a 400, a schema failure a 422 that
/// names the field when it can be found.
fn payload_error(reason: &str, body: Option<&[u8]>) -> ApiError {
    if is_syntax_error(reason) || reason.starts_with("EOF") {
        return ApiError::bad_request(
            "malformed_body",
            format!("the request body is not valid JSON: {reason}"),
        );
    }
    if let Some(field) = field_in(reason) {
        let message = readable(&field, reason);
        return ApiError::invalid_field(&field, message);
    }
    // `Expected input type "Role", found "root". (occurred while parsing "NewApiKey")`
    let expected_found = reason.strip_prefix("Expected input type ").and_then(|rest| {
        let (expected, rest) = rest.split_once(", found ")?;
        let found = rest.split(". (occurred").next()?;
        Some((expected.trim_matches('"').to_owned(), found.to_owned()))
    });
    match expected_found {
        Some((expected, found)) if found == "null" => {
            ApiError::invalid_field("body", format!("a required field is missing: expected a {expected}"))
        }
        Some((expected, found)) => {
            let value: Option<serde_json::Value> = body.and_then(|b| serde_json::from_slice(b).ok());
            let field = value.and_then(|v| locate(&v, &found, "")).unwrap_or_else(|| "body".to_owned());
            ApiError::invalid_field(&field, format!("{field} must be a {expected}, not {found}"))
        }
        None => ApiError::invalid_field("body", reason.to_owned()),
    }
}

/// Turns any error that reached the top of the stack into the one error shape.
pub fn into_response(err: poem::Error, request_body: Option<&[u8]>) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let api_error = if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        payload_error(&e.reason, request_body)
    } else if let Some(e) = err.downcast_ref::<ParseParamError>() {
        ApiError::invalid_field(e.name, readable(e.name, &e.reason))
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        ApiError::invalid_field(e.name, e.reason.clone())
    } else if err.is::<AuthorizationError>() {
        ApiError::unauthorized("send an API key as `Authorization: Bearer <key>`")
    } else if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        ApiError::UnsupportedMediaType(body("unsupported_media_type", e.to_string(), Vec::new()))
    } else if err.is::<poem::error::NotFoundError>() {
        ApiError::NotFound(body("not_found", "there is no such path; see /docs", Vec::new()))
    } else if err.is::<poem::error::MethodNotAllowedError>() {
        let response = body("method_not_allowed", "this path does not take that method", Vec::new());
        return (StatusCode::METHOD_NOT_ALLOWED, response).into_response();
    } else {
        let status = err.status();
        if status.is_server_error() {
            tracing::error!(error = %err, "unhandled error");
            ApiError::internal()
        } else {
            let code = status.canonical_reason().unwrap_or("error").to_ascii_lowercase().replace(' ', "_");
            return (status, body(&code, err.to_string(), Vec::new())).into_response();
        }
    };
    api_error.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_field() {
        assert_eq!(
            field_in("failed to parse \"Park\": field `code` verification failed. maxLength(64)"),
            Some("code".to_owned())
        );
        assert_eq!(field_in("expected value at line 1 column 1"), None);
        assert!(is_syntax_error("expected value at line 1 column 1"));
        assert!(!is_syntax_error("Expected input type \"Role\", found \"root\"."));
        let body = serde_json::json!({"name": "x", "role": "root", "tiers": [{"stage": "old"}]});
        assert_eq!(locate(&body, "\"root\"", ""), Some("role".to_owned()));
        assert_eq!(locate(&body, "\"old\"", ""), Some("tiers[0].stage".to_owned()));
        assert_eq!(
            readable("code", "failed to parse \"Park\": field `code` verification failed. maxLength(64)"),
            "code must have at most 64 characters"
        );
    }
}
