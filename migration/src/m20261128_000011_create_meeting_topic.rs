use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MeetingTopic {
    Table,
    MeetingId,
    TopicId,
}

#[derive(DeriveIden)]
enum Meeting {
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
                    .table(MeetingTopic::Table)
                    .col(uuid(MeetingTopic::MeetingId))
                    .col(uuid(MeetingTopic::TopicId))
                    .primary_key(
                        Index::create()
                            .col(MeetingTopic::MeetingId)
                            .col(MeetingTopic::TopicId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_meeting_topic_meeting")
                            .from(MeetingTopic::Table, MeetingTopic::MeetingId)
                            .to(Meeting::Table, Meeting::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_meeting_topic_topic")
                            .from(MeetingTopic::Table, MeetingTopic::TopicId)
                            .to(Topic::Table, Topic::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MeetingTopic::Table).to_owned())
            .await
    }
}
