//! Recommendation lists (白名单推送): a park pushes ranked enterprises, each with its stated need,
//! to partner banks; each bank must answer each enterprise within a number of Chinese working
//! days: contacted, credit granted, or declined with a reason. The park watches each bank's
//! take-up and response time.

use chrono::{DateTime, NaiveDate, Utc};

use super::{FieldError, Money, Score, Stage, calendar::Calendar, text_enum};

text_enum!(
    /// A list is written as a `draft`, then `published`: its tasks go to the banks.
    ListStatus { Draft => "draft", Published => "published" }
);

text_enum!(
    /// Where a bank's task stands: `open` until the bank answers; `contacted` may still become
    /// `credit_granted` or `declined`, which are final.
    TaskStatus { Open => "open", Contacted => "contacted", CreditGranted => "credit_granted", Declined => "declined" }
);

/// The most banks a list goes to, enterprises it names, and tasks it makes.
pub const MAX_BANKS: usize = 50;
pub const MAX_ENTRIES: usize = 2_000;
pub const MAX_TASKS: usize = 20_000;
/// The longest deadline a list may give, in working days.
pub const MAX_WORKING_DAYS: i32 = 60;
pub const MAX_TEXT: usize = 500;
pub const MAX_NAME: usize = 128;

/// Entries chosen by rule from the park's latest scores: the best `top`, at or above
/// `min_score`, of the given stages (all stages when empty).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListRule {
    pub top: Option<u32>,
    pub min_score: Option<Score>,
    #[serde(default)]
    pub stages: Vec<Stage>,
}

/// What the enterprise says it needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Need {
    pub amount: Option<Money>,
    pub term_months: Option<i32>,
    pub purpose: Option<String>,
}

impl Need {
    /// Checks the need of `entries[i]`.
    pub fn check(&self, i: usize, errors: &mut Vec<FieldError>) {
        if self.amount.is_some_and(|a| a.fen() <= 0) {
            errors.push(FieldError::new(format!("entries[{i}].amount"), "an amount is more than 0"));
        }
        if self.term_months.is_some_and(|t| !(1..=120).contains(&t)) {
            errors.push(FieldError::new(format!("entries[{i}].term_months"), "a term is 1 to 120 months"));
        }
        if let Err(e) =
            super::text::optional_line(&format!("entries[{i}].purpose"), self.purpose.as_deref(), MAX_TEXT)
        {
            errors.push(e);
        }
    }
}

/// A list's entry: an enterprise and its need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub enterprise_id: i64,
    /// The enterprise's name and USCC, so that a bank knows whom it is sent.
    pub enterprise_name: String,
    pub uscc: String,
    /// 1-based, in the list's order.
    pub position: i32,
    /// The enterprise's latest score when the list was made.
    pub score: Option<Score>,
    pub need: Need,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecommendationList {
    pub id: i64,
    pub park_id: i64,
    pub name: String,
    pub status: ListStatus,
    pub respond_within_working_days: i32,
    pub rule: Option<ListRule>,
    pub bank_ids: Vec<i64>,
    pub entries: Vec<Entry>,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub published_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
}

/// One bank's task to answer one enterprise of a published list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub list_id: i64,
    pub park_id: i64,
    pub bank_id: i64,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub uscc: String,
    pub need: Need,
    pub published_on: NaiveDate,
    pub due_on: NaiveDate,
    pub status: TaskStatus,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_on: Option<NaiveDate>,
    pub reason: Option<String>,
    pub application_id: Option<i64>,
    pub credit_line_id: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

impl Task {
    /// Unanswered past its deadline: the deadline is the last day to answer.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.status == TaskStatus::Open && today > self.due_on
    }

    /// Working days from publication to the bank's first answer (0 for the same day).
    pub fn response_working_days(&self, calendar: &Calendar) -> Option<i32> {
        self.answered_on.map(|on| calendar.working_days_between(self.published_on, on))
    }

    /// Whether the bank took the enterprise up: contacted it or granted it credit.
    pub fn taken_up(&self) -> bool {
        matches!(self.status, TaskStatus::Contacted | TaskStatus::CreditGranted)
    }
}

/// The day a list published on `published_on` must be answered by: `n` working days later.
pub fn due_on(calendar: &Calendar, published_on: NaiveDate, n: i32) -> NaiveDate {
    calendar.add_working_days(published_on, n)
}

/// Why an answer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The task's state does not take this answer (409).
    #[error("{0}")]
    State(String),
    /// The answer itself is incomplete (422).
    #[error("invalid answer")]
    Invalid(Vec<FieldError>),
}

/// A bank's answer to a task, as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: TaskStatus,
    pub reason: Option<String>,
    pub application_id: Option<i64>,
    pub credit_line_id: Option<i64>,
}

