//! The daily servicing job's runs: one row per day, claimed by the one process that runs it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DailyRuns {
    Table,
    Day,
    LeasedUntil,
    FinishedAt,
    Cursor,
    Overdue,
    Reclassified,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DailyRuns::Table)
                    .col(date(DailyRuns::Day).primary_key())
                    // The process running it holds it until then; a run whose process died is
                    // taken over once this has passed.
                    .col(timestamp_with_time_zone(DailyRuns::LeasedUntil))
                    .col(timestamp_with_time_zone_null(DailyRuns::FinishedAt))
                    // The last loan done, written with that loan's events: a run taken over goes
                    // on from there.
                    .col(big_integer(DailyRuns::Cursor).default(0))
                    .col(integer(DailyRuns::Overdue).default(0))
                    .col(integer(DailyRuns::Reclassified).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DailyRuns::Table).to_owned()).await
    }
}
