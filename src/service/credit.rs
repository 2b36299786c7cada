//! Credit lines and disbursements.
//!
//! **A disbursement may not overdraw its line.** It is recorded when, at the moment it is
//! written: the line is the caller's bank's (or an admin's), active and not past its expiry; the
//! day it went out is neither in the future nor before the grant; and the amount fits what is
//! still available. The last is one conditional update of the line ([`store::credit::draw`]) in
//! the same transaction as the row, so no number of concurrent requests or server processes can
//! overdraw a line. The bank's `reference` is unique.
//!
//! **Revolving lines (循环授信).** A line granted under a `revolving` product limits its
//! principal outstanding (drawn less principal repaid) rather than the sum drawn: principal
//! repaid (`service::loans::repay`, which lowers the line's balance in its own transaction) may
//! be drawn again. A written-off loan's principal stays outstanding on its line until it is
//! recovered: writing a loan off frees nothing to draw.

use chrono::{Months, NaiveDate};

use super::{Error, Result, Write, require};
use crate::domain::{
    FieldError, Money, Principal, Role,
    credit::{CreditLine, CreditLineStatus, Disbursement},
    events::EventType,
    servicing::{self, RepaymentMethod, ScheduleError},
};
use crate::store::{self, Refusal, StoreError};

/// What a bank records.
pub struct Draw {
    pub line_id: i64,
    pub amount: Money,
    pub reference: String,
    pub disbursed_on: NaiveDate,
    /// When the loan matures; by default, the line's term after `disbursed_on`.
    pub maturity_date: Option<NaiveDate>,
    /// By default, `bullet`.
    pub repayment_method: Option<RepaymentMethod>,
}

fn exceeds_available(line: &CreditLine, requested: Money) -> Error {
    let available = line.available();
    StoreError::Refused {
        code: Refusal::ExceedsAvailable,
        message: format!(
            "{} fen exceeds what is still available on the credit line: {} fen",
            requested.fen(),
            available.fen()
        ),
        details: vec![FieldError::new("amount", format!("at most {} fen are available", available.fen()))],
    }
    .into()
}

fn not_drawable(line: &CreditLine, today: NaiveDate) -> Option<Error> {
    match line.status_on(today) {
        CreditLineStatus::Active => None,
        CreditLineStatus::Expired => Some(
            StoreError::WrongState(format!(
                "the credit line expired on {}; nothing more can be disbursed",
                line.expires_on
            ))
            .into(),
        ),
        CreditLineStatus::Closed => Some(StoreError::WrongState("the credit line is closed".into()).into()),
    }
}

/// Closes a line of the caller's bank: nothing more can be drawn on it, and its loans are
/// serviced as before.
pub async fn close_line(w: &mut Write<'_>, principal: Principal, line_id: i64) -> Result<CreditLine> {
    require(principal, &[Role::Bank], "close credit lines")?;
    let line = store::credit::get_line_visible(w.txn(), principal.scope, line_id).await?;
    if !store::credit::close_line(w.txn(), line.id).await? {
        return Err(StoreError::WrongState("the credit line is closed already".into()).into());
    }
    let closed = store::credit::get_line(w.txn(), line.id).await?;
    w.audit("credit_line.close", "credit_line", line.id).await?;
    w.event(EventType::CreditLineClosed, closed.audience(), &closed);
    Ok(closed)
}

/// Records a disbursement; see the module's rules.
pub async fn disburse(
    w: &mut Write<'_>,
    principal: Principal,
    draw: Draw,
    today: NaiveDate,
) -> Result<Disbursement> {
    require(principal, &[Role::Bank], "record disbursements")?;
    let txn = w.txn();
    let line = store::credit::get_line_visible(txn, principal.scope, draw.line_id).await?;
    if let Some(refusal) = not_drawable(&line, today) {
        return Err(refusal);
    }
    if draw.disbursed_on > today {
        return Err(Error::invalid("disbursed_on", format!("{} is in the future", draw.disbursed_on)));
    }
    let granted_on = line.granted_at.date_naive();
    if draw.disbursed_on < granted_on {
        return Err(Error::invalid(
            "disbursed_on",
            format!("{} is before the line was granted on {granted_on}", draw.disbursed_on),
        ));
    }
    if draw.amount == Money::ZERO {
        return Err(Error::invalid("amount", "a disbursement is at least 1 fen"));
    }
    if draw.amount > line.amount {
        return Err(exceeds_available(&line, draw.amount));
    }
    if !store::credit::draw(txn, line.id, draw.amount, today).await? {
        let now = store::credit::get_line(txn, line.id).await?;
        return Err(not_drawable(&now, today).unwrap_or_else(|| exceeds_available(&now, draw.amount)));
    }
    let latest = draw
        .disbursed_on
        .checked_add_months(Months::new(u32::try_from(line.term_months).unwrap_or(0)))
        .unwrap_or(draw.disbursed_on);
    let maturity = draw.maturity_date.unwrap_or(latest);
    if maturity > latest {
        return Err(Error::invalid(
            "maturity_date",
            format!(
                "{maturity} is past the line's term of {} months: at the latest {latest}",
                line.term_months
            ),
        ));
    }
    let method = draw.repayment_method.unwrap_or(RepaymentMethod::Bullet);
    let schedule =
        servicing::schedule(draw.amount, line.rate, draw.disbursed_on, maturity, method).map_err(|e| {
            let field = match e {
                ScheduleError::NoAmount | ScheduleError::Overflow => "amount",
                ScheduleError::MaturesTooSoon | ScheduleError::NotWholeMonths(..) => "maturity_date",
            };
            Error::invalid(field, e.to_string())
        })?;
    let row = store::credit::insert_disbursement(txn, &line, draw.amount, draw.reference, draw.disbursed_on)
        .await?;
    let loan = store::loans::insert(txn, &line, &row, maturity, method, schedule).await?;
    // Enrolled in the park's risk pool that covers the product on the day it was drawn, if any.
    store::risk_pools::enrol(txn, loan.id, loan.park_id, loan.product_id, loan.disbursed_on).await?;
    store::totals::disbursed(txn, &loan, today).await?;
    w.audit("disbursement.create", "disbursement", row.id).await?;
    w.event(EventType::DisbursementCreated, line.audience(), &row);
    w.event(EventType::LoanCreated, loan.audience(), &loan);
    Ok(row)
}
