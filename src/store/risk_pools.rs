//! Risk-compensation pools: the pools, their covered products and enrolled loans, their ledger,
//! and the banks' claims. Every change of a balance is one conditional update in the use case's
//! transaction, with its ledger line beside it, so that the balance is always the ledger's sum and
//! never below zero, however many processes approve at once.

use chrono::NaiveDate;
use entity::{
    loan, product, risk_claim as claim, risk_pool as pool, risk_pool_entry as entry,
    risk_pool_loan as enrolled, risk_pool_product as covered,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
    sea_query::{Alias, Expr, ExprTrait, Func, Query},
};

use super::{FieldError, Page, Refusal, StoreError};
use crate::domain::{
    Money, Scope,
    risk_pool::{ClaimStatus, EntryKind, MAX_BALANCE, PoolTerms, RiskClaim, RiskPool},
};

fn pool_of(row: pool::Model, product_ids: Vec<i64>) -> Result<RiskPool, StoreError> {
    Ok(RiskPool {
        id: row.id,
        park_id: row.park_id,
        name: row.name,
        product_ids,
        coverage_bps: row.coverage_bps,
        per_loan_cap: super::money("risk_pools", row.id, "per_loan_cap", row.per_loan_cap)?,
        enrol_from: row.enrol_from,
        enrol_to: row.enrol_to,
        balance: super::money("risk_pools", row.id, "balance", row.balance)?,
        created_at: row.created_at,
    })
}

fn claim_of(row: claim::Model) -> Result<RiskClaim, StoreError> {
    let money = |column: &str, fen: i64| super::money("risk_claims", row.id, column, fen);
    Ok(RiskClaim {
        id: row.id,
        pool_id: row.pool_id,
        loan_id: row.loan_id,
        park_id: row.park_id,
        bank_id: row.bank_id,
        enterprise_id: row.enterprise_id,
        unpaid_principal: money("unpaid_principal", row.unpaid_principal)?,
        amount: money("amount", row.amount)?,
        returned: money("returned", row.returned)?,
        status: super::decode(ClaimStatus::parse, "risk_claims", row.id, "status", &row.status)?,
        reason: row.reason,
        filed_at: row.filed_at,
        decided_at: row.decided_at,
    })
}

async fn products_of(db: &impl ConnectionTrait, pools: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(covered::Entity::find()
        .select_only()
        .column(covered::Column::PoolId)
        .column(covered::Column::ProductId)
        .filter(covered::Column::PoolId.is_in(pools.to_vec()))
        .order_by_asc(covered::Column::PoolId)
        .order_by_asc(covered::Column::ProductId)
        .into_tuple()
        .all(db)
        .await?)
}

/// Creates a pool for the park, and enrols the loans it covers that were already drawn in its
/// window and are in no other pool. Every product must exist.
pub async fn create(
    db: &impl ConnectionTrait,
    park_id: i64,
    terms: PoolTerms,
) -> Result<RiskPool, StoreError> {
    // The covered products' rows, locked until the commit: a disbursement under one of them
    // holds its row shared while it enrols its loan (`enrol`), so that a loan drawn while the pool
    // opens is seen by one side or the other, never missed by both.
    let known: Vec<i64> = product::Entity::find()
        .filter(product::Column::Id.is_in(terms.product_ids.clone()))
        .order_by_asc(product::Column::Id)
        .lock_exclusive()
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let errors: Vec<FieldError> = terms
        .product_ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !known.contains(id))
        .map(|(i, id)| {
            FieldError::new(format!("product_ids[{i}]"), format!("there is no product with id {id}"))
        })
        .collect();
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    let now = super::now();
    let row = pool::ActiveModel {
        park_id: Set(park_id),
        name: Set(terms.name.trim().to_owned()),
        coverage_bps: Set(terms.coverage_bps),
        per_loan_cap: Set(terms.per_loan_cap.fen()),
        enrol_from: Set(terms.enrol_from),
        enrol_to: Set(terms.enrol_to),
        balance: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let products: Vec<covered::ActiveModel> = terms
        .product_ids
        .iter()
        .map(|&product_id| covered::ActiveModel { pool_id: Set(row.id), product_id: Set(product_id) })
        .collect();
    covered::Entity::insert_many(products).exec_without_returning(db).await?;
    // INSERT … SELECT: the loans already drawn in the window under a covered product.
    let mut select = Query::select();
    select
        .expr(Expr::value(row.id))
        .column((loan::Entity, loan::Column::Id))
        .expr(Expr::value(now))
        .from(loan::Entity)
        .and_where(Expr::col((loan::Entity, loan::Column::ParkId)).eq(park_id))
        .and_where(Expr::col((loan::Entity, loan::Column::ProductId)).is_in(terms.product_ids.clone()))
        .and_where(Expr::col((loan::Entity, loan::Column::DisbursedOn)).gte(terms.enrol_from))
        .and_where(Expr::col((loan::Entity, loan::Column::DisbursedOn)).lte(terms.enrol_to))
        .and_where(Expr::col((loan::Entity, loan::Column::Id)).not_in_subquery(
            Query::select().column(enrolled::Column::LoanId).from(enrolled::Entity).to_owned(),
        ));
    let insert = Query::insert()
        .into_table(enrolled::Entity)
        .columns([enrolled::Column::PoolId, enrolled::Column::LoanId, enrolled::Column::EnrolledAt])
        .select_from(select)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?
        .to_owned();
    db.execute(&insert).await.map_err(|e| {
        super::conflict_on_unique(e, || {
            "a loan was enrolled by another pool at the same moment; retry".to_owned()
        })
    })?;
    pool_of(row, terms.product_ids)
}

