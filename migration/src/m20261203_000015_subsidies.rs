//! Interest subsidies (贴息): a park's programme returns a share of the interest its enterprises
//! actually repaid in a window, from a fixed budget. `paid` is kept on the programme with
//! CHECK (paid ≤ budget), moved by one conditional update per approval. Each repayment counted by
//! a claim has a line keyed by (programme, repayment), so no repaid interest is counted twice in
//! a programme; a rejected claim's lines are deleted, freeing that interest.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SubsidyPrograms {
    Table,
    Id,
    ParkId,
    Name,
    ShareBps,
    FirstLoanBonusBps,
    PerEnterpriseCap,
    Budget,
    Paid,
    Eligibility,
    FromDay,
    ToDay,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SubsidyClaims {
    Table,
    Id,
    ProgramId,
    ParkId,
    EnterpriseId,
    FromDay,
    ToDay,
    InterestBasis,
    BonusBasis,
    Repayments,
    Amount,
    Status,
    Reason,
    FiledAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum SubsidyClaimLines {
    Table,
    ProgramId,
    RepaymentId,
    ClaimId,
    LoanId,
    BankId,
    ProductId,
    Interest,
    FirstLoan,
    Amount,
}

#[derive(DeriveIden)]
enum Parks {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Enterprises {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Repayments {
    Table,
    Id,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SubsidyClaimLines as L;
        use SubsidyClaims as C;
        use SubsidyPrograms as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(big_pk_auto(P::Id))
                    .col(big_integer(P::ParkId))
                    .col(string_len(P::Name, 128))
                    .col(integer(P::ShareBps))
                    .col(integer(P::FirstLoanBonusBps))
                    .col(big_integer(P::PerEnterpriseCap))
                    .col(big_integer(P::Budget))
                    .col(big_integer(P::Paid).default(0))
                    .col(json(P::Eligibility))
                    .col(date(P::FromDay))
                    .col(date(P::ToDay))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    // A programme never pays more than its budget, whatever the concurrency.
                    .check(Expr::col(P::Paid).gte(0).and(Expr::col(P::Paid).lte(Expr::col(P::Budget))))
                    .foreign_key(&mut fk((P::Table, P::ParkId), (Parks::Table, Parks::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("subsidy_programs_park")
                    .table(P::Table)
                    .col(P::ParkId)
                    .col(P::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(big_pk_auto(C::Id))
                    .col(big_integer(C::ProgramId))
                    .col(big_integer(C::ParkId))
                    .col(big_integer(C::EnterpriseId))
                    .col(date(C::FromDay))
                    .col(date(C::ToDay))
                    // The interest repaid that the claim counts, and the part of it on the
                    // enterprise's first loan (which earns the bonus).
                    .col(big_integer(C::InterestBasis))
                    .col(big_integer(C::BonusBasis))
                    .col(integer(C::Repayments))
                    .col(big_integer(C::Amount).check(Expr::col(C::Amount).gt(0)))
                    // filed | approved | rejected
                    .col(string_len(C::Status, 16).default("filed"))
                    .col(string_len_null(C::Reason, 500))
                    .col(timestamp_with_time_zone(C::FiledAt))
                    .col(timestamp_with_time_zone_null(C::DecidedAt))
                    .foreign_key(&mut fk((C::Table, C::ProgramId), (P::Table, P::Id)))
                    .foreign_key(&mut fk((C::Table, C::EnterpriseId), (Enterprises::Table, Enterprises::Id)))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("subsidy_claims_program", C::ProgramId),
            ("subsidy_claims_park", C::ParkId),
            ("subsidy_claims_enterprise", C::EnterpriseId),
        ] {
            manager
                .create_index(Index::create().name(name).table(C::Table).col(column).col(C::Id).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(big_integer(L::ProgramId))
                    .col(big_integer(L::RepaymentId))
                    .col(big_integer(L::ClaimId))
                    .col(big_integer(L::LoanId))
                    .col(big_integer(L::BankId))
                    .col(big_integer(L::ProductId))
                    .col(big_integer(L::Interest))
                    .col(boolean(L::FirstLoan))
                    .col(big_integer(L::Amount))
                    // A repayment's interest is counted once in a programme.
                    .primary_key(Index::create().col(L::ProgramId).col(L::RepaymentId))
                    .foreign_key(&mut fk((L::Table, L::ClaimId), (C::Table, C::Id)))
                    .foreign_key(&mut fk((L::Table, L::RepaymentId), (Repayments::Table, Repayments::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("subsidy_claim_lines_claim")
                    .table(L::Table)
                    .col(L::ClaimId)
                    .col(L::RepaymentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SubsidyClaimLines::Table.into_iden(),
            SubsidyClaims::Table.into_iden(),
            SubsidyPrograms::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
