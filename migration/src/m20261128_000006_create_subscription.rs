use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum User {
    Table,
    Id,
    DigestHour,
    DigestWeekday,
}

#[derive(DeriveIden)]
enum Topic {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TopicSubscription {
    Table,
    Id,
    UserId,
    TopicId,
    Frequency,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DigestState {
    Table,
    UserId,
    Frequency,
    CoveredUntil,
}

#[derive(DeriveIden)]
enum AppSecret {
    Table,
    Name,
    Value,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(User::Table)
                    .add_column(integer(User::DigestHour).default(7))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(User::Table)
                    .add_column(integer(User::DigestWeekday).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TopicSubscription::Table)
                    .col(uuid(TopicSubscription::Id).primary_key())
                    .col(uuid(TopicSubscription::UserId))
                    .col(uuid(TopicSubscription::TopicId))
                    .col(string_len(TopicSubscription::Frequency, 16))
                    .col(timestamp_with_time_zone(TopicSubscription::CreatedAt))
                    .col(timestamp_with_time_zone(TopicSubscription::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_topic_subscription_user")
                            .from(TopicSubscription::Table, TopicSubscription::UserId)
                            .to(User::Table, User::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_topic_subscription_topic")
                            .from(TopicSubscription::Table, TopicSubscription::TopicId)
                            .to(Topic::Table, Topic::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_topic_subscription_user_topic")
                    .table(TopicSubscription::Table)
                    .col(TopicSubscription::UserId)
                    .col(TopicSubscription::TopicId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_topic_subscription_topic_frequency")
                    .table(TopicSubscription::Table)
                    .col(TopicSubscription::TopicId)
                    .col(TopicSubscription::Frequency)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DigestState::Table)
                    .col(uuid(DigestState::UserId))
                    .col(string_len(DigestState::Frequency, 16))
                    .col(timestamp_with_time_zone(DigestState::CoveredUntil))
                    .primary_key(
                        Index::create()
                            .col(DigestState::UserId)
                            .col(DigestState::Frequency),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AppSecret::Table)
                    .col(string_len(AppSecret::Name, 64).primary_key())
                    .col(text(AppSecret::Value))
                    .col(timestamp_with_time_zone(AppSecret::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AppSecret::Table.into_iden(),
            DigestState::Table.into_iden(),
            TopicSubscription::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [User::DigestWeekday, User::DigestHour] {
            manager
                .alter_table(
                    Table::alter()
                        .table(User::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
