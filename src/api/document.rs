//! The OpenAPI document as clients receive it: poem-openapi's output, made exact where the
//! generator is loose.
//!
//! - A field that refers to a named schema is a plain `$ref`. poem-openapi wraps a reference with
//!   a description in `allOf: [$ref, {description}]`, which client generators turn into a new
//!   anonymous type (or drop).
//! - A field that may be `null` is `anyOf: [{$ref}, {type: object, nullable: true, enum: [null]}]`:
//!   the OpenAPI 3.0 form that both generators (an optional model) and linters (`nullable` beside a
//!   `type`) read right. poem-openapi's `nullable` beside an `allOf` does not admit `null` under
//!   OpenAPI 3.0.3, and generators ignore it.
//! - Dates are `format: date`, not poem's `naive-date`.
//! - Each operation lists only the error statuses it can answer, says who may call it (from
//!   [`super::access::OPERATIONS`]), and `Idempotency-Key` carries its pattern.
//!
//! `innoloan openapi`, `/openapi.json`, `/openapi.yaml` and `/docs` all serve this document.

use std::sync::OnceLock;

use serde_yaml::{Mapping, Value};

use super::access;

/// The document, built once.
fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let raw = super::openapi_service().spec_yaml();
        let mut document: Value = match serde_yaml::from_str(&raw) {
            Ok(document) => document,
            // poem-openapi wrote it a moment ago; failing to read it back is a bug in this binary.
            Err(err) => panic!("poem-openapi wrote a document that does not parse: {err}"),
        };
        fix_schemas(&mut document);
        fix_operations(&mut document);
        document
    })
}

/// The document as YAML: what `openapi/openapi.yaml` holds.
pub fn yaml() -> String {
    serde_yaml::to_string(document()).unwrap_or_default()
}

/// The document as JSON.
pub fn json() -> String {
    serde_json::to_string_pretty(document()).unwrap_or_default()
}

fn key(name: &str) -> Value {
    Value::String(name.to_owned())
}

