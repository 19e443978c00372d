//! Mail that arrives at the service: replies to its emails and delivery status notifications.
//! Also the bounce state of deliveries and the suspension of addresses that keep bouncing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InboundMail {
    Table,
    Id,
    DedupeKey,
    Address,
    Sender,
    DeliveryId,
    Outcome,
    Detail,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    BouncedAt,
    RecipientId,
}

#[derive(DeriveIden)]
enum User {
    Table,
    EmailSuspendedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InboundMail::Table)
                    .col(uuid(InboundMail::Id).primary_key())
                    .col(string_len(InboundMail::DedupeKey, 64).unique_key())
                    .col(string_len(InboundMail::Address, 320))
                    .col(string_len(InboundMail::Sender, 320))
                    .col(uuid_null(InboundMail::DeliveryId))
                    .col(string_len(InboundMail::Outcome, 16))
                    .col(text_null(InboundMail::Detail))
                    .col(timestamp_with_time_zone(InboundMail::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inbound_mail_sender_received")
                    .table(InboundMail::Table)
                    .col(InboundMail::Sender)
                    .col(InboundMail::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .add_column(timestamp_with_time_zone_null(Delivery::BouncedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_delivery_recipient_id")
                    .table(Delivery::Table)
                    .col(Delivery::RecipientId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(User::Table)
                    .add_column(timestamp_with_time_zone_null(User::EmailSuspendedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(User::Table)
                    .drop_column(User::EmailSuspendedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_delivery_recipient_id")
                    .table(Delivery::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Delivery::Table)
                    .drop_column(Delivery::BouncedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(InboundMail::Table).to_owned())
            .await
    }
}