/// Checks an answer on its own and against the task's state: `open` is no answer; `declined`
/// needs a reason; `credit_granted` names the application or the credit line; `contacted` only
/// from `open`; nothing after `credit_granted` or `declined`.
pub fn check_answer(current: TaskStatus, answer: &Answer) -> Result<(), AnswerError> {
    let mut errors = Vec::new();
    match answer.status {
        TaskStatus::Open => errors.push(FieldError::new(
            "status",
            "answer contacted, credit_granted or declined; open is not an answer",
        )),
        TaskStatus::Declined if answer.reason.as_deref().is_none_or(|r| r.trim().is_empty()) => {
            errors.push(FieldError::new("reason", "a declined task needs a reason"));
        }
        TaskStatus::CreditGranted if answer.application_id.is_none() && answer.credit_line_id.is_none() => {
            errors.push(FieldError::new(
                "application_id",
                "credit_granted names the approved application or the credit line",
            ));
        }
        _ => {}
    }
    if let Err(e) = super::text::optional_line("reason", answer.reason.as_deref(), MAX_TEXT) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AnswerError::Invalid(errors));
    }
    let allowed = match current {
        TaskStatus::Open => true,
        TaskStatus::Contacted => matches!(answer.status, TaskStatus::CreditGranted | TaskStatus::Declined),
        TaskStatus::CreditGranted | TaskStatus::Declined => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(AnswerError::State(format!("the task is {current}; it cannot be answered {}", answer.status)))
    }
}

/// The statuses a task may be answered `to` from.
pub fn answerable_from(to: TaskStatus) -> &'static [TaskStatus] {
    match to {
        TaskStatus::Contacted => &[TaskStatus::Open],
        TaskStatus::CreditGranted | TaskStatus::Declined => &[TaskStatus::Open, TaskStatus::Contacted],
        TaskStatus::Open => &[],
    }
}

/// One bank's record on the park's lists.
#[derive(Clone, Debug, PartialEq)]
pub struct BankTally {
    pub bank_id: i64,
    pub tasks: u32,
    pub answered: u32,
    /// Contacted or credit granted.
    pub taken_up: u32,
    pub credit_granted: u32,
    pub declined: u32,
    /// Open past the deadline today.
    pub overdue: u32,
    /// Answered, but after the deadline.
    pub answered_late: u32,
    /// `taken_up ÷ tasks`, 0 to 1.
    pub take_up_rate: f64,
    /// The median of the working days to the first answer, over the answered tasks.
    pub median_response_working_days: Option<f64>,
}

/// Each bank's tally, by bank id.
pub fn tally(tasks: &[Task], today: NaiveDate, calendar: &Calendar) -> Vec<BankTally> {
    let mut by_bank: std::collections::BTreeMap<i64, (BankTally, Vec<i32>)> = Default::default();
    for task in tasks {
        let (t, days) = by_bank.entry(task.bank_id).or_insert_with(|| {
            (
                BankTally {
                    bank_id: task.bank_id,
                    tasks: 0,
                    answered: 0,
                    taken_up: 0,
                    credit_granted: 0,
                    declined: 0,
                    overdue: 0,
                    answered_late: 0,
                    take_up_rate: 0.0,
                    median_response_working_days: None,
                },
                Vec::new(),
            )
        });
        t.tasks += 1;
        if let Some(d) = task.response_working_days(calendar) {
            t.answered += 1;
            days.push(d);
            if task.answered_on.is_some_and(|on| on > task.due_on) {
                t.answered_late += 1;
            }
        }
        t.taken_up += u32::from(task.taken_up());
        t.credit_granted += u32::from(task.status == TaskStatus::CreditGranted);
        t.declined += u32::from(task.status == TaskStatus::Declined);
        t.overdue += u32::from(task.is_overdue(today));
    }
    by_bank
        .into_values()
        .map(|(mut t, mut days)| {
            t.take_up_rate = if t.tasks == 0 { 0.0 } else { f64::from(t.taken_up) / f64::from(t.tasks) };
            days.sort_unstable();
            t.median_response_working_days = median(&days);
            t
        })
        .collect()
}

