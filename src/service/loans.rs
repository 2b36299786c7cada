//! Loans: repayments.
//!
//! **A repayment is allocated once, in its write.** The loan is held for the transaction (on
//! PostgreSQL, `SELECT … FOR UPDATE`), so that two repayments of one loan are allocated one after
//! the other, each on the schedule the other left. The allocation order and the prepayment rule
//! are `domain::servicing::allocate`'s.

use chrono::NaiveDate;

use super::{Error, Result, Write, require};
use crate::domain::{
    Money, Principal, Role,
    events::EventType,
    servicing::{self, AllocationError, Classification, Loan, Repayment},
};
use crate::store::{self, Refusal, StoreError, loans::NewRepayment};

/// Classifies a loan of the caller's bank: worse than (or as) the floor its days past due set on
/// `today`, never better.
pub async fn classify(
    w: &mut Write<'_>,
    principal: Principal,
    id: i64,
    classification: Classification,
    reason: String,
    today: NaiveDate,
) -> Result<Loan> {
    require(principal, &[Role::Bank], "classify loans")?;
    let loan = store::loans::get_for_update(w.txn(), principal.scope, id).await?;
    let floor = Classification::floor(loan.standing(today).days_past_due);
    if classification < floor {
        return Err(StoreError::Refused {
            code: Refusal::BelowFloor,
            message: format!(
                "the loan is {} days past due, so it is at least {floor}; it may not be classified {classification}",
                loan.standing(today).days_past_due
            ),
            details: vec![crate::domain::FieldError::new("classification", format!("at least {floor}"))],
        }
        .into());
    }
    store::loans::classify(w.txn(), loan.id, classification, &reason).await?;
    let classified = store::loans::get(w.txn(), crate::domain::Scope::All, loan.id).await?;
    store::totals::classified(w.txn(), &loan, &classified, today).await?;
    w.audit("loan.classify", "loan", loan.id).await?;
    w.event(EventType::LoanClassified, classified.audience(), &classified);
    Ok(classified)
}

/// Writes off (核销) a loan of the caller's bank that is classified loss on `today`. Repayments
/// after it are recoveries, counted apart.
pub async fn write_off(w: &mut Write<'_>, principal: Principal, id: i64, today: NaiveDate) -> Result<Loan> {
    require(principal, &[Role::Bank], "write loans off")?;
    let loan = store::loans::get_for_update(w.txn(), principal.scope, id).await?;
    if loan.written_off_on.is_some() {
        return Err(StoreError::WrongState("the loan is written off already".into()).into());
    }
    let class = loan.classification(today);
    if class != Classification::Loss {
        return Err(StoreError::WrongState(format!(
            "only a loan classified loss may be written off; this one is {class}"
        ))
        .into());
    }
    store::loans::write_off(w.txn(), loan.id, today).await?;
    let written_off = store::loans::get(w.txn(), crate::domain::Scope::All, loan.id).await?;
    store::totals::written_off(w.txn(), &loan, &written_off, today).await?;
    w.audit("loan.write_off", "loan", loan.id).await?;
    w.event(EventType::LoanWrittenOff, written_off.audience(), &written_off);
    Ok(written_off)
}

/// What a bank records.
pub struct Repay {
    pub loan_id: i64,
    pub amount: Money,
    pub paid_on: NaiveDate,
    pub reference: String,
}

/// Records a repayment of a loan of the caller's bank, made on or after the loan's disbursement
/// and its last repayment, and not in the future.
pub async fn repay(
    w: &mut Write<'_>,
    principal: Principal,
    repay: Repay,
    today: NaiveDate,
) -> Result<Repayment> {
    require(principal, &[Role::Bank], "record repayments")?;
    let loan = store::loans::get_for_update(w.txn(), principal.scope, repay.loan_id).await?;
    if repay.paid_on > today {
        return Err(Error::invalid("paid_on", format!("{} is in the future", repay.paid_on)));
    }
    if repay.paid_on < loan.disbursed_on {
        return Err(Error::invalid(
            "paid_on",
            format!("{} is before the loan was disbursed on {}", repay.paid_on, loan.disbursed_on),
        ));
    }
    if let Some(written_off) = loan.written_off_on.filter(|on| repay.paid_on < *on) {
        return Err(Error::invalid(
            "paid_on",
            format!(
                "{} is before the loan was written off on {written_off}; a repayment after a write-off is a recovery, paid on or after it",
                repay.paid_on
            ),
        ));
    }
    if let Some(last) = loan.last_paid_on.filter(|last| repay.paid_on < *last) {
        return Err(Error::invalid(
            "paid_on",
            format!(
                "{} is before the loan's last repayment, on {last}; repayments are recorded in order",
                repay.paid_on
            ),
        ));
    }
    let allocation = servicing::allocate(&loan.lines, loan.disbursed_on, repay.paid_on, repay.amount)
        .map_err(|e| match e {
            AllocationError::NoAmount => Error::invalid("amount", e.to_string()),
            AllocationError::ExceedsOutstanding { outstanding, .. } => Error::Store(StoreError::Refused {
                code: Refusal::ExceedsOutstanding,
                message: e.to_string(),
                details: vec![crate::domain::FieldError::new(
                    "amount",
                    format!("at most {} fen settles the loan on {}", outstanding.fen(), repay.paid_on),
                )],
            }),
        })?;
    let new = NewRepayment {
        amount: repay.amount,
        paid_on: repay.paid_on,
        reference: repay.reference,
        interest_paid: allocation.interest_paid,
        principal_paid: allocation.principal_paid,
        lines: allocation.lines,
    };
    let repayment = store::loans::record_repayment(w.txn(), &loan, new, store::now()).await?;
    store::credit::repaid(w.txn(), loan.credit_line_id, repayment.principal_paid).await?;
    // A loan whose risk-pool claim was paid returns the pool's share of what it recovers. Before
    // the totals: a claim's approval holds its pool, then the totals, and so must this.
    store::risk_pools::return_recovery(w.txn(), loan.id, repayment.principal_paid).await?;
    let after = store::loans::get(w.txn(), crate::domain::Scope::All, loan.id).await?;
    store::totals::repaid(w.txn(), &loan, &after, &repayment, today).await?;
    w.audit("repayment.create", "repayment", repayment.id).await?;
    w.event(EventType::RepaymentRecorded, loan.audience(), &repayment);
    Ok(repayment)
}
