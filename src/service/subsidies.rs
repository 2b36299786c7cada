//! Interest subsidies (贴息) and the policies an enterprise qualifies for. A park office opens a
//! programme with a budget; an enterprise, or its park office for it, claims for a window and the
//! claim is computed from the interest servicing recorded as repaid; the park office approves
//! (the budget pays, never past its total) or rejects (the interest is free to claim again).

use chrono::NaiveDate;

use super::{Db, Error, Result, Write, require};
use crate::domain::{
    FieldError, Money, Principal, Role, Scope,
    eligibility::{FailedRule, Verdict, evaluate, judge_rules},
    events::{Audience, EventType},
    product::{Product, ProductStatus},
    risk_pool::{ClaimStatus, RiskPool},
    subsidy::{self, ProgramTerms, SubsidyClaim, SubsidyProgram},
    text,
};
use crate::store::{self, StoreError, subsidies::NewClaim};

/// A programme with what its claims have taken.
#[derive(Clone, Debug)]
pub struct ProgramView {
    pub program: SubsidyProgram,
    /// Claims filed and not yet decided.
    pub committed: Money,
}

async fn view(db: &impl sea_orm::ConnectionTrait, program: SubsidyProgram) -> Result<ProgramView> {
    let committed = store::subsidies::claimed(db, program.id, None, &[ClaimStatus::Filed]).await?;
    Ok(ProgramView { program, committed })
}

fn invalid(errors: Vec<FieldError>) -> Error {
    StoreError::Invalid(errors).into()
}

/// The park whose programmes the caller may read: its own park's office, an enterprise of the
/// park, an admin.
async fn reads_park(db: &impl sea_orm::ConnectionTrait, principal: Principal, park_id: i64) -> Result<bool> {
    Ok(match principal.scope {
        Scope::All => true,
        Scope::Park(park) => park == park_id,
        Scope::Enterprise(own) => store::enterprises::get(db, own).await?.park_id == park_id,
        Scope::Bank(_) => false,
    })
}

pub async fn create(
    w: &mut Write<'_>,
    principal: Principal,
    park_id: i64,
    terms: ProgramTerms,
) -> Result<ProgramView> {
    require(principal, &[Role::ParkOffice], "open subsidy programmes")?;
    if !principal.governs_park(park_id) {
        return Err(StoreError::NotFound.into());
    }
    store::parks::get(w.txn(), park_id).await?;
    let mut problems = Vec::new();
    if !terms.eligibility.park_ids.is_empty() {
        problems.push(FieldError::new(
            "eligibility.park_ids",
            "a programme is for its own park's enterprises; park_ids does not apply",
        ));
    }
    let terms = match terms.check() {
        Ok(terms) if problems.is_empty() => terms,
        Ok(_) => return Err(invalid(problems)),
        Err(mut errors) => {
            errors.append(&mut problems);
            return Err(invalid(errors));
        }
    };
    let program = store::subsidies::create(w.txn(), park_id, terms).await?;
    w.audit("subsidy_program.create", "subsidy_program", program.id).await?;
    view(w.txn(), program).await
}

/// A programme the caller may read.
pub async fn get(db: &Db, principal: Principal, id: i64) -> Result<ProgramView> {
    let program = store::subsidies::get(db, id).await?;
    if !reads_park(db, principal, program.park_id).await? {
        return Err(StoreError::NotFound.into());
    }
    view(db, program).await
}

