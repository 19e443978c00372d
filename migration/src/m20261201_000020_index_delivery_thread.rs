//! An email's place in its thread (the first and the latest earlier email to the same person,
//! for `References` and `In-Reply-To`) is found by this index in a few steps, however many
//! emails the thread holds. Without it the database walked every email of the recipient.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Delivery {
    Table,
    ThreadId,
    RecipientId,
    Id,
}

const NAME: &str = "ix_delivery_thread_recipient";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Delivery::Table)
                    .col(Delivery::ThreadId)
                    .col(Delivery::RecipientId)
                    .col(Delivery::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Delivery::Table).to_owned())
            .await
    }
}
