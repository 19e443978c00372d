use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Delivery {
    Table,
    Id,
    DedupeKey,
    RecipientId,
    RecipientEmail,
    Locale,
    Kind,
    ThreadId,
    Payload,
    ReplyTo,
    EventId,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    MessageId,
    SentAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Delivery::Table)
                    .col(uuid(Delivery::Id).primary_key())
                    .col(string_len(Delivery::DedupeKey, 255).unique_key())
                    .col(uuid(Delivery::RecipientId))
                    .col(string_len(Delivery::RecipientEmail, 254))
                    .col(string_len(Delivery::Locale, 2))
                    .col(string_len(Delivery::Kind, 64))
                    .col(uuid_null(Delivery::ThreadId))
                    .col(json(Delivery::Payload))
                    .col(text_null(Delivery::ReplyTo))
                    .col(uuid_null(Delivery::EventId))
                    .col(string_len(Delivery::Status, 16))
                    .col(integer(Delivery::Attempts).default(0))
                    .col(timestamp_with_time_zone(Delivery::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Delivery::ClaimedUntil))
                    .col(text_null(Delivery::LastError))
                    .col(string_len(Delivery::MessageId, 255))
                    .col(timestamp_with_time_zone_null(Delivery::SentAt))
                    .col(timestamp_with_time_zone(Delivery::CreatedAt))
                    .col(timestamp_with_time_zone(Delivery::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_delivery_status_next_attempt")
                    .table(Delivery::Table)
                    .col(Delivery::Status)
                    .col(Delivery::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_delivery_recipient")
                    .table(Delivery::Table)
                    .col(Delivery::RecipientEmail)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Delivery::Table).to_owned())
            .await
    }
}
