//! Loan products and the parks each is offered in.

use sea_orm_migration::{prelude::*, schema::*};

use super::m20261128_000001_directory::{Banks, Parks};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    BankId,
    Code,
    Name,
    Description,
    CreditType,
    MinAmount,
    MaxAmount,
    RateBpsMin,
    RateBpsMax,
    TermMonthsMin,
    TermMonthsMax,
    ApprovalSlaDays,
    TotalQuota,
    GrantedTotal,
    Eligibility,
    AmountTiers,
    Status,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum ProductParks {
    Table,
    ProductId,
    ParkId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(big_pk_auto(Products::Id))
                    .col(big_integer(Products::BankId))
                    .col(string_len(Products::Code, 64))
                    .col(string_len(Products::Name, 200))
                    .col(text(Products::Description))
                    .col(string_len(Products::CreditType, 16))
                    .col(big_integer(Products::MinAmount))
                    .col(big_integer(Products::MaxAmount))
                    .col(integer(Products::RateBpsMin))
                    .col(integer(Products::RateBpsMax))
                    .col(integer(Products::TermMonthsMin))
                    .col(integer(Products::TermMonthsMax))
                    .col(integer(Products::ApprovalSlaDays))
                    .col(big_integer(Products::TotalQuota))
                    // Credit granted against the quota; approvals raise it with one conditional
                    // update, and the check makes overshooting impossible even then.
                    .col(big_integer(Products::GrantedTotal).default(0))
                    .col(json(Products::Eligibility))
                    .col(json(Products::AmountTiers))
                    .col(string_len(Products::Status, 16))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Products::PublishedAt))
                    .check(Expr::col(Products::GrantedTotal).gte(0))
                    .check(Expr::col(Products::GrantedTotal).lte(Expr::col(Products::TotalQuota)))
                    .check(Expr::col(Products::MinAmount).lte(Expr::col(Products::MaxAmount)))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Products::Table, Products::BankId)
                            .to(Banks::Table, Banks::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_products_bank_code")
                    .table(Products::Table)
                    .col(Products::BankId)
                    .col(Products::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_products_status")
                    .table(Products::Table)
                    .col(Products::Status)
                    .col(Products::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductParks::Table)
                    .col(big_integer(ProductParks::ProductId))
                    .col(big_integer(ProductParks::ParkId))
                    .primary_key(Index::create().col(ProductParks::ProductId).col(ProductParks::ParkId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProductParks::Table, ProductParks::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProductParks::Table, ProductParks::ParkId)
                            .to(Parks::Table, Parks::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_product_parks_park")
                    .table(ProductParks::Table)
                    .col(ProductParks::ParkId)
                    .col(ProductParks::ProductId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ProductParks::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Products::Table).to_owned()).await
    }
}
