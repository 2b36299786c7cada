//! Loan products: a bank creates a draft, edits it while it is a draft, and publishes, suspends
//! and retires it (`draft → published ⇄ suspended → retired`). A published product's terms never
//! change, so that every application refers to the terms it was judged on.
//!
//! The checks of the terms (ranges, tiers, parks that exist, a code unique at the bank) and of
//! the lifecycle run in `store::products`, inside the transaction given here; this module decides
//! whose product it is and what changes for everyone else.

use chrono::{DateTime, Utc};

use super::{Effect, Error, Result, Write, require};
use crate::domain::{
    FieldError, Principal, Role, Scope,
    product::{Product, Transition},
};
use crate::store::{self, StoreError, products::Draft};

/// The bank a new product belongs to: a bank creates for itself; an admin names the bank.
async fn bank_for(w: &Write<'_>, principal: Principal, named: Option<i64>) -> Result<i64> {
    let missing =
        |id: i64| Error::invalid("bank_id", format!("there is no bank with id {:?}", id.to_string()));
    match (principal.scope, named) {
        (Scope::Bank(own), None) => Ok(own),
        (Scope::Bank(own), Some(given)) if given == own => Ok(own),
        (Scope::All, Some(given)) => match store::banks::get(w.txn(), given).await {
            Ok(bank) => Ok(bank.id),
            Err(StoreError::NotFound) => Err(missing(given)),
            Err(other) => Err(other.into()),
        },
        (Scope::All, None) => Err(Error::invalid("bank_id", "an admin must name the bank")),
        (_, Some(given)) => Err(missing(given)),
        (_, None) => {
            Err(StoreError::Invalid(vec![FieldError::new("bank_id", "only a bank creates products")]).into())
        }
    }
}

/// Creates a draft product for the caller's bank (or the bank an admin names).
pub async fn create(
    w: &mut Write<'_>,
    principal: Principal,
    bank_id: Option<i64>,
    draft: Draft,
) -> Result<Product> {
    require(principal, &[Role::Bank], "create products")?;
    let bank_id = bank_for(w, principal, bank_id).await?;
    let product = store::products::create(w.txn(), bank_id, draft).await?;
    w.audit("product.create", "product", product.id).await?;
    Ok(product)
}

/// A product the caller's bank owns (any, for an admin); another bank's product is not found.
pub async fn owned(w: &Write<'_>, principal: Principal, id: i64) -> Result<Product> {
    require(principal, &[Role::Bank], "change products")?;
    let product = store::products::get(w.txn(), id).await?;
    match principal.scope {
        Scope::Bank(bank_id) if bank_id != product.bank_id => Err(StoreError::NotFound.into()),
        _ => Ok(product),
    }
}

/// Rewrites a draft's terms; refused once the product has been published, and when another edit
/// overtook the product since `read_at` (its `updated_at` when the draft was laid over it).
pub async fn update_draft(
    w: &mut Write<'_>,
    principal: Principal,
    id: i64,
    draft: Draft,
    read_at: DateTime<Utc>,
) -> Result<Product> {
    let product = owned(w, principal, id).await?;
    let product = store::products::update_draft(w.txn(), product.id, draft, read_at).await?;
    w.audit("product.update", "product", product.id).await?;
    Ok(product)
}

/// Publishes, suspends or retires a product, if its status allows it. Matches on every process
/// show the change within 5 seconds, and at once on this one.
pub async fn transition(
    w: &mut Write<'_>,
    principal: Principal,
    id: i64,
    action: Transition,
) -> Result<Product> {
    let product = owned(w, principal, id).await?;
    let product = store::products::transition(w.txn(), product.id, action).await?;
    w.audit(&format!("product.{action}"), "product", product.id).await?;
    w.event(action.event(), product.audience(), &product);
    w.after_commit(Effect::CatalogueChanged);
    Ok(product)
}
