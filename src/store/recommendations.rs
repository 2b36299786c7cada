//! Recommendation lists, their banks and entries, and the banks' tasks.

use std::collections::HashSet;

use chrono::NaiveDate;
use entity::{
    bank, enterprise, recommendation_entry as entry, recommendation_list as list,
    recommendation_list_bank as list_bank, recommendation_task as task, score,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
    sea_query::{Expr, ExprTrait},
};

use super::{FieldError, Page, StoreError};
use crate::domain::{
    Money, Scope, Score,
    recommendation::{
        Entry, ListRule, ListStatus, MAX_ENTRIES, Need, RecommendationList, Task, TaskStatus, answerable_from,
    },
};

/// Rows per INSERT.
const INSERT_CHUNK: usize = 1_000;

/// A new list, its entries named or chosen by rule.
pub struct NewList {
    pub park_id: i64,
    pub name: String,
    pub respond_within_working_days: i32,
    pub bank_ids: Vec<i64>,
    pub chosen: Chosen,
}

pub enum Chosen {
    /// These enterprises, in this order, each with its need.
    Named(Vec<(i64, Need)>),
    Rule(ListRule),
}

/// Stores a draft list. Every bank must exist and every named enterprise be the park's; each
/// entry keeps the enterprise's latest score. Every problem is reported at its field.
pub async fn create(db: &impl ConnectionTrait, new: NewList) -> Result<RecommendationList, StoreError> {
    let mut errors = Vec::new();
    let banks: HashSet<i64> = bank::Entity::find()
        .select_only()
        .column(bank::Column::Id)
        .filter(bank::Column::Id.is_in(new.bank_ids.clone()))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for (i, id) in new.bank_ids.iter().enumerate() {
        if !banks.contains(id) {
            errors.push(FieldError::new(format!("bank_ids[{i}]"), format!("there is no bank with id {id}")));
        }
    }
    let (entries, rule) = match new.chosen {
        Chosen::Named(named) => {
            let ids: Vec<i64> = named.iter().map(|(id, _)| *id).collect();
            let in_park: HashSet<i64> = enterprise::Entity::find()
                .select_only()
                .column(enterprise::Column::Id)
                .filter(enterprise::Column::Id.is_in(ids.clone()))
                .filter(enterprise::Column::ParkId.eq(new.park_id))
                .into_tuple::<i64>()
                .all(db)
                .await?
                .into_iter()
                .collect();
            let scores = latest_scores(db, &ids).await?;
            let mut entries = Vec::with_capacity(named.len());
            for (i, (id, need)) in named.into_iter().enumerate() {
                if !in_park.contains(&id) {
                    errors.push(FieldError::new(
                        format!("entries[{i}].enterprise_id"),
                        format!("there is no enterprise with id {id} in this park"),
                    ));
                }
                entries.push(Entry {
                    enterprise_id: id,
                    enterprise_name: String::new(),
                    uscc: String::new(),
                    position: i32::try_from(i + 1).unwrap_or(i32::MAX),
                    score: scores.get(&id).copied(),
                    need,
                });
            }
            (entries, None)
        }
        Chosen::Rule(rule) => {
            let chosen = by_rule(db, new.park_id, &rule).await?;
            if chosen.is_empty() {
                errors.push(FieldError::new(
                    "rule",
                    "the rule chooses no enterprise from the park's latest scores",
                ));
            }
            if chosen.len() > MAX_ENTRIES {
                errors.push(FieldError::new(
                    "rule",
                    format!(
                        "the rule chooses {} enterprises; a list has at most {MAX_ENTRIES} (set top)",
                        chosen.len()
                    ),
                ));
            }
            let entries = chosen
                .into_iter()
                .enumerate()
                .map(|(i, (id, score))| Entry {
                    enterprise_id: id,
                    enterprise_name: String::new(),
                    uscc: String::new(),
                    position: i32::try_from(i + 1).unwrap_or(i32::MAX),
                    score: Some(score),
                    need: Need::default(),
                })
                .collect();
            (entries, Some(rule))
        }
    };
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    let row = list::ActiveModel {
        park_id: Set(new.park_id),
        name: Set(new.name),
        status: Set(ListStatus::Draft.as_str().to_owned()),
        respond_within_working_days: Set(new.respond_within_working_days),
        rule: Set(rule.as_ref().map(|r| serde_json::json!(r))),
        created_at: Set(super::now()),
        published_at: Set(None),
        published_on: Set(None),
        due_on: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let banks: Vec<list_bank::ActiveModel> = new
        .bank_ids
        .iter()
        .map(|&bank_id| list_bank::ActiveModel { list_id: Set(row.id), bank_id: Set(bank_id) })
        .collect();
    list_bank::Entity::insert_many(banks).exec_without_returning(db).await?;
    let rows: Vec<entry::ActiveModel> = entries
        .iter()
        .map(|e| entry::ActiveModel {
            list_id: Set(row.id),
            enterprise_id: Set(e.enterprise_id),
            position: Set(e.position),
            score: Set(e.score.map(Score::centi)),
            amount: Set(e.need.amount.map(Money::fen)),
            term_months: Set(e.need.term_months),
            purpose: Set(e.need.purpose.clone()),
            ..Default::default()
        })
        .collect();
    insert_chunked(db, rows).await?;
    get(db, row.id).await
}

/// Each enterprise's name and USCC.
async fn names(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, (String, String)>, StoreError> {
    let ids: Vec<i64> = ids.into_iter().collect::<HashSet<_>>().into_iter().collect();
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(INSERT_CHUNK) {
        let rows: Vec<(i64, String, String)> = enterprise::Entity::find()
            .select_only()
            .column(enterprise::Column::Id)
            .column(enterprise::Column::Name)
            .column(enterprise::Column::Uscc)
            .filter(enterprise::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|(id, name, uscc)| (id, (name, uscc))));
    }
    Ok(found)
}

/// Inserts rows a thousand at a time, well under the databases' bind-parameter limits.
async fn insert_chunked<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), StoreError>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(INSERT_CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

/// Each enterprise's score of its latest period.
async fn latest_scores(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Score>, StoreError> {
    let rows: Vec<(i64, String, i32)> = score::Entity::find()
        .select_only()
        .column(score::Column::EnterpriseId)
        .column(score::Column::PeriodKey)
        .column(score::Column::ScoreCenti)
        .filter(score::Column::EnterpriseId.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let mut latest: std::collections::HashMap<i64, (String, i32)> = Default::default();
    for (id, key, centi) in rows {
        let newer = latest.get(&id).is_none_or(|(k, _)| key > *k);
        if newer {
            latest.insert(id, (key, centi));
        }
    }
    Ok(latest
        .into_iter()
        .filter_map(|(id, (_, centi))| Score::from_centi(centi).ok().map(|s| (id, s)))
        .collect())
}

/// The enterprises a rule chooses from the park's latest period, best score first (ties by id).
async fn by_rule(
    db: &impl ConnectionTrait,
    park_id: i64,
    rule: &ListRule,
) -> Result<Vec<(i64, Score)>, StoreError> {
    let Some(period) = super::scores::latest_period(db, park_id).await? else { return Ok(Vec::new()) };
    let stages: Vec<&str> = rule.stages.iter().map(|s| s.as_str()).collect();
    let limit = rule.top.map_or(MAX_ENTRIES as u64 + 1, u64::from);
    let rows: Vec<(i64, i32)> = score::Entity::find()
        .select_only()
        .column(score::Column::EnterpriseId)
        .column(score::Column::ScoreCenti)
        .filter(score::Column::ParkId.eq(park_id))
        .filter(score::Column::Period.eq(period))
        .apply_if(rule.min_score, |q, min| q.filter(score::Column::ScoreCenti.gte(min.centi())))
        .apply_if((!stages.is_empty()).then_some(stages), |q, stages| {
            q.filter(score::Column::Stage.is_in(stages))
        })
        .order_by_desc(score::Column::ScoreCenti)
        .order_by_asc(score::Column::EnterpriseId)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, centi)| (id, Score::clamped(centi))).collect())
}

