//! The one error shape: `{"error": {"code", "message", "details"}}`, for every error the service
//! answers, whether a handler, the request parser or the router raised it.

use poem::{IntoResponse, Response, http::StatusCode};
use poem_openapi::{
    ApiResponse, Enum, Object,
    error::{
        AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
    },
    payload::Json,
};

use crate::domain::eligibility::FailedRule;
use crate::service::Error as ServiceError;
use crate::store::{FieldError, Refusal, StoreError};

/// One failed field, import row or eligibility rule.
#[derive(Object, serde::Serialize, Clone, Debug, Default, PartialEq)]
#[oai(skip_serializing_if_is_none)]
pub struct ErrorDetail {
    /// The 1-based data row of an import (the header is row 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u32>,
    /// The input field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The eligibility rule that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What the rule requires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
    /// What the enterprise has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    pub message: String,
}

/// Every error code the service answers with. The code is stable; the message may change.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is empty or not JSON, or a CSV is not UTF-8 text.
    MalformedBody,
    /// 400: a `cursor` that this service did not give out.
    InvalidCursor,
    /// 400: an `Idempotency-Key` that is empty, longer than 255 characters or not visible ASCII.
    InvalidIdempotencyKey,
    /// 400: a request the server could not read for another reason.
    BadRequest,
    /// 401: no API key, or an unknown or revoked one.
    Unauthorized,
    /// 403: the caller's role may not do this at all.
    Forbidden,
    /// 404: no such resource or path, or one outside the caller's scope.
    NotFound,
    /// 404: the enterprise has no score yet.
    NoScore,
    /// 405: the path does not take that method.
    MethodNotAllowed,
    /// 409: a duplicate (a code, a USCC, a reference, an open application).
    Conflict,
    /// 409: the record's state does not allow the action; the message names the state.
    InvalidState,
    /// 409: a request with the same `Idempotency-Key` is still running.
    IdempotencyKeyInFlight,
    /// 413: the body is larger than the path accepts.
    PayloadTooLarge,
    /// 415: the body's content type is not one the operation accepts.
    UnsupportedMediaType,
    /// 422: a field or an import row is invalid; `details` lists each.
    ValidationFailed,
    /// 422: the enterprise fails an eligibility rule; `details` lists each failed rule.
    Ineligible,
    /// 422: the product is not published, so it takes no applications.
    ProductNotPublished,
    /// 422: approving would exceed the product's `total_quota`.
    QuotaExceeded,
    /// 422: drawing would exceed what the credit line still has available.
    ExceedsAvailable,
    /// 422: a repayment is more than it takes to settle the loan that day.
    ExceedsOutstanding,
    /// 422: a loan may not be classified better than the floor its days past due set.
    BelowFloor,
    /// 422: paying the claim would take the risk pool below zero.
    InsufficientPool,
    /// 422: paying the subsidy claim would exceed the programme's budget.
    BudgetExhausted,
    /// 422: the `Idempotency-Key` was used before for a different request.
    IdempotencyKeyReused,
    /// 500: a fault on the server; it has been logged.
    Internal,
    /// 503: the database or another service this one needs is down; retry later.
    Unavailable,
}

impl From<FailedRule> for ErrorDetail {
    fn from(f: FailedRule) -> Self {
        Self {
            rule: Some(f.rule.to_owned()),
            required: Some(f.required),
            actual: Some(f.actual),
            message: f.message,
            ..Default::default()
        }
    }
}

