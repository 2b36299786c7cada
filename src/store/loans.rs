//! Loans, their installments and their repayments.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{loan, loan_installment, repayment};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
    sea_query::{Expr, ExprTrait},
};

use super::{Page, StoreError};
use crate::domain::{
    Money, RateBps, Scope,
    credit::{CreditLine, Disbursement},
    servicing::{self, Classification, Installment, Loan, Repayment, RepaymentMethod, ScheduleLine},
};

fn visible_to(caller: Scope) -> Condition {
    match caller {
        Scope::All => Condition::all(),
        Scope::Park(id) => Condition::all().add(loan::Column::ParkId.eq(id)),
        Scope::Bank(id) => Condition::all().add(loan::Column::BankId.eq(id)),
        Scope::Enterprise(id) => Condition::all().add(loan::Column::EnterpriseId.eq(id)),
    }
}

/// Makes the loan of a disbursement, with its schedule.
pub async fn insert(
    db: &impl ConnectionTrait,
    line: &CreditLine,
    disbursement: &Disbursement,
    maturity_date: NaiveDate,
    method: RepaymentMethod,
    schedule: Vec<Installment>,
) -> Result<Loan, StoreError> {
    loan::ActiveModel {
        id: Set(disbursement.id),
        credit_line_id: Set(line.id),
        enterprise_id: Set(line.enterprise_id),
        bank_id: Set(line.bank_id),
        product_id: Set(line.product_id),
        park_id: Set(line.park_id),
        amount: Set(disbursement.amount.fen()),
        rate_bps: Set(line.rate.bps()),
        disbursed_on: Set(disbursement.disbursed_on),
        maturity_date: Set(maturity_date),
        repayment_method: Set(method.as_str().to_owned()),
        classification: Set(Classification::Normal.as_str().to_owned()),
        classification_reason: Set(None),
        principal_repaid: Set(0),
        interest_repaid: Set(0),
        last_paid_on: Set(None),
        written_off_on: Set(None),
        created_at: Set(disbursement.created_at),
        oldest_unsettled_due: Set(schedule.iter().map(|i| i.due_date).min()),
    }
    .insert(db)
    .await?;
    let rows = schedule.iter().map(|i| loan_installment::ActiveModel {
        loan_id: Set(disbursement.id),
        n: Set(i32::try_from(i.n).unwrap_or(i32::MAX)),
        due_date: Set(i.due_date),
        principal: Set(i.principal.fen()),
        interest: Set(i.interest.fen()),
        paid_principal: Set(0),
        paid_interest: Set(0),
    });
    loan_installment::Entity::insert_many(rows).exec_without_returning(db).await?;
    get(db, Scope::All, disbursement.id).await
}

/// A loan the caller may see; any other is not found.
pub async fn get(db: &impl ConnectionTrait, caller: Scope, id: i64) -> Result<Loan, StoreError> {
    let row =
        loan::Entity::find_by_id(id).filter(visible_to(caller)).one(db).await?.ok_or(StoreError::NotFound)?;
    let mut loans = with_schedules(db, vec![row]).await?;
    loans.pop().ok_or(StoreError::NotFound)
}

/// Like [`get`], holding the loan until the transaction ends (on PostgreSQL), so that repayments
/// of one loan are allocated one after the other.
pub async fn get_for_update(db: &impl ConnectionTrait, caller: Scope, id: i64) -> Result<Loan, StoreError> {
    let row = loan::Entity::find_by_id(id)
        .filter(visible_to(caller))
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut loans = with_schedules(db, vec![row]).await?;
    loans.pop().ok_or(StoreError::NotFound)
}

