//! Applications, credit lines and disbursements: their rows, and the two conditional updates that
//! enforce their limits inside the writing transaction (`take_quota`, `draw`). The rules around
//! them live in the use cases, `service::applications` and `service::credit`.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{application, credit_line, disbursement, product};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, Set,
    sea_query::{Expr, ExprTrait},
};

use super::{Page, StoreError};
use crate::domain::{
    Money, RateBps, Scope, Score,
    credit::{
        Application, ApplicationStatus, Approval, CreditLine, CreditLineStatus, Disbursement, JudgedTerms,
    },
};

/// An enterprise's application, as judged when it was made.
pub struct NewApplication {
    pub enterprise_id: i64,
    pub product_id: i64,
    pub bank_id: i64,
    pub park_id: i64,
    pub amount: Money,
    pub term_months: i32,
    pub purpose: String,
    pub terms: JudgedTerms,
    pub score: Option<(String, Score)>,
    pub offer_max_amount: Money,
}

/// Reads a stored application.
pub fn application(row: application::Model) -> Result<Application, StoreError> {
    let id = row.id;
    let money = |column, fen| super::money("applications", id, column, fen);
    let terms = serde_json::from_value(row.terms.clone())
        .map_err(|_| super::corrupt("applications", id, "terms", &row.terms.to_string()))?;
    let score = match (row.score_period, row.score_centi) {
        (Some(period), Some(centi)) => {
            let score = Score::from_centi(centi)
                .map_err(|_| super::corrupt("applications", id, "score_centi", &centi.to_string()))?;
            Some((period, score))
        }
        _ => None,
    };
    Ok(Application {
        id,
        enterprise_id: row.enterprise_id,
        product_id: row.product_id,
        bank_id: row.bank_id,
        park_id: row.park_id,
        amount: money("amount", row.amount)?,
        term_months: row.term_months,
        purpose: row.purpose,
        status: super::decode(ApplicationStatus::parse, "applications", id, "status", &row.status)?,
        terms,
        score,
        offer_max_amount: money("offer_max_amount", row.offer_max_amount)?,
        submitted_at: row.submitted_at,
        reviewed_at: row.reviewed_at,
        decided_at: row.decided_at,
        decision_reason: row.decision_reason,
    })
}

/// Reads a stored credit line.
pub fn credit_line(row: credit_line::Model) -> Result<CreditLine, StoreError> {
    let id = row.id;
    let money = |column, fen| super::money("credit_lines", id, column, fen);
    Ok(CreditLine {
        id,
        application_id: row.application_id,
        enterprise_id: row.enterprise_id,
        bank_id: row.bank_id,
        product_id: row.product_id,
        park_id: row.park_id,
        amount: money("amount", row.amount)?,
        disbursed_total: money("disbursed_total", row.disbursed_total)?,
        rate: RateBps::new(i64::from(row.rate_bps))
            .map_err(|_| super::corrupt("credit_lines", id, "rate_bps", &row.rate_bps.to_string()))?,
        term_months: row.term_months,
        granted_at: row.granted_at,
        expires_on: row.expires_on,
        status: super::decode(CreditLineStatus::parse, "credit_lines", id, "status", &row.status)?,
        approval_days: row.approval_days,
        approval_working_days: row.approval_working_days,
        sla_breached: row.sla_breached,
        revolving: row.revolving,
        principal_outstanding: money("principal_outstanding", row.principal_outstanding)?,
    })
}

/// Reads a stored disbursement.
pub fn disbursement(row: disbursement::Model) -> Result<Disbursement, StoreError> {
    Ok(Disbursement {
        id: row.id,
        credit_line_id: row.credit_line_id,
        amount: super::money("disbursements", row.id, "amount", row.amount)?,
        reference: row.reference,
        disbursed_on: row.disbursed_on,
        created_at: row.created_at,
    })
}

