//! What the statistics need of a loan without reading its installments: the due date of its
//! oldest installment not yet settled (principal and interest), kept on the loan by every
//! repayment; and indexes for the loans repaid after a day and the loans written off.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Loans {
    Table,
    OldestUnsettledDue,
    LastPaidOn,
    WrittenOffOn,
}

const INDEXES: [(&str, Loans); 2] =
    [("loans_last_paid_on", Loans::LastPaidOn), ("loans_written_off_on", Loans::WrittenOffOn)];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Loans::Table)
                    .add_column(date_null(Loans::OldestUnsettledDue))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_raw(Statement::from_string(
            db.get_database_backend(),
            "UPDATE loans SET oldest_unsettled_due = (SELECT MIN(i.due_date) FROM loan_installments i \
             WHERE i.loan_id = loans.id AND (i.paid_principal < i.principal OR i.paid_interest < i.interest))",
        ))
        .await?;
        for (name, column) in INDEXES {
            manager
                .create_index(Index::create().name(name).table(Loans::Table).col(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager.drop_index(Index::drop().name(name).table(Loans::Table).to_owned()).await?;
        }
        manager
            .alter_table(Table::alter().table(Loans::Table).drop_column(Loans::OldestUnsettledDue).to_owned())
            .await
    }
}
