//! Ranks within a stage (初创、成长、稳定): each score also keeps its rank, the size of its stage's
//! cohort and its percentile within the park's enterprises of the same stage in that period, as
//! the park-wide rank is kept. Scores imported before this step get them computed here, by the
//! same rule (competition rank; percentile = the share ranked at or below, truncated to
//! hundredths of a percent).

use sea_orm_migration::{prelude::*, schema::*, sea_orm::Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Scores {
    Table,
    ParkId,
    Period,
    Stage,
    ScoreCenti,
    EnterpriseId,
    StageRank,
    StageSize,
    StagePercentileCenti,
}

const INDEX: &str = "idx_scores_park_period_stage_score";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Scores::StageRank, Scores::StageSize, Scores::StagePercentileCenti] {
            manager
                .alter_table(
                    Table::alter().table(Scores::Table).add_column(integer(column).default(0)).to_owned(),
                )
                .await?;
        }
        // Stage rankings: a park's period and stage, best first.
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Scores::Table)
                    .col(Scores::ParkId)
                    .col(Scores::Period)
                    .col(Scores::Stage)
                    .col((Scores::ScoreCenti, IndexOrder::Desc))
                    .col(Scores::EnterpriseId)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let cohort = "s.park_id = scores.park_id AND s.period = scores.period AND s.stage = scores.stage";
        for sql in [
            format!(
                "UPDATE scores SET stage_size = (SELECT COUNT(*) FROM scores s WHERE {cohort}), \
                 stage_rank = 1 + (SELECT COUNT(*) FROM scores s WHERE {cohort} AND s.score_centi > scores.score_centi)"
            ),
            "UPDATE scores SET stage_percentile_centi = (stage_size - stage_rank + 1) * 10000 / stage_size \
             WHERE stage_size > 0"
                .to_owned(),
        ] {
            db.execute_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(INDEX).table(Scores::Table).to_owned()).await?;
        for column in [Scores::StagePercentileCenti, Scores::StageSize, Scores::StageRank] {
            manager.alter_table(Table::alter().table(Scores::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
