use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Question {
    Table,
    Id,
    CommunityId,
    AskerId,
    Title,
    Body,
    Status,
    ServiceUnitId,
    ForwardNote,
    HideAsker,
    ForwardedBy,
    ForwardedAt,
    Answer,
    AnsweredBy,
    AnsweredAt,
    CloseReason,
    DuplicateOf,
    ClosedBy,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum QuestionTopic {
    Table,
    QuestionId,
    TopicId,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
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
                    .table(Question::Table)
                    .col(uuid(Question::Id).primary_key())
                    .col(uuid(Question::CommunityId))
                    .col(uuid(Question::AskerId))
                    .col(string_len(Question::Title, 200))
                    .col(text(Question::Body))
                    .col(string_len(Question::Status, 16))
                    .col(uuid_null(Question::ServiceUnitId))
                    .col(text_null(Question::ForwardNote))
                    .col(boolean(Question::HideAsker).default(false))
                    .col(uuid_null(Question::ForwardedBy))
                    .col(timestamp_with_time_zone_null(Question::ForwardedAt))
                    .col(text_null(Question::Answer))
                    .col(uuid_null(Question::AnsweredBy))
                    .col(timestamp_with_time_zone_null(Question::AnsweredAt))
                    .col(text_null(Question::CloseReason))
                    .col(uuid_null(Question::DuplicateOf))
                    .col(uuid_null(Question::ClosedBy))
                    .col(timestamp_with_time_zone_null(Question::ClosedAt))
                    .col(timestamp_with_time_zone(Question::CreatedAt))
                    .col(timestamp_with_time_zone(Question::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_question_community")
                            .from(Question::Table, Question::CommunityId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_question_service_unit")
                            .from(Question::Table, Question::ServiceUnitId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_question_asker")
                            .from(Question::Table, Question::AskerId)
                            .to(User::Table, User::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_question_duplicate_of")
                            .from(Question::Table, Question::DuplicateOf)
                            .to(Question::Table, Question::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_question_community_status", Question::CommunityId),
            ("ix_question_service_unit", Question::ServiceUnitId),
            ("ix_question_asker", Question::AskerId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Question::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(QuestionTopic::Table)
                    .col(uuid(QuestionTopic::QuestionId))
                    .col(uuid(QuestionTopic::TopicId))
                    .primary_key(
                        Index::create()
                            .col(QuestionTopic::QuestionId)
                            .col(QuestionTopic::TopicId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_question_topic_question")
                            .from(QuestionTopic::Table, QuestionTopic::QuestionId)
                            .to(Question::Table, Question::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_question_topic_topic")
                            .from(QuestionTopic::Table, QuestionTopic::TopicId)
                            .to(Topic::Table, Topic::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(QuestionTopic::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Question::Table).to_owned())
            .await
    }
}
