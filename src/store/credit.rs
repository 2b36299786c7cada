//! Applications, approvals, credit lines and disbursements. Every limit is enforced by the
//! database inside the writing transaction: one conditional update for the product's quota and
//! one for the line's balance, never a read followed by a write.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{application, credit_line, disbursement, product};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, Set, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};

use super::{FieldError, Page, StoreError, audit::Actor};
use crate::domain::{
    Money, Scope, Score,
    credit::{ApplicationAction, ApplicationStatus, Approval, CreditLineStatus, JudgedTerms, approval_time},
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

pub async fn submit(
    db: &impl TransactionTrait,
    actor: &Actor,
    new: NewApplication,
    at: DateTime<Utc>,
) -> Result<application::Model, StoreError> {
    let txn = db.begin().await?;
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
    .insert(&txn)
    .await
    .map_err(|e| {
        super::conflict_on_unique(e, || {
            "the enterprise already has an open application (submitted or under review) for this product"
                .to_owned()
        })
    })?;
    super::audit::record(&txn, actor, "application.submit", "application", created.id).await?;
    txn.commit().await?;
    Ok(created)
}

pub async fn get_application(db: &impl ConnectionTrait, id: i64) -> Result<application::Model, StoreError> {
    application::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

fn status_of(app: &application::Model) -> Result<ApplicationStatus, StoreError> {
    ApplicationStatus::parse(&app.status)
        .ok_or_else(|| StoreError::Db(sea_orm::DbErr::Custom(format!("application {}: bad status", app.id))))
}

fn refused_transition(current: ApplicationStatus, action: ApplicationAction) -> StoreError {
    let verb = match action {
        ApplicationAction::Review => "put under review",
        ApplicationAction::Approve => "approved",
        ApplicationAction::Reject => "rejected",
        ApplicationAction::Withdraw => "withdrawn",
    };
    StoreError::WrongState(format!("the application is {current}; it cannot be {verb}"))
}

/// Moves an application from `current` to its next status, only if nobody moved it first.
async fn move_application(
    txn: &impl ConnectionTrait,
    app: &application::Model,
    action: ApplicationAction,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> Result<ApplicationStatus, StoreError> {
    let current = status_of(app)?;
    let next = current.after(action).ok_or_else(|| refused_transition(current, action))?;
    let mut update = application::Entity::update_many()
        .col_expr(application::Column::Status, Expr::value(next.as_str()))
        .filter(application::Column::Id.eq(app.id))
        .filter(application::Column::Status.eq(current.as_str()));
    update = match action {
        ApplicationAction::Review => update.col_expr(application::Column::ReviewedAt, Expr::value(Some(at))),
        _ => update
            .col_expr(application::Column::DecidedAt, Expr::value(Some(at)))
            .col_expr(application::Column::DecisionReason, Expr::value(reason)),
    };
    if update.exec(txn).await?.rows_affected == 0 {
        let now = status_of(&get_application(txn, app.id).await?)?;
        return Err(refused_transition(now, action));
    }
    Ok(next)
}

/// Reviews, rejects or withdraws an application.
pub async fn act(
    db: &impl TransactionTrait,
    actor: &Actor,
    id: i64,
    action: ApplicationAction,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> Result<application::Model, StoreError> {
    let txn = db.begin().await?;
    let app = get_application(&txn, id).await?;
    move_application(&txn, &app, action, reason, at).await?;
    super::audit::record(&txn, actor, &format!("application.{action}"), "application", id).await?;
    let app = get_application(&txn, id).await?;
    txn.commit().await?;
    Ok(app)
}

/// Approves an application and grants its credit line, in one transaction. The product's quota
/// is taken with one conditional update, so approvals racing for the last of it cannot both win.
pub async fn approve(
    db: &impl TransactionTrait,
    actor: &Actor,
    id: i64,
    approval: Approval,
    at: DateTime<Utc>,
) -> Result<(application::Model, credit_line::Model), StoreError> {
    let txn = db.begin().await?;
    let app = get_application(&txn, id).await?;
    let current = status_of(&app)?;
    if current.after(ApplicationAction::Approve).is_none() {
        return Err(refused_transition(current, ApplicationAction::Approve));
    }
    let terms: JudgedTerms = serde_json::from_value(app.terms.clone())
        .map_err(|_| StoreError::Db(sea_orm::DbErr::Custom(format!("application {id}: bad terms"))))?;
    let offer = Money::from_fen(app.offer_max_amount).unwrap_or(Money::ZERO);
    let problems = terms.approval_problems(offer, &approval, at.date_naive());
    if !problems.is_empty() {
        return Err(StoreError::Invalid(problems));
    }
    let amount = approval.amount.fen();
    // `granted_total <= total_quota - amount` cannot overflow, unlike `granted_total + amount`.
    let taken = product::Entity::update_many()
        .col_expr(product::Column::GrantedTotal, Expr::col(product::Column::GrantedTotal).add(amount))
        .filter(product::Column::Id.eq(app.product_id))
        .filter(
            Expr::col(product::Column::GrantedTotal).lte(Expr::col(product::Column::TotalQuota).sub(amount)),
        )
        .exec(&txn)
        .await?;
    if taken.rows_affected == 0 {
        let product =
            product::Entity::find_by_id(app.product_id).one(&txn).await?.ok_or(StoreError::NotFound)?;
        let remaining = Money::from_fen(product.total_quota - product.granted_total).unwrap_or(Money::ZERO);
        return Err(StoreError::Refused {
            code: super::Refusal::QuotaExceeded,
            message: format!(
                "the product's remaining quota is {remaining}; {} does not fit",
                approval.amount
            ),
            details: vec![FieldError::new(
                "amount",
                format!("at most {} fen remain in the quota", remaining.fen()),
            )],
        });
    }
    move_application(&txn, &app, ApplicationAction::Approve, None, at).await?;
    let (approval_days, approval_working_days) =
        approval_time(app.submitted_at.date_naive(), at.date_naive());
    let line = credit_line::ActiveModel {
        application_id: Set(app.id),
        enterprise_id: Set(app.enterprise_id),
        bank_id: Set(app.bank_id),
        product_id: Set(app.product_id),
        park_id: Set(app.park_id),
        amount: Set(amount),
        disbursed_total: Set(0),
        rate_bps: Set(approval.rate.bps()),
        term_months: Set(approval.term_months),
        granted_at: Set(at),
        expires_on: Set(approval.expires_on),
        status: Set(CreditLineStatus::Active.as_str().to_owned()),
        approval_days: Set(approval_days),
        approval_working_days: Set(approval_working_days),
        sla_breached: Set(approval_working_days > terms.approval_sla_days),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    super::audit::record(&txn, actor, "application.approve", "application", app.id).await?;
    super::audit::record(&txn, actor, "credit_line.grant", "credit_line", line.id).await?;
    let app = get_application(&txn, id).await?;
    txn.commit().await?;
    Ok((app, line))
}

pub async fn get_line(db: &impl ConnectionTrait, id: i64) -> Result<credit_line::Model, StoreError> {
    credit_line::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

fn exceeds_available(line: &credit_line::Model, requested: i64) -> StoreError {
    let available = line.amount - line.disbursed_total;
    StoreError::Refused {
        code: super::Refusal::ExceedsAvailable,
        message: format!(
            "{} fen exceeds what is still available on the credit line: {available} fen",
            requested
        ),
        details: vec![FieldError::new("amount", format!("at most {available} fen are available"))],
    }
}

fn not_drawable(line: &credit_line::Model, today: NaiveDate) -> Option<StoreError> {
    match CreditLineStatus::on(&line.status, line.expires_on, today) {
        CreditLineStatus::Active => None,
        CreditLineStatus::Expired => Some(StoreError::WrongState(format!(
            "the credit line expired on {}; nothing more can be disbursed",
            line.expires_on
        ))),
        CreditLineStatus::Closed => Some(StoreError::WrongState("the credit line is closed".into())),
    }
}

/// Records a disbursement against a line. The line's balance is raised by one conditional
/// update in the same transaction as the insert: the sum disbursed can never pass the line,
/// whatever the concurrency and however many processes share the database.
pub async fn disburse(
    db: &impl TransactionTrait,
    actor: &Actor,
    line_id: i64,
    amount: Money,
    reference: String,
    disbursed_on: NaiveDate,
    today: NaiveDate,
) -> Result<disbursement::Model, StoreError> {
    let txn = db.begin().await?;
    let line = get_line(&txn, line_id).await?;
    if let Some(refusal) = not_drawable(&line, today) {
        return Err(refusal);
    }
    if disbursed_on > today {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "disbursed_on",
            format!("{disbursed_on} is in the future"),
        )]));
    }
    if disbursed_on < line.granted_at.date_naive() {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "disbursed_on",
            format!("{disbursed_on} is before the line was granted on {}", line.granted_at.date_naive()),
        )]));
    }
    let fen = amount.fen();
    if fen < 1 {
        return Err(StoreError::Invalid(vec![FieldError::new("amount", "a disbursement is at least 1 fen")]));
    }
    if fen > line.amount {
        return Err(exceeds_available(&line, fen));
    }
    let drawn = credit_line::Entity::update_many()
        .col_expr(
            credit_line::Column::DisbursedTotal,
            Expr::col(credit_line::Column::DisbursedTotal).add(fen),
        )
        .filter(credit_line::Column::Id.eq(line_id))
        .filter(credit_line::Column::Status.eq(CreditLineStatus::Active.as_str()))
        .filter(credit_line::Column::ExpiresOn.gte(today))
        .filter(
            Expr::col(credit_line::Column::DisbursedTotal)
                .lte(Expr::col(credit_line::Column::Amount).sub(fen)),
        )
        .exec(&txn)
        .await?;
    if drawn.rows_affected == 0 {
        let now = get_line(&txn, line_id).await?;
        return Err(not_drawable(&now, today).unwrap_or_else(|| exceeds_available(&now, fen)));
    }
    let row = disbursement::ActiveModel {
        credit_line_id: Set(line.id),
        bank_id: Set(line.bank_id),
        park_id: Set(line.park_id),
        enterprise_id: Set(line.enterprise_id),
        product_id: Set(line.product_id),
        amount: Set(fen),
        reference: Set(reference.clone()),
        disbursed_on: Set(disbursed_on),
        created_at: Set(super::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        super::conflict_on_unique(e, || {
            format!("this bank already recorded a disbursement with reference {reference:?}")
        })
    })?;
    super::audit::record(&txn, actor, "disbursement.create", "disbursement", row.id).await?;
    txn.commit().await?;
    Ok(row)
}