/// Enrols a new loan in the park's pool that covers its product and the day it was drawn, if
/// any (the oldest such pool). In the disbursement's transaction.
pub async fn enrol(
    db: &impl ConnectionTrait,
    loan_id: i64,
    park_id: i64,
    product_id: i64,
    disbursed_on: NaiveDate,
) -> Result<Option<i64>, StoreError> {
    // Held until the commit; a pool opening over the product waits for it (see `create`).
    product::Entity::find_by_id(product_id).lock_shared().one(db).await?;
    let found: Option<i64> = pool::Entity::find()
        .select_only()
        .column(pool::Column::Id)
        .filter(pool::Column::ParkId.eq(park_id))
        .filter(pool::Column::EnrolFrom.lte(disbursed_on))
        .filter(pool::Column::EnrolTo.gte(disbursed_on))
        .filter(
            pool::Column::Id.in_subquery(
                covered::Entity::find()
                    .select_only()
                    .column(covered::Column::PoolId)
                    .filter(covered::Column::ProductId.eq(product_id))
                    .into_query(),
            ),
        )
        .order_by_asc(pool::Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    let Some(pool_id) = found else { return Ok(None) };
    enrolled::ActiveModel { pool_id: Set(pool_id), loan_id: Set(loan_id), enrolled_at: Set(super::now()) }
        .insert(db)
        .await?;
    Ok(Some(pool_id))
}

/// The pool a loan is enrolled in.
pub async fn pool_of_loan(db: &impl ConnectionTrait, loan_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(enrolled::Entity::find_by_id(loan_id).one(db).await?.map(|e| e.pool_id))
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<RiskPool, StoreError> {
    let row = pool::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?;
    let products = products_of(db, &[id]).await?.into_iter().map(|(_, p)| p).collect();
    pool_of(row, products)
}

/// Whether a caller may read a pool: its park's office, a bank with a covered product, an admin.
pub async fn visible(db: &impl ConnectionTrait, pool: &RiskPool, caller: Scope) -> Result<bool, StoreError> {
    Ok(match caller {
        Scope::All => true,
        Scope::Park(park) => pool.park_id == park,
        Scope::Bank(bank) => {
            product::Entity::find()
                .filter(product::Column::Id.is_in(pool.product_ids.clone()))
                .filter(product::Column::BankId.eq(bank))
                .count(db)
                .await?
                > 0
        }
        Scope::Enterprise(_) => false,
    })
}

/// The pools a caller may see, of one park or of all, by id.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: Scope,
    park_id: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<RiskPool>, StoreError> {
    let condition = match caller {
        Scope::All => Condition::all(),
        Scope::Park(park) => Condition::all().add(pool::Column::ParkId.eq(park)),
        Scope::Bank(bank) => Condition::all().add(
            pool::Column::Id.in_subquery(
                covered::Entity::find()
                    .select_only()
                    .column(covered::Column::PoolId)
                    .filter(
                        covered::Column::ProductId.in_subquery(
                            product::Entity::find()
                                .select_only()
                                .column(product::Column::Id)
                                .filter(product::Column::BankId.eq(bank))
                                .into_query(),
                        ),
                    )
                    .into_query(),
            ),
        ),
        Scope::Enterprise(_) => Condition::all().add(Expr::value(false)),
    };
    let query = pool::Entity::find()
        .filter(condition)
        .apply_if(park_id, |q, park| q.filter(pool::Column::ParkId.eq(park)));
    let page = super::page_by_id(db, query, pool::Column::Id, after, limit, |p| p.id).await?;
    let ids: Vec<i64> = page.items.iter().map(|p| p.id).collect();
    let products = products_of(db, &ids).await?;
    page.try_map(|row| {
        let id = row.id;
        pool_of(row, products.iter().filter(|(p, _)| *p == id).map(|(_, product)| *product).collect())
    })
}

/// The principal outstanding on the pool's enrolled loans not written off, in fen.
pub async fn enrolled_outstanding(db: &impl ConnectionTrait, pool_id: i64) -> Result<Money, StoreError> {
    let sum: Option<i64> = loan::Entity::find()
        .select_only()
        .expr_as(
            Func::cast_as(
                Func::sum(Expr::col(loan::Column::Amount).sub(Expr::col(loan::Column::PrincipalRepaid))),
                Alias::new("bigint"),
            ),
            "outstanding",
        )
        .filter(loan::Column::WrittenOffOn.is_null())
        .filter(
            loan::Column::Id.in_subquery(
                enrolled::Entity::find()
                    .select_only()
                    .column(enrolled::Column::LoanId)
                    .filter(enrolled::Column::PoolId.eq(pool_id))
                    .into_query(),
            ),
        )
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    super::money("risk_pools", pool_id, "enrolled_outstanding", sum.unwrap_or(0))
}

/// Adds `amount` to the pool with its ledger line; the reference is unique within the pool.
pub async fn top_up(
    db: &impl ConnectionTrait,
    pool_id: i64,
    amount: Money,
    reference: String,
) -> Result<RiskPool, StoreError> {
    let shown = reference.clone();
    insert_entry(db, pool_id, EntryKind::TopUp, amount.fen(), Some(reference), None).await.map_err(|e| {
        match e {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("this pool already has a top-up with reference {shown:?}"))
            }
            other => other,
        }
    })?;
    let done = pool::Entity::update_many()
        .col_expr(pool::Column::Balance, Expr::col(pool::Column::Balance).add(amount.fen()))
        .filter(pool::Column::Id.eq(pool_id))
        .filter(pool::Column::Balance.lte(MAX_BALANCE - Ord::min(amount.fen(), MAX_BALANCE)))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "amount",
            format!("a pool holds at most {MAX_BALANCE} fen"),
        )]));
    }
    get(db, pool_id).await
}

