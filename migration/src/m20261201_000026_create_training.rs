//! Trainings and community events: organised by a community, a service unit or the network,
//! with a capacity, registrations and a waiting list that moves up in registration order.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Training {
    Table,
    Id,
    OrganizerId,
    Title,
    Description,
    StartsAt,
    EndsAt,
    TimeZone,
    Place,
    OnlineUrl,
    Capacity,
    Sequence,
    CancelledAt,
    CancelReason,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TrainingTopic {
    Table,
    TrainingId,
    TopicId,
}

#[derive(DeriveIden)]
enum TrainingRegistration {
    Table,
    Id,
    TrainingId,
    UserId,
    Status,
    Position,
    RegisteredAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Training::Table)
                    .col(uuid(Training::Id).primary_key())
                    .col(uuid_null(Training::OrganizerId))
                    .col(string_len(Training::Title, 200))
                    .col(text(Training::Description))
                    .col(timestamp_with_time_zone(Training::StartsAt))
                    .col(timestamp_with_time_zone(Training::EndsAt))
                    .col(string_len(Training::TimeZone, 64))
                    .col(string_len_null(Training::Place, 200))
                    .col(string_len_null(Training::OnlineUrl, 2048))
                    .col(integer(Training::Capacity))
                    .col(integer(Training::Sequence))
                    .col(timestamp_with_time_zone_null(Training::CancelledAt))
                    .col(text_null(Training::CancelReason))
                    .col(uuid(Training::CreatedBy))
                    .col(timestamp_with_time_zone(Training::CreatedAt))
                    .col(timestamp_with_time_zone(Training::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_training_starts_at")
                    .table(Training::Table)
                    .col(Training::StartsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TrainingTopic::Table)
                    .col(uuid(TrainingTopic::TrainingId))
                    .col(uuid(TrainingTopic::TopicId))
                    .primary_key(
                        Index::create()
                            .col(TrainingTopic::TrainingId)
                            .col(TrainingTopic::TopicId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TrainingTopic::Table, TrainingTopic::TrainingId)
                            .to(Training::Table, Training::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TrainingRegistration::Table)
                    .col(uuid(TrainingRegistration::Id).primary_key())
                    .col(uuid(TrainingRegistration::TrainingId))
                    .col(uuid(TrainingRegistration::UserId))
                    .col(string_len(TrainingRegistration::Status, 16))
                    .col(big_integer(TrainingRegistration::Position))
                    .col(timestamp_with_time_zone(TrainingRegistration::RegisteredAt))
                    .col(timestamp_with_time_zone(TrainingRegistration::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                TrainingRegistration::Table,
                                TrainingRegistration::TrainingId,
                            )
                            .to(Training::Table, Training::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_training_registration_person")
                    .table(TrainingRegistration::Table)
                    .col(TrainingRegistration::TrainingId)
                    .col(TrainingRegistration::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_training_registration_position")
                    .table(TrainingRegistration::Table)
                    .col(TrainingRegistration::TrainingId)
                    .col(TrainingRegistration::Position)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_training_registration_user")
                    .table(TrainingRegistration::Table)
                    .col(TrainingRegistration::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TrainingRegistration::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TrainingTopic::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Training::Table).to_owned())
            .await
    }
}
