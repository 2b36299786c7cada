//! The directory: parks, banks, enterprises and API keys.

use chrono::NaiveDate;

use super::{Effect, Error, Result, Write, require};
use crate::domain::{
    FieldError, Principal, Role, Scope,
    directory::{ApiKey, Bank, Enterprise, Park},
    events::EventType,
};
use crate::store::{
    self, StoreError, api_keys::CreatedKey, banks::NewBank, enterprises::NewEnterprise, parks::NewPark,
};

pub async fn create_park(w: &mut Write<'_>, principal: Principal, new: NewPark) -> Result<Park> {
    require(principal, &[], "create parks")?;
    let park = store::parks::create(w.txn(), new).await?;
    w.audit("park.create", "park", park.id).await?;
    Ok(park)
}

pub async fn create_bank(w: &mut Write<'_>, principal: Principal, new: NewBank) -> Result<Bank> {
    require(principal, &[], "create banks")?;
    let bank = store::banks::create(w.txn(), new).await?;
    w.audit("bank.create", "bank", bank.id).await?;
    Ok(bank)
}

/// Registers an enterprise in a park the caller governs, founded no later than `today`. A park
/// outside the caller's scope is reported exactly as one that does not exist; a USCC registered
/// already, anywhere, is a conflict that names nothing else.
pub async fn register_enterprise(
    w: &mut Write<'_>,
    principal: Principal,
    new: NewEnterprise,
    today: NaiveDate,
) -> Result<Enterprise> {
    require(principal, &[Role::ParkOffice], "register enterprises")?;
    if new.founded_on > today {
        return Err(Error::invalid("founded_on", "the founding date is in the future"));
    }
    let enterprise = store::enterprises::create(w.txn(), principal.scope, new).await?;
    w.audit("enterprise.create", "enterprise", enterprise.id).await?;
    w.event(EventType::EnterpriseRegistered, enterprise.audience(), &enterprise);
    Ok(enterprise)
}

/// Registers a park's enterprises in one go (for data sets): all or nothing.
pub async fn register_enterprises(
    w: &mut Write<'_>,
    principal: Principal,
    park_id: i64,
    batch: Vec<NewEnterprise>,
) -> Result<Vec<i64>> {
    require(principal, &[Role::ParkOffice], "register enterprises")?;
    if !principal.governs_park(park_id) {
        return Err(StoreError::NotFound.into());
    }
    if let Some(late) = batch.iter().find(|e| e.founded_on > crate::store::now().date_naive()) {
        return Err(Error::invalid("founded_on", format!("{} is founded in the future", late.uscc)));
    }
    let registered = store::enterprises::create_many(w.txn(), park_id, batch).await?;
    w.audit("enterprise.bulk_create", "park", park_id).await?;
    for enterprise in &registered {
        w.event(EventType::EnterpriseRegistered, enterprise.audience(), enterprise);
    }
    Ok(registered.into_iter().map(|e| e.id).collect())
}

/// What a new key is for: its role, and the one park, bank or enterprise the role needs.
pub struct NewKey {
    pub name: String,
    pub role: Role,
    pub park_id: Option<i64>,
    pub bank_id: Option<i64>,
    pub enterprise_id: Option<i64>,
}

/// The scope a new key grants: exactly the one id its role needs, of a record that exists.
async fn scope_of(w: &Write<'_>, new: &NewKey) -> Result<Scope> {
    let ids = [("park_id", new.park_id), ("bank_id", new.bank_id), ("enterprise_id", new.enterprise_id)];
    let wanted = match new.role {
        Role::Admin => None,
        Role::ParkOffice => Some("park_id"),
        Role::Bank => Some("bank_id"),
        Role::Enterprise => Some("enterprise_id"),
    };
    let mut errors = Vec::new();
    for (field, value) in ids {
        match (Some(field) == wanted, value) {
            (true, None) => errors.push(FieldError::new(field, format!("a {} key needs {field}", new.role))),
            (false, Some(_)) => {
                errors.push(FieldError::new(field, format!("a {} key takes no {field}", new.role)))
            }
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors).into());
    }
    let Some((field, Some(id))) = ids.into_iter().find(|(f, _)| Some(*f) == wanted) else {
        return Ok(Scope::All);
    };
    let found = match new.role {
        Role::ParkOffice => store::parks::get(w.txn(), id).await.map(|_| Scope::Park(id)),
        Role::Bank => store::banks::get(w.txn(), id).await.map(|_| Scope::Bank(id)),
        _ => store::enterprises::get(w.txn(), id).await.map(|_| Scope::Enterprise(id)),
    };
    match found {
        Err(StoreError::NotFound) => {
            Err(Error::invalid(field, format!("there is no record with id {:?}", id.to_string())))
        }
        other => Ok(other?),
    }
}

/// Creates an API key; the secret is in the answer, and only its hash is stored.
pub async fn create_api_key(w: &mut Write<'_>, principal: Principal, new: NewKey) -> Result<CreatedKey> {
    require(principal, &[], "create API keys")?;
    let scope = scope_of(w, &new).await?;
    let created = store::api_keys::create(w.txn(), new.name, scope).await?;
    w.audit("api_key.create", "api_key", created.key.id).await?;
    Ok(created)
}

/// Revokes a key: this process forgets it at once after commit, every other within its
/// authentication cache's lifetime.
pub async fn revoke_api_key(w: &mut Write<'_>, principal: Principal, id: i64) -> Result<ApiKey> {
    require(principal, &[], "revoke API keys")?;
    let key = store::api_keys::revoke(w.txn(), id).await?;
    w.audit("api_key.revoke", "api_key", id).await?;
    w.after_commit(Effect::KeyRevoked { prefix: key.prefix.clone() });
    Ok(key)
}
