//! Applications: an enterprise applies for a product, and the bank reviews, approves or rejects
//! it; the enterprise may withdraw it before a decision.
//!
//! **An application may be submitted** when, at the moment it is written: the enterprise exists
//! and is the caller (or an admin names it); the product is published and visible to it; the
//! enterprise passes every eligibility rule of the product on its latest score; and the amount
//! is at least the product's minimum and at most the enterprise's offer, and the term within the
//! product's range. A second open application to the same product is refused by the database.
//!
//! **An application may be approved** while it is open, on terms within the product's and the
//! offer the enterprise had when it applied, and only if the product's quota still holds the
//! amount. A bank honours applications already made: a product suspended or retired after an
//! application was submitted may still be approved. Approval grants the credit line in the same
//! transaction.

use chrono::{DateTime, Utc};

use super::{Effect, Error, Result, Write, require};
use crate::domain::{
    FieldError, Money, Principal, Role, Scope,
    credit::{
        Application, ApplicationAction, ApplicationStatus, Approval, CreditLine, JudgedTerms, approval_time,
    },
    eligibility::{Verdict, evaluate},
    events::EventType,
    product::ProductStatus,
};
use crate::store::{
    self, Refusal, StoreError,
    credit::{NewApplication, NewCreditLine},
};

/// What an enterprise asks for.
pub struct Apply {
    /// The enterprise applying; `None` for "the caller's own".
    pub enterprise_id: Option<i64>,
    pub product_id: i64,
    pub amount: Money,
    pub term_months: i32,
    pub purpose: String,
}

/// The enterprise an application is for: an enterprise applies only for itself; an admin names
/// the enterprise it acts for.
fn applicant_of(principal: Principal, named: Option<i64>) -> Result<i64> {
    match (principal.scope, named) {
        (Scope::Enterprise(own), None) => Ok(own),
        (Scope::Enterprise(own), Some(given)) if given == own => Ok(own),
        (Scope::Enterprise(_), Some(_)) => {
            Err(Error::invalid("enterprise_id", "an enterprise applies only for itself"))
        }
        (Scope::All, Some(given)) => Ok(given),
        (Scope::All, None) => Err(Error::invalid("enterprise_id", "an admin must name the enterprise")),
        (Scope::Park(_) | Scope::Bank(_), _) => {
            Err(Error::invalid("enterprise_id", "only an enterprise, or an admin for one, applies"))
        }
    }
}

/// Submits an application; see the module's rules.
pub async fn submit(
    w: &mut Write<'_>,
    principal: Principal,
    apply: Apply,
    at: DateTime<Utc>,
) -> Result<Application> {
    require(principal, &[Role::Enterprise], "apply for loans")?;
    let txn = w.txn();
    let enterprise_id = applicant_of(principal, apply.enterprise_id)?;
    let enterprise = match store::enterprises::get(txn, enterprise_id).await {
        Err(StoreError::NotFound) => {
            return Err(Error::invalid(
                "enterprise_id",
                format!("there is no enterprise with id {enterprise_id}"),
            ));
        }
        other => other?,
    };
    let product = match store::products::get_visible(txn, principal.scope, apply.product_id).await {
        Err(StoreError::NotFound) => {
            return Err(Error::invalid(
                "product_id",
                format!("there is no product with id {:?}", apply.product_id.to_string()),
            ));
        }
        other => other?,
    };
    if product.status != ProductStatus::Published {
        return Err(Error::NotPublished(format!(
            "the product is {}; only a published product takes applications",
            product.status
        )));
    }
    let score = store::scores::latest(txn, enterprise.id).await?;
    let profile = enterprise.profile();
    let standing = score.as_ref().map(|s| s.standing());
    let offer = match evaluate(&product.offerable(), &profile.applicant(standing), at.date_naive()) {
        Verdict::Eligible { offer_max_amount } => offer_max_amount,
        Verdict::Ineligible { failed } => return Err(Error::Ineligible(failed)),
    };
    let terms = JudgedTerms::from(&product.terms);
    let problems = terms.request_problems(apply.amount, offer, apply.term_months);
    if !problems.is_empty() {
        return Err(StoreError::Invalid(problems).into());
    }
    let new = NewApplication {
        enterprise_id: enterprise.id,
        product_id: product.id,
        bank_id: product.bank_id,
        park_id: enterprise.park_id,
        amount: apply.amount,
        term_months: apply.term_months,
        purpose: apply.purpose,
        terms,
        score: score.map(|s| (s.period, s.score)),
        offer_max_amount: offer,
    };
    let application = store::credit::insert_application(txn, new, at).await?;
    store::totals::application_moved(
        txn,
        application.park_id,
        application.submitted_at,
        None,
        application.status,
    )
    .await?;
    w.audit("application.submit", "application", application.id).await?;
    w.event(EventType::ApplicationSubmitted, application.audience(), &application);
    Ok(application)
}