fn list_of(
    row: list::Model,
    bank_ids: Vec<i64>,
    entries: Vec<Entry>,
) -> Result<RecommendationList, StoreError> {
    let rule = match &row.rule {
        Some(json) => Some(serde_json::from_value(json.clone()).map_err(|_| {
            super::corrupt("recommendation_lists", row.id, "rule", "a rule this version cannot read")
        })?),
        None => None,
    };
    Ok(RecommendationList {
        id: row.id,
        park_id: row.park_id,
        status: super::decode(ListStatus::parse, "recommendation_lists", row.id, "status", &row.status)?,
        name: row.name,
        respond_within_working_days: row.respond_within_working_days,
        rule,
        bank_ids,
        entries,
        created_at: row.created_at,
        published_at: row.published_at,
        published_on: row.published_on,
        due_on: row.due_on,
    })
}

fn need_of(
    amount: Option<i64>,
    term_months: Option<i32>,
    purpose: Option<String>,
    id: i64,
) -> Result<Need, StoreError> {
    Ok(Need {
        amount: amount.map(|fen| super::money("recommendation_entries", id, "amount", fen)).transpose()?,
        term_months,
        purpose,
    })
}

/// A list with its banks and entries.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<RecommendationList, StoreError> {
    let row = list::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?;
    let banks = banks_of(db, &[id]).await?.into_iter().map(|(_, bank)| bank).collect();
    let rows = entry::Entity::find()
        .filter(entry::Column::ListId.eq(id))
        .order_by_asc(entry::Column::Position)
        .all(db)
        .await?;
    let mut names = names(db, rows.iter().map(|e| e.enterprise_id)).await?;
    let entries = rows
        .into_iter()
        .map(|e| {
            let (enterprise_name, uscc) = names.remove(&e.enterprise_id).unwrap_or_default();
            Ok(Entry {
                enterprise_id: e.enterprise_id,
                enterprise_name,
                uscc,
                position: e.position,
                score: e.score.map(Score::clamped),
                need: need_of(e.amount, e.term_months, e.purpose, e.id)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    list_of(row, banks, entries)
}

async fn banks_of(db: &impl ConnectionTrait, lists: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(list_bank::Entity::find()
        .select_only()
        .column(list_bank::Column::ListId)
        .column(list_bank::Column::BankId)
        .filter(list_bank::Column::ListId.is_in(lists.to_vec()))
        .order_by_asc(list_bank::Column::ListId)
        .order_by_asc(list_bank::Column::BankId)
        .into_tuple()
        .all(db)
        .await?)
}

/// Whether a caller may see a list: the park's, a bank it went to once published, everything for
/// an admin. An enterprise sees its tasks, not lists.
pub fn visible(list: &RecommendationList, caller: Scope) -> bool {
    match caller {
        Scope::All => true,
        Scope::Park(park) => list.park_id == park,
        Scope::Bank(bank) => list.status == ListStatus::Published && list.bank_ids.contains(&bank),
        Scope::Enterprise(_) => false,
    }
}

/// The lists a caller may see, by id, without entries (a list's page names its banks).
pub async fn list(
    db: &impl ConnectionTrait,
    caller: Scope,
    park_id: Option<i64>,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<(RecommendationList, usize)>, StoreError> {
    let condition = match caller {
        Scope::All => Condition::all(),
        Scope::Park(park) => Condition::all().add(list::Column::ParkId.eq(park)),
        Scope::Bank(bank) => {
            Condition::all().add(list::Column::Status.eq(ListStatus::Published.as_str())).add(
                list::Column::Id.in_subquery(
                    list_bank::Entity::find()
                        .select_only()
                        .column(list_bank::Column::ListId)
                        .filter(list_bank::Column::BankId.eq(bank))
                        .into_query(),
                ),
            )
        }
        Scope::Enterprise(_) => Condition::all().add(Expr::value(false)),
    };
    let query = list::Entity::find()
        .filter(condition)
        .apply_if(park_id, |q, park| q.filter(list::Column::ParkId.eq(park)));
    let page = super::page_by_id(db, query, list::Column::Id, after, limit, |l| l.id).await?;
    let ids: Vec<i64> = page.items.iter().map(|l| l.id).collect();
    let banks = banks_of(db, &ids).await?;
    let counts: Vec<(i64, i64)> = entry::Entity::find()
        .select_only()
        .column(entry::Column::ListId)
        .column_as(entry::Column::Id.count(), "n")
        .filter(entry::Column::ListId.is_in(ids))
        .group_by(entry::Column::ListId)
        .into_tuple()
        .all(db)
        .await?;
    page.try_map(|row| {
        let id = row.id;
        let bank_ids = banks.iter().filter(|(l, _)| *l == id).map(|(_, b)| *b).collect();
        let count =
            counts.iter().find(|(l, _)| *l == id).map_or(0, |(_, n)| usize::try_from(*n).unwrap_or(0));
        Ok((list_of(row, bank_ids, Vec::new())?, count))
    })
}

/// Publishes a draft list: one task per bank and entry, due on `due_on`. One conditional update
/// makes it published, so that two publications race to one.
pub async fn publish(
    db: &impl ConnectionTrait,
    list: &RecommendationList,
    published_on: NaiveDate,
    due_on: NaiveDate,
) -> Result<RecommendationList, StoreError> {
    let now = super::now();
    let done = list::Entity::update_many()
        .col_expr(list::Column::Status, Expr::value(ListStatus::Published.as_str()))
        .col_expr(list::Column::PublishedAt, Expr::value(now))
        .col_expr(list::Column::PublishedOn, Expr::value(published_on))
        .col_expr(list::Column::DueOn, Expr::value(due_on))
        .filter(list::Column::Id.eq(list.id))
        .filter(list::Column::Status.eq(ListStatus::Draft.as_str()))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::WrongState("the list is already published".to_owned()));
    }
    let entry_ids: Vec<(i64, i64)> = entry::Entity::find()
        .select_only()
        .column(entry::Column::Id)
        .column(entry::Column::EnterpriseId)
        .filter(entry::Column::ListId.eq(list.id))
        .order_by_asc(entry::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    let rows: Vec<task::ActiveModel> = list
        .bank_ids
        .iter()
        .flat_map(|&bank_id| {
            entry_ids.iter().map(move |&(entry_id, enterprise_id)| task::ActiveModel {
                list_id: Set(list.id),
                park_id: Set(list.park_id),
                bank_id: Set(bank_id),
                enterprise_id: Set(enterprise_id),
                entry_id: Set(entry_id),
                published_on: Set(published_on),
                due_on: Set(due_on),
                status: Set(TaskStatus::Open.as_str().to_owned()),
                answered_at: Set(None),
                answered_on: Set(None),
                reason: Set(None),
                application_id: Set(None),
                credit_line_id: Set(None),
                overdue_notified: Set(false),
                updated_at: Set(now),
                ..Default::default()
            })
        })
        .collect();
    insert_chunked(db, rows).await?;
    get(db, list.id).await
}

/// What a task list may be narrowed to.
#[derive(Clone, Copy, Debug, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub list_id: Option<i64>,
    pub bank_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    /// Open and past the deadline on this day.
    pub overdue_on: Option<NaiveDate>,
}

/// Tasks with their entries' needs.
async fn tasks_of(db: &impl ConnectionTrait, rows: Vec<task::Model>) -> Result<Vec<Task>, StoreError> {
    let entry_ids: Vec<i64> = rows.iter().map(|t| t.entry_id).collect::<HashSet<_>>().into_iter().collect();
    let mut needs: std::collections::HashMap<i64, Need> =
        std::collections::HashMap::with_capacity(entry_ids.len());
    for chunk in entry_ids.chunks(INSERT_CHUNK) {
        for e in entry::Entity::find().filter(entry::Column::Id.is_in(chunk.to_vec())).all(db).await? {
            needs.insert(e.id, need_of(e.amount, e.term_months, e.purpose, e.id)?);
        }
    }
    let names = names(db, rows.iter().map(|t| t.enterprise_id)).await?;
    rows.into_iter()
        .map(|row| {
            let (enterprise_name, uscc) = names.get(&row.enterprise_id).cloned().unwrap_or_default();
            Ok(Task {
                enterprise_name,
                uscc,
                id: row.id,
                list_id: row.list_id,
                park_id: row.park_id,
                bank_id: row.bank_id,
                enterprise_id: row.enterprise_id,
                need: needs.get(&row.entry_id).cloned().unwrap_or_default(),
                published_on: row.published_on,
                due_on: row.due_on,
                status: super::decode(
                    TaskStatus::parse,
                    "recommendation_tasks",
                    row.id,
                    "status",
                    &row.status,
                )?,
                answered_at: row.answered_at,
                answered_on: row.answered_on,
                reason: row.reason,
                application_id: row.application_id,
                credit_line_id: row.credit_line_id,
                updated_at: row.updated_at,
            })
        })
        .collect()
}

fn task_scope(caller: Scope) -> Condition {
    super::credit::scoped(caller, task::Column::ParkId, task::Column::BankId, task::Column::EnterpriseId)
}

/// The tasks a caller may see, by id.
pub async fn list_tasks(
    db: &impl ConnectionTrait,
    caller: Scope,
    filter: TaskFilter,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<Task>, StoreError> {
    let query = task::Entity::find()
        .filter(task_scope(caller))
        .apply_if(filter.status, |q, s| q.filter(task::Column::Status.eq(s.as_str())))
        .apply_if(filter.list_id, |q, id| q.filter(task::Column::ListId.eq(id)))
        .apply_if(filter.bank_id, |q, id| q.filter(task::Column::BankId.eq(id)))
        .apply_if(filter.enterprise_id, |q, id| q.filter(task::Column::EnterpriseId.eq(id)))
        .apply_if(filter.overdue_on, |q, day| {
            q.filter(task::Column::Status.eq(TaskStatus::Open.as_str())).filter(task::Column::DueOn.lt(day))
        });
    let page = super::page_by_id(db, query, task::Column::Id, after, limit, |t| t.id).await?;
    let next_after = page.next_after;
    Ok(Page { items: tasks_of(db, page.items).await?, next_after })
}

/// A task the caller may see.
pub async fn get_task(db: &impl ConnectionTrait, caller: Scope, id: i64) -> Result<Task, StoreError> {
    let row =
        task::Entity::find_by_id(id).filter(task_scope(caller)).one(db).await?.ok_or(StoreError::NotFound)?;
    tasks_of(db, vec![row]).await?.pop().ok_or(StoreError::NotFound)
}

/// What a tally needs of each task (bank, status, days), without needs or names: every task of
/// the park's lists published from `from` to `to`, or of one list, as the caller may see them.
pub async fn facts(
    db: &impl ConnectionTrait,
    caller: Scope,
    park_id: Option<i64>,
    list_id: Option<i64>,
    published: (NaiveDate, NaiveDate),
) -> Result<Vec<Task>, StoreError> {
    type Row = (i64, i64, i64, i64, i64, NaiveDate, NaiveDate, String, Option<NaiveDate>);
    let rows: Vec<Row> = task::Entity::find()
        .select_only()
        .columns([
            task::Column::Id,
            task::Column::ListId,
            task::Column::ParkId,
            task::Column::BankId,
            task::Column::EnterpriseId,
            task::Column::PublishedOn,
            task::Column::DueOn,
            task::Column::Status,
            task::Column::AnsweredOn,
        ])
        .filter(task_scope(caller))
        .apply_if(park_id, |q, id| q.filter(task::Column::ParkId.eq(id)))
        .apply_if(list_id, |q, id| q.filter(task::Column::ListId.eq(id)))
        .filter(task::Column::PublishedOn.gte(published.0))
        .filter(task::Column::PublishedOn.lte(published.1))
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(id, list_id, park_id, bank_id, enterprise_id, published_on, due_on, status, answered_on)| {
            Ok(Task {
                id,
                list_id,
                park_id,
                bank_id,
                enterprise_id,
                enterprise_name: String::new(),
                uscc: String::new(),
                need: Need::default(),
                published_on,
                due_on,
                status: super::decode(TaskStatus::parse, "recommendation_tasks", id, "status", &status)?,
                answered_at: None,
                answered_on,
                reason: None,
                application_id: None,
                credit_line_id: None,
                updated_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
            })
        })
        .collect()
}

/// Records a bank's answer: one conditional update from the states the answer may follow, so
/// that two answers racing settle on one. The first answer's day is kept as the response day.
pub async fn answer(
    db: &impl ConnectionTrait,
    task: &Task,
    status: TaskStatus,
    reason: Option<String>,
    application_id: Option<i64>,
    credit_line_id: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Task, StoreError> {
    let today = now.date_naive();
    let from: Vec<&str> = answerable_from(status).iter().map(|s| s.as_str()).collect();
    let mut update = task::Entity::update_many()
        .col_expr(task::Column::Status, Expr::value(status.as_str()))
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Id.eq(task.id))
        .filter(task::Column::Status.is_in(from));
    // The first answer's time stays, even when two answers race from `open`.
    update = update
        .col_expr(task::Column::AnsweredAt, Expr::col(task::Column::AnsweredAt).if_null(now))
        .col_expr(task::Column::AnsweredOn, Expr::col(task::Column::AnsweredOn).if_null(today));
    if reason.is_some() {
        update = update.col_expr(task::Column::Reason, Expr::value(reason));
    }
    if application_id.is_some() {
        update = update.col_expr(task::Column::ApplicationId, Expr::value(application_id));
    }
    if credit_line_id.is_some() {
        update = update.col_expr(task::Column::CreditLineId, Expr::value(credit_line_id));
    }
    let done = update.exec(db).await?;
    if done.rows_affected == 0 {
        return Err(StoreError::WrongState(
            "the task was answered at the same moment; read it again".to_owned(),
        ));
    }
    get_task(db, Scope::All, task.id).await
}

/// Open tasks past their deadline on `day` that were not yet told, up to `limit`, marked told in
/// the caller's transaction: each is told once, whichever process finds it.
pub async fn take_newly_overdue(
    db: &impl ConnectionTrait,
    day: NaiveDate,
    limit: u64,
) -> Result<Vec<Task>, StoreError> {
    let ids: Vec<i64> = task::Entity::find()
        .select_only()
        .column(task::Column::Id)
        .filter(task::Column::Status.eq(TaskStatus::Open.as_str()))
        .filter(task::Column::DueOn.lt(day))
        .filter(task::Column::OverdueNotified.eq(false))
        .order_by_asc(task::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    // One update for the page, answering the rows it marked: whoever marks a task tells it, even
    // should a lapsed claim on the day (`daily_runs`) let two processes meet here.
    let mut rows = task::Entity::update_many()
        .col_expr(task::Column::OverdueNotified, Expr::value(true))
        .filter(task::Column::Id.is_in(ids))
        .filter(task::Column::OverdueNotified.eq(false))
        .exec_with_returning(db)
        .await?;
    rows.sort_by_key(|t| t.id);
    tasks_of(db, rows).await
}
