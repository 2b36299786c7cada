//! Risk-compensation pools (风险补偿资金池): a park office opens a pool over some products and tops
//! it up; loans drawn under those products in the enrolment window are enrolled as they are made;
//! a bank claims on an enrolled loan gone bad (NPL or written off) for a computed amount; the park
//! office approves (the pool pays, never below zero) or rejects; recoveries after a paid claim
//! return the pool's share.

use chrono::NaiveDate;

use super::{Db, Result, Write, require};
use crate::domain::text;
use crate::domain::{
    FieldError, Money, Principal, Role, Scope,
    events::{Audience, EventType},
    risk_pool::{self, PoolTerms, RiskClaim, RiskPool},
};
use crate::store::{self, StoreError, risk_pools::NewClaim};

/// A pool with the figures a reader wants beside it.
#[derive(Clone, Debug)]
pub struct PoolView {
    pub pool: RiskPool,
    /// Principal outstanding on its enrolled loans not written off.
    pub enrolled_outstanding: Money,
    pub claims_paid: i64,
    pub paid: Money,
}

async fn view(db: &impl sea_orm::ConnectionTrait, pool: RiskPool) -> Result<PoolView> {
    let enrolled_outstanding = store::risk_pools::enrolled_outstanding(db, pool.id).await?;
    let (claims_paid, paid) = store::risk_pools::claims_paid(db, pool.id).await?;
    Ok(PoolView { pool, enrolled_outstanding, claims_paid, paid })
}

fn governed(principal: Principal, park_id: i64) -> Result<()> {
    if principal.governs_park(park_id) { Ok(()) } else { Err(StoreError::NotFound.into()) }
}

pub async fn create(
    w: &mut Write<'_>,
    principal: Principal,
    park_id: i64,
    terms: PoolTerms,
) -> Result<PoolView> {
    require(principal, &[Role::ParkOffice], "open risk pools")?;
    governed(principal, park_id)?;
    store::parks::get(w.txn(), park_id).await?;
    terms.check().map_err(StoreError::Invalid)?;
    let pool = store::risk_pools::create(w.txn(), park_id, terms).await?;
    w.audit("risk_pool.create", "risk_pool", pool.id).await?;
    view(w.txn(), pool).await
}

pub async fn top_up(
    w: &mut Write<'_>,
    principal: Principal,
    pool_id: i64,
    amount: Money,
    reference: String,
) -> Result<PoolView> {
    require(principal, &[Role::ParkOffice], "top up risk pools")?;
    let pool = store::risk_pools::get(w.txn(), pool_id).await?;
    governed(principal, pool.park_id)?;
    if amount == Money::ZERO || amount.fen() > risk_pool::MAX_TOP_UP {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "amount",
            format!("a top-up is 1 to {} fen", risk_pool::MAX_TOP_UP),
        )])
        .into());
    }
    let reference = text::line_within("reference", &reference, risk_pool::MAX_REFERENCE)
        .map_err(|e| StoreError::Invalid(vec![e]))?;
    let pool = store::risk_pools::top_up(w.txn(), pool_id, amount, reference).await?;
    w.audit("risk_pool.top_up", "risk_pool", pool_id).await?;
    view(w.txn(), pool).await
}

/// A pool the caller may read.
pub async fn get(db: &Db, principal: Principal, id: i64) -> Result<PoolView> {
    let pool = store::risk_pools::get(db, id).await?;
    if !store::risk_pools::visible(db, &pool, principal.scope).await? {
        return Err(StoreError::NotFound.into());
    }
    view(db, pool).await
}

