//! Partner networks: other networks, local and national, that the network works with, with
//! their contact people; a meeting can be joint with one, a news post can come from one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PartnerNetwork {
    Table,
    Id,
    Slug,
    Name,
    Scope,
    Description,
    Url,
    Contacts,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Meeting {
    Table,
    PartnerId,
}

#[derive(DeriveIden)]
enum NewsPost {
    Table,
    PartnerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PartnerNetwork::Table)
                    .col(uuid(PartnerNetwork::Id).primary_key())
                    .col(string_len(PartnerNetwork::Slug, 64).unique_key())
                    .col(string_len(PartnerNetwork::Name, 200))
                    .col(string_len(PartnerNetwork::Scope, 16))
                    .col(text(PartnerNetwork::Description))
                    .col(string_len_null(PartnerNetwork::Url, 2048))
                    .col(json(PartnerNetwork::Contacts))
                    .col(timestamp_with_time_zone(PartnerNetwork::CreatedAt))
                    .col(timestamp_with_time_zone(PartnerNetwork::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // SQLite cannot add a foreign key to an existing table; the services check that the
        // partner exists, and partners are never deleted.
        manager
            .alter_table(
                Table::alter()
                    .table(Meeting::Table)
                    .add_column(uuid_null(Meeting::PartnerId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(NewsPost::Table)
                    .add_column(uuid_null(NewsPost::PartnerId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(NewsPost::Table)
                    .drop_column(NewsPost::PartnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Meeting::Table)
                    .drop_column(Meeting::PartnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PartnerNetwork::Table).to_owned())
            .await
    }
}