/// A park's programmes, for its office, its enterprises and an admin.
pub async fn list(
    db: &Db,
    principal: Principal,
    park_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<(Vec<ProgramView>, Option<i64>)> {
    require(principal, &[Role::ParkOffice, Role::Enterprise], "read subsidy programmes")?;
    if !reads_park(db, principal, park_id).await? {
        return Err(StoreError::NotFound.into());
    }
    store::parks::get(db, park_id).await?;
    let page = store::subsidies::list(db, Some(park_id), after, limit).await?;
    let mut views = Vec::with_capacity(page.items.len());
    for program in page.items {
        views.push(view(db, program).await?);
    }
    Ok((views, page.next_after))
}

fn audience(claim: &SubsidyClaim) -> Audience {
    Audience { park_id: Some(claim.park_id), enterprise_id: Some(claim.enterprise_id), ..Audience::default() }
}

/// Who a claim is for: an enterprise claims for itself; its park office names one of the park's.
fn claimant(principal: Principal, named: Option<i64>) -> Result<i64> {
    match (principal.scope, named) {
        (Scope::Enterprise(own), None) => Ok(own),
        (Scope::Enterprise(own), Some(given)) if given == own => Ok(own),
        (Scope::Enterprise(_), Some(_)) => {
            Err(Error::invalid("enterprise_id", "an enterprise claims only for itself"))
        }
        (Scope::Park(_) | Scope::All, Some(given)) => Ok(given),
        (Scope::Park(_) | Scope::All, None) => {
            Err(Error::invalid("enterprise_id", "name the enterprise the claim is for"))
        }
        (Scope::Bank(_), _) => Err(Error::invalid("enterprise_id", "a bank does not claim subsidies")),
    }
}

/// Files a claim for the enterprise's interest repaid from `from` to `to` that the programme has
/// not counted yet. `today` judges the eligibility rules that depend on the day.
pub async fn file(
    w: &mut Write<'_>,
    principal: Principal,
    program_id: i64,
    enterprise_id: Option<i64>,
    window: (NaiveDate, NaiveDate),
    today: NaiveDate,
) -> Result<SubsidyClaim> {
    require(principal, &[Role::ParkOffice, Role::Enterprise], "claim interest subsidies")?;
    let program = store::subsidies::get(w.txn(), program_id).await?;
    if !reads_park(w.txn(), principal, program.park_id).await? {
        return Err(StoreError::NotFound.into());
    }
    let enterprise_id = claimant(principal, enterprise_id)?;
    // Locked until the commit: one claim of this enterprise is computed at a time, so that two
    // cannot both take what is left of its cap or count the same repayment.
    let enterprise = match store::enterprises::lock(w.txn(), enterprise_id).await {
        Ok(e) if e.park_id == program.park_id => e,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(Error::invalid(
                "enterprise_id",
                format!("there is no enterprise {enterprise_id} in the programme's park"),
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let (from, to) = window;
    program.check_window(from, to).map_err(invalid)?;
    let score = store::scores::latest(w.txn(), enterprise.id).await?;
    let profile = enterprise.profile();
    let failed = judge_rules(
        &program.terms.eligibility,
        &profile.applicant(score.as_ref().map(|s| s.standing())),
        today,
    );
    if !failed.is_empty() {
        return Err(Error::Ineligible(failed));
    }
    let claimed = store::subsidies::claimed(
        w.txn(),
        program.id,
        Some(enterprise.id),
        &[ClaimStatus::Filed, ClaimStatus::Approved],
    )
    .await?;
    // Within the cap, and within what the budget has left: a claim larger than that could never
    // be approved. Approval checks the budget again, in its own conditional update.
    let cap_left = program.terms.per_enterprise_cap.saturating_sub(claimed);
    if program.remaining() == Money::ZERO {
        return Err(StoreError::Refused {
            code: store::Refusal::BudgetExhausted,
            message: "the programme's budget is spent: nothing more can be paid".to_owned(),
            details: Vec::new(),
        }
        .into());
    }
    let cap_left = cap_left.min(program.remaining());
    if cap_left == Money::ZERO {
        return Err(Error::invalid(
            "enterprise_id",
            format!(
                "the enterprise's claims already reach the programme's cap of {} fen",
                program.terms.per_enterprise_cap.fen()
            ),
        ));
    }
    let repaid = store::subsidies::unclaimed(w.txn(), program.id, enterprise.id, from, to).await?;
    let t = &program.terms;
    let subsidy = subsidy::subsidy(&repaid, t.share_bps, t.first_loan_bonus_bps, cap_left);
    if subsidy.amount == Money::ZERO {
        return Err(invalid(vec![FieldError::new(
            "to",
            format!(
                "the enterprise repaid no interest from {from} to {to} that this programme has not counted"
            ),
        )]));
    }
    let claim = store::subsidies::file(
        w.txn(),
        NewClaim { program: &program, enterprise_id: enterprise.id, from, to, subsidy: &subsidy },
    )
    .await?;
    w.audit("subsidy_claim.file", "subsidy_claim", claim.id).await?;
    w.event(EventType::SubsidyClaimFiled, audience(&claim), &claim);
    Ok(claim)
}

/// The park office decides a filed claim: approving pays it from the budget.
pub async fn decide(
    w: &mut Write<'_>,
    principal: Principal,
    claim_id: i64,
    approve: bool,
    reason: Option<String>,
) -> Result<SubsidyClaim> {
    require(principal, &[Role::ParkOffice], "decide subsidy claims")?;
    let claim = store::subsidies::get_claim(w.txn(), principal.scope, claim_id).await?;
    let reason = text::optional_line("reason", reason.as_deref(), subsidy::MAX_REASON)
        .map_err(|e| StoreError::Invalid(vec![e]))?;
    let claim = if approve {
        let paid = store::subsidies::approve(w.txn(), &claim, reason).await?;
        let by_product = store::subsidies::paid_by_product(w.txn(), paid.id).await?;
        let decided_at = paid.decided_at.unwrap_or_else(store::now);
        store::totals::subsidy_paid(w.txn(), paid.park_id, &by_product, decided_at).await?;
        paid
    } else {
        let reason = reason.ok_or_else(|| Error::invalid("reason", "a rejection needs a reason"))?;
        store::subsidies::reject(w.txn(), &claim, reason).await?
    };
    let action = if approve { "subsidy_claim.approve" } else { "subsidy_claim.reject" };
    w.audit(action, "subsidy_claim", claim_id).await?;
    w.event(EventType::SubsidyClaimDecided, audience(&claim), &claim);
    Ok(claim)
}

/// A policy the enterprise may benefit from.
#[derive(Clone, Debug)]
pub enum Policy {
    Subsidy(ProgramView),
    /// A pool covering a published product, with the product.
    Pool(RiskPool, Box<Product>),
}

/// An open policy the enterprise qualifies for: for a programme, the subsidy on the interest it
/// has repaid in the window and not yet claimed (within its cap and the budget left); for a
/// covered product, the most it may borrow.
#[derive(Clone, Debug)]
pub struct Eligible {
    pub policy: Policy,
    pub estimated_amount: Option<Money>,
    pub offer_max_amount: Option<Money>,
}

#[derive(Clone, Debug, Default)]
pub struct Policies {
    pub eligible: Vec<Eligible>,
    pub ineligible: Vec<(Policy, Vec<FailedRule>)>,
}

/// Every open programme of the enterprise's park and every published product an open pool of the
/// park covers, judged for the enterprise by the eligibility engine, with its reasons.
pub async fn policies(
    db: &Db,
    principal: Principal,
    enterprise_id: i64,
    today: NaiveDate,
) -> Result<Policies> {
    require(principal, &[Role::ParkOffice, Role::Enterprise], "read policies")?;
    let enterprise = store::enterprises::get(db, enterprise_id).await?;
    let visible = match principal.scope {
        Scope::All => true,
        Scope::Park(park) => park == enterprise.park_id,
        Scope::Enterprise(own) => own == enterprise.id,
        Scope::Bank(_) => false,
    };
    if !visible {
        return Err(StoreError::NotFound.into());
    }
    let score = store::scores::latest(db, enterprise.id).await?;
    let profile = enterprise.profile();
    let applicant = profile.applicant(score.as_ref().map(|s| s.standing()));
    let mut out = Policies::default();

    let mut after = None;
    loop {
        let page = store::subsidies::list(db, Some(enterprise.park_id), after, 500).await?;
        for program in page.items.into_iter().filter(|p| p.open_on(today)) {
            let failed = judge_rules(&program.terms.eligibility, &applicant, today);
            let view = view(db, program).await?;
            if !failed.is_empty() {
                out.ineligible.push((Policy::Subsidy(view), failed));
                continue;
            }
            let p = &view.program;
            let claimed = store::subsidies::claimed(
                db,
                p.id,
                Some(enterprise.id),
                &[ClaimStatus::Filed, ClaimStatus::Approved],
            )
            .await?;
            let cap_left = p.terms.per_enterprise_cap.saturating_sub(claimed).min(p.remaining());
            let repaid = store::subsidies::unclaimed(db, p.id, enterprise.id, p.terms.from, today).await?;
            let estimate =
                subsidy::subsidy(&repaid, p.terms.share_bps, p.terms.first_loan_bonus_bps, cap_left).amount;
            out.eligible.push(Eligible {
                policy: Policy::Subsidy(view),
                estimated_amount: Some(estimate),
                offer_max_amount: None,
            });
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }

    let mut after = None;
    loop {
        let page = store::risk_pools::list(db, Scope::All, Some(enterprise.park_id), after, 500).await?;
        for pool in page.items.into_iter().filter(|p| (p.enrol_from..=p.enrol_to).contains(&today)) {
            for &product_id in &pool.product_ids {
                let product = store::products::get(db, product_id).await?;
                if product.status != ProductStatus::Published {
                    continue;
                }
                match evaluate(&product.offerable(), &applicant, today) {
                    Verdict::Eligible { offer_max_amount } => out.eligible.push(Eligible {
                        policy: Policy::Pool(pool.clone(), Box::new(product)),
                        estimated_amount: None,
                        offer_max_amount: Some(offer_max_amount),
                    }),
                    Verdict::Ineligible { failed } => {
                        out.ineligible.push((Policy::Pool(pool.clone(), Box::new(product)), failed));
                    }
                }
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(out)
}

/// Every programme, for national statistics.
pub async fn all(db: &Db, park_id: Option<i64>) -> Result<Vec<ProgramView>> {
    let mut views = Vec::new();
    let mut after = None;
    loop {
        let page = store::subsidies::list(db, park_id, after, 500).await?;
        for program in page.items {
            views.push(view(db, program).await?);
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => return Ok(views),
        }
    }
}
