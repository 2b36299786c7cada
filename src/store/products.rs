//! Loan products, their lifecycle, and the enterprises eligible for them.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use entity::{enterprise, park, product, product_park, score};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
    sea_query::{Alias, Expr, ExprTrait, Query},
};

use super::{FieldError, Page, StoreError, scores::ScoreCursor};
use crate::domain::{
    Money, RateBps, Scope, Score, Stage,
    directory::Enterprise,
    eligibility::{Standing, Verdict, evaluate},
    product::{AmountTier, CreditType, Eligibility, Product, ProductStatus, Terms, Transition},
};

/// What a bank writes when it creates or edits a draft.
#[derive(Clone, Debug)]
pub struct Draft {
    pub code: String,
    pub name: String,
    pub description: String,
    pub credit_type: CreditType,
    pub terms: Terms,
}

fn corrupt(id: i64, what: &str) -> StoreError {
    super::corrupt("products", id, what, "a value this version cannot read")
}

pub(crate) fn to_domain(m: product::Model) -> Result<Product, StoreError> {
    let id = m.id;
    let money = |fen: i64, what: &str| Money::from_fen(fen).map_err(|_| corrupt(id, what));
    let rate = |bps: i32, what: &str| RateBps::new(i64::from(bps)).map_err(|_| corrupt(id, what));
    let eligibility: Eligibility =
        serde_json::from_value(m.eligibility).map_err(|_| corrupt(id, "eligibility"))?;
    let amount_tiers: Vec<AmountTier> =
        serde_json::from_value(m.amount_tiers).map_err(|_| corrupt(id, "amount_tiers"))?;
    Ok(Product {
        id,
        bank_id: m.bank_id,
        credit_type: super::decode(CreditType::parse, "products", id, "credit_type", &m.credit_type)?,
        status: super::decode(ProductStatus::parse, "products", id, "status", &m.status)?,
        terms: Terms {
            min_amount: money(m.min_amount, "min_amount")?,
            max_amount: money(m.max_amount, "max_amount")?,
            rate_bps_min: rate(m.rate_bps_min, "rate_bps_min")?,
            rate_bps_max: rate(m.rate_bps_max, "rate_bps_max")?,
            term_months_min: m.term_months_min,
            term_months_max: m.term_months_max,
            approval_sla_days: m.approval_sla_days,
            total_quota: money(m.total_quota, "total_quota")?,
            eligibility,
            amount_tiers,
            revolving: m.revolving,
        },
        granted_total: money(m.granted_total, "granted_total")?,
        code: m.code,
        name: m.name,
        description: m.description,
        created_at: m.created_at,
        updated_at: m.updated_at,
        published_at: m.published_at,
    })
}

/// The rules that need the database: the parks exist, and the code is free at this bank.
async fn database_problems(
    db: &impl ConnectionTrait,
    bank_id: i64,
    draft: &Draft,
    editing: Option<i64>,
) -> Result<Vec<FieldError>, StoreError> {
    let mut problems = Vec::new();
    let wanted: HashSet<i64> = draft.terms.eligibility.park_ids.iter().copied().collect();
    if !wanted.is_empty() {
        let found: HashSet<i64> = park::Entity::find()
            .select_only()
            .column(park::Column::Id)
            .filter(park::Column::Id.is_in(wanted.iter().copied()))
            .into_tuple::<i64>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let mut missing: Vec<i64> = wanted.difference(&found).copied().collect();
        missing.sort();
        for id in missing {
            problems.push(FieldError::new("eligibility.park_ids", format!("there is no park with id {id}")));
        }
    }
    let taken = product::Entity::find()
        .filter(product::Column::BankId.eq(bank_id))
        .filter(product::Column::Code.eq(draft.code.as_str()))
        .apply_if(editing, |q, id| q.filter(product::Column::Id.ne(id)))
        .one(db)
        .await?;
    if taken.is_some() {
        problems.push(FieldError::new(
            "code",
            format!("this bank already has a product with code {:?}", draft.code),
        ));
    }
    Ok(problems)
}