/// Inserts a submitted application. A second open application of the enterprise to the product
/// is refused by a partial unique index (409).
pub async fn insert_application(
    db: &impl ConnectionTrait,
    new: NewApplication,
    at: DateTime<Utc>,
) -> Result<Application, StoreError> {
    let (score_period, score_centi) = match new.score {
        Some((period, score)) => (Some(period), Some(score.centi())),
        None => (None, None),
    };
    let created = application::ActiveModel {
        enterprise_id: Set(new.enterprise_id),
        product_id: Set(new.product_id),
        bank_id: Set(new.bank_id),
        park_id: Set(new.park_id),
        amount: Set(new.amount.fen()),
        term_months: Set(new.term_months),
        purpose: Set(new.purpose),
        status: Set(ApplicationStatus::Submitted.as_str().to_owned()),
        terms: Set(serde_json::json!(new.terms)),
        score_period: Set(score_period),
        score_centi: Set(score_centi),
        offer_max_amount: Set(new.offer_max_amount.fen()),
        submitted_at: Set(at),
        reviewed_at: Set(None),
        decided_at: Set(None),
        decision_reason: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        super::conflict_on_unique(e, || {
            "the enterprise already has an open application (submitted or under review) for this product"
                .to_owned()
        })
    })?;
    application(created)
}

