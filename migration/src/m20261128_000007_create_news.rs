use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum NewsPost {
    Table,
    Id,
    AuthorId,
    Title,
    Body,
    MeetingId,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NewsTopic {
    Table,
    NewsId,
    TopicId,
}

#[derive(DeriveIden)]
enum User {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Topic {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(NewsPost::Table)
                    .col(uuid(NewsPost::Id).primary_key())
                    .col(uuid(NewsPost::AuthorId))
                    .col(string_len(NewsPost::Title, 200))
                    .col(text(NewsPost::Body))
                    .col(uuid_null(NewsPost::MeetingId))
                    .col(timestamp_with_time_zone_null(NewsPost::PublishedAt))
                    .col(timestamp_with_time_zone(NewsPost::CreatedAt))
                    .col(timestamp_with_time_zone(NewsPost::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_news_post_author")
                            .from(NewsPost::Table, NewsPost::AuthorId)
                            .to(User::Table, User::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_news_post_published")
                    .table(NewsPost::Table)
                    .col(NewsPost::PublishedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NewsTopic::Table)
                    .col(uuid(NewsTopic::NewsId))
                    .col(uuid(NewsTopic::TopicId))
                    .primary_key(
                        Index::create()
                            .col(NewsTopic::NewsId)
                            .col(NewsTopic::TopicId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_news_topic_news")
                            .from(NewsTopic::Table, NewsTopic::NewsId)
                            .to(NewsPost::Table, NewsPost::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_news_topic_topic")
                            .from(NewsTopic::Table, NewsTopic::TopicId)
                            .to(Topic::Table, Topic::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NewsTopic::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(NewsPost::Table).to_owned())
            .await
    }
}