fn active_model(draft: Draft, model: &mut product::ActiveModel) {
    let t = draft.terms;
    model.code = Set(draft.code);
    model.name = Set(draft.name);
    model.description = Set(draft.description);
    model.credit_type = Set(draft.credit_type.as_str().to_owned());
    model.min_amount = Set(t.min_amount.fen());
    model.max_amount = Set(t.max_amount.fen());
    model.rate_bps_min = Set(t.rate_bps_min.bps());
    model.rate_bps_max = Set(t.rate_bps_max.bps());
    model.term_months_min = Set(t.term_months_min);
    model.term_months_max = Set(t.term_months_max);
    model.approval_sla_days = Set(t.approval_sla_days);
    model.total_quota = Set(t.total_quota.fen());
    model.eligibility = Set(serde_json::json!(t.eligibility));
    model.amount_tiers = Set(serde_json::json!(t.amount_tiers));
    model.revolving = Set(t.revolving);
    model.updated_at = Set(super::now());
}

async fn replace_parks(
    db: &impl ConnectionTrait,
    product_id: i64,
    park_ids: &[i64],
) -> Result<(), StoreError> {
    product_park::Entity::delete_many()
        .filter(product_park::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    let unique: HashSet<i64> = park_ids.iter().copied().collect();
    if !unique.is_empty() {
        let rows = unique
            .into_iter()
            .map(|park_id| product_park::ActiveModel { product_id: Set(product_id), park_id: Set(park_id) });
        product_park::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Creates a draft product for the bank. Every problem with the terms is reported at once.
pub async fn create(db: &impl ConnectionTrait, bank_id: i64, draft: Draft) -> Result<Product, StoreError> {
    let mut problems = draft.terms.problems();
    problems.extend(database_problems(db, bank_id, &draft, None).await?);
    if !problems.is_empty() {
        return Err(StoreError::Invalid(problems));
    }
    let park_ids = draft.terms.eligibility.park_ids.clone();
    let now = super::now();
    let mut model = product::ActiveModel {
        bank_id: Set(bank_id),
        granted_total: Set(0),
        status: Set(ProductStatus::Draft.as_str().to_owned()),
        created_at: Set(now),
        published_at: Set(None),
        ..Default::default()
    };
    active_model(draft, &mut model);
    let code = model.code.clone().unwrap();
    let created = model.insert(db).await.map_err(|e| {
        super::conflict_on_unique(e, || format!("this bank already has a product with code {code:?}"))
    })?;
    replace_parks(db, created.id, &park_ids).await?;
    to_domain(created)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Product, StoreError> {
    to_domain(product::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

pub(crate) fn not_editable(status: ProductStatus) -> StoreError {
    StoreError::WrongState(format!(
        "the product is {status}; only a draft can be edited. To change its terms, retire it and publish a new product"
    ))
}

/// Rewrites a draft's terms. Refused once the product has been published.
///
/// `read_at` is the `updated_at` of the product the draft was laid over: an edit that another
/// edit overtook since is refused (409), so that neither loses the other's fields.
pub async fn update_draft(
    db: &impl ConnectionTrait,
    id: i64,
    draft: Draft,
    read_at: DateTime<Utc>,
) -> Result<Product, StoreError> {
    let current = get(db, id).await?;
    if current.status != ProductStatus::Draft {
        return Err(not_editable(current.status));
    }
    let mut problems = draft.terms.problems();
    problems.extend(database_problems(db, current.bank_id, &draft, Some(id)).await?);
    if !problems.is_empty() {
        return Err(StoreError::Invalid(problems));
    }
    let park_ids = draft.terms.eligibility.park_ids.clone();
    let mut model = <product::ActiveModel as Default>::default();
    active_model(draft, &mut model);
    // Only while it is still the draft that was read: a publish or another edit that raced this
    // one wins, and this edit is refused.
    let updated = product::Entity::update_many()
        .set(model)
        .filter(product::Column::Id.eq(id))
        .filter(product::Column::Status.eq(ProductStatus::Draft.as_str()))
        .filter(product::Column::UpdatedAt.eq(read_at))
        .exec(db)
        .await
        .map_err(|e| {
            super::conflict_on_unique(e, || "this bank already has a product with that code".to_owned())
        })?;
    if updated.rows_affected == 0 {
        let now = get(db, id).await?;
        if now.status != ProductStatus::Draft {
            return Err(not_editable(now.status));
        }
        return Err(StoreError::WrongState(
            "the product was edited since it was read; read it again and send the change again".to_owned(),
        ));
    }
    replace_parks(db, id, &park_ids).await?;
    let product = get(db, id).await?;
    Ok(product)
}

/// Publishes, suspends or retires a product, if its current status allows it.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: i64,
    action: Transition,
) -> Result<Product, StoreError> {
    let current = get(db, id).await?;
    let Some(next) = current.status.after(action) else {
        return Err(StoreError::WrongState(format!(
            "the product is {}; it cannot be {}",
            current.status,
            action.past_tense()
        )));
    };
    let now = super::now();
    let mut update = product::Entity::update_many()
        .col_expr(product::Column::Status, Expr::value(next.as_str()))
        .col_expr(product::Column::UpdatedAt, Expr::value(now))
        .filter(product::Column::Id.eq(id))
        .filter(product::Column::Status.eq(current.status.as_str()));
    if next == ProductStatus::Published && current.published_at.is_none() {
        update = update.col_expr(product::Column::PublishedAt, Expr::value(Some(now)));
    }
    if update.exec(db).await?.rows_affected == 0 {
        let status = get(db, id).await?.status;
        return Err(StoreError::WrongState(format!("the product is now {status}; reload it and try again")));
    }
    let product = get(db, id).await?;
    Ok(product)
}

/// Which products a caller may see: admins all; banks the published ones and all of their own;
/// everyone else only the published ones.
fn visible_to(caller: Scope) -> Condition {
    let published = product::Column::Status.eq(ProductStatus::Published.as_str());
    match caller {
        Scope::All => Condition::all(),
        Scope::Bank(bank_id) => Condition::any().add(published).add(product::Column::BankId.eq(bank_id)),
        Scope::Park(_) | Scope::Enterprise(_) => Condition::all().add(published),
    }
}

pub async fn get_visible(db: &impl ConnectionTrait, caller: Scope, id: i64) -> Result<Product, StoreError> {
    let found = product::Entity::find_by_id(id).filter(visible_to(caller)).one(db).await?;
    to_domain(found.ok_or(StoreError::NotFound)?)
}

#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    pub status: Option<ProductStatus>,
    pub bank_id: Option<i64>,
    /// Products offered in this park: those listing it, and those listing no park.
    pub park_id: Option<i64>,
}

pub async fn list_visible(
    db: &impl ConnectionTrait,
    caller: Scope,
    filter: ProductFilter,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Product>, StoreError> {
    let in_park = filter.park_id.map(|park_id| {
        let listed = Query::select()
            .expr(Expr::val(1))
            .from(product_park::Entity)
            .and_where(
                Expr::col((product_park::Entity, product_park::Column::ProductId))
                    .equals((product::Entity, product::Column::Id)),
            )
            .to_owned();
        let listed_here = listed.clone().and_where(product_park::Column::ParkId.eq(park_id)).to_owned();
        Condition::any().add(Expr::exists(listed).not()).add(Expr::exists(listed_here))
    });
    let query = product::Entity::find()
        .filter(visible_to(caller))
        .apply_if(filter.status, |q, s| q.filter(product::Column::Status.eq(s.as_str())))
        .apply_if(filter.bank_id, |q, b| q.filter(product::Column::BankId.eq(b)))
        .apply_if(in_park, |q, c| q.filter(c));
    let page = super::page_by_id(db, query, product::Column::Id, after, limit, |p| p.id).await?;
    Ok(Page {
        items: page.items.into_iter().map(to_domain).collect::<Result<_, _>>()?,
        next_after: page.next_after,
    })
}

/// Every published product, for matching.
pub async fn published(db: &impl ConnectionTrait) -> Result<Vec<Product>, StoreError> {
    product::Entity::find()
        .filter(product::Column::Status.eq(ProductStatus::Published.as_str()))
        .order_by_asc(product::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_domain)
        .collect()
}

/// An enterprise that qualifies for a product, with what it may borrow.
pub struct Prospect {
    pub enterprise: Enterprise,
    pub score: score::Model,
    pub offer_max_amount: Money,
}

/// The date `years` whole years before `today` (29 February falls back to the 28th).
fn years_before(today: NaiveDate, years: u32) -> Option<NaiveDate> {
    let year = today.year().checked_sub(i32::try_from(years).ok()?)?;
    today.with_year(year).or_else(|| NaiveDate::from_ymd_opt(year, today.month(), 28))
}

/// The enterprises eligible for a product, best latest score first. The rules SQL can express
/// (parks, score, rank, percentile, industry, size, age) filter in the query over the indexes;
/// the rest (qualifications, tiers, quota) are judged by the eligibility engine row by row.
/// Only scored enterprises are prospects.
pub async fn prospects(
    db: &impl ConnectionTrait,
    product: &Product,
    after: Option<ScoreCursor>,
    limit: u64,
    today: NaiveDate,
) -> Result<(Vec<Prospect>, Option<ScoreCursor>), StoreError> {
    let rules = &product.terms.eligibility;
    let newer = Alias::new("newer");
    let newer_period = Query::select()
        .expr(Expr::val(1))
        .from_as(score::Entity, newer.clone())
        .and_where(
            Expr::col((newer.clone(), score::Column::EnterpriseId))
                .equals((score::Entity, score::Column::EnterpriseId)),
        )
        .and_where(
            Expr::col((newer, score::Column::PeriodKey))
                .gt(Expr::col((score::Entity, score::Column::PeriodKey))),
        )
        .to_owned();
    let mut base =
        score::Entity::find().find_also_related(enterprise::Entity).filter(Expr::exists(newer_period).not());
    if !rules.park_ids.is_empty() {
        base = base.filter(score::Column::ParkId.is_in(rules.park_ids.iter().copied()));
    }
    if let Some(min) = rules.min_score {
        base = base.filter(score::Column::ScoreCenti.gte(min.centi()));
    }
    if let Some(rank) = rules.max_park_rank {
        base = base.filter(score::Column::Rank.lte(rank));
    }
    if let Some(p) = rules.min_percentile_centi {
        base = base.filter(score::Column::PercentileCenti.gte(p));
    }
    if !rules.stages.is_empty() {
        base = base.filter(score::Column::Stage.is_in(rules.stages.iter().map(|s| s.as_str())));
    }
    if let Some(p) = rules.min_stage_percentile_centi {
        base = base.filter(score::Column::StagePercentileCenti.gte(p));
    }
    if !rules.industries.is_empty() {
        base = base.filter(enterprise::Column::Industry.is_in(rules.industries.iter().cloned()));
    }
    if !rules.sizes.is_empty() {
        base = base.filter(enterprise::Column::Size.is_in(rules.sizes.iter().map(|s| s.as_str())));
    }
    if let Some(founded_by) = rules.min_years_established.and_then(|y| years_before(today, y)) {
        base = base.filter(enterprise::Column::FoundedOn.lte(founded_by));
    }
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX).saturating_add(1);
    let batch = Ord::max(wanted as u64, 200);
    let offerable = product.offerable();
    let mut found: Vec<Prospect> = Vec::new();
    let mut position = after;
    'scan: loop {
        let mut query = base.clone();
        if let Some(p) = position {
            query = query.filter(p.rest());
        }
        let rows = query
            .order_by_desc(score::Column::ScoreCenti)
            .order_by_asc(score::Column::EnterpriseId)
            .limit(batch)
            .all(db)
            .await?;
        let exhausted = (rows.len() as u64) < batch;
        for (score_row, enterprise) in rows {
            position = Some(ScoreCursor {
                score_centi: score_row.score_centi,
                enterprise_id: score_row.enterprise_id,
            });
            let Some(enterprise) = enterprise else { continue };
            let enterprise = super::enterprises::enterprise_of(enterprise)?;
            let profile = enterprise.profile();
            let score = Score::from_centi(score_row.score_centi).map_err(|_| {
                super::corrupt("scores", score_row.id, "score_centi", &score_row.score_centi.to_string())
            })?;
            let stage = super::decode(Stage::parse, "scores", score_row.id, "stage", &score_row.stage)?;
            let standing = Some(Standing {
                score,
                rank: score_row.rank,
                percentile_centi: score_row.percentile_centi,
                stage,
                stage_percentile_centi: score_row.stage_percentile_centi,
            });
            if let Verdict::Eligible { offer_max_amount } =
                evaluate(&offerable, &profile.applicant(standing), today)
            {
                found.push(Prospect { enterprise, score: score_row, offer_max_amount });
                if found.len() >= wanted {
                    break 'scan;
                }
            }
        }
        if exhausted {
            break;
        }
    }
    let next = if found.len() >= wanted {
        found.truncate(wanted - 1);
        found
            .last()
            .map(|p| ScoreCursor { score_centi: p.score.score_centi, enterprise_id: p.score.enterprise_id })
    } else {
        None
    };
    Ok((found, next))
}
