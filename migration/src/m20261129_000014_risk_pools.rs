//! Risk-compensation pools (风险补偿资金池): a park's pool is a ledger of top-ups, claims paid and
//! recoveries returned, whose balance (kept on the pool, CHECK ≥ 0) is the ledger's sum. Loans of
//! covered products drawn within the enrolment window are enrolled; a bank claims on an enrolled
//! loan gone bad, and at most one claim per loan is open or paid (a partial unique index).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RiskPools {
    Table,
    Id,
    ParkId,
    Name,
    CoverageBps,
    PerLoanCap,
    EnrolFrom,
    EnrolTo,
    Balance,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RiskPoolProducts {
    Table,
    PoolId,
    ProductId,
}

#[derive(DeriveIden)]
enum RiskPoolLoans {
    Table,
    PoolId,
    LoanId,
    EnrolledAt,
}

#[derive(DeriveIden)]
enum RiskPoolEntries {
    Table,
    Id,
    PoolId,
    Kind,
    Amount,
    Reference,
    ClaimId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RiskClaims {
    Table,
    Id,
    PoolId,
    LoanId,
    ParkId,
    BankId,
    EnterpriseId,
    UnpaidPrincipal,
    Amount,
    Returned,
    Status,
    Reason,
    FiledAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Parks {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    Id,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RiskClaims as C;
        use RiskPoolEntries as E;
        use RiskPoolLoans as L;
        use RiskPoolProducts as P;
        use RiskPools as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(big_pk_auto(R::Id))
                    .col(big_integer(R::ParkId))
                    .col(string_len(R::Name, 128))
                    .col(integer(R::CoverageBps))
                    .col(big_integer(R::PerLoanCap))
                    .col(date(R::EnrolFrom))
                    .col(date(R::EnrolTo))
                    .col(big_integer(R::Balance).default(0).check(Expr::col(R::Balance).gte(0)))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .foreign_key(&mut fk((R::Table, R::ParkId), (Parks::Table, Parks::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("risk_pools_park").table(R::Table).col(R::ParkId).col(R::Id).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(big_integer(P::PoolId))
                    .col(big_integer(P::ProductId))
                    .primary_key(Index::create().col(P::PoolId).col(P::ProductId))
                    .foreign_key(&mut fk((P::Table, P::PoolId), (R::Table, R::Id)))
                    .foreign_key(&mut fk((P::Table, P::ProductId), (Products::Table, Products::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("risk_pool_products_product")
                    .table(P::Table)
                    .col(P::ProductId)
                    .col(P::PoolId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(big_integer(L::PoolId))
                    // A loan is enrolled in one pool at most.
                    .col(big_integer(L::LoanId).primary_key())
                    .col(timestamp_with_time_zone(L::EnrolledAt))
                    .foreign_key(&mut fk((L::Table, L::PoolId), (R::Table, R::Id)))
                    .foreign_key(&mut fk((L::Table, L::LoanId), (Loans::Table, Loans::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("risk_pool_loans_pool")
                    .table(L::Table)
                    .col(L::PoolId)
                    .col(L::LoanId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(big_pk_auto(C::Id))
                    .col(big_integer(C::PoolId))
                    .col(big_integer(C::LoanId))
                    .col(big_integer(C::ParkId))
                    .col(big_integer(C::BankId))
                    .col(big_integer(C::EnterpriseId))
                    .col(big_integer(C::UnpaidPrincipal))
                    .col(big_integer(C::Amount).check(Expr::col(C::Amount).gt(0)))
                    // Recoveries returned to the pool after the claim was paid.
                    .col(big_integer(C::Returned).default(0))
                    // filed | approved | rejected
                    .col(string_len(C::Status, 16).default("filed"))
                    .col(string_len_null(C::Reason, 500))
                    .col(timestamp_with_time_zone(C::FiledAt))
                    .col(timestamp_with_time_zone_null(C::DecidedAt))
                    .check(Expr::col(C::Returned).lte(Expr::col(C::Amount)))
                    .foreign_key(&mut fk((C::Table, C::PoolId), (R::Table, R::Id)))
                    .foreign_key(&mut fk((C::Table, C::LoanId), (Loans::Table, Loans::Id)))
                    .to_owned(),
            )
            .await?;
        // A loan has at most one claim that is filed or paid.
        manager
            .create_index(
                Index::create()
                    .name("risk_claims_one_per_loan")
                    .table(C::Table)
                    .col(C::LoanId)
                    .unique()
                    .and_where(Expr::col(C::Status).ne("rejected"))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("risk_claims_pool", C::PoolId),
            ("risk_claims_bank", C::BankId),
            ("risk_claims_park", C::ParkId),
        ] {
            manager
                .create_index(Index::create().name(name).table(C::Table).col(column).col(C::Id).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(big_pk_auto(E::Id))
                    .col(big_integer(E::PoolId))
                    // top_up | claim_paid | recovery_returned
                    .col(string_len(E::Kind, 24))
                    // Signed: a top-up or a return adds, a claim paid takes away.
                    .col(big_integer(E::Amount))
                    .col(string_len_null(E::Reference, 64))
                    .col(big_integer_null(E::ClaimId))
                    .col(timestamp_with_time_zone(E::CreatedAt))
                    .foreign_key(&mut fk((E::Table, E::PoolId), (R::Table, R::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("risk_pool_entries_pool")
                    .table(E::Table)
                    .col(E::PoolId)
                    .col(E::Id)
                    .to_owned(),
            )
            .await?;
        // A top-up's reference is unique within its pool.
        manager
            .create_index(
                Index::create()
                    .name("risk_pool_entries_reference")
                    .table(E::Table)
                    .col(E::PoolId)
                    .col(E::Reference)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RiskPoolEntries::Table.into_iden(),
            RiskClaims::Table.into_iden(),
            RiskPoolLoans::Table.into_iden(),
            RiskPoolProducts::Table.into_iden(),
            RiskPools::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
