//! Claims on the daily servicing job's days, so that one process runs each day.

use chrono::{DateTime, NaiveDate, Utc};
use entity::daily_run;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};

use super::StoreError;

/// Claims `day` until `until`: a day nobody ran, or whose runner's lease lapsed unfinished.
/// Answers whether this caller has it.
pub async fn claim(
    db: &impl ConnectionTrait,
    day: NaiveDate,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let inserted = daily_run::ActiveModel {
        day: Set(day),
        leased_until: Set(until),
        finished_at: Set(None),
        cursor: Set(0),
        overdue: Set(0),
        reclassified: Set(0),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
            let taken = daily_run::Entity::update_many()
                .col_expr(daily_run::Column::LeasedUntil, Expr::value(until))
                .filter(daily_run::Column::Day.eq(day))
                .filter(daily_run::Column::FinishedAt.is_null())
                .filter(daily_run::Column::LeasedUntil.lt(now))
                .exec(db)
                .await?;
            Ok(taken.rows_affected == 1)
        }
        Err(err) => Err(err.into()),
    }
}

/// Where a claimed day's run is: the last loan done, and what it found so far.
pub async fn progress(db: &impl ConnectionTrait, day: NaiveDate) -> Result<(i64, u32, u32), StoreError> {
    let row = daily_run::Entity::find_by_id(day).one(db).await?.ok_or(StoreError::NotFound)?;
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    Ok((row.cursor, count(row.overdue), count(row.reclassified)))
}

/// Records a run's progress, in the transaction that writes those loans' events.
pub async fn advance(
    db: &impl ConnectionTrait,
    day: NaiveDate,
    cursor: i64,
    overdue: u32,
    reclassified: u32,
    until: DateTime<Utc>,
) -> Result<(), StoreError> {
    daily_run::Entity::update_many()
        .col_expr(daily_run::Column::Cursor, Expr::value(cursor))
        .col_expr(daily_run::Column::Overdue, Expr::value(i32::try_from(overdue).unwrap_or(i32::MAX)))
        .col_expr(
            daily_run::Column::Reclassified,
            Expr::value(i32::try_from(reclassified).unwrap_or(i32::MAX)),
        )
        .col_expr(daily_run::Column::LeasedUntil, Expr::value(until))
        .filter(daily_run::Column::Day.eq(day))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks `day` done, with what it found.
pub async fn finish(
    db: &impl ConnectionTrait,
    day: NaiveDate,
    now: DateTime<Utc>,
    overdue: u32,
    reclassified: u32,
) -> Result<(), StoreError> {
    daily_run::Entity::update_many()
        .col_expr(daily_run::Column::FinishedAt, Expr::value(now))
        .col_expr(daily_run::Column::Overdue, Expr::value(i32::try_from(overdue).unwrap_or(i32::MAX)))
        .col_expr(
            daily_run::Column::Reclassified,
            Expr::value(i32::try_from(reclassified).unwrap_or(i32::MAX)),
        )
        .filter(daily_run::Column::Day.eq(day))
        .exec(db)
        .await?;
    Ok(())
}

/// The last day that was run to the end, if any.
pub async fn last_finished(db: &impl ConnectionTrait) -> Result<Option<NaiveDate>, StoreError> {
    let row = daily_run::Entity::find()
        .filter(daily_run::Column::FinishedAt.is_not_null())
        .order_by_desc(daily_run::Column::Day)
        .one(db)
        .await?;
    Ok(row.map(|r| r.day))
}
