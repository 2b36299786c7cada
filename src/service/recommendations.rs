//! Recommendation lists (白名单推送): a park office writes a list of enterprises (named, with each
//! one's need, or chosen by rule from its scores) for some banks, and publishes it; each bank gets
//! one task per enterprise, due in Chinese working days, and answers it. The daily job tells when
//! a task falls overdue.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::{Db, Result, Services, Write, require};
use crate::domain::text;
use crate::domain::{
    FieldError, Principal, Role, Scope, calendar,
    credit::ApplicationStatus,
    events::{Audience, EventType},
    recommendation::{
        self, Answer, AnswerError, BankTally, MAX_BANKS, MAX_ENTRIES, MAX_NAME, MAX_TASKS, MAX_WORKING_DAYS,
        RecommendationList, Task, TaskStatus,
    },
};
use crate::store::{
    self, StoreError,
    audit::Actor,
    recommendations::{Chosen, NewList},
};

/// A list as one reader sees it: the list, and per bank (only its own, for a bank) how its tasks
/// stand today.
#[derive(Clone, Debug)]
pub struct ListView {
    pub list: RecommendationList,
    pub banks: Vec<BankTally>,
    /// How many entries the list has (its entries may be left out of a page of lists).
    pub entry_count: usize,
    pub today: NaiveDate,
}

/// A task as its readers see it, on a day.
#[derive(Clone, Debug)]
pub struct TaskView {
    pub task: Task,
    pub today: NaiveDate,
}

fn invalid(errors: Vec<FieldError>) -> super::Error {
    StoreError::Invalid(errors).into()
}

/// What a new list asks for, before the store checks banks and enterprises.
pub struct Draft {
    pub name: String,
    pub respond_within_working_days: i32,
    pub bank_ids: Vec<i64>,
    pub chosen: Chosen,
}