async fn insert_entry(
    db: &impl ConnectionTrait,
    pool_id: i64,
    kind: EntryKind,
    amount: i64,
    reference: Option<String>,
    claim_id: Option<i64>,
) -> Result<(), StoreError> {
    entry::ActiveModel {
        pool_id: Set(pool_id),
        kind: Set(kind.as_str().to_owned()),
        amount: Set(amount),
        reference: Set(reference),
        claim_id: Set(claim_id),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| super::conflict_on_unique(e, || "a ledger line with this reference exists".to_owned()))?;
    Ok(())
}

/// One line of a pool's ledger.
pub struct Entry {
    pub id: i64,
    pub kind: EntryKind,
    /// Signed fen.
    pub amount: i64,
    pub reference: Option<String>,
    pub claim_id: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The pool's ledger, oldest first.
pub async fn entries(
    db: &impl ConnectionTrait,
    pool_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Entry>, StoreError> {
    let query = entry::Entity::find().filter(entry::Column::PoolId.eq(pool_id));
    let page = super::page_by_id(db, query, entry::Column::Id, after, limit, |e| e.id).await?;
    page.try_map(|row| {
        Ok(Entry {
            id: row.id,
            kind: super::decode(EntryKind::parse, "risk_pool_entries", row.id, "kind", &row.kind)?,
            amount: row.amount,
            reference: row.reference,
            claim_id: row.claim_id,
            created_at: row.created_at,
        })
    })
}

/// The sum of the pool's ledger, in fen: what its balance must be.
pub async fn ledger_sum(db: &impl ConnectionTrait, pool_id: i64) -> Result<i64, StoreError> {
    let sum: Option<i64> = entry::Entity::find()
        .select_only()
        .expr_as(super::sum_as_bigint((entry::Entity, entry::Column::Amount)), "sum")
        .filter(entry::Column::PoolId.eq(pool_id))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(sum.unwrap_or(0))
}

/// A new claim on a loan.
pub struct NewClaim {
    pub pool_id: i64,
    pub loan_id: i64,
    pub park_id: i64,
    pub bank_id: i64,
    pub enterprise_id: i64,
    pub unpaid_principal: Money,
    pub amount: Money,
}

/// Files a claim; a loan with a claim filed or paid already gets 409.
pub async fn file(db: &impl ConnectionTrait, new: NewClaim) -> Result<RiskClaim, StoreError> {
    let loan_id = new.loan_id;
    let row = claim::ActiveModel {
        pool_id: Set(new.pool_id),
        loan_id: Set(new.loan_id),
        park_id: Set(new.park_id),
        bank_id: Set(new.bank_id),
        enterprise_id: Set(new.enterprise_id),
        unpaid_principal: Set(new.unpaid_principal.fen()),
        amount: Set(new.amount.fen()),
        returned: Set(0),
        status: Set(ClaimStatus::Filed.as_str().to_owned()),
        reason: Set(None),
        filed_at: Set(super::now()),
        decided_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        super::conflict_on_unique(e, || format!("loan {loan_id} already has a claim filed or paid"))
    })?;
    claim_of(row)
}

fn claim_scope(caller: Scope) -> Condition {
    super::credit::scoped(caller, claim::Column::ParkId, claim::Column::BankId, claim::Column::EnterpriseId)
}

pub async fn get_claim(db: &impl ConnectionTrait, caller: Scope, id: i64) -> Result<RiskClaim, StoreError> {
    claim::Entity::find_by_id(id)
        .filter(claim_scope(caller))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(claim_of)
}

/// The claims a caller may see, of one pool or of all, by id.
pub async fn list_claims(
    db: &impl ConnectionTrait,
    caller: Scope,
    pool_id: Option<i64>,
    status: Option<ClaimStatus>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<RiskClaim>, StoreError> {
    let query = claim::Entity::find()
        .filter(claim_scope(caller))
        .apply_if(pool_id, |q, id| q.filter(claim::Column::PoolId.eq(id)))
        .apply_if(status, |q, s| q.filter(claim::Column::Status.eq(s.as_str())));
    super::page_by_id(db, query, claim::Column::Id, after, limit, |c| c.id).await?.try_map(claim_of)
}

/// Decides a filed claim: one conditional update from `filed`, so that two decisions settle on
/// one (409 for the other).
async fn decide(
    db: &impl ConnectionTrait,
    claim: &RiskClaim,
    to: ClaimStatus,
    reason: Option<String>,
) -> Result<(), StoreError> {
    let done = claim::Entity::update_many()
        .col_expr(claim::Column::Status, Expr::value(to.as_str()))
        .col_expr(claim::Column::Amount, Expr::value(claim.amount.fen()))
        .col_expr(claim::Column::UnpaidPrincipal, Expr::value(claim.unpaid_principal.fen()))
        .col_expr(claim::Column::Reason, Expr::value(reason))
        .col_expr(claim::Column::DecidedAt, Expr::value(super::now()))
        .filter(claim::Column::Id.eq(claim.id))
        .filter(claim::Column::Status.eq(ClaimStatus::Filed.as_str()))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::WrongState(format!("claim {} is already decided", claim.id)));
    }
    Ok(())
}

