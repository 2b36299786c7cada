//! Recommendation lists (白名单推送): a park's lists of enterprises, the banks each goes to, and
//! one task per (bank, enterprise) once published, with its working-day deadline and the bank's
//! answer.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RecommendationLists {
    Table,
    Id,
    ParkId,
    Name,
    Status,
    RespondWithinWorkingDays,
    Rule,
    CreatedAt,
    PublishedAt,
    PublishedOn,
    DueOn,
}

#[derive(DeriveIden)]
enum RecommendationListBanks {
    Table,
    ListId,
    BankId,
}

#[derive(DeriveIden)]
enum RecommendationEntries {
    Table,
    Id,
    ListId,
    EnterpriseId,
    Position,
    Score,
    Amount,
    TermMonths,
    Purpose,
}

#[derive(DeriveIden)]
enum RecommendationTasks {
    Table,
    Id,
    ListId,
    ParkId,
    BankId,
    EnterpriseId,
    EntryId,
    PublishedOn,
    DueOn,
    Status,
    AnsweredAt,
    AnsweredOn,
    Reason,
    ApplicationId,
    CreditLineId,
    OverdueNotified,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Parks {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Banks {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Enterprises {
    Table,
    Id,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RecommendationEntries as E;
        use RecommendationListBanks as B;
        use RecommendationLists as L;
        use RecommendationTasks as T;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(big_pk_auto(L::Id))
                    .col(big_integer(L::ParkId))
                    .col(string_len(L::Name, 128))
                    // draft | published
                    .col(string_len(L::Status, 16).default("draft"))
                    .col(integer(L::RespondWithinWorkingDays))
                    // The rule the entries were chosen by, when they were not named.
                    .col(json_null(L::Rule))
                    .col(timestamp_with_time_zone(L::CreatedAt))
                    .col(timestamp_with_time_zone_null(L::PublishedAt))
                    .col(date_null(L::PublishedOn))
                    .col(date_null(L::DueOn))
                    .foreign_key(&mut fk((L::Table, L::ParkId), (Parks::Table, Parks::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recommendation_lists_park")
                    .table(L::Table)
                    .col(L::ParkId)
                    .col(L::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(big_integer(B::ListId))
                    .col(big_integer(B::BankId))
                    .primary_key(Index::create().col(B::ListId).col(B::BankId))
                    .foreign_key(&mut fk((B::Table, B::ListId), (L::Table, L::Id)))
                    .foreign_key(&mut fk((B::Table, B::BankId), (Banks::Table, Banks::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recommendation_list_banks_bank")
                    .table(B::Table)
                    .col(B::BankId)
                    .col(B::ListId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(big_pk_auto(E::Id))
                    .col(big_integer(E::ListId))
                    .col(big_integer(E::EnterpriseId))
                    .col(integer(E::Position))
                    // The enterprise's score when the list was made, in hundredths (null: none).
                    .col(integer_null(E::Score))
                    .col(big_integer_null(E::Amount))
                    .col(integer_null(E::TermMonths))
                    .col(string_len_null(E::Purpose, 500))
                    .foreign_key(&mut fk((E::Table, E::ListId), (L::Table, L::Id)))
                    .foreign_key(&mut fk((E::Table, E::EnterpriseId), (Enterprises::Table, Enterprises::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recommendation_entries_list_enterprise")
                    .table(E::Table)
                    .col(E::ListId)
                    .col(E::EnterpriseId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(big_pk_auto(T::Id))
                    .col(big_integer(T::ListId))
                    .col(big_integer(T::ParkId))
                    .col(big_integer(T::BankId))
                    .col(big_integer(T::EnterpriseId))
                    .col(big_integer(T::EntryId))
                    .col(date(T::PublishedOn))
                    .col(date(T::DueOn))
                    // open | contacted | credit_granted | declined
                    .col(string_len(T::Status, 16).default("open"))
                    // The bank's first answer.
                    .col(timestamp_with_time_zone_null(T::AnsweredAt))
                    .col(date_null(T::AnsweredOn))
                    .col(string_len_null(T::Reason, 500))
                    .col(big_integer_null(T::ApplicationId))
                    .col(big_integer_null(T::CreditLineId))
                    // `recommendation.overdue` was sent.
                    .col(boolean(T::OverdueNotified).default(false))
                    .col(timestamp_with_time_zone(T::UpdatedAt))
                    .foreign_key(&mut fk((T::Table, T::ListId), (L::Table, L::Id)))
                    .foreign_key(&mut fk((T::Table, T::BankId), (Banks::Table, Banks::Id)))
                    .foreign_key(&mut fk((T::Table, T::EnterpriseId), (Enterprises::Table, Enterprises::Id)))
                    .foreign_key(&mut fk((T::Table, T::EntryId), (E::Table, E::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recommendation_tasks_list_bank_enterprise")
                    .table(T::Table)
                    .col(T::ListId)
                    .col(T::BankId)
                    .col(T::EnterpriseId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("recommendation_tasks_bank", T::BankId),
            ("recommendation_tasks_park", T::ParkId),
            ("recommendation_tasks_enterprise", T::EnterpriseId),
        ] {
            manager
                .create_index(Index::create().name(name).table(T::Table).col(column).col(T::Id).to_owned())
                .await?;
        }
        // The daily job's look for tasks that fell overdue.
        manager
            .create_index(
                Index::create()
                    .name("recommendation_tasks_open_due")
                    .table(T::Table)
                    .col(T::Status)
                    .col(T::DueOn)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RecommendationTasks::Table.into_iden(),
            RecommendationEntries::Table.into_iden(),
            RecommendationListBanks::Table.into_iden(),
            RecommendationLists::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
