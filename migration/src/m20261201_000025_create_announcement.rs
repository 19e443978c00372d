//! Announcements to staff through the mentors: a service unit or management addresses chosen
//! communities, each community's mentors relay it to their staff and mark it relayed (who,
//! when, how), and the sender sees the coverage.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Announcement {
    Table,
    Id,
    OrganizationId,
    AuthorId,
    Title,
    Body,
    EmailStaff,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AnnouncementTarget {
    Table,
    AnnouncementId,
    CommunityId,
    RelayedBy,
    RelayedAt,
    How,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Announcement::Table)
                    .col(uuid(Announcement::Id).primary_key())
                    .col(uuid(Announcement::OrganizationId))
                    .col(uuid(Announcement::AuthorId))
                    .col(string_len(Announcement::Title, 200))
                    .col(text(Announcement::Body))
                    .col(boolean(Announcement::EmailStaff))
                    .col(timestamp_with_time_zone(Announcement::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnnouncementTarget::Table)
                    .col(uuid(AnnouncementTarget::AnnouncementId))
                    .col(uuid(AnnouncementTarget::CommunityId))
                    .col(uuid_null(AnnouncementTarget::RelayedBy))
                    .col(timestamp_with_time_zone_null(AnnouncementTarget::RelayedAt))
                    .col(string_len_null(AnnouncementTarget::How, 200))
                    .primary_key(
                        Index::create()
                            .col(AnnouncementTarget::AnnouncementId)
                            .col(AnnouncementTarget::CommunityId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                AnnouncementTarget::Table,
                                AnnouncementTarget::AnnouncementId,
                            )
                            .to(Announcement::Table, Announcement::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_announcement_target_community")
                    .table(AnnouncementTarget::Table)
                    .col(AnnouncementTarget::CommunityId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AnnouncementTarget::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Announcement::Table).to_owned())
            .await
    }
}