pub async fn get_application(db: &impl ConnectionTrait, id: i64) -> Result<Application, StoreError> {
    application(application::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

/// Moves an application from `from` to `to`, only if nobody moved it first. Returns whether it
/// moved.
pub async fn move_application(
    db: &impl ConnectionTrait,
    id: i64,
    from: ApplicationStatus,
    to: ApplicationStatus,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut update = application::Entity::update_many()
        .col_expr(application::Column::Status, Expr::value(to.as_str()))
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::Status.eq(from.as_str()));
    update = match to {
        ApplicationStatus::UnderReview => {
            update.col_expr(application::Column::ReviewedAt, Expr::value(Some(at)))
        }
        _ => update
            .col_expr(application::Column::DecidedAt, Expr::value(Some(at)))
            .col_expr(application::Column::DecisionReason, Expr::value(reason)),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Takes `amount` from a product's quota with one conditional update: `granted_total` rises only
/// while it stays within `total_quota`, so approvals racing for the last of it cannot both win.
/// Returns whether it was taken; otherwise, what remains.
pub async fn take_quota(
    db: &impl ConnectionTrait,
    product_id: i64,
    amount: Money,
) -> Result<Result<(), Money>, StoreError> {
    let fen = amount.fen();
    // `granted_total <= total_quota - amount` cannot overflow, unlike `granted_total + amount`.
    let taken = product::Entity::update_many()
        .col_expr(product::Column::GrantedTotal, Expr::col(product::Column::GrantedTotal).add(fen))
        .filter(product::Column::Id.eq(product_id))
        .filter(Expr::col(product::Column::GrantedTotal).lte(Expr::col(product::Column::TotalQuota).sub(fen)))
        .exec(db)
        .await?;
    if taken.rows_affected == 1 {
        return Ok(Ok(()));
    }
    let product = product::Entity::find_by_id(product_id).one(db).await?.ok_or(StoreError::NotFound)?;
    let remaining = super::money("products", product_id, "total_quota", product.total_quota)?
        .saturating_sub(super::money("products", product_id, "granted_total", product.granted_total)?);
    Ok(Err(remaining))
}

/// A line to grant.
pub struct NewCreditLine {
    pub application_id: i64,
    pub enterprise_id: i64,
    pub bank_id: i64,
    pub product_id: i64,
    pub park_id: i64,
    pub approval: Approval,
    pub granted_at: DateTime<Utc>,
    pub approval_days: i32,
    pub approval_working_days: i32,
    pub sla_breached: bool,
    /// As its product.
    pub revolving: bool,
}

pub async fn insert_line(db: &impl ConnectionTrait, new: NewCreditLine) -> Result<CreditLine, StoreError> {
    let line = credit_line::ActiveModel {
        application_id: Set(new.application_id),
        enterprise_id: Set(new.enterprise_id),
        bank_id: Set(new.bank_id),
        product_id: Set(new.product_id),
        park_id: Set(new.park_id),
        amount: Set(new.approval.amount.fen()),
        disbursed_total: Set(0),
        rate_bps: Set(new.approval.rate.bps()),
        term_months: Set(new.approval.term_months),
        granted_at: Set(new.granted_at),
        expires_on: Set(new.approval.expires_on),
        status: Set(CreditLineStatus::Active.as_str().to_owned()),
        approval_days: Set(new.approval_days),
        approval_working_days: Set(new.approval_working_days),
        sla_breached: Set(new.sla_breached),
        revolving: Set(new.revolving),
        principal_outstanding: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    credit_line(line)
}

pub async fn get_line(db: &impl ConnectionTrait, id: i64) -> Result<CreditLine, StoreError> {
    credit_line(credit_line::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

/// Raises a line's `disbursed_total` and `principal_outstanding` by `amount` with one conditional
/// update, only while the line is active, not past `today`'s expiry, and what it limits stays
/// within the line's amount: the sum drawn, or on a revolving line the principal outstanding.
/// Returns whether it was drawn. The check and the write are one statement, so no number of
/// concurrent draws and repayments, in any number of server processes, can overdraw the line;
/// CHECK constraints back it up.
pub async fn draw(
    db: &impl ConnectionTrait,
    line_id: i64,
    amount: Money,
    today: NaiveDate,
) -> Result<bool, StoreError> {
    let fen = amount.fen();
    let drawn = credit_line::Entity::update_many()
        .col_expr(
            credit_line::Column::DisbursedTotal,
            Expr::col(credit_line::Column::DisbursedTotal).add(fen),
        )
        .col_expr(
            credit_line::Column::PrincipalOutstanding,
            Expr::col(credit_line::Column::PrincipalOutstanding).add(fen),
        )
        .filter(credit_line::Column::Id.eq(line_id))
        .filter(credit_line::Column::Status.eq(CreditLineStatus::Active.as_str()))
        .filter(credit_line::Column::ExpiresOn.gte(today))
        .filter(
            Condition::any()
                .add(
                    Condition::all().add(credit_line::Column::Revolving.eq(false)).add(
                        Expr::col(credit_line::Column::DisbursedTotal)
                            .lte(Expr::col(credit_line::Column::Amount).sub(fen)),
                    ),
                )
                .add(
                    Condition::all().add(credit_line::Column::Revolving.eq(true)).add(
                        Expr::col(credit_line::Column::PrincipalOutstanding)
                            .lte(Expr::col(credit_line::Column::Amount).sub(fen)),
                    ),
                ),
        )
        .exec(db)
        .await?;
    Ok(drawn.rows_affected == 1)
}

/// Lowers a line's `principal_outstanding` by principal repaid on one of its loans (one
/// statement, so it composes with concurrent draws).
pub async fn repaid(db: &impl ConnectionTrait, line_id: i64, principal: Money) -> Result<(), StoreError> {
    let updated = credit_line::Entity::update_many()
        .col_expr(
            credit_line::Column::PrincipalOutstanding,
            Expr::col(credit_line::Column::PrincipalOutstanding).sub(principal.fen()),
        )
        .filter(credit_line::Column::Id.eq(line_id))
        .exec(db)
        .await?;
    if updated.rows_affected == 1 { Ok(()) } else { Err(StoreError::NotFound) }
}

/// Closes an active line; answers whether it did (a line closed already is left alone).
pub async fn close_line(db: &impl ConnectionTrait, line_id: i64) -> Result<bool, StoreError> {
    let closed = credit_line::Entity::update_many()
        .col_expr(credit_line::Column::Status, Expr::value(CreditLineStatus::Closed.as_str()))
        .filter(credit_line::Column::Id.eq(line_id))
        .filter(credit_line::Column::Status.eq(CreditLineStatus::Active.as_str()))
        .exec(db)
        .await?;
    Ok(closed.rows_affected == 1)
}

/// Records a disbursement row; `reference` is unique per bank (409).
pub async fn insert_disbursement(
    db: &impl ConnectionTrait,
    line: &CreditLine,
    amount: Money,
    reference: String,
    disbursed_on: NaiveDate,
) -> Result<Disbursement, StoreError> {
    let row = disbursement::ActiveModel {
        credit_line_id: Set(line.id),
        bank_id: Set(line.bank_id),
        park_id: Set(line.park_id),
        enterprise_id: Set(line.enterprise_id),
        product_id: Set(line.product_id),
        amount: Set(amount.fen()),
        reference: Set(reference.clone()),
        disbursed_on: Set(disbursed_on),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        super::conflict_on_unique(e, || {
            format!("this bank already recorded a disbursement with reference {reference:?}")
        })
    })?;
    disbursement(row)
}

/// The condition that limits applications or credit lines to what a caller may see.
pub(crate) fn scoped<C: ColumnTrait>(caller: Scope, park: C, bank: C, enterprise: C) -> Condition {
    match caller {
        Scope::All => Condition::all(),
        Scope::Park(id) => Condition::all().add(park.eq(id)),
        Scope::Bank(id) => Condition::all().add(bank.eq(id)),
        Scope::Enterprise(id) => Condition::all().add(enterprise.eq(id)),
    }
}

fn application_scope(caller: Scope) -> Condition {
    scoped(
        caller,
        application::Column::ParkId,
        application::Column::BankId,
        application::Column::EnterpriseId,
    )
}

fn line_scope(caller: Scope) -> Condition {
    scoped(
        caller,
        credit_line::Column::ParkId,
        credit_line::Column::BankId,
        credit_line::Column::EnterpriseId,
    )
}

pub async fn get_application_visible(
    db: &impl ConnectionTrait,
    caller: Scope,
    id: i64,
) -> Result<Application, StoreError> {
    let found = application::Entity::find_by_id(id).filter(application_scope(caller)).one(db).await?;
    application(found.ok_or(StoreError::NotFound)?)
}

pub async fn list_applications(
    db: &impl ConnectionTrait,
    caller: Scope,
    status: Option<ApplicationStatus>,
    enterprise_id: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Application>, StoreError> {
    let query = application::Entity::find()
        .filter(application_scope(caller))
        .apply_if(status, |q, s| q.filter(application::Column::Status.eq(s.as_str())))
        .apply_if(enterprise_id, |q, id| q.filter(application::Column::EnterpriseId.eq(id)));
    super::page_by_id(db, query, application::Column::Id, after, limit, |a| a.id).await?.try_map(application)
}

pub async fn get_line_visible(
    db: &impl ConnectionTrait,
    caller: Scope,
    id: i64,
) -> Result<CreditLine, StoreError> {
    let found = credit_line::Entity::find_by_id(id).filter(line_scope(caller)).one(db).await?;
    credit_line(found.ok_or(StoreError::NotFound)?)
}

pub async fn list_lines(
    db: &impl ConnectionTrait,
    caller: Scope,
    enterprise_id: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<CreditLine>, StoreError> {
    let query = credit_line::Entity::find()
        .filter(line_scope(caller))
        .apply_if(enterprise_id, |q, id| q.filter(credit_line::Column::EnterpriseId.eq(id)));
    super::page_by_id(db, query, credit_line::Column::Id, after, limit, |l| l.id).await?.try_map(credit_line)
}

pub async fn list_disbursements(
    db: &impl ConnectionTrait,
    line_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Disbursement>, StoreError> {
    let query = disbursement::Entity::find().filter(disbursement::Column::CreditLineId.eq(line_id));
    super::page_by_id(db, query, disbursement::Column::Id, after, limit, |d| d.id)
        .await?
        .try_map(disbursement)
}

/// The sum of a line's disbursement rows, for checks against `disbursed_total`.
pub async fn disbursed_sum(db: &impl ConnectionTrait, line_id: i64) -> Result<i64, StoreError> {
    let sum: Option<Option<i64>> = disbursement::Entity::find()
        .select_only()
        .column_as(super::sum_as_bigint(disbursement::Column::Amount), "total")
        .filter(disbursement::Column::CreditLineId.eq(line_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(sum.flatten().unwrap_or(0))
}
