//! Topics of announcements and of the network's agenda items, so that their followers and
//! digests hear of them (each only by those who may read it).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AnnouncementTopic {
    Table,
    AnnouncementId,
    TopicId,
}

#[derive(DeriveIden)]
enum AgendaItemTopic {
    Table,
    ItemId,
    TopicId,
}

#[derive(DeriveIden)]
enum Announcement {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AgendaItem {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AnnouncementTopic::Table)
                    .col(uuid(AnnouncementTopic::AnnouncementId))
                    .col(uuid(AnnouncementTopic::TopicId))
                    .primary_key(
                        Index::create()
                            .col(AnnouncementTopic::AnnouncementId)
                            .col(AnnouncementTopic::TopicId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AnnouncementTopic::Table, AnnouncementTopic::AnnouncementId)
                            .to(Announcement::Table, Announcement::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgendaItemTopic::Table)
                    .col(uuid(AgendaItemTopic::ItemId))
                    .col(uuid(AgendaItemTopic::TopicId))
                    .primary_key(
                        Index::create()
                            .col(AgendaItemTopic::ItemId)
                            .col(AgendaItemTopic::TopicId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AgendaItemTopic::Table, AgendaItemTopic::ItemId)
                            .to(AgendaItem::Table, AgendaItem::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AgendaItemTopic::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AnnouncementTopic::Table).to_owned())
            .await
    }
}