/// The condition that limits applications or credit lines to what a caller may see.
fn scoped<C: ColumnTrait>(caller: Scope, park: C, bank: C, enterprise: C) -> Condition {
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
) -> Result<application::Model, StoreError> {
    let found = application::Entity::find_by_id(id).filter(application_scope(caller)).one(db).await?;
    found.ok_or(StoreError::NotFound)
}

pub async fn list_applications(
    db: &impl ConnectionTrait,
    caller: Scope,
    status: Option<ApplicationStatus>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<application::Model>, StoreError> {
    let query = application::Entity::find()
        .filter(application_scope(caller))
        .apply_if(status, |q, s| q.filter(application::Column::Status.eq(s.as_str())));
    super::page_by_id(db, query, application::Column::Id, after, limit, |a| a.id).await
}

/// The credit line of an application, if it was approved.
pub async fn line_of_application(
    db: &impl ConnectionTrait,
    application_id: i64,
) -> Result<Option<credit_line::Model>, StoreError> {
    Ok(credit_line::Entity::find()
        .filter(credit_line::Column::ApplicationId.eq(application_id))
        .one(db)
        .await?)
}

pub async fn get_line_visible(
    db: &impl ConnectionTrait,
    caller: Scope,
    id: i64,
) -> Result<credit_line::Model, StoreError> {
    let found = credit_line::Entity::find_by_id(id).filter(line_scope(caller)).one(db).await?;
    found.ok_or(StoreError::NotFound)
}

pub async fn list_lines(
    db: &impl ConnectionTrait,
    caller: Scope,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<credit_line::Model>, StoreError> {
    let query = credit_line::Entity::find().filter(line_scope(caller));
    super::page_by_id(db, query, credit_line::Column::Id, after, limit, |l| l.id).await
}

pub async fn list_disbursements(
    db: &impl ConnectionTrait,
    line_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<disbursement::Model>, StoreError> {
    let query = disbursement::Entity::find().filter(disbursement::Column::CreditLineId.eq(line_id));
    super::page_by_id(db, query, disbursement::Column::Id, after, limit, |d| d.id).await
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
