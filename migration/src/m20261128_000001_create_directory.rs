use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
    Slug,
    Kind,
    NameFi,
    NameSv,
    NameEn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum User {
    Table,
    Id,
    Email,
    DisplayName,
    Locale,
    TimeZone,
    IsAdmin,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    Id,
    UserId,
    OrganizationId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Topic {
    Table,
    Id,
    Slug,
    NameFi,
    NameSv,
    NameEn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccessToken {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organization::Table)
                    .col(uuid(Organization::Id).primary_key())
                    .col(string_len(Organization::Slug, 64).unique_key())
                    .col(string_len(Organization::Kind, 32))
                    .col(string(Organization::NameFi))
                    .col(string(Organization::NameSv))
                    .col(string(Organization::NameEn))
                    .col(timestamp_with_time_zone(Organization::CreatedAt))
                    .col(timestamp_with_time_zone(Organization::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(User::Table)
                    .col(uuid(User::Id).primary_key())
                    .col(string_len(User::Email, 254).unique_key())
                    .col(string(User::DisplayName))
                    .col(string_len(User::Locale, 2))
                    .col(string_len(User::TimeZone, 64))
                    .col(boolean(User::IsAdmin).default(false))
                    .col(text_null(User::PasswordHash))
                    .col(timestamp_with_time_zone(User::CreatedAt))
                    .col(timestamp_with_time_zone(User::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Membership::Table)
                    .col(uuid(Membership::Id).primary_key())
                    .col(uuid(Membership::UserId))
                    .col(uuid(Membership::OrganizationId))
                    .col(string_len(Membership::Role, 16))
                    .col(timestamp_with_time_zone(Membership::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_membership_user")
                            .from(Membership::Table, Membership::UserId)
                            .to(User::Table, User::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_membership_organization")
                            .from(Membership::Table, Membership::OrganizationId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_membership_user_organization_role")
                    .table(Membership::Table)
                    .col(Membership::UserId)
                    .col(Membership::OrganizationId)
                    .col(Membership::Role)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_membership_organization_role")
                    .table(Membership::Table)
                    .col(Membership::OrganizationId)
                    .col(Membership::Role)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Topic::Table)
                    .col(uuid(Topic::Id).primary_key())
                    .col(string_len(Topic::Slug, 64).unique_key())
                    .col(string(Topic::NameFi))
                    .col(string(Topic::NameSv))
                    .col(string(Topic::NameEn))
                    .col(timestamp_with_time_zone(Topic::CreatedAt))
                    .col(timestamp_with_time_zone(Topic::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccessToken::Table)
                    .col(uuid(AccessToken::Id).primary_key())
                    .col(uuid(AccessToken::UserId))
                    .col(string_len(AccessToken::TokenHash, 64).unique_key())
                    .col(timestamp_with_time_zone(AccessToken::CreatedAt))
                    .col(timestamp_with_time_zone(AccessToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AccessToken::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_token_user")
                            .from(AccessToken::Table, AccessToken::UserId)
                            .to(User::Table, User::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_access_token_user")
                    .table(AccessToken::Table)
                    .col(AccessToken::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AccessToken::Table.into_iden(),
            Topic::Table.into_iden(),
            Membership::Table.into_iden(),
            User::Table.into_iden(),
            Organization::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
