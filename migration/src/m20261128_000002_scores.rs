//! Innovation scores: one row per enterprise per period, with its standing in the park.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261128_000001_directory::{Enterprises, Parks};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Scores {
    Table,
    Id,
    EnterpriseId,
    ParkId,
    Period,
    ScoreCenti,
    Stage,
    Indicators,
    Rank,
    ParkSize,
    PercentileCenti,
    ImportedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Scores::Table)
                    .col(big_pk_auto(Scores::Id))
                    .col(big_integer(Scores::EnterpriseId))
                    .col(big_integer(Scores::ParkId))
                    .col(string_len(Scores::Period, 16))
                    // The score in hundredths of a point: exact, and ordered as integers.
                    .col(integer(Scores::ScoreCenti).check(Expr::col(Scores::ScoreCenti).between(0, 100_000)))
                    .col(string_len(Scores::Stage, 16))
                    .col(json(Scores::Indicators))
                    .col(integer(Scores::Rank))
                    .col(integer(Scores::ParkSize))
                    .col(integer(Scores::PercentileCenti))
                    .col(timestamp_with_time_zone(Scores::ImportedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Scores::Table, Scores::EnterpriseId)
                            .to(Enterprises::Table, Enterprises::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Scores::Table, Scores::ParkId)
                            .to(Parks::Table, Parks::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // One score per enterprise per period; also serves "latest period per enterprise".
        manager
            .create_index(
                Index::create()
                    .name("idx_scores_enterprise_period")
                    .table(Scores::Table)
                    .col(Scores::EnterpriseId)
                    .col(Scores::Period)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Rankings: a park's period, best first.
        manager
            .create_index(
                Index::create()
                    .name("idx_scores_park_period_score")
                    .table(Scores::Table)
                    .col(Scores::ParkId)
                    .col(Scores::Period)
                    .col((Scores::ScoreCenti, IndexOrder::Desc))
                    .col(Scores::EnterpriseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Scores::Table).to_owned()).await
    }
}
