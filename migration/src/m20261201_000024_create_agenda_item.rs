//! The network's own agenda: mentors propose items for a network meeting, others support them,
//! the chair places them on a meeting's agenda, and the meeting's report records them handled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AgendaItem {
    Table,
    Id,
    Title,
    Body,
    ProposedBy,
    Status,
    MeetingId,
    Position,
    ReportId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AgendaSupport {
    Table,
    ItemId,
    UserId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AgendaItem::Table)
                    .col(uuid(AgendaItem::Id).primary_key())
                    .col(string_len(AgendaItem::Title, 200))
                    .col(text(AgendaItem::Body))
                    .col(uuid(AgendaItem::ProposedBy))
                    .col(string_len(AgendaItem::Status, 16))
                    .col(uuid_null(AgendaItem::MeetingId))
                    .col(integer_null(AgendaItem::Position))
                    .col(uuid_null(AgendaItem::ReportId))
                    .col(timestamp_with_time_zone(AgendaItem::CreatedAt))
                    .col(timestamp_with_time_zone(AgendaItem::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AgendaItem::Table, AgendaItem::MeetingId)
                            .to(Meeting::Table, Meeting::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_agenda_item_meeting")
                    .table(AgendaItem::Table)
                    .col(AgendaItem::MeetingId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgendaSupport::Table)
                    .col(uuid(AgendaSupport::ItemId))
                    .col(uuid(AgendaSupport::UserId))
                    .col(timestamp_with_time_zone(AgendaSupport::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(AgendaSupport::ItemId)
                            .col(AgendaSupport::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AgendaSupport::Table, AgendaSupport::ItemId)
                            .to(AgendaItem::Table, AgendaItem::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AgendaSupport::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AgendaItem::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Meeting {
    Table,
    Id,
}