/// Approves a filed claim and pays it from the pool: one conditional debit that only a balance
/// large enough passes (422 `insufficient_pool` otherwise), with its ledger line. `claim` carries
/// the amount as computed at approval, on the loan locked by the caller.
pub async fn approve(
    db: &impl ConnectionTrait,
    claim: &RiskClaim,
    reason: Option<String>,
) -> Result<RiskClaim, StoreError> {
    decide(db, claim, ClaimStatus::Approved, reason).await?;
    let amount = claim.amount.fen();
    let paid = pool::Entity::update_many()
        .col_expr(pool::Column::Balance, Expr::col(pool::Column::Balance).sub(amount))
        .filter(pool::Column::Id.eq(claim.pool_id))
        .filter(pool::Column::Balance.gte(amount))
        .exec(db)
        .await?;
    if paid.rows_affected == 0 {
        let pool = get(db, claim.pool_id).await?;
        return Err(StoreError::Refused {
            code: Refusal::InsufficientPool,
            message: format!(
                "the pool holds {} fen, less than the claim's {amount} fen; top it up first",
                pool.balance.fen()
            ),
            details: vec![FieldError::new("amount", format!("the pool holds {} fen", pool.balance.fen()))],
        });
    }
    insert_entry(db, claim.pool_id, EntryKind::ClaimPaid, -amount, None, Some(claim.id)).await?;
    get_claim(db, Scope::All, claim.id).await
}

