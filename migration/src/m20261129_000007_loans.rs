//! Loans (借据): each disbursement is a loan with a schedule of installments, repaid by
//! repayments. Disbursements made before this step become bullet loans that mature at their
//! line's term, with interest for the days between at the daily rate (annual ÷ 360), rounded
//! half-up to the fen.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Loans {
    Table,
    Id,
    CreditLineId,
    EnterpriseId,
    BankId,
    ProductId,
    ParkId,
    Amount,
    RateBps,
    DisbursedOn,
    MaturityDate,
    RepaymentMethod,
    Classification,
    ClassificationReason,
    PrincipalRepaid,
    InterestRepaid,
    LastPaidOn,
    WrittenOffOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoanInstallments {
    Table,
    LoanId,
    N,
    DueDate,
    Principal,
    Interest,
    PaidPrincipal,
    PaidInterest,
}

#[derive(DeriveIden)]
enum Repayments {
    Table,
    Id,
    LoanId,
    BankId,
    Amount,
    PaidOn,
    Reference,
    InterestPaid,
    PrincipalPaid,
    Recovery,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Disbursements {
    Table,
    Id,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Loans::Table)
                    // The disbursement's id.
                    .col(big_integer(Loans::Id).primary_key())
                    .col(big_integer(Loans::CreditLineId))
                    .col(big_integer(Loans::EnterpriseId))
                    .col(big_integer(Loans::BankId))
                    .col(big_integer(Loans::ProductId))
                    .col(big_integer(Loans::ParkId))
                    .col(big_integer(Loans::Amount).check(Expr::col(Loans::Amount).gt(0)))
                    .col(integer(Loans::RateBps))
                    .col(date(Loans::DisbursedOn))
                    .col(date(Loans::MaturityDate))
                    .col(string_len(Loans::RepaymentMethod, 24))
                    // The bank's own classification; the floor by days past due applies over it.
                    .col(string_len(Loans::Classification, 16).default("normal"))
                    .col(text_null(Loans::ClassificationReason))
                    .col(big_integer(Loans::PrincipalRepaid).default(0))
                    .col(big_integer(Loans::InterestRepaid).default(0))
                    .col(date_null(Loans::LastPaidOn))
                    // 核销: the day the bank wrote the loan off.
                    .col(date_null(Loans::WrittenOffOn))
                    .col(timestamp_with_time_zone(Loans::CreatedAt))
                    .check(Expr::col(Loans::PrincipalRepaid).lte(Expr::col(Loans::Amount)))
                    .foreign_key(&mut fk(
                        (Loans::Table, Loans::Id),
                        (Disbursements::Table, Disbursements::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("loans_credit_line", Loans::CreditLineId),
            ("loans_enterprise", Loans::EnterpriseId),
            ("loans_bank", Loans::BankId),
            ("loans_park", Loans::ParkId),
        ] {
            manager
                .create_index(
                    Index::create().name(name).table(Loans::Table).col(column).col(Loans::Id).to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(LoanInstallments::Table)
                    .col(big_integer(LoanInstallments::LoanId))
                    .col(integer(LoanInstallments::N))
                    .col(date(LoanInstallments::DueDate))
                    .col(big_integer(LoanInstallments::Principal))
                    .col(big_integer(LoanInstallments::Interest))
                    .col(big_integer(LoanInstallments::PaidPrincipal).default(0))
                    .col(big_integer(LoanInstallments::PaidInterest).default(0))
                    .primary_key(Index::create().col(LoanInstallments::LoanId).col(LoanInstallments::N))
                    .check(
                        Expr::col(LoanInstallments::PaidPrincipal)
                            .lte(Expr::col(LoanInstallments::Principal)),
                    )
                    .check(
                        Expr::col(LoanInstallments::PaidInterest).lte(Expr::col(LoanInstallments::Interest)),
                    )
                    .foreign_key(&mut fk(
                        (LoanInstallments::Table, LoanInstallments::LoanId),
                        (Loans::Table, Loans::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Repayments::Table)
                    .col(big_pk_auto(Repayments::Id))
                    .col(big_integer(Repayments::LoanId))
                    .col(big_integer(Repayments::BankId))
                    .col(big_integer(Repayments::Amount).check(Expr::col(Repayments::Amount).gt(0)))
                    .col(date(Repayments::PaidOn))
                    .col(string_len(Repayments::Reference, 64))
                    .col(big_integer(Repayments::InterestPaid))
                    .col(big_integer(Repayments::PrincipalPaid))
                    // Paid after the loan was written off.
                    .col(boolean(Repayments::Recovery).default(false))
                    .col(timestamp_with_time_zone(Repayments::CreatedAt))
                    .foreign_key(&mut fk((Repayments::Table, Repayments::LoanId), (Loans::Table, Loans::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("repayments_bank_reference")
                    .table(Repayments::Table)
                    .col(Repayments::BankId)
                    .col(Repayments::Reference)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("repayments_loan")
                    .table(Repayments::Table)
                    .col(Repayments::LoanId)
                    .col(Repayments::Id)
                    .to_owned(),
            )
            .await?;
        backfill(manager.get_connection()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Repayments::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(LoanInstallments::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Loans::Table).to_owned()).await
    }
}

/// Every disbursement made before loans existed becomes a bullet loan maturing at its line's
/// term (frozen here as it was when this step was written).
async fn backfill(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT d.id, d.credit_line_id, d.enterprise_id, d.bank_id, d.product_id, d.park_id, d.amount, \
             d.disbursed_on, d.created_at, l.rate_bps, l.term_months \
             FROM disbursements d JOIN credit_lines l ON l.id = d.credit_line_id",
        ))
        .await?;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let amount: i64 = row.try_get("", "amount")?;
        let rate: i32 = row.try_get("", "rate_bps")?;
        let term: i32 = row.try_get("", "term_months")?;
        let disbursed_on: chrono::NaiveDate = row.try_get("", "disbursed_on")?;
        let created_at: chrono::DateTime<chrono::Utc> = row.try_get("", "created_at")?;
        let maturity = disbursed_on
            .checked_add_months(chrono::Months::new(TryFrom::try_from(term).unwrap_or(12)))
            .unwrap_or(disbursed_on);
        let days = i128::from((maturity - disbursed_on).num_days());
        let interest = (i128::from(amount) * i128::from(rate) * days + 1_800_000) / 3_600_000;
        let interest: i64 = TryFrom::try_from(interest)
            .map_err(|_| DbErr::Custom(format!("loan {id}: interest overflows")))?;
        let insert = Query::insert()
            .into_table(Loans::Table)
            .columns([
                Loans::Id,
                Loans::CreditLineId,
                Loans::EnterpriseId,
                Loans::BankId,
                Loans::ProductId,
                Loans::ParkId,
                Loans::Amount,
                Loans::RateBps,
                Loans::DisbursedOn,
                Loans::MaturityDate,
                Loans::RepaymentMethod,
                Loans::CreatedAt,
            ])
            .values_panic([
                id.into(),
                row.try_get::<i64>("", "credit_line_id")?.into(),
                row.try_get::<i64>("", "enterprise_id")?.into(),
                row.try_get::<i64>("", "bank_id")?.into(),
                row.try_get::<i64>("", "product_id")?.into(),
                row.try_get::<i64>("", "park_id")?.into(),
                amount.into(),
                rate.into(),
                disbursed_on.into(),
                maturity.into(),
                "bullet".into(),
                created_at.into(),
            ])
            .to_owned();
        db.execute(&insert).await?;
        let installment = Query::insert()
            .into_table(LoanInstallments::Table)
            .columns([
                LoanInstallments::LoanId,
                LoanInstallments::N,
                LoanInstallments::DueDate,
                LoanInstallments::Principal,
                LoanInstallments::Interest,
            ])
            .values_panic([id.into(), 1.into(), maturity.into(), amount.into(), interest.into()])
            .to_owned();
        db.execute(&installment).await?;
    }
    Ok(())
}