/// The pools of a park the caller may see.
pub async fn list(
    db: &Db,
    principal: Principal,
    park_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<(Vec<PoolView>, Option<i64>)> {
    require(principal, &[Role::ParkOffice, Role::Bank], "read risk pools")?;
    if matches!(principal.scope, Scope::Park(_)) {
        governed(principal, park_id)?;
    }
    store::parks::get(db, park_id).await?;
    let page = store::risk_pools::list(db, principal.scope, Some(park_id), after, limit).await?;
    let mut views = Vec::with_capacity(page.items.len());
    for pool in page.items {
        views.push(view(db, pool).await?);
    }
    Ok((views, page.next_after))
}

fn audience(claim: &RiskClaim) -> Audience {
    Audience { park_id: Some(claim.park_id), bank_id: Some(claim.bank_id), ..Audience::default() }
}

/// A bank's claim on its loan enrolled in the pool that is non-performing or written off on
/// `today`. The amount is computed: unpaid principal × coverage, capped per loan.
pub async fn file(
    w: &mut Write<'_>,
    principal: Principal,
    pool_id: i64,
    loan_id: i64,
    today: NaiveDate,
) -> Result<RiskClaim> {
    require(principal, &[Role::Bank], "claim on risk pools")?;
    let pool = store::risk_pools::get(w.txn(), pool_id).await?;
    if !store::risk_pools::visible(w.txn(), &pool, principal.scope).await? {
        return Err(StoreError::NotFound.into());
    }
    let invalid = |message: String| -> super::Error {
        StoreError::Invalid(vec![FieldError::new("loan_id", message)]).into()
    };
    let loan = match store::loans::get_for_update(w.txn(), principal.scope, loan_id).await {
        Ok(loan) => loan,
        Err(StoreError::NotFound) => return Err(invalid(format!("there is no loan {loan_id} of this bank"))),
        Err(err) => return Err(err.into()),
    };
    if store::risk_pools::pool_of_loan(w.txn(), loan.id).await? != Some(pool.id) {
        return Err(invalid(format!("loan {loan_id} is not enrolled in this pool")));
    }
    let class = loan.classification(today);
    if loan.written_off_on.is_none() && !class.is_npl() {
        return Err(invalid(format!(
            "loan {loan_id} is {class}: a claim is for a non-performing (substandard, doubtful, loss) or written-off loan"
        )));
    }
    let unpaid = loan.amount.saturating_sub(loan.principal_repaid);
    let amount = risk_pool::claim_amount(unpaid, pool.coverage_bps, pool.per_loan_cap);
    if amount == Money::ZERO {
        return Err(invalid(format!("loan {loan_id} has no unpaid principal to claim on")));
    }
    let claim = store::risk_pools::file(
        w.txn(),
        NewClaim {
            pool_id,
            loan_id,
            park_id: pool.park_id,
            bank_id: loan.bank_id,
            enterprise_id: loan.enterprise_id,
            unpaid_principal: unpaid,
            amount,
        },
    )
    .await?;
    w.audit("risk_claim.file", "risk_claim", claim.id).await?;
    w.event(EventType::RiskClaimFiled, audience(&claim), &claim);
    Ok(claim)
}

/// The park office decides a filed claim: approving pays it from the pool.
pub async fn decide(
    w: &mut Write<'_>,
    principal: Principal,
    claim_id: i64,
    approve: bool,
    reason: Option<String>,
) -> Result<RiskClaim> {
    require(principal, &[Role::ParkOffice], "decide risk claims")?;
    let claim = store::risk_pools::get_claim(w.txn(), principal.scope, claim_id).await?;
    let reason = text::optional_line("reason", reason.as_deref(), risk_pool::MAX_REASON)
        .map_err(|e| StoreError::Invalid(vec![e]))?;
    let claim = if approve {
        // Paid on the loan as it is now, locked against repayments until the commit: a loan
        // repaid since the claim was filed is paid on what is still unpaid, and one performing
        // again is not paid at all.
        let loan = store::loans::get_for_update(w.txn(), Scope::All, claim.loan_id).await?;
        let pool = store::risk_pools::get(w.txn(), claim.pool_id).await?;
        let today = chrono::Utc::now().date_naive();
        if loan.written_off_on.is_none() && !loan.classification(today).is_npl() {
            return Err(StoreError::Invalid(vec![FieldError::new(
                "loan_id",
                format!(
                    "loan {} is {} now: only a non-performing or written-off loan is paid",
                    loan.id,
                    loan.classification(today)
                ),
            )])
            .into());
        }
        let unpaid = loan.amount.saturating_sub(loan.principal_repaid);
        let amount = risk_pool::claim_amount(unpaid, pool.coverage_bps, pool.per_loan_cap);
        if amount == Money::ZERO {
            return Err(StoreError::Invalid(vec![FieldError::new(
                "loan_id",
                format!("loan {} has no unpaid principal left to pay on", loan.id),
            )])
            .into());
        }
        let now = RiskClaim { unpaid_principal: unpaid, amount, ..claim };
        let paid = store::risk_pools::approve(w.txn(), &now, reason).await?;
        let decided_at = paid.decided_at.unwrap_or_else(store::now);
        store::totals::risk_claim_paid(w.txn(), &loan, paid.amount, decided_at).await?;
        paid
    } else {
        let reason = reason.ok_or_else(|| {
            StoreError::Invalid(vec![FieldError::new("reason", "a rejection needs a reason")])
        })?;
        store::risk_pools::reject(w.txn(), &claim, reason).await?
    };
    w.audit(if approve { "risk_claim.approve" } else { "risk_claim.reject" }, "risk_claim", claim_id).await?;
    w.event(EventType::RiskClaimDecided, audience(&claim), &claim);
    Ok(claim)
}

/// Every pool, for national statistics.
pub async fn all(db: &Db) -> Result<Vec<PoolView>> {
    let mut views = Vec::new();
    let mut after = None;
    loop {
        let page = store::risk_pools::list(db, Scope::All, None, after, 500).await?;
        for pool in page.items {
            views.push(view(db, pool).await?);
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(views),
        }
    }
}
