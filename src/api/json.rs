//! `JsonBody<T>`: a JSON request body, checked against the schema the document shows for it
//! before it is parsed.
//!
//! poem-openapi's own parser is lenient where a client must not rely on it: a string field takes
//! `false` or `42` and turns them into text, and its messages name Rust types
//! (`optional_EligibilityRules`, `integer_int64`). The check here is strict about JSON types, says
//! which field is wrong in the document's terms, and reports every wrong field at once. The
//! validators (lengths, bounds, patterns) then run as before, in poem-openapi's parser.

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::{
    impl_apirequest_for_payload,
    payload::{Json, ParsePayload, Payload},
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};
use serde_json::Value;

use super::error::{ApiError, ErrorCode, payload_error};
use crate::domain::FieldError;

/// A JSON request body of type `T`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = Json::<T>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        Json::<T>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = Vec::<u8>::from_request(request, body).await?;
        let value = parse_document(&bytes)?;
        let mut registry = Registry::new();
        T::register(&mut registry);
        let mut problems = Vec::new();
        check(&registry, &T::schema_ref(), &value, "", &mut problems);
        if !problems.is_empty() {
            return Err(ApiError::invalid(problems).into());
        }
        T::parse_from_json(Some(value)).map(Self).map_err(|err| payload_error(&err.into_message()).into())
    }
}

impl_apirequest_for_payload!(JsonBody<T>, T: ParseFromJSON);

/// The body as JSON: an empty body or broken JSON is a 400.
pub fn parse_document(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            ErrorCode::MalformedBody,
            "the request body is empty; send a JSON document",
        ));
    }
    serde_json::from_slice(bytes).map_err(|err| {
        ApiError::bad_request(ErrorCode::MalformedBody, format!("the request body is not valid JSON: {err}"))
    })
}

/// What a JSON value is, in a message: `a string`, `false`, `42`, `an object`.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn expected(ty: &str, format: Option<&str>) -> String {
    match (ty, format) {
        ("string", Some("date")) => "a date (YYYY-MM-DD)".to_owned(),
        ("string", Some("date-time")) => "a timestamp (RFC 3339)".to_owned(),
        ("string", _) => "a string".to_owned(),
        ("integer", _) => "an integer".to_owned(),
        ("number", _) => "a number".to_owned(),
        ("boolean", _) => "true or false".to_owned(),
        ("array", _) => "an array".to_owned(),
        ("object", _) => "an object".to_owned(),
        (other, _) => other.to_owned(),
    }
}

fn resolve<'r>(registry: &'r Registry, schema: &'r MetaSchemaRef) -> Option<&'r MetaSchema> {
    match schema {
        MetaSchemaRef::Inline(schema) => Some(schema),
        MetaSchemaRef::Reference(name) => registry.schemas.get(name),
    }
}

fn member(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
}

fn field_name(path: &str) -> String {
    if path.is_empty() { "body".to_owned() } else { path.to_owned() }
}

/// Checks `value` against `schema`'s JSON types, enums and required members, pushing one
/// problem per wrong field.
fn check(
    registry: &Registry,
    schema: &MetaSchemaRef,
    value: &Value,
    path: &str,
    problems: &mut Vec<FieldError>,
) {
    let Some(schema) = resolve(registry, schema) else { return };
    if value.is_null() {
        if !schema.nullable {
            let field = field_name(path);
            let wanted = expected(schema.ty, schema.format);
            problems.push(FieldError::new(&field, format!("{field} must be {wanted}, not null")));
        }
        return;
    }
    for part in &schema.all_of {
        check(registry, part, value, path, problems);
    }
    let type_ok = match schema.ty {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    };
    if !type_ok {
        let field = field_name(path);
        let wanted = expected(schema.ty, schema.format);
        problems.push(FieldError::new(&field, format!("{field} must be {wanted}, not {}", shown(value))));
        return;
    }
    if let (Some("date"), Some(text)) = (schema.format, value.as_str())
        && let Err(message) = crate::domain::day::parse(text)
    {
        let field = field_name(path);
        problems.push(FieldError::new(&field, format!("{field}: {message}")));
        return;
    }
    if !schema.enum_items.is_empty() && !schema.enum_items.contains(value) {
        let field = field_name(path);
        let allowed: Vec<String> = schema
            .enum_items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        problems.push(FieldError::new(&field, format!("{field} must be one of: {}", allowed.join(", "))));
        return;
    }
    match value {
        Value::Array(items) => {
            if let Some(item_schema) = &schema.items {
                for (i, item) in items.iter().enumerate() {
                    check(registry, item_schema, item, &format!("{}[{i}]", field_name(path)), problems);
                }
            }
        }
        Value::Object(members) => {
            for required in &schema.required {
                if !members.contains_key(*required) {
                    let field = member(path, required);
                    problems.push(FieldError::new(&field, format!("{field} is required")));
                }
            }
            for (name, member_schema) in &schema.properties {
                if let Some(found) = members.get(*name) {
                    check(registry, member_schema, found, &member(path, name), problems);
                }
            }
            if let Some(values_schema) = &schema.additional_properties {
                for (name, found) in members {
                    if !schema.properties.iter().any(|(known, _)| known == name) {
                        check(registry, values_schema, found, &member(path, name), problems);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::Object;
    use serde_json::json;

    use super::*;

    #[derive(Object)]
    struct Inner {
        min_score: Option<f64>,
        tags: Vec<String>,
    }

    #[derive(Object)]
    struct Outer {
        code: String,
        count: i64,
        inner: Option<Inner>,
    }

    fn problems(value: Value) -> Vec<String> {
        let mut registry = Registry::new();
        Outer::register(&mut registry);
        let mut found = Vec::new();
        check(&registry, &Outer::schema_ref(), &value, "", &mut found);
        found.into_iter().map(|p| format!("{}: {}", p.field, p.message)).collect()
    }

    #[test]
    fn strings_take_only_strings() {
        assert_eq!(problems(json!({"code": false, "count": 1})), ["code: code must be a string, not false"]);
        assert_eq!(problems(json!({"code": 7, "count": 1})), ["code: code must be a string, not 7"]);
        assert!(problems(json!({"code": "x", "count": 1})).is_empty());
    }

    #[test]
    fn every_wrong_field_is_named_by_its_path() {
        let found = problems(json!({"count": 1.5, "inner": {"min_score": "80", "tags": ["a", 2]}}));
        assert_eq!(
            found,
            [
                "code: code is required",
                "count: count must be an integer, not 1.5",
                "inner.min_score: inner.min_score must be a number, not a string",
                "inner.tags[1]: inner.tags[1] must be a string, not 2",
            ]
        );
    }

    #[test]
    fn null_only_where_nullable() {
        assert_eq!(
            problems(json!({"code": "x", "count": 1, "inner": null})),
            ["inner: inner must be an object, not null"]
        );
        assert_eq!(problems(json!(null)), ["body: body must be an object, not null"]);
    }

    #[test]
    fn empty_and_broken_bodies_are_bad_requests() {
        assert_eq!(parse_document(b"").map_err(|e| e.status().as_u16()).err(), Some(400));
        assert_eq!(parse_document(b"  \n").map_err(|e| e.status().as_u16()).err(), Some(400));
        assert_eq!(parse_document(b"{").map_err(|e| e.status().as_u16()).err(), Some(400));
        assert!(parse_document(b"{}").is_ok());
    }
}
