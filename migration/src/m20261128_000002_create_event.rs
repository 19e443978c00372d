use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Event {
    Table,
    Seq,
    Id,
    Kind,
    ActorId,
    SubjectId,
    ObjectId,
    OrganizationIds,
    TopicIds,
    Audience,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Event::Table)
                    .col(big_pk_auto(Event::Seq))
                    .col(uuid(Event::Id).unique_key())
                    .col(string_len(Event::Kind, 64))
                    .col(uuid_null(Event::ActorId))
                    .col(uuid(Event::SubjectId))
                    .col(uuid_null(Event::ObjectId))
                    .col(json(Event::OrganizationIds))
                    .col(json(Event::TopicIds))
                    .col(json(Event::Audience))
                    .col(timestamp_with_time_zone(Event::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_event_subject")
                    .table(Event::Table)
                    .col(Event::SubjectId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Event::Table).to_owned())
            .await
    }
}
