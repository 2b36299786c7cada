//! Maintained totals for the statistics: today's figures are read from these few rows, never
//! summed from loans and repayments. Each use case that changes a figure updates its row in its
//! own transaction; `innoloan verify` recomputes every row from the source rows.
//!
//! - `stat_flows`: what happened in a month (UTC), per park, bank and product: credit granted,
//!   disbursed, repaid, recovered, written off, risk claims and subsidies paid.
//! - `stat_flow_totals`: the same, every month together: today's statistics read one row per
//!   park, bank and product.
//! - `stat_balances`: per park, bank and product, the loans' principal outstanding, overdue and
//!   non-performing as of `as_of` (the figures that move with the calendar are rolled to each
//!   new day, per park, by the daily job or by the first reader of the day).
//! - `stat_applications`: applications per park, month of submission and status.
//! - `stat_counts` and `stat_members`: distinct enterprises (registered, scored, with credit per
//!   park, bank and product), counted when a membership row is first inserted.
//! - `stat_state`: one row once the totals have been built from the rows that predate them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatFlows {
    Table,
    ParkId,
    BankId,
    ProductId,
    Month,
    CreditLines,
    CreditGranted,
    ApprovalDays,
    ApprovalWorkingDays,
    SlaBreaches,
    Disbursements,
    Disbursed,
    Repayments,
    PrincipalRepaid,
    InterestRepaid,
    Recovered,
    WrittenOff,
    RiskClaimsPaid,
    SubsidiesPaid,
}

#[derive(DeriveIden)]
enum StatFlowTotals {
    Table,
}

#[derive(DeriveIden)]
enum StatBalances {
    Table,
    ParkId,
    BankId,
    ProductId,
    AsOf,
    PrincipalOutstanding,
    OverduePrincipal,
    NplBalance,
}

#[derive(DeriveIden)]
enum StatApplications {
    Table,
    ParkId,
    Month,
    Status,
    N,
}

#[derive(DeriveIden)]
enum StatCounts {
    Table,
    ParkId,
    Kind,
    KeyId,
    N,
}

#[derive(DeriveIden)]
enum StatMembers {
    Table,
    ParkId,
    Kind,
    KeyId,
    EnterpriseId,
}

#[derive(DeriveIden)]
enum StatState {
    Table,
    Id,
    BuiltAt,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    ParkId,
    BankId,
    ProductId,
}

fn flow_columns() -> [StatFlows; 14] {
    use StatFlows as F;
    [
        F::CreditLines,
        F::CreditGranted,
        F::ApprovalDays,
        F::ApprovalWorkingDays,
        F::SlaBreaches,
        F::Disbursements,
        F::Disbursed,
        F::Repayments,
        F::PrincipalRepaid,
        F::InterestRepaid,
        F::Recovered,
        F::WrittenOff,
        F::RiskClaimsPaid,
        F::SubsidiesPaid,
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use StatFlows as F;
        let mut flows = Table::create();
        flows
            .table(F::Table)
            .col(big_integer(F::ParkId))
            .col(big_integer(F::BankId))
            .col(big_integer(F::ProductId))
            .col(string_len(F::Month, 7));
        for column in flow_columns() {
            flows.col(big_integer(column).default(0));
        }
        flows.primary_key(Index::create().col(F::ParkId).col(F::BankId).col(F::ProductId).col(F::Month));
        manager.create_table(flows.to_owned()).await?;
        let mut totals = Table::create();
        totals
            .table(StatFlowTotals::Table)
            .col(big_integer(F::ParkId))
            .col(big_integer(F::BankId))
            .col(big_integer(F::ProductId));
        for column in flow_columns() {
            totals.col(big_integer(column).default(0));
        }
        totals.primary_key(Index::create().col(F::ParkId).col(F::BankId).col(F::ProductId));
        manager.create_table(totals.to_owned()).await?;

        use StatBalances as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(big_integer(B::ParkId))
                    .col(big_integer(B::BankId))
                    .col(big_integer(B::ProductId))
                    .col(date(B::AsOf))
                    .col(big_integer(B::PrincipalOutstanding).default(0))
                    .col(big_integer(B::OverduePrincipal).default(0))
                    .col(big_integer(B::NplBalance).default(0))
                    .primary_key(Index::create().col(B::ParkId).col(B::BankId).col(B::ProductId))
                    .to_owned(),
            )
            .await?;

        use StatApplications as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(big_integer(A::ParkId))
                    .col(string_len(A::Month, 7))
                    .col(string_len(A::Status, 16))
                    .col(big_integer(A::N).default(0))
                    .primary_key(Index::create().col(A::ParkId).col(A::Month).col(A::Status))
                    .to_owned(),
            )
            .await?;

        use StatCounts as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(big_integer(C::ParkId))
                    .col(string_len(C::Kind, 16))
                    .col(big_integer(C::KeyId))
                    .col(big_integer(C::N).default(0))
                    .primary_key(Index::create().col(C::ParkId).col(C::Kind).col(C::KeyId))
                    .to_owned(),
            )
            .await?;

        use StatMembers as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(big_integer(M::ParkId))
                    .col(string_len(M::Kind, 16))
                    .col(big_integer(M::KeyId))
                    .col(big_integer(M::EnterpriseId))
                    .primary_key(
                        Index::create().col(M::ParkId).col(M::Kind).col(M::KeyId).col(M::EnterpriseId),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StatState::Table)
                    .col(integer(StatState::Id).primary_key())
                    .col(timestamp_with_time_zone(StatState::BuiltAt))
                    .to_owned(),
            )
            .await?;

        // The daily roll and `verify` aggregate one park's loans per bank and product.
        manager
            .create_index(
                Index::create()
                    .name("loans_park_bank_product")
                    .table(Loans::Table)
                    .col(Loans::ParkId)
                    .col(Loans::BankId)
                    .col(Loans::ProductId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("loans_park_bank_product").table(Loans::Table).to_owned())
            .await?;
        for table in [
            StatState::Table.into_iden(),
            StatMembers::Table.into_iden(),
            StatCounts::Table.into_iden(),
            StatApplications::Table.into_iden(),
            StatBalances::Table.into_iden(),
            StatFlowTotals::Table.into_iden(),
            StatFlows::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
