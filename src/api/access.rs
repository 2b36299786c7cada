//! Who may call each operation: the one table of roles.
//!
//! The bearer check (`auth::Caller`) consults it as soon as the key is known, before any
//! parameter or body is read, so that a caller whose role may not act gets 403 whatever it sent.
//! The OpenAPI document is written from it too: each operation says who may call it, and lists
//! 403 only where some role may not. Each use case (`service`) holds the same rule for its own
//! callers, and checks the scope (which park, bank or enterprise); this table is about roles
//! alone. An admin may call every operation.

use poem::http::Method;

use crate::domain::Role;

/// The roles, besides admin, that may call one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub method: &'static str,
    /// The path as the document writes it, `{name}` for a parameter.
    pub path: &'static str,
    pub roles: &'static [Role],
    /// What the operation does, for the 403 message ("… may not create products").
    pub action: &'static str,
}

const EVERYONE: &[Role] = &[Role::ParkOffice, Role::Bank, Role::Enterprise];
const ADMIN: &[Role] = &[];
const PARK_OFFICE: &[Role] = &[Role::ParkOffice];
const BANK: &[Role] = &[Role::Bank];
const ENTERPRISE: &[Role] = &[Role::Enterprise];

const fn op(
    method: &'static str,
    path: &'static str,
    roles: &'static [Role],
    action: &'static str,
) -> Access {
    Access { method, path, roles, action }
}