/// Which loans to list.
#[derive(Clone, Debug, Default)]
pub struct LoanFilter {
    pub credit_line_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub bank_id: Option<i64>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    caller: Scope,
    filter: LoanFilter,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Loan>, StoreError> {
    let query = loan::Entity::find()
        .filter(visible_to(caller))
        .apply_if(filter.credit_line_id, |q, id| q.filter(loan::Column::CreditLineId.eq(id)))
        .apply_if(filter.enterprise_id, |q, id| q.filter(loan::Column::EnterpriseId.eq(id)))
        .apply_if(filter.bank_id, |q, id| q.filter(loan::Column::BankId.eq(id)));
    let page = super::page_by_id(db, query, loan::Column::Id, after, limit, |m| m.id).await?;
    let items = with_schedules(db, page.items).await?;
    Ok(Page { items, next_after: page.next_after })
}

/// The loans as they stood at the end of `day` ([`Loan::as_of`]): those with repayments recorded
/// after it are replayed from their repayments paid by then.
pub async fn as_of(
    db: &impl ConnectionTrait,
    loans: Vec<Loan>,
    day: NaiveDate,
) -> Result<Vec<Loan>, StoreError> {
    let stale: Vec<i64> = loans.iter().filter(|l| !l.is_current_on(day)).map(|l| l.id).collect();
    let mut paid: HashMap<i64, Vec<Repayment>> = HashMap::new();
    for chunk in stale.chunks(500) {
        let rows = repayment::Entity::find()
            .filter(repayment::Column::LoanId.is_in(chunk.iter().copied()))
            .filter(repayment::Column::PaidOn.lte(day))
            .order_by_asc(repayment::Column::Id)
            .all(db)
            .await?;
        for row in rows {
            paid.entry(row.loan_id).or_default().push(repayment_of(row)?);
        }
    }
    loans
        .into_iter()
        .map(|loan| {
            let repayments = paid.remove(&loan.id).unwrap_or_default();
            loan.as_of(day, &repayments).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .collect()
}

/// The loans of one park (or every park) that were running at the end of `day` (disbursed, not
/// written off) and had a repayment recorded after it, as they stood then.
pub async fn repaid_after(
    db: &impl ConnectionTrait,
    park_id: Option<i64>,
    day: NaiveDate,
) -> Result<Vec<Loan>, StoreError> {
    let rows = loan::Entity::find()
        .apply_if(park_id, |q, id| q.filter(loan::Column::ParkId.eq(id)))
        .filter(loan::Column::LastPaidOn.gt(day))
        .filter(loan::Column::DisbursedOn.lte(day))
        .filter(
            Condition::any()
                .add(loan::Column::WrittenOffOn.is_null())
                .add(loan::Column::WrittenOffOn.gt(day)),
        )
        .all(db)
        .await?;
    let loans = with_schedules(db, rows).await?;
    as_of(db, loans, day).await
}

/// The loans of `rows`, each with its schedule, in the order given.
async fn with_schedules(db: &impl ConnectionTrait, rows: Vec<loan::Model>) -> Result<Vec<Loan>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut lines: HashMap<i64, Vec<ScheduleLine>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let installments = loan_installment::Entity::find()
            .filter(loan_installment::Column::LoanId.is_in(chunk.iter().copied()))
            .order_by_asc(loan_installment::Column::LoanId)
            .order_by_asc(loan_installment::Column::N)
            .all(db)
            .await?;
        for i in installments {
            let line = schedule_line(&i)?;
            lines.entry(i.loan_id).or_default().push(line);
        }
    }
    rows.into_iter()
        .map(|row| {
            let schedule = lines.remove(&row.id).unwrap_or_default();
            to_domain(row, schedule)
        })
        .collect()
}

fn schedule_line(i: &loan_installment::Model) -> Result<ScheduleLine, StoreError> {
    let money = |column: &str, fen: i64| super::money("loan_installments", i.loan_id, column, fen);
    Ok(ScheduleLine {
        installment: Installment {
            n: u32::try_from(i.n)
                .map_err(|_| super::corrupt("loan_installments", i.loan_id, "n", &i.n.to_string()))?,
            due_date: i.due_date,
            principal: money("principal", i.principal)?,
            interest: money("interest", i.interest)?,
        },
        paid_principal: money("paid_principal", i.paid_principal)?,
        paid_interest: money("paid_interest", i.paid_interest)?,
    })
}

fn to_domain(m: loan::Model, lines: Vec<ScheduleLine>) -> Result<Loan, StoreError> {
    let money = |column: &str, fen: i64| super::money("loans", m.id, column, fen);
    Ok(Loan {
        id: m.id,
        credit_line_id: m.credit_line_id,
        enterprise_id: m.enterprise_id,
        bank_id: m.bank_id,
        product_id: m.product_id,
        park_id: m.park_id,
        amount: money("amount", m.amount)?,
        rate: RateBps::new(i64::from(m.rate_bps))
            .map_err(|_| super::corrupt("loans", m.id, "rate_bps", &m.rate_bps.to_string()))?,
        disbursed_on: m.disbursed_on,
        maturity_date: m.maturity_date,
        method: super::decode(
            RepaymentMethod::parse,
            "loans",
            m.id,
            "repayment_method",
            &m.repayment_method,
        )?,
        bank_classification: super::decode(
            Classification::parse,
            "loans",
            m.id,
            "classification",
            &m.classification,
        )?,
        principal_repaid: money("principal_repaid", m.principal_repaid)?,
        interest_repaid: money("interest_repaid", m.interest_repaid)?,
        last_paid_on: m.last_paid_on,
        written_off_on: m.written_off_on,
        lines,
        created_at: m.created_at,
    })
}

/// A repayment to record: the loan's lines after it, and what it paid.
pub struct NewRepayment {
    pub amount: Money,
    pub paid_on: NaiveDate,
    pub reference: String,
    pub interest_paid: Money,
    pub principal_paid: Money,
    pub lines: Vec<ScheduleLine>,
}

/// Records a repayment of `loan` (held with [`get_for_update`]): its row, the installments as
/// allocated, and the loan's totals. The bank's reference is unique.
pub async fn record_repayment(
    db: &impl ConnectionTrait,
    loan: &Loan,
    new: NewRepayment,
    now: DateTime<Utc>,
) -> Result<Repayment, StoreError> {
    let row = repayment::ActiveModel {
        loan_id: Set(loan.id),
        bank_id: Set(loan.bank_id),
        amount: Set(new.amount.fen()),
        paid_on: Set(new.paid_on),
        reference: Set(new.reference.clone()),
        interest_paid: Set(new.interest_paid.fen()),
        principal_paid: Set(new.principal_paid.fen()),
        recovery: Set(loan.written_off_on.is_some()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        super::conflict_on_unique(e, || {
            format!("this bank already recorded a repayment with reference {:?}", new.reference)
        })
    })?;
    for (before, after) in loan.lines.iter().zip(&new.lines) {
        if before == after {
            continue;
        }
        loan_installment::Entity::update_many()
            .col_expr(loan_installment::Column::PaidPrincipal, Expr::value(after.paid_principal.fen()))
            .col_expr(loan_installment::Column::PaidInterest, Expr::value(after.paid_interest.fen()))
            .col_expr(loan_installment::Column::Interest, Expr::value(after.installment.interest.fen()))
            .filter(loan_installment::Column::LoanId.eq(loan.id))
            .filter(loan_installment::Column::N.eq(i32::try_from(after.installment.n).unwrap_or(i32::MAX)))
            .exec(db)
            .await?;
    }
    loan::Entity::update_many()
        .col_expr(
            loan::Column::PrincipalRepaid,
            Expr::col(loan::Column::PrincipalRepaid).add(new.principal_paid.fen()),
        )
        .col_expr(
            loan::Column::InterestRepaid,
            Expr::col(loan::Column::InterestRepaid).add(new.interest_paid.fen()),
        )
        .col_expr(loan::Column::LastPaidOn, Expr::value(new.paid_on))
        .col_expr(loan::Column::OldestUnsettledDue, Expr::value(servicing::oldest_unsettled_due(&new.lines)))
        .filter(loan::Column::Id.eq(loan.id))
        .exec(db)
        .await?;
    repayment_of(row)
}

pub async fn repayments(
    db: &impl ConnectionTrait,
    loan_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Repayment>, StoreError> {
    let query = repayment::Entity::find().filter(repayment::Column::LoanId.eq(loan_id));
    let page = super::page_by_id(db, query, repayment::Column::Id, after, limit, |m| m.id).await?;
    page.try_map(repayment_of)
}

fn repayment_of(m: repayment::Model) -> Result<Repayment, StoreError> {
    let money = |column: &str, fen: i64| super::money("repayments", m.id, column, fen);
    Ok(Repayment {
        id: m.id,
        loan_id: m.loan_id,
        amount: money("amount", m.amount)?,
        paid_on: m.paid_on,
        reference: m.reference.clone(),
        interest_paid: money("interest_paid", m.interest_paid)?,
        principal_paid: money("principal_paid", m.principal_paid)?,
        recovery: m.recovery,
        created_at: m.created_at,
    })
}

/// Sets the bank's classification of a loan, with its reason.
pub async fn classify(
    db: &impl ConnectionTrait,
    id: i64,
    classification: Classification,
    reason: &str,
) -> Result<(), StoreError> {
    loan::Entity::update_many()
        .col_expr(loan::Column::Classification, Expr::value(classification.as_str()))
        .col_expr(loan::Column::ClassificationReason, Expr::value(reason))
        .filter(loan::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes a loan off on `on`, if it is not written off yet; answers whether it did.
pub async fn write_off(db: &impl ConnectionTrait, id: i64, on: NaiveDate) -> Result<bool, StoreError> {
    let done = loan::Entity::update_many()
        .col_expr(loan::Column::WrittenOffOn, Expr::value(on))
        .filter(loan::Column::Id.eq(id))
        .filter(loan::Column::WrittenOffOn.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The sum of what a loan's rows say, for checks.
pub async fn repaid_by_rows(db: &impl ConnectionTrait, loan_id: i64) -> Result<(i64, i64), StoreError> {
    let rows: Vec<(i64, i64)> = repayment::Entity::find()
        .select_only()
        .column(repayment::Column::PrincipalPaid)
        .column(repayment::Column::InterestPaid)
        .filter(repayment::Column::LoanId.eq(loan_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.iter().fold((0, 0), |(p, i), (rp, ri)| (p + rp, i + ri)))
}
