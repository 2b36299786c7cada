//! The bearer-key security scheme, and the checks every handler makes with it.

use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

use super::{AppState, RequestId, error::ApiError};
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

async fn check_key(req: &Request, bearer: Bearer) -> poem::Result<Authenticated> {
    let state = req.data::<AppState>().ok_or_else(|| poem::Error::from(ApiError::internal()))?;
    match state.auth.authenticate(&bearer.token).await {
        Ok(Some(principal)) => {
            Ok(Authenticated { principal, request_id: req.data::<RequestId>().map(|id| id.0.clone()) })
        }
        Ok(None) => Err(ApiError::unauthorized("the API key is unknown or has been revoked").into()),
        Err(err) => Err(ApiError::from(err).into()),
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

    /// Refuses with 403 unless the caller's role is one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> Result<Principal, ApiError> {
        let principal = self.principal();
        if principal.is_admin() || roles.contains(&principal.role()) {
            Ok(principal)
        } else {
            Err(ApiError::forbidden(format!("a {} key may not {action}", principal.role())))
        }
    }

    pub fn require_admin(&self, action: &str) -> Result<Principal, ApiError> {
        self.require(&[], action)
    }
}