/// Every operation under `/api/v1`. A test checks that this table and the document list the same
/// operations.
#[rustfmt::skip]
pub const OPERATIONS: &[Access] = &[
    op("POST", "/api/v1/parks", ADMIN, "create parks"),
    op("GET", "/api/v1/parks", EVERYONE, "list parks"),
    op("GET", "/api/v1/parks/{id}", EVERYONE, "read parks"),
    op("POST", "/api/v1/banks", ADMIN, "create banks"),
    op("GET", "/api/v1/banks", EVERYONE, "list banks"),
    op("GET", "/api/v1/banks/{id}", EVERYONE, "read banks"),
    op("POST", "/api/v1/enterprises", PARK_OFFICE, "register enterprises"),
    op("GET", "/api/v1/enterprises", EVERYONE, "list enterprises"),
    op("GET", "/api/v1/enterprises/{id}", EVERYONE, "read enterprises"),
    op("POST", "/api/v1/api-keys", ADMIN, "create API keys"),
    op("GET", "/api/v1/api-keys", ADMIN, "list API keys"),
    op("DELETE", "/api/v1/api-keys/{id}", ADMIN, "revoke API keys"),
    op("GET", "/api/v1/me", EVERYONE, "read their own key"),
    op("POST", "/api/v1/parks/{id}/scores", PARK_OFFICE, "import scores"),
    op("GET", "/api/v1/enterprises/{id}/score", EVERYONE, "read scores"),
    op("GET", "/api/v1/parks/{id}/rankings", EVERYONE, "read rankings"),
    op("POST", "/api/v1/parks/{id}/score-models", PARK_OFFICE, "write score models"),
    op("GET", "/api/v1/parks/{id}/score-models", PARK_OFFICE, "read score models"),
    op("GET", "/api/v1/default-score-model", EVERYONE, "read the default score model"),
    op("GET", "/api/v1/score-models/{id}", PARK_OFFICE, "read score models"),
    op("PATCH", "/api/v1/score-models/{id}", PARK_OFFICE, "change score models"),
    op("POST", "/api/v1/score-models/{id}/activate", PARK_OFFICE, "activate score models"),
    op("POST", "/api/v1/parks/{id}/indicator-values", PARK_OFFICE, "import indicator values"),
    op("POST", "/api/v1/parks/{id}/recommendation-lists", PARK_OFFICE, "write recommendation lists"),
    op("GET", "/api/v1/recommendation-lists", &[Role::ParkOffice, Role::Bank], "list recommendation lists"),
    op("GET", "/api/v1/recommendation-lists/{id}", &[Role::ParkOffice, Role::Bank], "read recommendation lists"),
    op("POST", "/api/v1/recommendation-lists/{id}/publish", PARK_OFFICE, "publish recommendation lists"),
    op("GET", "/api/v1/recommendation-tasks", EVERYONE, "list recommendation tasks"),
    op("GET", "/api/v1/recommendation-tasks/{id}", EVERYONE, "read recommendation tasks"),
    op("POST", "/api/v1/recommendation-tasks/{id}/answer", BANK, "answer recommendation tasks"),
    op("POST", "/api/v1/parks/{id}/risk-pools", PARK_OFFICE, "open risk pools"),
    op("GET", "/api/v1/parks/{id}/risk-pools", &[Role::ParkOffice, Role::Bank], "read risk pools"),
    op("GET", "/api/v1/risk-pools/{id}", &[Role::ParkOffice, Role::Bank], "read risk pools"),
    op("POST", "/api/v1/risk-pools/{id}/top-ups", PARK_OFFICE, "top up risk pools"),
    op("GET", "/api/v1/risk-pools/{id}/entries", &[Role::ParkOffice, Role::Bank], "read risk pool ledgers"),
    op("POST", "/api/v1/risk-pools/{id}/claims", BANK, "claim on risk pools"),
    op("GET", "/api/v1/risk-pools/{id}/claims", &[Role::ParkOffice, Role::Bank], "list risk claims"),
    op("GET", "/api/v1/risk-claims", &[Role::ParkOffice, Role::Bank], "list risk claims"),
    op("GET", "/api/v1/risk-claims/{id}", &[Role::ParkOffice, Role::Bank], "read risk claims"),
    op("POST", "/api/v1/risk-claims/{id}/approve", PARK_OFFICE, "decide risk claims"),
    op("POST", "/api/v1/risk-claims/{id}/reject", PARK_OFFICE, "decide risk claims"),
    op("POST", "/api/v1/parks/{id}/subsidy-programs", PARK_OFFICE, "open subsidy programmes"),
    op("GET", "/api/v1/parks/{id}/subsidy-programs", &[Role::ParkOffice, Role::Enterprise], "read subsidy programmes"),
    op("GET", "/api/v1/subsidy-programs/{id}", &[Role::ParkOffice, Role::Enterprise], "read subsidy programmes"),
    op("POST", "/api/v1/subsidy-programs/{id}/claims", &[Role::ParkOffice, Role::Enterprise], "claim interest subsidies"),
    op("GET", "/api/v1/subsidy-programs/{id}/claims", &[Role::ParkOffice, Role::Enterprise], "list subsidy claims"),
    op("GET", "/api/v1/subsidy-claims", &[Role::ParkOffice, Role::Enterprise], "list subsidy claims"),
    op("GET", "/api/v1/subsidy-claims/{id}", &[Role::ParkOffice, Role::Enterprise], "read subsidy claims"),
    op("POST", "/api/v1/subsidy-claims/{id}/approve", PARK_OFFICE, "decide subsidy claims"),
    op("POST", "/api/v1/subsidy-claims/{id}/reject", PARK_OFFICE, "decide subsidy claims"),
    op("GET", "/api/v1/enterprises/{id}/policies", &[Role::ParkOffice, Role::Enterprise], "read policies"),
    op("POST", "/api/v1/products", BANK, "create products"),
    op("GET", "/api/v1/products", EVERYONE, "list products"),
    op("PATCH", "/api/v1/products/{id}", BANK, "edit products"),
    op("GET", "/api/v1/products/{id}", EVERYONE, "read products"),
    op("POST", "/api/v1/products/{id}/publish", BANK, "publish products"),
    op("POST", "/api/v1/products/{id}/suspend", BANK, "suspend products"),
    op("POST", "/api/v1/products/{id}/retire", BANK, "retire products"),
    op("GET", "/api/v1/products/{id}/prospects", BANK, "see prospects"),
    op("GET", "/api/v1/enterprises/{id}/matches", &[Role::ParkOffice, Role::Enterprise], "see an enterprise's matches"),
    op("POST", "/api/v1/applications", ENTERPRISE, "apply for loans"),
    op("GET", "/api/v1/applications", EVERYONE, "list applications"),
    op("GET", "/api/v1/applications/{id}", EVERYONE, "read applications"),
    op("POST", "/api/v1/applications/{id}/review", BANK, "review applications"),
    op("POST", "/api/v1/applications/{id}/approve", BANK, "approve applications"),
    op("POST", "/api/v1/applications/{id}/reject", BANK, "reject applications"),
    op("POST", "/api/v1/applications/{id}/withdraw", ENTERPRISE, "withdraw applications"),
    op("GET", "/api/v1/credit-lines", EVERYONE, "list credit lines"),
    op("GET", "/api/v1/credit-lines/{id}", EVERYONE, "read credit lines"),
    op("POST", "/api/v1/credit-lines/{id}/disbursements", BANK, "record disbursements"),
    op("GET", "/api/v1/credit-lines/{id}/disbursements", EVERYONE, "list disbursements"),
    op("GET", "/api/v1/credit-lines/{id}/loans", EVERYONE, "list loans"),
    op("GET", "/api/v1/loans", EVERYONE, "list loans"),
    op("GET", "/api/v1/loans/{id}", EVERYONE, "read loans"),
    op("POST", "/api/v1/loans/{id}/repayments", BANK, "record repayments"),
    op("POST", "/api/v1/loans/{id}/classify", BANK, "classify loans"),
    op("POST", "/api/v1/loans/{id}/write-off", BANK, "write loans off"),
    op("POST", "/api/v1/credit-lines/{id}/close", BANK, "close credit lines"),
    op("GET", "/api/v1/loans/{id}/repayments", EVERYONE, "list repayments"),
    op("GET", "/api/v1/parks/{id}/stats", PARK_OFFICE, "read park statistics"),
    op("GET", "/api/v1/parks/{id}/stats/monthly", PARK_OFFICE, "read park statistics"),
    op("GET", "/api/v1/stats", ADMIN, "read national statistics"),
    op("GET", "/api/v1/events", EVERYONE, "read events"),
    op("POST", "/api/v1/webhook-endpoints", EVERYONE, "manage webhook endpoints"),
    op("GET", "/api/v1/webhook-endpoints", EVERYONE, "manage webhook endpoints"),
    op("GET", "/api/v1/webhook-endpoints/{id}", EVERYONE, "manage webhook endpoints"),
    op("PATCH", "/api/v1/webhook-endpoints/{id}", EVERYONE, "manage webhook endpoints"),
    op("DELETE", "/api/v1/webhook-endpoints/{id}", EVERYONE, "manage webhook endpoints"),
    op("POST", "/api/v1/webhook-endpoints/{id}/rotate-secret", EVERYONE, "manage webhook endpoints"),
    op("GET", "/api/v1/webhook-endpoints/{id}/deliveries", EVERYONE, "manage webhook endpoints"),
    op("POST", "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry", EVERYONE, "manage webhook endpoints"),
];