/// Walks every schema in the document, replacing wrapped references and poem's date format.
fn fix_schemas(node: &mut Value) {
    match node {
        Value::Mapping(map) => {
            if let Some(fixed) = plain_reference(map) {
                *map = fixed;
            }
            if map.get("format").and_then(Value::as_str) == Some("naive-date") {
                map.insert(key("format"), key("date"));
            }
            for (_, value) in map.iter_mut() {
                fix_schemas(value);
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(fix_schemas),
        _ => {}
    }
}

/// `{description, allOf: [{$ref}, {description}]}` → `{$ref}`; with `nullable: true`, the
/// reference or an explicit `null`.
fn plain_reference(map: &Mapping) -> Option<Mapping> {
    let members = map.get("allOf")?.as_sequence()?;
    let mut references = members.iter().filter(|m| m.get("$ref").is_some());
    let reference = references.next()?.clone();
    if references.next().is_some() {
        return None;
    }
    // Only wrappers: every other member carries words or a default, never a schema of its own.
    let decorative = |m: &Value| {
        m.as_mapping().is_some_and(|m| {
            m.keys().all(|k| matches!(k.as_str(), Some("description" | "default" | "example")))
        })
    };
    if !members.iter().filter(|m| m.get("$ref").is_none()).all(decorative) {
        return None;
    }
    let mut fixed = Mapping::new();
    if map.get("nullable").and_then(Value::as_bool) == Some(true) {
        if let Some(description) = map.get("description") {
            fixed.insert(key("description"), description.clone());
        }
        let mut null = Mapping::new();
        null.insert(key("type"), key("object"));
        null.insert(key("nullable"), Value::Bool(true));
        null.insert(key("enum"), Value::Sequence(vec![Value::Null]));
        fixed.insert(key("anyOf"), Value::Sequence(vec![reference, Value::Mapping(null)]));
    } else {
        fixed = reference.as_mapping()?.clone();
    }
    Some(fixed)
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn fix_operations(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_mapping_mut) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(path) = path.as_str() else { continue };
        let Some(item) = item.as_mapping_mut() else { continue };
        for method in METHODS {
            if let Some(operation) = item.get_mut(method).and_then(Value::as_mapping_mut) {
                fix_operation(path, method, operation);
            }
        }
    }
}

/// The error statuses an operation can answer, from what it takes and who may call it.
fn error_statuses(path: &str, method: &str, operation: &Mapping) -> Vec<u16> {
    let parameters: Vec<(&str, &str)> = operation
        .get("parameters")
        .and_then(Value::as_sequence)
        .map(|ps| {
            ps.iter().filter_map(|p| Some((p.get("name")?.as_str()?, p.get("in")?.as_str()?))).collect()
        })
        .unwrap_or_default();
    let has = |name: &str| parameters.iter().any(|(n, _)| *n == name);
    let has_body = operation.get("requestBody").is_some();
    let idempotent = has("Idempotency-Key");
    let writes = method != "get";
    let refuses_a_role = access::OPERATIONS
        .iter()
        .find(|op| op.path == path && op.method.eq_ignore_ascii_case(method))
        .is_none_or(access::Access::refuses_some_role);

    let mut statuses = vec![401, 500, 503];
    if has_body || idempotent || has("cursor") {
        statuses.push(400);
    }
    if refuses_a_role {
        statuses.push(403);
    }
    if path.contains('{') {
        statuses.push(404);
    }
    if writes {
        statuses.push(409);
    }
    if has_body {
        statuses.extend([413, 415]);
    }
    if has_body || idempotent || parameters.iter().any(|(_, place)| *place == "query") {
        statuses.push(422);
    }
    statuses.sort_unstable();
    statuses
}

fn fix_operation(path: &str, method: &str, operation: &mut Mapping) {
    let statuses = error_statuses(path, method, operation);
    if let Some(responses) = operation.get_mut("responses").and_then(Value::as_mapping_mut) {
        responses.retain(|status, _| {
            let status = status.as_str().and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
            status < 400 || statuses.contains(&status)
        });
    }
    if let Some(row) =
        access::OPERATIONS.iter().find(|op| op.path == path && op.method.eq_ignore_ascii_case(method))
    {
        let who = format!("**Who:** {}.", row.who());
        let description = match operation.get("description").and_then(Value::as_str) {
            Some(text) => format!("{text}\n\n{who}"),
            None => who,
        };
        operation.insert(key("description"), Value::String(description));
    }
    if let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_sequence_mut) {
        for parameter in parameters {
            if parameter.get("name").and_then(Value::as_str) == Some("Idempotency-Key")
                && let Some(schema) = parameter.get_mut("schema").and_then(Value::as_mapping_mut)
            {
                schema.insert(key("pattern"), key("^[ -~]+$"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_all<'v>(node: &'v Value, found: &mut Vec<&'v Mapping>) {
        match node {
            Value::Mapping(map) => {
                found.push(map);
                map.values().for_each(|v| find_all(v, found));
            }
            Value::Sequence(items) => items.iter().for_each(|v| find_all(v, found)),
            _ => {}
        }
    }

    #[test]
    fn no_wrapped_references_and_no_naive_dates() {
        let mut maps = Vec::new();
        find_all(document(), &mut maps);
        for map in maps {
            assert!(map.get("allOf").is_none(), "a wrapped reference is left: {map:?}");
            if map.get("nullable").is_some() {
                assert!(map.get("type").is_some(), "nullable without a type: {map:?}");
            }
            assert_ne!(map.get("format").and_then(Value::as_str), Some("naive-date"));
        }
    }

    #[test]
    fn every_operation_has_a_row_in_the_access_table_and_back() {
        let paths = document().get("paths").and_then(Value::as_mapping).cloned().unwrap_or_default();
        let mut documented = Vec::new();
        for (path, item) in &paths {
            for method in METHODS {
                if item.get(method).is_some() {
                    documented.push((method.to_uppercase(), path.as_str().unwrap_or_default().to_owned()));
                }
            }
        }
        for (method, path) in &documented {
            assert!(
                access::OPERATIONS.iter().any(|op| op.method == method && op.path == path),
                "{method} {path} has no row in access::OPERATIONS"
            );
        }
        for op in access::OPERATIONS {
            assert!(
                documented.iter().any(|(m, p)| m == op.method && p == op.path),
                "access::OPERATIONS has {} {}, which the document does not",
                op.method,
                op.path
            );
        }
    }

    /// Every limit is one constant of the domain; poem-openapi's validators take literals, so
    /// this holds the document (and the validators that write it) to the constants.
    #[test]
    fn the_documents_limits_are_the_domains() {
        use crate::domain::{RateBps, product, score_import};
        let mut maps = Vec::new();
        find_all(document(), &mut maps);
        let mut checked = 0;
        let number = |map: &Mapping, key: &str| map.get(key).and_then(Value::as_f64);
        for map in maps {
            let Some(properties) = map.get("properties").and_then(Value::as_mapping) else { continue };
            for (name, schema) in properties {
                let (Some(name), Some(schema)) = (name.as_str(), schema.as_mapping()) else { continue };
                let (key, wanted) = match name {
                    "rate_bps" | "rate_bps_min" | "rate_bps_max" => ("maximum", f64::from(RateBps::MAX)),
                    "term_months" | "term_months_min" | "term_months_max" => {
                        ("maximum", f64::from(product::MAX_TERM_MONTHS))
                    }
                    "park_ids" => ("maxItems", product::MAX_PARK_IDS as f64),
                    "industries" => ("maxItems", product::MAX_INDUSTRIES as f64),
                    "amount_tiers" => ("maxItems", product::MAX_TIERS as f64),
                    "scores" => ("maxItems", score_import::MAX_ROWS as f64),
                    _ => continue,
                };
                if let Some(found) = number(schema, key) {
                    assert_eq!(found, wanted, "{name}: {key} is {found}, the domain says {wanted}");
                    checked += 1;
                }
            }
            if map.get("name").and_then(Value::as_str) == Some("limit")
                && let Some(schema) = map.get("schema").and_then(Value::as_mapping)
            {
                assert_eq!(number(schema, "maximum"), Some(super::super::pagination::MAX_LIMIT as f64));
                checked += 1;
            }
        }
        assert!(checked >= 15, "only {checked} limits found in the document");
    }

    #[test]
    fn gets_list_no_body_statuses() {
        let get_park = &document()["paths"]["/api/v1/parks/{id}"]["get"]["responses"];
        let statuses: Vec<&str> =
            get_park.as_mapping().map(|m| m.keys().filter_map(Value::as_str).collect()).unwrap_or_default();
        assert_eq!(statuses, ["200", "401", "404", "500", "503"]);
    }
}
