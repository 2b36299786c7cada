//! Interest subsidy programmes and their claims. A programme's `paid` moves by one conditional
//! update per approval that only a budget large enough passes, and CHECK (paid ≤ budget) holds
//! the line in the schema too. A claim's lines are keyed by (programme, repayment), so a
//! repayment's interest is counted once per programme; a rejection deletes its lines.

use chrono::NaiveDate;
use entity::{
    loan, repayment, subsidy_claim as claim, subsidy_claim_line as line, subsidy_program as program,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, RelationTrait, Set,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{FieldError, Page, Refusal, StoreError};
use crate::domain::{
    Money, Scope,
    product::Eligibility,
    risk_pool::ClaimStatus,
    subsidy::{ProgramTerms, Repaid, Subsidy, SubsidyClaim, SubsidyProgram},
};

fn program_of(row: program::Model) -> Result<SubsidyProgram, StoreError> {
    let money = |column: &str, fen: i64| super::money("subsidy_programs", row.id, column, fen);
    let eligibility: Eligibility = serde_json::from_value(row.eligibility.clone()).map_err(|_| {
        super::corrupt("subsidy_programs", row.id, "eligibility", &row.eligibility.to_string())
    })?;
    Ok(SubsidyProgram {
        id: row.id,
        park_id: row.park_id,
        terms: ProgramTerms {
            name: row.name.clone(),
            share_bps: row.share_bps,
            first_loan_bonus_bps: row.first_loan_bonus_bps,
            per_enterprise_cap: money("per_enterprise_cap", row.per_enterprise_cap)?,
            budget: money("budget", row.budget)?,
            eligibility,
            from: row.from_day,
            to: row.to_day,
        },
        paid: money("paid", row.paid)?,
        created_at: row.created_at,
    })
}

fn claim_of(row: claim::Model) -> Result<SubsidyClaim, StoreError> {
    let money = |column: &str, fen: i64| super::money("subsidy_claims", row.id, column, fen);
    Ok(SubsidyClaim {
        id: row.id,
        program_id: row.program_id,
        park_id: row.park_id,
        enterprise_id: row.enterprise_id,
        from: row.from_day,
        to: row.to_day,
        interest_basis: money("interest_basis", row.interest_basis)?,
        bonus_basis: money("bonus_basis", row.bonus_basis)?,
        repayments: row.repayments,
        amount: money("amount", row.amount)?,
        status: super::decode(ClaimStatus::parse, "subsidy_claims", row.id, "status", &row.status)?,
        reason: row.reason,
        filed_at: row.filed_at,
        decided_at: row.decided_at,
    })
}

pub async fn create(
    db: &impl ConnectionTrait,
    park_id: i64,
    terms: ProgramTerms,
) -> Result<SubsidyProgram, StoreError> {
    let row = program::ActiveModel {
        park_id: Set(park_id),
        name: Set(terms.name.clone()),
        share_bps: Set(terms.share_bps),
        first_loan_bonus_bps: Set(terms.first_loan_bonus_bps),
        per_enterprise_cap: Set(terms.per_enterprise_cap.fen()),
        budget: Set(terms.budget.fen()),
        paid: Set(0),
        eligibility: Set(serde_json::json!(terms.eligibility)),
        from_day: Set(terms.from),
        to_day: Set(terms.to),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    program_of(row)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<SubsidyProgram, StoreError> {
    program::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound).and_then(program_of)
}

/// A park's programmes (or every park's), by id.
pub async fn list(
    db: &impl ConnectionTrait,
    park_id: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<SubsidyProgram>, StoreError> {
    let query =
        program::Entity::find().apply_if(park_id, |q, park| q.filter(program::Column::ParkId.eq(park)));
    super::page_by_id(db, query, program::Column::Id, after, limit, |p| p.id).await?.try_map(program_of)
}

/// The sum of a programme's claims in `statuses` (of one enterprise, or of all), in fen.
pub async fn claimed(
    db: &impl ConnectionTrait,
    program_id: i64,
    enterprise_id: Option<i64>,
    statuses: &[ClaimStatus],
) -> Result<Money, StoreError> {
    let sum: Option<i64> = claim::Entity::find()
        .select_only()
        .expr_as(super::sum_as_bigint((claim::Entity, claim::Column::Amount)), "sum")
        .filter(claim::Column::ProgramId.eq(program_id))
        .apply_if(enterprise_id, |q, e| q.filter(claim::Column::EnterpriseId.eq(e)))
        .filter(claim::Column::Status.is_in(statuses.iter().map(|s| s.as_str())))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    super::money("subsidy_programs", program_id, "claimed", sum.unwrap_or(0))
}

/// The enterprise's first loan: the earliest drawn, on the platform.
async fn first_loan(db: &impl ConnectionTrait, enterprise_id: i64) -> Result<Option<i64>, StoreError> {
    Ok(loan::Entity::find()
        .select_only()
        .column(loan::Column::Id)
        .filter(loan::Column::EnterpriseId.eq(enterprise_id))
        .order_by_asc(loan::Column::DisbursedOn)
        .order_by_asc(loan::Column::Id)
        .into_tuple()
        .one(db)
        .await?)
}

/// The interest the enterprise repaid from `from` to `to` that no claim of the programme counts
/// yet, oldest first. Recoveries on written-off loans are not counted.
pub async fn unclaimed(
    db: &impl ConnectionTrait,
    program_id: i64,
    enterprise_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Repaid>, StoreError> {
    let first = first_loan(db, enterprise_id).await?;
    let rows: Vec<(i64, i64, i64, i64, NaiveDate, i64)> = repayment::Entity::find()
        .select_only()
        .column(repayment::Column::Id)
        .column(repayment::Column::LoanId)
        .column(loan::Column::BankId)
        .column(loan::Column::ProductId)
        .column(repayment::Column::PaidOn)
        .column(repayment::Column::InterestPaid)
        .join(sea_orm::JoinType::InnerJoin, repayment::Relation::Loan.def())
        .filter(Expr::col((loan::Entity, loan::Column::EnterpriseId)).eq(enterprise_id))
        .filter(repayment::Column::PaidOn.gte(from))
        .filter(repayment::Column::PaidOn.lte(to))
        .filter(repayment::Column::Recovery.eq(false))
        .filter(repayment::Column::InterestPaid.gt(0))
        // NOT EXISTS on the lines' key (programme, repayment): one index probe per repayment,
        // however many the programme has counted.
        .filter(
            Expr::exists(
                Query::select()
                    .expr(Expr::value(1))
                    .from(line::Entity)
                    .and_where(Expr::col((line::Entity, line::Column::ProgramId)).eq(program_id))
                    .and_where(
                        Expr::col((line::Entity, line::Column::RepaymentId))
                            .equals((repayment::Entity, repayment::Column::Id)),
                    )
                    .to_owned(),
            )
            .not(),
        )
        .order_by_asc(repayment::Column::PaidOn)
        .order_by_asc(repayment::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(id, loan_id, bank_id, product_id, paid_on, interest)| {
            Ok(Repaid {
                repayment_id: id,
                loan_id,
                bank_id,
                product_id,
                paid_on,
                interest: super::money("repayments", id, "interest_paid", interest)?,
                first_loan: Some(loan_id) == first,
            })
        })
        .collect()
}

/// A new claim: its programme, enterprise, window and what it pays, line by line.
pub struct NewClaim<'a> {
    pub program: &'a SubsidyProgram,
    pub enterprise_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub subsidy: &'a Subsidy,
}

/// Files a claim with its lines. A line whose repayment another claim of the programme counted
/// meanwhile gets 409 (the caller locks the enterprise first, so this is the last guard).
pub async fn file(db: &impl ConnectionTrait, new: NewClaim<'_>) -> Result<SubsidyClaim, StoreError> {
    let s = new.subsidy;
    let row = claim::ActiveModel {
        program_id: Set(new.program.id),
        park_id: Set(new.program.park_id),
        enterprise_id: Set(new.enterprise_id),
        from_day: Set(new.from),
        to_day: Set(new.to),
        interest_basis: Set(s.interest_basis.fen()),
        bonus_basis: Set(s.bonus_basis.fen()),
        repayments: Set(i32::try_from(s.lines.len()).unwrap_or(i32::MAX)),
        amount: Set(s.amount.fen()),
        status: Set(ClaimStatus::Filed.as_str().to_owned()),
        reason: Set(None),
        filed_at: Set(super::now()),
        decided_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let lines: Vec<line::ActiveModel> = s
        .lines
        .iter()
        .map(|l| line::ActiveModel {
            program_id: Set(new.program.id),
            repayment_id: Set(l.repaid.repayment_id),
            claim_id: Set(row.id),
            loan_id: Set(l.repaid.loan_id),
            bank_id: Set(l.repaid.bank_id),
            product_id: Set(l.repaid.product_id),
            interest: Set(l.repaid.interest.fen()),
            first_loan: Set(l.repaid.first_loan),
            amount: Set(l.amount.fen()),
        })
        .collect();
    for chunk in lines.chunks(500) {
        line::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await.map_err(|e| {
            super::conflict_on_unique(e, || {
                "another claim counted some of this interest at the same moment; retry".to_owned()
            })
        })?;
    }
    claim_of(row)
}

fn claim_scope(caller: Scope) -> Condition {
    match caller {
        Scope::All => Condition::all(),
        Scope::Park(park) => Condition::all().add(claim::Column::ParkId.eq(park)),
        Scope::Enterprise(e) => Condition::all().add(claim::Column::EnterpriseId.eq(e)),
        Scope::Bank(_) => Condition::all().add(Expr::value(false)),
    }
}

pub async fn get_claim(
    db: &impl ConnectionTrait,
    caller: Scope,
    id: i64,
) -> Result<SubsidyClaim, StoreError> {
    claim::Entity::find_by_id(id)
        .filter(claim_scope(caller))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(claim_of)
}

/// What narrows a list of claims.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClaimFilter {
    pub program_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    pub status: Option<ClaimStatus>,
}

/// The claims a caller may see, by id.
pub async fn list_claims(
    db: &impl ConnectionTrait,
    caller: Scope,
    filter: ClaimFilter,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<SubsidyClaim>, StoreError> {
    let query = claim::Entity::find()
        .filter(claim_scope(caller))
        .apply_if(filter.program_id, |q, id| q.filter(claim::Column::ProgramId.eq(id)))
        .apply_if(filter.enterprise_id, |q, id| q.filter(claim::Column::EnterpriseId.eq(id)))
        .apply_if(filter.status, |q, s| q.filter(claim::Column::Status.eq(s.as_str())));
    super::page_by_id(db, query, claim::Column::Id, after, limit, |c| c.id).await?.try_map(claim_of)
}

/// Decides a filed claim: one conditional update from `filed`, so that two decisions settle on
/// one (409 for the other).
async fn decide(
    db: &impl ConnectionTrait,
    claim: &SubsidyClaim,
    to: ClaimStatus,
    reason: Option<String>,
) -> Result<(), StoreError> {
    let done = claim::Entity::update_many()
        .col_expr(claim::Column::Status, Expr::value(to.as_str()))
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

/// Approves a filed claim and pays it from the budget: one conditional update that only a
/// budget with enough left passes (422 `budget_exhausted` otherwise).
pub async fn approve(
    db: &impl ConnectionTrait,
    claim: &SubsidyClaim,
    reason: Option<String>,
) -> Result<SubsidyClaim, StoreError> {
    decide(db, claim, ClaimStatus::Approved, reason).await?;
    let amount = claim.amount.fen();
    let paid = program::Entity::update_many()
        .col_expr(program::Column::Paid, Expr::col(program::Column::Paid).add(amount))
        .filter(program::Column::Id.eq(claim.program_id))
        .filter(Expr::col(program::Column::Paid).add(amount).lte(Expr::col(program::Column::Budget)))
        .exec(db)
        .await?;
    if paid.rows_affected == 0 {
        let program = get(db, claim.program_id).await?;
        return Err(StoreError::Refused {
            code: Refusal::BudgetExhausted,
            message: format!(
                "the programme has {} fen of its budget left, less than the claim's {amount} fen",
                program.remaining().fen()
            ),
            details: vec![FieldError::new(
                "amount",
                format!("the budget has {} fen left", program.remaining().fen()),
            )],
        });
    }
    get_claim(db, Scope::All, claim.id).await
}

/// Rejects a filed claim and frees the interest it counted for another claim.
pub async fn reject(
    db: &impl ConnectionTrait,
    claim: &SubsidyClaim,
    reason: String,
) -> Result<SubsidyClaim, StoreError> {
    decide(db, claim, ClaimStatus::Rejected, Some(reason)).await?;
    line::Entity::delete_many().filter(line::Column::ClaimId.eq(claim.id)).exec(db).await?;
    get_claim(db, Scope::All, claim.id).await
}

/// What a claim's lines pay per bank and product, in fen.
pub async fn paid_by_product(
    db: &impl ConnectionTrait,
    claim_id: i64,
) -> Result<std::collections::BTreeMap<(i64, i64), i64>, StoreError> {
    use entity::subsidy_claim_line;
    let lines: Vec<(i64, i64, i64)> = subsidy_claim_line::Entity::find()
        .select_only()
        .column(subsidy_claim_line::Column::BankId)
        .column(subsidy_claim_line::Column::ProductId)
        .column(subsidy_claim_line::Column::Amount)
        .filter(subsidy_claim_line::Column::ClaimId.eq(claim_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut paid = std::collections::BTreeMap::new();
    for (bank_id, product_id, amount) in lines {
        *paid.entry((bank_id, product_id)).or_insert(0) += amount;
    }
    Ok(paid)
}