/// Saves a draft list for a park the caller governs.
pub async fn create(
    w: &mut Write<'_>,
    principal: Principal,
    park_id: i64,
    draft: Draft,
) -> Result<RecommendationList> {
    require(principal, &[Role::ParkOffice], "write recommendation lists")?;
    if !principal.governs_park(park_id) {
        return Err(StoreError::NotFound.into());
    }
    store::parks::get(w.txn(), park_id).await?;
    let mut errors = Vec::new();
    let name = text::line_within("name", &draft.name, MAX_NAME).unwrap_or_else(|e| {
        errors.push(e);
        String::new()
    });
    if !(1..=MAX_WORKING_DAYS).contains(&draft.respond_within_working_days) {
        errors.push(FieldError::new(
            "respond_within_working_days",
            format!("banks get 1 to {MAX_WORKING_DAYS} working days to answer"),
        ));
    }
    if draft.bank_ids.is_empty() || draft.bank_ids.len() > MAX_BANKS {
        errors.push(FieldError::new("bank_ids", format!("a list goes to 1 to {MAX_BANKS} banks")));
    }
    let mut seen = HashSet::new();
    for (i, id) in draft.bank_ids.iter().enumerate() {
        if !seen.insert(*id) {
            errors.push(FieldError::new(format!("bank_ids[{i}]"), format!("bank {id} is named twice")));
        }
    }
    if let Chosen::Named(entries) = &draft.chosen {
        if entries.is_empty() || entries.len() > MAX_ENTRIES {
            errors.push(FieldError::new("entries", format!("a list names 1 to {MAX_ENTRIES} enterprises")));
        }
        let mut seen = HashSet::new();
        for (i, (id, need)) in entries.iter().enumerate() {
            if !seen.insert(*id) {
                errors.push(FieldError::new(
                    format!("entries[{i}].enterprise_id"),
                    format!("enterprise {id} is named twice"),
                ));
            }
            need.check(i, &mut errors);
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let banks = draft.bank_ids.len();
    let list = store::recommendations::create(
        w.txn(),
        NewList {
            park_id,
            name,
            respond_within_working_days: draft.respond_within_working_days,
            bank_ids: draft.bank_ids,
            chosen: draft.chosen,
        },
    )
    .await?;
    if list.entries.len().saturating_mul(banks) > MAX_TASKS {
        return Err(invalid(vec![FieldError::new(
            "bank_ids",
            format!(
                "{} enterprises for {banks} banks make {} tasks; a list makes at most {MAX_TASKS}",
                list.entries.len(),
                list.entries.len() * banks
            ),
        )]));
    }
    w.audit("recommendation_list.create", "recommendation_list", list.id).await?;
    Ok(list)
}

/// Publishes a draft list: one task per bank and enterprise, due `respond_within_working_days`
/// Chinese working days after `today`. Each bank hears of it (`recommendation.published`).
pub async fn publish(w: &mut Write<'_>, principal: Principal, id: i64, today: NaiveDate) -> Result<ListView> {
    require(principal, &[Role::ParkOffice], "publish recommendation lists")?;
    let list = store::recommendations::get(w.txn(), id).await?;
    if !principal.governs_park(list.park_id) {
        return Err(StoreError::NotFound.into());
    }
    let due_on = recommendation::due_on(calendar::china(), today, list.respond_within_working_days);
    let list = store::recommendations::publish(w.txn(), &list, today, due_on).await?;
    let tasks = list_facts(w.txn(), Scope::All, list.id).await?;
    for &bank_id in &list.bank_ids {
        let own: Vec<Task> = tasks.iter().filter(|t| t.bank_id == bank_id).cloned().collect();
        let view = ListView {
            banks: recommendation::tally(&own, today, calendar::china()),
            entry_count: list.entries.len(),
            list: list.clone(),
            today,
        };
        w.event(
            EventType::RecommendationPublished,
            Audience { park_id: Some(list.park_id), bank_id: Some(bank_id), ..Audience::default() },
            &view,
        );
    }
    w.audit("recommendation_list.publish", "recommendation_list", id).await?;
    let banks = recommendation::tally(&tasks, today, calendar::china());
    Ok(ListView { entry_count: list.entries.len(), list, banks, today })
}

/// What the tallies of a list need of its tasks, as the caller may see them.
async fn list_facts(db: &impl sea_orm::ConnectionTrait, scope: Scope, list_id: i64) -> Result<Vec<Task>> {
    let every_day = (crate::domain::day::EARLIEST, crate::domain::day::LATEST);
    Ok(store::recommendations::facts(db, scope, None, Some(list_id), every_day).await?)
}

/// A list the caller may see, with each bank's standing (a bank sees only its own).
pub async fn get(db: &Db, principal: Principal, id: i64, today: NaiveDate) -> Result<ListView> {
    let list = store::recommendations::get(db, id).await?;
    if !store::recommendations::visible(&list, principal.scope) {
        return Err(StoreError::NotFound.into());
    }
    let tasks = list_facts(db, principal.scope, id).await?;
    let banks = recommendation::tally(&tasks, today, calendar::china());
    Ok(ListView { entry_count: list.entries.len(), list, banks, today })
}

/// Records a bank's answer to its task. `credit_granted` names an approved application of the
/// bank's for the enterprise, or a credit line the bank granted it.
pub async fn answer(
    w: &mut Write<'_>,
    principal: Principal,
    id: i64,
    answer: Answer,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<TaskView> {
    let today = at.date_naive();
    require(principal, &[Role::Bank], "answer recommendation tasks")?;
    let task = store::recommendations::get_task(w.txn(), principal.scope, id).await?;
    recommendation::check_answer(task.status, &answer).map_err(|e| match e {
        AnswerError::State(message) => super::Error::Store(StoreError::WrongState(message)),
        AnswerError::Invalid(errors) => invalid(errors),
    })?;
    let mut errors = Vec::new();
    if let Some(app_id) = answer.application_id {
        match store::credit::get_application(w.txn(), app_id).await {
            Ok(app) if app.bank_id == task.bank_id && app.enterprise_id == task.enterprise_id => {
                if answer.status == TaskStatus::CreditGranted && app.status != ApplicationStatus::Approved {
                    errors.push(FieldError::new(
                        "application_id",
                        format!("application {app_id} is {}, not approved", app.status),
                    ));
                }
            }
            Ok(_) | Err(StoreError::NotFound) => errors.push(FieldError::new(
                "application_id",
                format!("there is no application {app_id} of this enterprise to this bank"),
            )),
            Err(err) => return Err(err.into()),
        }
    }
    if let Some(line_id) = answer.credit_line_id {
        match store::credit::get_line(w.txn(), line_id).await {
            Ok(line) if line.bank_id == task.bank_id && line.enterprise_id == task.enterprise_id => {}
            Ok(_) | Err(StoreError::NotFound) => errors.push(FieldError::new(
                "credit_line_id",
                format!("there is no credit line {line_id} of this bank for this enterprise"),
            )),
            Err(err) => return Err(err.into()),
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let reason = answer.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    // check_answer refused a reason with control characters, so it is stored as checked.
    let task = store::recommendations::answer(
        w.txn(),
        &task,
        answer.status,
        reason,
        answer.application_id,
        answer.credit_line_id,
        at,
    )
    .await?;
    w.audit("recommendation_task.answer", "recommendation_task", id).await?;
    let view = TaskView { task, today };
    w.event(EventType::RecommendationAnswered, audience(&view.task), &view);
    Ok(view)
}

/// Who hears of a task: its park, its bank and its enterprise.
pub fn audience(task: &Task) -> Audience {
    Audience {
        park_id: Some(task.park_id),
        bank_id: Some(task.bank_id),
        enterprise_id: Some(task.enterprise_id),
        public: false,
    }
}

/// Tells of every task that fell overdue by `day` (`recommendation.overdue`), a page per
/// transaction; each task is told once, whichever process runs the day.
pub async fn tell_overdue(services: &Services, day: NaiveDate) -> Result<u32> {
    let mut told = 0;
    loop {
        let found = services
            .write(Actor::command_line(), async |w| {
                let tasks = store::recommendations::take_newly_overdue(w.txn(), day, 500).await?;
                for task in &tasks {
                    let view = TaskView { task: task.clone(), today: day };
                    w.event(EventType::RecommendationOverdue, audience(task), &view);
                }
                Ok(u32::try_from(tasks.len()).unwrap_or(u32::MAX))
            })
            .await?;
        told += found;
        if found < 500 {
            return Ok(told);
        }
    }
}

/// Each bank's record on the park's lists published from `from` to `to`, as it stood on `as_of`:
/// an answer given after `as_of` counts as not given yet. (A task's later moves, say from
/// `contacted` to `credit_granted`, are not kept day by day; an answered task shows its current
/// status.)
pub async fn park_tally(
    db: &Db,
    park_id: i64,
    from: NaiveDate,
    to: NaiveDate,
    as_of: NaiveDate,
) -> Result<Vec<BankTally>> {
    let tasks: Vec<Task> =
        store::recommendations::facts(db, Scope::All, Some(park_id), None, (from, to.min(as_of)))
            .await?
            .into_iter()
            .map(|mut task| {
                if task.answered_on.is_some_and(|on| on > as_of) {
                    task.status = TaskStatus::Open;
                    task.answered_on = None;
                    task.answered_at = None;
                }
                task
            })
            .collect();
    Ok(recommendation::tally(&tasks, as_of, calendar::china()))
}