#[derive(Object, Clone, Debug)]
pub struct ErrorInfo {
    pub code: ErrorCode,
    /// A sentence for a person.
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

#[derive(Object, Clone, Debug)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

/// Every error status an operation can answer, each in the one error shape. The document lists,
/// for each operation, only the statuses it can answer (see `document.rs`).
#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// Malformed input: the body is empty or not JSON, the `Idempotency-Key` is unusable, or a
    /// cursor is not one this service gave out.
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

pub(crate) fn body(
    code: ErrorCode,
    message: impl Into<String>,
    details: Vec<ErrorDetail>,
) -> Json<ErrorBody> {
    Json(ErrorBody { error: ErrorInfo { code, message: message.into(), details } })
}

impl ApiError {
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::BadRequest(body(code, message, Vec::new()))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::Unauthorized(body(ErrorCode::Unauthorized, message, Vec::new()))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(body(ErrorCode::Forbidden, message, Vec::new()))
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(body(ErrorCode::NotFound, format!("{what} was not found"), Vec::new()))
    }

    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Conflict(body(code, message, Vec::new()))
    }

    pub fn payload_too_large(limit: usize) -> Self {
        let message = format!("the body is larger than the {limit} bytes this path accepts");
        Self::PayloadTooLarge(body(ErrorCode::PayloadTooLarge, message, Vec::new()))
    }

    pub fn unprocessable(code: ErrorCode, message: impl Into<String>, details: Vec<ErrorDetail>) -> Self {
        Self::Unprocessable(body(code, message, details))
    }

    /// A validation failure on one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let rows = errors.iter().filter_map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len();
        let summary = match errors.as_slice() {
            _ if rows > 0 => format!("nothing was imported: {rows} rows are invalid; see details"),
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
        Self::unprocessable(ErrorCode::ValidationFailed, summary, details)
    }

    pub fn internal() -> Self {
        Self::Internal(body(
            ErrorCode::Internal,
            "something went wrong on our side; it has been logged",
            Vec::new(),
        ))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(body(ErrorCode::Unavailable, message, Vec::new()))
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
            StoreError::NotFound => {
                Self::NotFound(body(ErrorCode::NotFound, SOMETHING_NOT_FOUND, Vec::new()))
            }
            StoreError::Conflict(message) => Self::conflict(ErrorCode::Conflict, message),
            StoreError::WrongState(message) => Self::conflict(ErrorCode::InvalidState, message),
            StoreError::Invalid(errors) => Self::invalid(errors),
            StoreError::Refused { code, message, details } => Self::unprocessable(
                match code {
                    Refusal::QuotaExceeded => ErrorCode::QuotaExceeded,
                    Refusal::ExceedsAvailable => ErrorCode::ExceedsAvailable,
                    Refusal::ExceedsOutstanding => ErrorCode::ExceedsOutstanding,
                    Refusal::BelowFloor => ErrorCode::BelowFloor,
                    Refusal::InsufficientPool => ErrorCode::InsufficientPool,
                    Refusal::BudgetExhausted => ErrorCode::BudgetExhausted,
                },
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
            StoreError::Corrupt(what) => {
                tracing::error!(what, "corrupt row");
                Self::internal()
            }
            StoreError::Db(cause) => {
                tracing::error!(error = %cause, "database error");
                Self::internal()
            }
        }
    }
}

/// The message of a 404 that does not say what was not found.
const SOMETHING_NOT_FOUND: &str = "the resource was not found";

impl ApiError {
    /// Says what was not found in a 404 that does not say it yet.
    pub fn naming(self, what: &str) -> Self {
        match self {
            Self::NotFound(body) if body.0.error.message == SOMETHING_NOT_FOUND => Self::not_found(what),
            other => other,
        }
    }
}