/// Reads an application the caller may act on: 404 outside its scope.
async fn visible(w: &Write<'_>, principal: Principal, id: i64) -> Result<Application> {
    Ok(store::credit::get_application_visible(w.txn(), principal.scope, id).await?)
}

fn refused(current: ApplicationStatus, action: ApplicationAction) -> Error {
    let verb = match action {
        ApplicationAction::Review => "put under review",
        ApplicationAction::Approve => "approved",
        ApplicationAction::Reject => "rejected",
        ApplicationAction::Withdraw => "withdrawn",
    };
    StoreError::WrongState(format!("the application is {current}; it cannot be {verb}")).into()
}

/// Moves an open application on, only if nobody moved it first.
async fn move_on(
    w: &Write<'_>,
    app: &Application,
    action: ApplicationAction,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> Result<()> {
    let next = app.status.after(action).ok_or_else(|| refused(app.status, action))?;
    if !store::credit::move_application(w.txn(), app.id, app.status, next, reason, at).await? {
        let now = store::credit::get_application(w.txn(), app.id).await?;
        return Err(refused(now.status, action));
    }
    store::totals::application_moved(w.txn(), app.park_id, app.submitted_at, Some(app.status), next).await?;
    Ok(())
}

/// Reviews, rejects or withdraws an application. Review and reject are the owning bank's;
/// withdrawal is the enterprise's, before a decision. Approval is [`approve`], which grants the
/// line with it.
pub async fn act(
    w: &mut Write<'_>,
    principal: Principal,
    id: i64,
    action: ApplicationAction,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> Result<Application> {
    match action {
        ApplicationAction::Review => require(principal, &[Role::Bank], "review applications")?,
        ApplicationAction::Reject => require(principal, &[Role::Bank], "reject applications")?,
        ApplicationAction::Withdraw => require(principal, &[Role::Enterprise], "withdraw applications")?,
        ApplicationAction::Approve => {
            return Err(StoreError::WrongState("an approval grants a credit line: approve it".into()).into());
        }
    }
    let app = visible(w, principal, id).await?;
    move_on(w, &app, action, reason, at).await?;
    w.audit(&format!("application.{action}"), "application", id).await?;
    let app = store::credit::get_application(w.txn(), id).await?;
    w.event(action.event(), app.audience(), &app);
    Ok(app)
}

/// Approves an application and grants its credit line; see the module's rules.
pub async fn approve(
    w: &mut Write<'_>,
    principal: Principal,
    id: i64,
    approval: Approval,
    at: DateTime<Utc>,
) -> Result<(Application, CreditLine)> {
    require(principal, &[Role::Bank], "approve applications")?;
    let app = visible(w, principal, id).await?;
    if app.status.after(ApplicationAction::Approve).is_none() {
        return Err(refused(app.status, ApplicationAction::Approve));
    }
    let problems = app.terms.approval_problems(app.offer_max_amount, &approval, at.date_naive());
    if !problems.is_empty() {
        return Err(StoreError::Invalid(problems).into());
    }
    if let Err(remaining) = store::credit::take_quota(w.txn(), app.product_id, approval.amount).await? {
        return Err(StoreError::Refused {
            code: Refusal::QuotaExceeded,
            message: format!(
                "the product's remaining quota is {remaining}; {} does not fit",
                approval.amount
            ),
            details: vec![FieldError::new(
                "amount",
                format!("at most {} fen remain in the quota", remaining.fen()),
            )],
        }
        .into());
    }
    move_on(w, &app, ApplicationAction::Approve, None, at).await?;
    let (approval_days, approval_working_days) =
        approval_time(app.submitted_at.date_naive(), at.date_naive());
    let line = store::credit::insert_line(
        w.txn(),
        NewCreditLine {
            application_id: app.id,
            enterprise_id: app.enterprise_id,
            bank_id: app.bank_id,
            product_id: app.product_id,
            park_id: app.park_id,
            approval,
            granted_at: at,
            approval_days,
            approval_working_days,
            sla_breached: approval_working_days > app.terms.approval_sla_days,
            revolving: app.terms.revolving,
        },
    )
    .await?;
    store::totals::line_granted(w.txn(), &line).await?;
    w.audit("application.approve", "application", app.id).await?;
    w.audit("credit_line.grant", "credit_line", line.id).await?;
    // The product's remaining quota, which matches show, has changed.
    w.after_commit(Effect::CatalogueChanged);
    let app = store::credit::get_application(w.txn(), id).await?;
    w.event(EventType::ApplicationApproved, app.audience(), &app);
    w.event(EventType::CreditLineGranted, line.audience(), &line);
    Ok((app, line))
}
