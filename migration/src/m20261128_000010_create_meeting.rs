use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Meeting {
    Table,
    Id,
    Title,
    StartsAt,
    EndsAt,
    Place,
    OnlineUrl,
    Agenda,
    Sequence,
    SeriesId,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Meeting::Table)
                    .col(uuid(Meeting::Id).primary_key())
                    .col(string_len(Meeting::Title, 200))
                    .col(timestamp_with_time_zone(Meeting::StartsAt))
                    .col(timestamp_with_time_zone(Meeting::EndsAt))
                    .col(string_len_null(Meeting::Place, 200))
                    .col(string_len_null(Meeting::OnlineUrl, 500))
                    .col(text(Meeting::Agenda))
                    .col(integer(Meeting::Sequence).default(0))
                    .col(uuid_null(Meeting::SeriesId))
                    .col(timestamp_with_time_zone(Meeting::CreatedAt))
                    .col(timestamp_with_time_zone(Meeting::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_meeting_starts_at")
                    .table(Meeting::Table)
                    .col(Meeting::StartsAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Meeting::Table).to_owned())
            .await
    }
}
