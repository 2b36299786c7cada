//! Parks, banks, enterprises, API keys and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Parks {
    Table,
    Id,
    Code,
    Name,
    Region,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum Banks {
    Table,
    Id,
    Code,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum Enterprises {
    Table,
    Id,
    Uscc,
    Name,
    ParkId,
    Industry,
    Size,
    FoundedOn,
    Qualifications,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    Role,
    ParkId,
    BankId,
    EnterpriseId,
    Prefix,
    SecretHash,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorKeyId,
    Action,
    TargetType,
    TargetId,
    RequestId,
    At,
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
                    .table(Parks::Table)
                    .col(big_pk_auto(Parks::Id))
                    .col(string_len_uniq(Parks::Code, 64))
                    .col(string_len(Parks::Name, 200))
                    .col(string_len(Parks::Region, 200))
                    .col(timestamp_with_time_zone(Parks::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Banks::Table)
                    .col(big_pk_auto(Banks::Id))
                    .col(string_len_uniq(Banks::Code, 64))
                    .col(string_len(Banks::Name, 200))
                    .col(timestamp_with_time_zone(Banks::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Enterprises::Table)
                    .col(big_pk_auto(Enterprises::Id))
                    .col(char_len_uniq(Enterprises::Uscc, 18))
                    .col(string_len(Enterprises::Name, 200))
                    .col(big_integer(Enterprises::ParkId))
                    .col(string_len(Enterprises::Industry, 100))
                    .col(string_len(Enterprises::Size, 16))
                    .col(date(Enterprises::FoundedOn))
                    .col(json(Enterprises::Qualifications))
                    .col(timestamp_with_time_zone(Enterprises::CreatedAt))
                    .foreign_key(&mut fk(
                        (Enterprises::Table, Enterprises::ParkId),
                        (Parks::Table, Parks::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_enterprises_park")
                    .table(Enterprises::Table)
                    .col(Enterprises::ParkId)
                    .col(Enterprises::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(big_pk_auto(ApiKeys::Id))
                    .col(string_len(ApiKeys::Name, 100))
                    .col(string_len(ApiKeys::Role, 16))
                    .col(big_integer_null(ApiKeys::ParkId))
                    .col(big_integer_null(ApiKeys::BankId))
                    .col(big_integer_null(ApiKeys::EnterpriseId))
                    .col(string_len_uniq(ApiKeys::Prefix, 16))
                    .col(char_len(ApiKeys::SecretHash, 64))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .foreign_key(&mut fk((ApiKeys::Table, ApiKeys::ParkId), (Parks::Table, Parks::Id)))
                    .foreign_key(&mut fk((ApiKeys::Table, ApiKeys::BankId), (Banks::Table, Banks::Id)))
                    .foreign_key(&mut fk(
                        (ApiKeys::Table, ApiKeys::EnterpriseId),
                        (Enterprises::Table, Enterprises::Id),
                    ))
                    // Exactly the one scope id that the role calls for.
                    .check(Expr::cust(
                        "(role = 'admin' AND park_id IS NULL AND bank_id IS NULL AND enterprise_id IS NULL) \
                         OR (role = 'park_office' AND park_id IS NOT NULL AND bank_id IS NULL AND enterprise_id IS NULL) \
                         OR (role = 'bank' AND park_id IS NULL AND bank_id IS NOT NULL AND enterprise_id IS NULL) \
                         OR (role = 'enterprise' AND park_id IS NULL AND bank_id IS NULL AND enterprise_id IS NOT NULL)",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer_null(AuditLog::ActorKeyId))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::TargetType, 32))
                    .col(string_len(AuditLog::TargetId, 64))
                    .col(string_len_null(AuditLog::RequestId, 64))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .foreign_key(&mut fk(
                        (AuditLog::Table, AuditLog::ActorKeyId),
                        (ApiKeys::Table, ApiKeys::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_target")
                    .table(AuditLog::Table)
                    .col(AuditLog::TargetType)
                    .col(AuditLog::TargetId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Enterprises::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Banks::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Parks::Table).to_owned()).await
    }
}
