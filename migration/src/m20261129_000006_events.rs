//! Events and webhooks: the outbox of events, the endpoints that receive them, one delivery per
//! endpoint and event (the work a delivery worker leases), and the log of every attempt.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    EventType,
    CreatedAt,
    ParkId,
    BankId,
    EnterpriseId,
    Public,
    Data,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Description,
    EventTypes,
    Enabled,
    ParkId,
    BankId,
    EnterpriseId,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    LastSuccessAt,
    DisabledReason,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    EventId,
    State,
    Attempts,
    NextAttemptAt,
    LeasedUntil,
    LeaseToken,
    FirstAttemptAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    EndpointId,
    EventId,
    Attempt,
    StatusCode,
    LatencyMs,
    Error,
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
                    .table(Events::Table)
                    .col(big_pk_auto(Events::Id))
                    .col(string_len(Events::EventType, 64))
                    .col(timestamp_with_time_zone(Events::CreatedAt))
                    // The parties of the resource; a public event (a published product) is
                    // everyone's.
                    .col(big_integer_null(Events::ParkId))
                    .col(big_integer_null(Events::BankId))
                    .col(big_integer_null(Events::EnterpriseId))
                    .col(boolean(Events::Public).default(false))
                    // The resource as its GET rendered it, as JSON text.
                    .col(text(Events::Data))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("events_park", Events::ParkId),
            ("events_bank", Events::BankId),
            ("events_enterprise", Events::EnterpriseId),
        ] {
            manager
                .create_index(index(name, Events::Table, vec![column.into_iden(), Events::Id.into_iden()]))
                .await?;
        }
        manager
            .create_index(index("events_created_at", Events::Table, vec![Events::CreatedAt.into_iden()]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(big_pk_auto(WebhookEndpoints::Id))
                    .col(string_len(WebhookEndpoints::Url, 2048))
                    .col(string_len(WebhookEndpoints::Description, 500).default(""))
                    // The subscribed types, comma-separated.
                    .col(text(WebhookEndpoints::EventTypes))
                    .col(boolean(WebhookEndpoints::Enabled))
                    // The owner's scope: all three empty for an admin's endpoint.
                    .col(big_integer_null(WebhookEndpoints::ParkId))
                    .col(big_integer_null(WebhookEndpoints::BankId))
                    .col(big_integer_null(WebhookEndpoints::EnterpriseId))
                    // Signing secrets, sealed with the service's secrets key; never in clear.
                    .col(text(WebhookEndpoints::Secret))
                    .col(text_null(WebhookEndpoints::PreviousSecret))
                    .col(timestamp_with_time_zone_null(WebhookEndpoints::PreviousSecretUntil))
                    .col(timestamp_with_time_zone_null(WebhookEndpoints::LastSuccessAt))
                    .col(string_len_null(WebhookEndpoints::DisabledReason, 500))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .col(timestamp_with_time_zone_null(WebhookEndpoints::DeletedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(big_pk_auto(WebhookDeliveries::Id))
                    .col(big_integer(WebhookDeliveries::EndpointId))
                    .col(big_integer(WebhookDeliveries::EventId))
                    // pending | delivered | failed
                    .col(string_len(WebhookDeliveries::State, 16))
                    .col(integer(WebhookDeliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::LeasedUntil))
                    .col(string_len_null(WebhookDeliveries::LeaseToken, 36))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::FirstAttemptAt))
                    .col(timestamp_with_time_zone(WebhookDeliveries::UpdatedAt))
                    .foreign_key(&mut fk(
                        (WebhookDeliveries::Table, WebhookDeliveries::EndpointId),
                        (WebhookEndpoints::Table, WebhookEndpoints::Id),
                    ))
                    .foreign_key(&mut fk(
                        (WebhookDeliveries::Table, WebhookDeliveries::EventId),
                        (Events::Table, Events::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "webhook_deliveries_endpoint_event",
                    WebhookDeliveries::Table,
                    vec![WebhookDeliveries::EndpointId.into_iden(), WebhookDeliveries::EventId.into_iden()],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "webhook_deliveries_due",
                WebhookDeliveries::Table,
                vec![WebhookDeliveries::State.into_iden(), WebhookDeliveries::NextAttemptAt.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "webhook_deliveries_event",
                WebhookDeliveries::Table,
                vec![WebhookDeliveries::EventId.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(big_pk_auto(WebhookAttempts::Id))
                    .col(big_integer(WebhookAttempts::DeliveryId))
                    .col(big_integer(WebhookAttempts::EndpointId))
                    .col(big_integer(WebhookAttempts::EventId))
                    .col(integer(WebhookAttempts::Attempt))
                    .col(integer_null(WebhookAttempts::StatusCode))
                    .col(big_integer(WebhookAttempts::LatencyMs))
                    .col(string_len_null(WebhookAttempts::Error, 500))
                    .col(timestamp_with_time_zone(WebhookAttempts::CreatedAt))
                    .foreign_key(&mut fk(
                        (WebhookAttempts::Table, WebhookAttempts::DeliveryId),
                        (WebhookDeliveries::Table, WebhookDeliveries::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "webhook_attempts_endpoint",
                WebhookAttempts::Table,
                vec![WebhookAttempts::EndpointId.into_iden(), WebhookAttempts::Id.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                "webhook_attempts_delivery",
                WebhookAttempts::Table,
                vec![WebhookAttempts::DeliveryId.into_iden()],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebhookAttempts::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Events::Table).to_owned()).await
    }
}
