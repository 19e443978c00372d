use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SignInLink {
    Table,
    Id,
    UserId,
    TokenHash,
    NextPath,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum User {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SignInLink::Table)
                    .col(uuid(SignInLink::Id).primary_key())
                    .col(uuid(SignInLink::UserId))
                    .col(string_len(SignInLink::TokenHash, 64).unique_key())
                    .col(string_len(SignInLink::NextPath, 2000))
                    .col(timestamp_with_time_zone(SignInLink::CreatedAt))
                    .col(timestamp_with_time_zone(SignInLink::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SignInLink::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sign_in_link_user")
                            .from(SignInLink::Table, SignInLink::UserId)
                            .to(User::Table, User::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sign_in_link_user")
                    .table(SignInLink::Table)
                    .col(SignInLink::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SignInLink::Table).to_owned())
            .await
    }
}
