//! The daily servicing job: each day, the loans that fell past due and the loans whose
//! classification changed are told (`loan.overdue`, `loan.classified`), and so are the
//! recommendation tasks left unanswered past their deadline (`recommendation.overdue`).
//!
//! **One process per day.** Every `serve` process runs the scheduler; a day is claimed in the
//! database (`daily_runs`), and a claim whose process died lapses and is taken over. Each page of
//! loans writes its events and the run's cursor in one transaction, so a run taken over goes on
//! from the last page done: every event is written once. After downtime, the job catches up day
//! by day from the last finished day.

use std::time::Duration;

use chrono::{NaiveDate, Utc};

use super::{Result, Services};
use crate::domain::{Scope, events::EventType};
use crate::store::{self, audit::Actor, loans::LoanFilter};

/// How long a claim on a day holds without progress.
const LEASE: Duration = Duration::from_secs(300);
/// Loans per page (and per transaction).
const PAGE: u64 = 500;
/// The furthest back the job catches up.
const CATCH_UP_DAYS: i64 = 400;

/// What a day's run found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayRun {
    /// Loans that fell past due that day.
    pub overdue: u32,
    /// Loans whose classification changed that day.
    pub reclassified: u32,
}

fn lease_end() -> chrono::DateTime<Utc> {
    store::now() + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(5))
}

/// Runs `day`, unless another process has it (then `None`).
pub async fn run_day(services: &Services, day: NaiveDate) -> Result<Option<DayRun>> {
    if !store::daily::claim(services.db(), day, store::now(), lease_end()).await? {
        return Ok(None);
    }
    if day == Utc::now().date_naive() {
        // Today's statistics read balances as of today: what fell overdue overnight moves now.
        store::totals::roll_every_park(services.db(), day).await?;
    }
    let (mut cursor, mut overdue, mut reclassified) = store::daily::progress(services.db(), day).await?;
    let yesterday = day.pred_opt().unwrap_or(day);
    loop {
        let page =
            store::loans::list(services.db(), Scope::All, LoanFilter::default(), Some(cursor), PAGE).await?;
        let Some(last) = page.items.last().map(|l| l.id) else { break };
        let (mut fell, mut moved) = (0, 0);
        services
            .write(Actor::command_line(), async |w| {
                for loan in page.items.iter().filter(|l| l.written_off_on.is_none()) {
                    let (before, now) = (loan.standing(yesterday), loan.standing(day));
                    if before.days_past_due == 0 && now.days_past_due > 0 {
                        w.event(EventType::LoanOverdue, loan.audience(), loan);
                        fell += 1;
                    }
                    if loan.classification(yesterday) != loan.classification(day) {
                        w.event(EventType::LoanClassified, loan.audience(), loan);
                        moved += 1;
                    }
                }
                store::daily::advance(w.txn(), day, last, overdue + fell, reclassified + moved, lease_end())
                    .await?;
                Ok(())
            })
            .await?;
        overdue += fell;
        reclassified += moved;
        cursor = last;
        if page.next_after.is_none() {
            break;
        }
    }
    let tasks = super::recommendations::tell_overdue(services, day).await?;
    if tasks > 0 {
        tracing::info!(%day, tasks, "recommendation tasks fell overdue");
    }
    store::daily::finish(services.db(), day, store::now(), overdue, reclassified).await?;
    Ok(Some(DayRun { overdue, reclassified }))
}

/// Runs every day not yet run, up to today, then looks again every minute. Every `serve`
/// process runs this; the claims keep it to one process per day.
pub async fn run_forever(services: Services) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let today = Utc::now().date_naive();
        let first = match store::daily::last_finished(services.db()).await {
            Ok(Some(last)) => {
                last.succ_opt().unwrap_or(today).max(today - chrono::Duration::days(CATCH_UP_DAYS))
            }
            Ok(None) => today,
            Err(err) => {
                tracing::warn!(error = %err, "could not read the servicing job's last day; will retry");
                continue;
            }
        };
        let mut day = first;
        while day <= today {
            match run_day(&services, day).await {
                Ok(Some(run)) => {
                    tracing::info!(%day, overdue = run.overdue, reclassified = run.reclassified, "servicing day run")
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(%day, error = %err, "the servicing day failed; will retry");
                    break;
                }
            }
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
    }
}
