//! Applications, credit lines (授信), disbursements (放款) and idempotency keys.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261128_000001_directory::{Banks, Enterprises, Parks};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    EnterpriseId,
    ProductId,
    BankId,
    ParkId,
    Amount,
    TermMonths,
    Purpose,
    Status,
    Terms,
    ScorePeriod,
    ScoreCenti,
    OfferMaxAmount,
    SubmittedAt,
    ReviewedAt,
    DecidedAt,
    DecisionReason,
}

#[derive(DeriveIden)]
enum CreditLines {
    Table,
    Id,
    ApplicationId,
    EnterpriseId,
    BankId,
    ProductId,
    ParkId,
    Amount,
    DisbursedTotal,
    RateBps,
    TermMonths,
    GrantedAt,
    ExpiresOn,
    Status,
    ApprovalDays,
    ApprovalWorkingDays,
    SlaBreached,
}

#[derive(DeriveIden)]
enum Disbursements {
    Table,
    Id,
    CreditLineId,
    BankId,
    ParkId,
    EnterpriseId,
    ProductId,
    Amount,
    Reference,
    DisbursedOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    ApiKeyId,
    Key,
    Method,
    Path,
    RequestHash,
    State,
    LockedUntil,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).to_owned()
}

fn index(name: &str, table: impl IntoIden, columns: Vec<DynIden>) -> IndexCreateStatement {
    let mut statement = Index::create().name(name).table(table).to_owned();
    for column in columns {
        statement.col(column);
    }
    statement
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .col(big_pk_auto(Applications::Id))
                    .col(big_integer(Applications::EnterpriseId))
                    .col(big_integer(Applications::ProductId))
                    .col(big_integer(Applications::BankId))
                    .col(big_integer(Applications::ParkId))
                    .col(big_integer(Applications::Amount).check(Expr::col(Applications::Amount).gt(0)))
                    .col(integer(Applications::TermMonths))
                    .col(string_len(Applications::Purpose, 500))
                    .col(string_len(Applications::Status, 16))
                    // The product's terms as they were judged, kept with the application.
                    .col(json(Applications::Terms))
                    .col(string_len_null(Applications::ScorePeriod, 16))
                    .col(integer_null(Applications::ScoreCenti))
                    .col(big_integer(Applications::OfferMaxAmount))
                    .col(timestamp_with_time_zone(Applications::SubmittedAt))
                    .col(timestamp_with_time_zone_null(Applications::ReviewedAt))
                    .col(timestamp_with_time_zone_null(Applications::DecidedAt))
                    .col(text_null(Applications::DecisionReason))
                    .foreign_key(&mut fk(
                        (Applications::Table, Applications::EnterpriseId),
                        (Enterprises::Table, Enterprises::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Applications::Table, Applications::ProductId),
                        (Products::Table, Products::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Applications::Table, Applications::BankId),
                        (Banks::Table, Banks::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Applications::Table, Applications::ParkId),
                        (Parks::Table, Parks::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // At most one open application per enterprise and product, whatever the concurrency.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_applications_one_open ON applications (enterprise_id, product_id) \
                 WHERE status IN ('submitted', 'under_review')",
            )
            .await?;
        for (name, columns) in [
            (
                "idx_applications_enterprise",
                vec![Applications::EnterpriseId.into_iden(), Applications::Id.into_iden()],
            ),
            ("idx_applications_bank", vec![Applications::BankId.into_iden(), Applications::Id.into_iden()]),
            (
                "idx_applications_park",
                vec![Applications::ParkId.into_iden(), Applications::SubmittedAt.into_iden()],
            ),
        ] {
            manager.create_index(index(name, Applications::Table, columns)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(CreditLines::Table)
                    .col(big_pk_auto(CreditLines::Id))
                    .col(big_integer_uniq(CreditLines::ApplicationId))
                    .col(big_integer(CreditLines::EnterpriseId))
                    .col(big_integer(CreditLines::BankId))
                    .col(big_integer(CreditLines::ProductId))
                    .col(big_integer(CreditLines::ParkId))
                    .col(big_integer(CreditLines::Amount).check(Expr::col(CreditLines::Amount).gt(0)))
                    // Raised only by a conditional update; the checks make an overdraw impossible.
                    .col(big_integer(CreditLines::DisbursedTotal).default(0))
                    .col(integer(CreditLines::RateBps))
                    .col(integer(CreditLines::TermMonths))
                    .col(timestamp_with_time_zone(CreditLines::GrantedAt))
                    .col(date(CreditLines::ExpiresOn))
                    .col(string_len(CreditLines::Status, 16))
                    .col(integer(CreditLines::ApprovalDays))
                    .col(integer(CreditLines::ApprovalWorkingDays))
                    .col(boolean(CreditLines::SlaBreached))
                    .check(Expr::col(CreditLines::DisbursedTotal).gte(0))
                    .check(Expr::col(CreditLines::DisbursedTotal).lte(Expr::col(CreditLines::Amount)))
                    .foreign_key(&mut fk(
                        (CreditLines::Table, CreditLines::ApplicationId),
                        (Applications::Table, Applications::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CreditLines::Table, CreditLines::EnterpriseId),
                        (Enterprises::Table, Enterprises::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CreditLines::Table, CreditLines::BankId),
                        (Banks::Table, Banks::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CreditLines::Table, CreditLines::ProductId),
                        (Products::Table, Products::Id),
                    ))
                    .foreign_key(&mut fk(
                        (CreditLines::Table, CreditLines::ParkId),
                        (Parks::Table, Parks::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            // Park statistics read lines by park and grant date, grouped by bank and product.
            (
                "idx_credit_lines_park",
                vec![
                    CreditLines::ParkId.into_iden(),
                    CreditLines::GrantedAt.into_iden(),
                    CreditLines::BankId.into_iden(),
                    CreditLines::ProductId.into_iden(),
                    CreditLines::EnterpriseId.into_iden(),
                    CreditLines::Amount.into_iden(),
                ],
            ),
            ("idx_credit_lines_bank", vec![CreditLines::BankId.into_iden(), CreditLines::Id.into_iden()]),
            (
                "idx_credit_lines_enterprise",
                vec![CreditLines::EnterpriseId.into_iden(), CreditLines::Id.into_iden()],
            ),
        ] {
            manager.create_index(index(name, CreditLines::Table, columns)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Disbursements::Table)
                    .col(big_pk_auto(Disbursements::Id))
                    .col(big_integer(Disbursements::CreditLineId))
                    .col(big_integer(Disbursements::BankId))
                    .col(big_integer(Disbursements::ParkId))
                    .col(big_integer(Disbursements::EnterpriseId))
                    .col(big_integer(Disbursements::ProductId))
                    .col(big_integer(Disbursements::Amount).check(Expr::col(Disbursements::Amount).gt(0)))
                    .col(string_len(Disbursements::Reference, 64))
                    .col(date(Disbursements::DisbursedOn))
                    .col(timestamp_with_time_zone(Disbursements::CreatedAt))
                    .foreign_key(&mut fk(
                        (Disbursements::Table, Disbursements::CreditLineId),
                        (CreditLines::Table, CreditLines::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Disbursements::Table, Disbursements::BankId),
                        (Banks::Table, Banks::Id),
                    ))
                    .foreign_key(&mut fk(
                        (Disbursements::Table, Disbursements::ParkId),
                        (Parks::Table, Parks::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_disbursements_bank_reference",
                    Disbursements::Table,
                    vec![Disbursements::BankId.into_iden(), Disbursements::Reference.into_iden()],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_disbursements_line",
                vec![Disbursements::CreditLineId.into_iden(), Disbursements::Id.into_iden()],
            ),
            // Covers park statistics: sums by park and date, grouped by bank and product.
            (
                "idx_disbursements_park",
                vec![
                    Disbursements::ParkId.into_iden(),
                    Disbursements::DisbursedOn.into_iden(),
                    Disbursements::BankId.into_iden(),
                    Disbursements::ProductId.into_iden(),
                    Disbursements::Amount.into_iden(),
                ],
            ),
        ] {
            manager.create_index(index(name, Disbursements::Table, columns)).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(big_pk_auto(IdempotencyKeys::Id))
                    .col(big_integer(IdempotencyKeys::ApiKeyId))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::Method, 8))
                    .col(string_len(IdempotencyKeys::Path, 512))
                    .col(char_len(IdempotencyKeys::RequestHash, 64))
                    // `in_flight` while the first request runs, then `completed`.
                    .col(string_len(IdempotencyKeys::State, 16))
                    .col(timestamp_with_time_zone(IdempotencyKeys::LockedUntil))
                    .col(integer_null(IdempotencyKeys::ResponseStatus))
                    .col(text_null(IdempotencyKeys::ResponseBody))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_idempotency_keys_key",
                    IdempotencyKeys::Table,
                    vec![IdempotencyKeys::ApiKeyId.into_iden(), IdempotencyKeys::Key.into_iden()],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_idempotency_keys_created",
                IdempotencyKeys::Table,
                vec![IdempotencyKeys::CreatedAt.into_iden()],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKeys::Table.into_iden(),
            Disbursements::Table.into_iden(),
            CreditLines::Table.into_iden(),
            Applications::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
