//! Revolving lines (循环授信): a product, and the lines granted under it, may be `revolving`.
//! A line keeps its `principal_outstanding` (drawn less principal repaid); on a revolving line
//! that, not the sum drawn, is what may not exceed the amount.
//!
//! The check that held `disbursed_total <= amount` for every line becomes
//! `revolving OR disbursed_total <= amount`, and `principal_outstanding` gets its own. PostgreSQL
//! swaps the constraint; SQLite, which cannot alter a constraint, rebuilds the table from its own
//! stored definition in one transaction (the procedure of SQLite's `ALTER TABLE` page).

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DbBackend, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Revolving,
}

#[derive(DeriveIden)]
enum CreditLines {
    Table,
    Revolving,
    PrincipalOutstanding,
}

/// The check as the first credit step wrote it, on SQLite and on PostgreSQL.
const SQLITE_DRAWN: &str = r#"CHECK ("disbursed_total" <= "amount")"#;
const PG_DRAWN: &str = "CHECK ((disbursed_total <= amount))";
/// The checks that replace it.
const SQLITE_NEW: &str = r#"CHECK ("revolving" OR "disbursed_total" <= "amount"), CONSTRAINT "credit_lines_outstanding_within" CHECK ("principal_outstanding" >= 0 AND "principal_outstanding" <= "amount")"#;
const PG_NEW: [&str; 2] = [
    "ALTER TABLE credit_lines ADD CONSTRAINT credit_lines_drawn_within CHECK (revolving OR disbursed_total <= amount)",
    "ALTER TABLE credit_lines ADD CONSTRAINT credit_lines_outstanding_within \
     CHECK (principal_outstanding >= 0 AND principal_outstanding <= amount)",
];

const BACKFILL: &str = "UPDATE credit_lines SET principal_outstanding = disbursed_total - \
     (SELECT COALESCE(SUM(principal_repaid), 0) FROM loans WHERE loans.credit_line_id = credit_lines.id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            // SQLite records a step after the step's own commit: a process that stopped in
            // between finds the step made, and only records it.
            DbBackend::Sqlite if manager.has_column("credit_lines", "principal_outstanding").await? => Ok(()),
            DbBackend::Sqlite => sqlite_rebuilt(manager, true).await,
            _ => {
                add_columns(db).await?;
                let found = db
                    .query_all_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint \
                         WHERE conrelid = 'credit_lines'::regclass AND contype = 'c'",
                    ))
                    .await?;
                let mut dropped = false;
                for row in found {
                    let name: String = row.try_get("", "conname")?;
                    let def: String = row.try_get("", "def")?;
                    if def == PG_DRAWN {
                        db.execute_unprepared(&format!(
                            "ALTER TABLE credit_lines DROP CONSTRAINT \"{name}\""
                        ))
                        .await?;
                        dropped = true;
                    }
                }
                if !dropped {
                    return Err(DbErr::Migration(format!("credit_lines has no constraint {PG_DRAWN}")));
                }
                for statement in PG_NEW {
                    db.execute_unprepared(statement).await?;
                }
                Ok(())
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                sqlite_rebuilt(manager, false).await?;
            }
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE credit_lines DROP CONSTRAINT credit_lines_drawn_within, \
                     DROP CONSTRAINT credit_lines_outstanding_within, ADD CHECK (disbursed_total <= amount)",
                )
                .await?;
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table(CreditLines::Table)
                    .drop_column(CreditLines::PrincipalOutstanding)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(CreditLines::Table).drop_column(CreditLines::Revolving).to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Products::Table).drop_column(Products::Revolving).to_owned())
            .await
    }
}

async fn add_columns(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let statements = [
        Table::alter()
            .table(Products::Table)
            .add_column(boolean(Products::Revolving).default(false))
            .to_owned(),
        Table::alter()
            .table(CreditLines::Table)
            .add_column(boolean(CreditLines::Revolving).default(false))
            .to_owned(),
        Table::alter()
            .table(CreditLines::Table)
            .add_column(big_integer(CreditLines::PrincipalOutstanding).default(0))
            .to_owned(),
    ];
    for statement in statements {
        db.execute(&statement).await?;
    }
    db.execute_raw(Statement::from_string(backend, BACKFILL)).await?;
    Ok(())
}

fn replace_once(sql: &str, from: &str, to: &str) -> Result<String, DbErr> {
    match sql.matches(from).count() {
        1 => Ok(sql.replacen(from, to, 1)),
        n => Err(DbErr::Migration(format!("credit_lines' definition holds {from} {n} times, not once"))),
    }
}

/// Rebuilds `credit_lines` on SQLite with the credit check rewritten (forwards for `up`, after
/// adding the columns, backwards for `down`): a new table from the rewritten stored definition,
/// the rows copied, the old table dropped, the new one renamed, its indexes made again, and the
/// foreign keys checked, all in one transaction. Foreign keys are off meanwhile, as SQLite
/// requires, and on again afterwards; the pool's one connection carries the setting.
async fn sqlite_rebuilt(manager: &SchemaManager<'_>, up: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared("PRAGMA foreign_keys = OFF").await?;
    let rebuilt = async {
        let txn = manager.begin().await?;
        let t = txn.get_connection();
        let (from, to) = if up { (SQLITE_DRAWN, SQLITE_NEW) } else { (SQLITE_NEW, SQLITE_DRAWN) };
        if up {
            add_columns(t).await?;
        }
        let query = |sql: &str| Statement::from_string(DbBackend::Sqlite, sql.to_owned());
        let table = t
            .query_one_raw(query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'credit_lines'"))
            .await?
            .ok_or_else(|| DbErr::Migration("credit_lines does not exist".into()))?;
        let definition: String = table.try_get("", "sql")?;
        let definition = replace_once(&definition, from, to)?;
        let definition =
            replace_once(&definition, r#"CREATE TABLE "credit_lines""#, r#"CREATE TABLE "credit_lines_rebuilt""#)?;
        let indexes = t
            .query_all_raw(query(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'credit_lines' AND sql IS NOT NULL",
            ))
            .await?
            .into_iter()
            .map(|row| row.try_get::<String>("", "sql"))
            .collect::<Result<Vec<_>, _>>()?;
        t.execute_unprepared(&definition).await?;
        t.execute_unprepared("INSERT INTO credit_lines_rebuilt SELECT * FROM credit_lines").await?;
        t.execute_unprepared("DROP TABLE credit_lines").await?;
        t.execute_unprepared("ALTER TABLE credit_lines_rebuilt RENAME TO credit_lines").await?;
        for index in indexes {
            t.execute_unprepared(&index).await?;
        }
        if let Some(broken) = t.query_one_raw(query("PRAGMA foreign_key_check")).await? {
            let table: String = broken.try_get("", "table").unwrap_or_default();
            return Err(DbErr::Migration(format!("rebuilding credit_lines broke a foreign key of {table}")));
        }
        txn.commit().await
    }
    .await;
    db.execute_unprepared("PRAGMA foreign_keys = ON").await?;
    rebuilt
}
