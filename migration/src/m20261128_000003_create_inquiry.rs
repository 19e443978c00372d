use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Inquiry {
    Table,
    Id,
    OrganizationId,
    AuthorId,
    Title,
    Body,
    Deadline,
    Status,
    AllCommunities,
    AnswersShared,
    PublishedAt,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InquiryTopic {
    Table,
    InquiryId,
    TopicId,
}

#[derive(DeriveIden)]
enum InquiryTarget {
    Table,
    Id,
    InquiryId,
    CommunityId,
    Status,
    Answer,
    DeclineReason,
    Version,
    AnsweredBy,
    AnsweredAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InquiryAnswerRevision {
    Table,
    Id,
    TargetId,
    Version,
    Status,
    Answer,
    DeclineReason,
    AuthorId,
    WrittenAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InquiryMessage {
    Table,
    Id,
    TargetId,
    AuthorId,
    OrganizationId,
    Body,
    CreatedAt,
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

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    cascade: bool,
) -> ForeignKeyCreateStatement {
    let mut key = ForeignKey::create();
    key.name(name).from(from.0, from.1).to(to.0, to.1);
    if cascade {
        key.on_delete(ForeignKeyAction::Cascade);
    }
    key.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Inquiry::Table)
                    .col(uuid(Inquiry::Id).primary_key())
                    .col(uuid(Inquiry::OrganizationId))
                    .col(uuid(Inquiry::AuthorId))
                    .col(string_len(Inquiry::Title, 200))
                    .col(text(Inquiry::Body))
                    .col(timestamp_with_time_zone_null(Inquiry::Deadline))
                    .col(string_len(Inquiry::Status, 16))
                    .col(boolean(Inquiry::AllCommunities))
                    .col(boolean(Inquiry::AnswersShared))
                    .col(timestamp_with_time_zone_null(Inquiry::PublishedAt))
                    .col(timestamp_with_time_zone_null(Inquiry::ClosedAt))
                    .col(timestamp_with_time_zone(Inquiry::CreatedAt))
                    .col(timestamp_with_time_zone(Inquiry::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_inquiry_organization",
                        (Inquiry::Table, Inquiry::OrganizationId),
                        (Organization::Table, Organization::Id),
                        false,
                    ))
                    .foreign_key(&mut fk(
                        "fk_inquiry_author",
                        (Inquiry::Table, Inquiry::AuthorId),
                        (User::Table, User::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inquiry_organization_status")
                    .table(Inquiry::Table)
                    .col(Inquiry::OrganizationId)
                    .col(Inquiry::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InquiryTopic::Table)
                    .col(uuid(InquiryTopic::InquiryId))
                    .col(uuid(InquiryTopic::TopicId))
                    .primary_key(
                        Index::create()
                            .col(InquiryTopic::InquiryId)
                            .col(InquiryTopic::TopicId),
                    )
                    .foreign_key(&mut fk(
                        "fk_inquiry_topic_inquiry",
                        (InquiryTopic::Table, InquiryTopic::InquiryId),
                        (Inquiry::Table, Inquiry::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_inquiry_topic_topic",
                        (InquiryTopic::Table, InquiryTopic::TopicId),
                        (Topic::Table, Topic::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inquiry_topic_topic")
                    .table(InquiryTopic::Table)
                    .col(InquiryTopic::TopicId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InquiryTarget::Table)
                    .col(uuid(InquiryTarget::Id).primary_key())
                    .col(uuid(InquiryTarget::InquiryId))
                    .col(uuid(InquiryTarget::CommunityId))
                    .col(string_len(InquiryTarget::Status, 16))
                    .col(text_null(InquiryTarget::Answer))
                    .col(text_null(InquiryTarget::DeclineReason))
                    .col(integer(InquiryTarget::Version).default(0))
                    .col(uuid_null(InquiryTarget::AnsweredBy))
                    .col(timestamp_with_time_zone_null(InquiryTarget::AnsweredAt))
                    .col(timestamp_with_time_zone(InquiryTarget::CreatedAt))
                    .col(timestamp_with_time_zone(InquiryTarget::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_inquiry_target_inquiry",
                        (InquiryTarget::Table, InquiryTarget::InquiryId),
                        (Inquiry::Table, Inquiry::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_inquiry_target_community",
                        (InquiryTarget::Table, InquiryTarget::CommunityId),
                        (Organization::Table, Organization::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_inquiry_target_inquiry_community")
                    .table(InquiryTarget::Table)
                    .col(InquiryTarget::InquiryId)
                    .col(InquiryTarget::CommunityId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inquiry_target_community_status")
                    .table(InquiryTarget::Table)
                    .col(InquiryTarget::CommunityId)
                    .col(InquiryTarget::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InquiryAnswerRevision::Table)
                    .col(uuid(InquiryAnswerRevision::Id).primary_key())
                    .col(uuid(InquiryAnswerRevision::TargetId))
                    .col(integer(InquiryAnswerRevision::Version))
                    .col(string_len(InquiryAnswerRevision::Status, 16))
                    .col(text_null(InquiryAnswerRevision::Answer))
                    .col(text_null(InquiryAnswerRevision::DeclineReason))
                    .col(uuid_null(InquiryAnswerRevision::AuthorId))
                    .col(timestamp_with_time_zone(InquiryAnswerRevision::WrittenAt))
                    .col(timestamp_with_time_zone(InquiryAnswerRevision::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_inquiry_answer_revision_target",
                        (
                            InquiryAnswerRevision::Table,
                            InquiryAnswerRevision::TargetId,
                        ),
                        (InquiryTarget::Table, InquiryTarget::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_inquiry_answer_revision_target_version")
                    .table(InquiryAnswerRevision::Table)
                    .col(InquiryAnswerRevision::TargetId)
                    .col(InquiryAnswerRevision::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InquiryMessage::Table)
                    .col(uuid(InquiryMessage::Id).primary_key())
                    .col(uuid(InquiryMessage::TargetId))
                    .col(uuid(InquiryMessage::AuthorId))
                    .col(uuid(InquiryMessage::OrganizationId))
                    .col(text(InquiryMessage::Body))
                    .col(timestamp_with_time_zone(InquiryMessage::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_inquiry_message_target",
                        (InquiryMessage::Table, InquiryMessage::TargetId),
                        (InquiryTarget::Table, InquiryTarget::Id),
                        true,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inquiry_message_target")
                    .table(InquiryMessage::Table)
                    .col(InquiryMessage::TargetId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InquiryMessage::Table.into_iden(),
            InquiryAnswerRevision::Table.into_iden(),
            InquiryTarget::Table.into_iden(),
            InquiryTopic::Table.into_iden(),
            Inquiry::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
