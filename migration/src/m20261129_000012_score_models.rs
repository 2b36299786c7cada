//! Score models (识): each park's versioned models, and on each computed score the model that made
//! it and its breakdown. At most one model per park is active (a partial unique index); a model
//! that has scored a period records when (`used_at`) and never changes after.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScoreModels {
    Table,
    Id,
    ParkId,
    Version,
    Name,
    Status,
    Definition,
    CreatedAt,
    ActivatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Scores {
    Table,
    ModelId,
    ModelVersion,
    Breakdown,
}

#[derive(DeriveIden)]
enum Parks {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScoreModels::Table)
                    .col(big_pk_auto(ScoreModels::Id))
                    .col(big_integer(ScoreModels::ParkId))
                    .col(integer(ScoreModels::Version))
                    .col(string_len(ScoreModels::Name, 128))
                    // draft | active | inactive
                    .col(string_len(ScoreModels::Status, 16).default("draft"))
                    // The indicators, their scoring and the stage weights, as JSON.
                    .col(json(ScoreModels::Definition))
                    .col(timestamp_with_time_zone(ScoreModels::CreatedAt))
                    .col(timestamp_with_time_zone_null(ScoreModels::ActivatedAt))
                    // The first time the model scored a period: from then on it is immutable.
                    .col(timestamp_with_time_zone_null(ScoreModels::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScoreModels::Table, ScoreModels::ParkId)
                            .to(Parks::Table, Parks::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("score_models_park_version")
                    .table(ScoreModels::Table)
                    .col(ScoreModels::ParkId)
                    .col(ScoreModels::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One active model per park, whatever the concurrency.
        manager
            .create_index(
                Index::create()
                    .name("score_models_one_active")
                    .table(ScoreModels::Table)
                    .col(ScoreModels::ParkId)
                    .unique()
                    .and_where(Expr::col(ScoreModels::Status).eq("active"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Scores::Table).add_column(big_integer_null(Scores::ModelId)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Scores::Table).add_column(integer_null(Scores::ModelVersion)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Scores::Table).add_column(json_null(Scores::Breakdown)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Scores::Breakdown, Scores::ModelVersion, Scores::ModelId] {
            manager.alter_table(Table::alter().table(Scores::Table).drop_column(column).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(ScoreModels::Table).to_owned()).await
    }
}
