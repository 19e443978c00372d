//! What a person's creating request with an idempotency key made: the same key sent again (a
//! double press, a retried request) returns the same thing instead of making a second one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    UserId,
    Key,
    ObjectId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .col(uuid(IdempotencyKey::UserId))
                    .col(string_len(IdempotencyKey::Key, 64))
                    .col(uuid(IdempotencyKey::ObjectId))
                    .col(timestamp_with_time_zone(IdempotencyKey::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKey::UserId)
                            .col(IdempotencyKey::Key),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKey::Table).to_owned())
            .await
    }
}