/// The table's row for a method and a path as the router matched it (`/api/v1/parks/:param0`)
/// or as the document writes it (`/api/v1/parks/{id}`).
pub fn find(method: &Method, pattern: &str) -> Option<&'static Access> {
    OPERATIONS.iter().find(|op| op.method == method.as_str() && same_shape(op.path, pattern))
}

/// Whether two path patterns have the same literal segments, whatever their parameters are
/// called; repeated slashes from nesting do not count.
fn same_shape(a: &str, b: &str) -> bool {
    let mut left = a.split('/').filter(|s| !s.is_empty());
    let mut right = b.split('/').filter(|s| !s.is_empty());
    loop {
        match (left.next(), right.next()) {
            (None, None) => return true,
            (Some(l), Some(r)) => {
                let parameter = |s: &str| s.starts_with(':') || s.starts_with('{');
                if !(l == r || parameter(l) && parameter(r)) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

impl Access {
    pub fn allows(&self, role: Role) -> bool {
        role == Role::Admin || self.roles.contains(&role)
    }

    /// Whether some role (other than admin) is refused: then the operation can answer 403.
    pub fn refuses_some_role(&self) -> bool {
        EVERYONE.iter().any(|role| !self.roles.contains(role))
    }

    /// Who may call, in words: "admins and banks".
    pub fn who(&self) -> String {
        let mut names: Vec<&str> = vec!["admins"];
        names.extend(self.roles.iter().map(|role| match role {
            Role::Admin => "admins",
            Role::ParkOffice => "park offices",
            Role::Bank => "banks",
            Role::Enterprise => "enterprises",
        }));
        match names.as_slice() {
            [one] => format!("{one} only"),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
            [] => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_operations_by_router_pattern() {
        let found = find(&Method::POST, "/api/v1/products/:param0/publish").map(|op| op.action);
        assert_eq!(found, Some("publish products"));
        assert_eq!(find(&Method::GET, "/api/v1//parks/{id}").map(|op| op.action), Some("read parks"));
        assert!(find(&Method::PUT, "/api/v1/parks").is_none());
    }

    #[test]
    fn says_who() {
        let products = find(&Method::POST, "/api/v1/products").map(Access::who);
        assert_eq!(products.as_deref(), Some("admins and banks"));
        let parks = find(&Method::POST, "/api/v1/parks").map(Access::who);
        assert_eq!(parks.as_deref(), Some("admins only"));
    }
}