pub async fn reject(
    db: &impl ConnectionTrait,
    claim: &RiskClaim,
    reason: String,
) -> Result<RiskClaim, StoreError> {
    decide(db, claim, ClaimStatus::Rejected, Some(reason)).await?;
    get_claim(db, Scope::All, claim.id).await
}

/// Returns the pool's share of principal recovered on a loan whose claim was paid, in the
/// repayment's transaction: the claim's `returned` grows by a conditional update that never
/// passes what it paid, the pool's balance by the same, with its ledger line. Answers what was
/// returned.
pub async fn return_recovery(
    db: &impl ConnectionTrait,
    loan_id: i64,
    principal_paid: Money,
) -> Result<Money, StoreError> {
    let Some(row) = claim::Entity::find()
        .filter(claim::Column::LoanId.eq(loan_id))
        .filter(claim::Column::Status.eq(ClaimStatus::Approved.as_str()))
        .one(db)
        .await?
    else {
        return Ok(Money::ZERO);
    };
    let claim = claim_of(row)?;
    let left = claim.amount.saturating_sub(claim.returned);
    let share =
        crate::domain::risk_pool::recovery_share(principal_paid, claim.amount, claim.unpaid_principal, left);
    if share == Money::ZERO {
        return Ok(Money::ZERO);
    }
    let done = claim::Entity::update_many()
        .col_expr(claim::Column::Returned, Expr::col(claim::Column::Returned).add(share.fen()))
        .filter(claim::Column::Id.eq(claim.id))
        .filter(Expr::col(claim::Column::Returned).add(share.fen()).lte(Expr::col(claim::Column::Amount)))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Ok(Money::ZERO);
    }
    pool::Entity::update_many()
        .col_expr(pool::Column::Balance, Expr::col(pool::Column::Balance).add(share.fen()))
        .filter(pool::Column::Id.eq(claim.pool_id))
        .exec(db)
        .await?;
    insert_entry(db, claim.pool_id, EntryKind::RecoveryReturned, share.fen(), None, Some(claim.id)).await?;
    Ok(share)
}

/// Per pool of a park (or of all): balance, claims paid and returned, for statistics.
pub async fn claims_paid(db: &impl ConnectionTrait, pool_id: i64) -> Result<(i64, Money), StoreError> {
    let (count, sum): (i64, Option<i64>) = claim::Entity::find()
        .select_only()
        .column_as(claim::Column::Id.count(), "n")
        .column_as(super::sum_as_bigint((claim::Entity, claim::Column::Amount)), "paid")
        .filter(claim::Column::PoolId.eq(pool_id))
        .filter(claim::Column::Status.eq(ClaimStatus::Approved.as_str()))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    Ok((count, super::money("risk_pools", pool_id, "claims_paid", sum.unwrap_or(0))?))
}