fn median(sorted: &[i32]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        f64::from(sorted[n / 2])
    } else {
        (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::china;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn task(bank_id: i64, published_on: NaiveDate, n: i32) -> Task {
        Task {
            id: 0,
            list_id: 1,
            park_id: 1,
            bank_id,
            enterprise_id: 1,
            enterprise_name: String::new(),
            uscc: String::new(),
            need: Need::default(),
            published_on,
            due_on: due_on(china(), published_on, n),
            status: TaskStatus::Open,
            answered_at: None,
            answered_on: None,
            reason: None,
            application_id: None,
            credit_line_id: None,
            updated_at: DateTime::<Utc>::MIN_UTC,
        }
    }

    fn answered(mut t: Task, status: TaskStatus, on: NaiveDate) -> Task {
        t.status = status;
        t.answered_on = Some(on);
        t
    }

    #[test]
    fn deadlines_count_chinese_working_days() {
        // Published Friday 2025-09-26 with 5 working days: Sunday 09-28 is a make-up working day
        // (调休), then Mon 29 and Tue 30; 10-01 to 10-08 are the National Day holidays; Thursday
        // 10-09 is the 4th and Friday 10-10 the 5th.
        assert_eq!(due_on(china(), day(2025, 9, 26), 5), day(2025, 10, 10));
        // Monday to Friday would have said Friday 10-03.
        let t = task(1, day(2025, 9, 26), 5);
        assert!(!t.is_overdue(day(2025, 10, 10)), "the deadline is the last day to answer");
        assert!(t.is_overdue(day(2025, 10, 11)));
        // Answered on the deadline: 5 working days, not late.
        let on_time = answered(t.clone(), TaskStatus::Contacted, day(2025, 10, 10));
        assert_eq!(on_time.response_working_days(china()), Some(5));
        assert!(!on_time.is_overdue(day(2026, 1, 1)));
    }

    #[test]
    fn the_park_sees_take_up_median_response_and_overdue_per_bank() {
        let published = day(2025, 9, 26);
        let today = day(2025, 10, 13); // a Monday past the 10-10 deadline
        let tasks = vec![
            // Bank 1: answered in 0, 1 (Sun 09-28 works), 2 and 6 working days; one still open.
            answered(task(1, published, 5), TaskStatus::Contacted, day(2025, 9, 26)),
            answered(task(1, published, 5), TaskStatus::CreditGranted, day(2025, 9, 28)),
            answered(task(1, published, 5), TaskStatus::Declined, day(2025, 9, 29)),
            answered(task(1, published, 5), TaskStatus::Contacted, day(2025, 10, 11)),
            task(1, published, 5),
            // Bank 2: nothing answered.
            task(2, published, 5),
            task(2, published, 5),
        ];
        let tally = tally(&tasks, today, china());
        assert_eq!(tally.len(), 2);
        let one = &tally[0];
        assert_eq!(
            (one.tasks, one.answered, one.taken_up, one.credit_granted, one.declined),
            (5, 4, 3, 1, 1)
        );
        assert_eq!((one.overdue, one.answered_late), (1, 1));
        assert!((one.take_up_rate - 0.6).abs() < 1e-12);
        // Saturday 10-11 is a make-up working day too: 09-28, 29, 30, 10-09, 10-10, 10-11 = 6.
        assert_eq!(tasks[3].response_working_days(china()), Some(6));
        // 0, 1, 2, 6 → (1 + 2) ÷ 2.
        assert_eq!(one.median_response_working_days, Some(1.5));
        let two = &tally[1];
        assert_eq!((two.tasks, two.answered, two.overdue, two.take_up_rate), (2, 0, 2, 0.0));
        assert_eq!(two.median_response_working_days, None);
    }

    #[test]
    fn answers_follow_the_task_s_state() {
        let answer = |status, reason: Option<&str>, line: Option<i64>| Answer {
            status,
            reason: reason.map(str::to_owned),
            application_id: None,
            credit_line_id: line,
        };
        use TaskStatus::*;
        assert!(check_answer(Open, &answer(Contacted, None, None)).is_ok());
        assert!(check_answer(Contacted, &answer(CreditGranted, None, Some(3))).is_ok());
        assert!(check_answer(Contacted, &answer(Declined, Some("资质不符"), None)).is_ok());
        assert!(matches!(check_answer(Open, &answer(Declined, None, None)), Err(AnswerError::Invalid(_))));
        assert!(matches!(
            check_answer(Open, &answer(CreditGranted, None, None)),
            Err(AnswerError::Invalid(_))
        ));
        assert!(matches!(check_answer(Open, &answer(Open, None, None)), Err(AnswerError::Invalid(_))));
        assert!(matches!(
            check_answer(Contacted, &answer(Contacted, None, None)),
            Err(AnswerError::State(_))
        ));
        assert!(matches!(check_answer(Declined, &answer(Contacted, None, None)), Err(AnswerError::State(_))));
        for to in [Contacted, CreditGranted, Declined] {
            for from in TaskStatus::ALL {
                let a = answer(to, Some("r"), Some(1));
                assert_eq!(
                    check_answer(*from, &a).is_ok(),
                    answerable_from(to).contains(from),
                    "{from} → {to}"
                );
            }
        }
    }
}
