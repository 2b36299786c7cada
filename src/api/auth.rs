//! The bearer-key security scheme, and the checks every handler makes with it.

use poem::{PathPattern, Request};
use poem_openapi::{SecurityScheme, auth::Bearer};

use super::{AppState, RequestId, access, error::ApiError};
use crate::domain::{Principal, Role};
use crate::store::audit::Actor;

/// An API key, sent as `Authorization: Bearer <key>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", rename = "bearer", checker = "check_key")]
pub struct Caller(pub Authenticated);

/// A verified caller, and the request it made.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub principal: Principal,
    pub request_id: Option<String>,
}

/// Authenticates the key, then checks the caller's role against the operation's row in
/// [`access::OPERATIONS`]. It runs before any parameter or body is read: the caller is the first
/// argument of every operation.
async fn check_key(req: &Request, bearer: Bearer) -> poem::Result<Authenticated> {
    let state = req.data::<AppState>().ok_or_else(|| poem::Error::from(ApiError::internal()))?;
    let principal = match state.services.auth().authenticate(&bearer.token).await {
        Ok(Some(principal)) => principal,
        Ok(None) => return Err(ApiError::unauthorized("the API key is unknown or has been revoked").into()),
        Err(err) => return Err(ApiError::from(err).into()),
    };
    let pattern = req.data::<PathPattern>().map(|p| p.0.as_ref()).unwrap_or_else(|| req.uri().path());
    let Some(operation) = access::find(req.method(), pattern) else {
        tracing::error!(method = %req.method(), pattern, "an operation has no row in access::OPERATIONS");
        return Err(ApiError::internal().into());
    };
    if !operation.allows(principal.role()) {
        let message = format!(
            "{} may not {}; this operation is for {}",
            a_key_of(principal.role()),
            operation.action,
            operation.who()
        );
        return Err(ApiError::forbidden(message).into());
    }
    Ok(Authenticated { principal, request_id: req.data::<RequestId>().map(|id| id.0.clone()) })
}

/// "a park office key", "an enterprise key".
fn a_key_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "an admin key",
        Role::ParkOffice => "a park office key",
        Role::Bank => "a bank key",
        Role::Enterprise => "an enterprise key",
    }
}

impl Caller {
    pub fn principal(&self) -> Principal {
        self.0.principal
    }

    /// The actor recorded in the audit log for changes this caller makes.
    pub fn actor(&self) -> Actor {
        Actor { key_id: Some(self.0.principal.key_id), request_id: self.0.request_id.clone() }
    }
}