/// An error from a store read or a use case, with a 404 that names `what`.
pub fn not_found_as(err: impl Into<ServiceError>, what: &str) -> ApiError {
    ApiError::from(err.into()).naming(what)
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Store(err) => err.into(),
            ServiceError::Ineligible(failed) => {
                let details = failed.into_iter().map(ErrorDetail::from).collect();
                Self::unprocessable(
                    ErrorCode::Ineligible,
                    "the enterprise does not qualify for this product; see details",
                    details,
                )
            }
            ServiceError::Forbidden(message) => Self::forbidden(message),
            ServiceError::NotPublished(message) => {
                Self::unprocessable(ErrorCode::ProductNotPublished, message, Vec::new())
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
        return without_type_names(reason);
    };
    let (name, argument) = rule.split_once('(').unwrap_or((rule, ""));
    let argument = argument.strip_suffix(')').unwrap_or(argument);
    // `minimum(1, exclusive: false)`: the bound alone.
    let (bound, exclusive) = match argument.split_once(", exclusive: ") {
        Some((bound, exclusive)) => (bound, exclusive == "true"),
        None => (argument, false),
    };
    match name {
        "maxLength" => format!("{field} must have at most {bound} characters"),
        "minLength" => format!("{field} must have at least {bound} characters"),
        "pattern" => format!("{field} must match the pattern {bound}"),
        "maximum" if exclusive => format!("{field} must be less than {bound}"),
        "maximum" => format!("{field} must be at most {bound}"),
        "minimum" if exclusive => format!("{field} must be greater than {bound}"),
        "minimum" => format!("{field} must be at least {bound}"),
        "maxItems" => format!("{field} must have at most {bound} items"),
        "minItems" => format!("{field} must have at least {bound} items"),
        "uniqueItems" => format!("{field} must not repeat an item"),
        _ => format!("{field} is invalid"),
    }
}

/// A parse message without the Rust type names poem-openapi puts in it
/// (`failed to parse "NewDisbursement": ...`, `(occurred while parsing "integer_int64")`).
fn without_type_names(reason: &str) -> String {
    let mut text = reason;
    while let Some(rest) = text.strip_prefix("failed to parse \"") {
        text = rest.split_once("\": ").map_or(rest, |(_, after)| after);
    }
    let text = text.split(" (occurred while parsing").next().unwrap_or(text);
    text.trim_end_matches('.').to_owned()
}

/// A body that the strict JSON check let through but poem-openapi's parser refused: a validator
/// (length, bound, pattern) or a type's own parse rule. A 422 that names the field.
pub(crate) fn payload_error(reason: &str) -> ApiError {
    match field_in(reason) {
        Some(field) => {
            let message = readable(&field, reason);
            ApiError::invalid_field(&field, message)
        }
        None => ApiError::invalid_field("body", without_type_names(reason)),
    }
}

/// Turns any error that reached the top of the stack into the one error shape.
pub fn into_response(err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let api_error = if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        payload_error(&e.reason)
    } else if let Some(e) = err.downcast_ref::<ParseParamError>() {
        ApiError::invalid_field(e.name, readable(e.name, &e.reason))
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        ApiError::invalid_field(e.name, without_type_names(&e.reason))
    } else if err.is::<AuthorizationError>() {
        ApiError::unauthorized("send an API key as `Authorization: Bearer <key>`")
    } else if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        ApiError::UnsupportedMediaType(body(ErrorCode::UnsupportedMediaType, e.to_string(), Vec::new()))
    } else if err.is::<poem::error::NotFoundError>() {
        ApiError::NotFound(body(ErrorCode::NotFound, "there is no such path; see /docs", Vec::new()))
    } else if err.is::<poem::error::MethodNotAllowedError>() {
        let response = body(ErrorCode::MethodNotAllowed, "this path does not take that method", Vec::new());
        return (StatusCode::METHOD_NOT_ALLOWED, response).into_response();
    } else {
        let status = err.status();
        if status.is_server_error() {
            tracing::error!(error = %err, "unhandled error");
            ApiError::internal()
        } else {
            tracing::warn!(error = %err, status = status.as_u16(), "client error outside the API's own checks");
            let message = status.canonical_reason().unwrap_or("the request was refused").to_lowercase();
            return (status, body(ErrorCode::BadRequest, message, Vec::new())).into_response();
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
        assert_eq!(
            readable("code", "failed to parse \"Park\": field `code` verification failed. maxLength(64)"),
            "code must have at most 64 characters"
        );
    }

    #[test]
    fn messages_carry_no_framework_internals() {
        assert_eq!(
            readable("limit", "verification failed. minimum(1, exclusive: false)"),
            "limit must be at least 1"
        );
        assert_eq!(
            without_type_names(
                "failed to parse \"NewDisbursement\": failed to parse \"integer_int64\": invalid integer (occurred while parsing \"NewDisbursement\")"
            ),
            "invalid integer"
        );
    }
}
