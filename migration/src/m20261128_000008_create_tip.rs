use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tip {
    Table,
    Id,
    AuthorId,
    OrganizationId,
    Title,
    Body,
    SourceTargetId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TipTopic {
    Table,
    TipId,
    TopicId,
}

#[derive(DeriveIden)]
enum Topic {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tip::Table)
                    .col(uuid(Tip::Id).primary_key())
                    .col(uuid(Tip::AuthorId))
                    .col(uuid(Tip::OrganizationId))
                    .col(string_len(Tip::Title, 200))
                    .col(text(Tip::Body))
                    .col(uuid_null(Tip::SourceTargetId).unique_key())
                    .col(timestamp_with_time_zone(Tip::CreatedAt))
                    .col(timestamp_with_time_zone(Tip::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tip_organization")
                            .from(Tip::Table, Tip::OrganizationId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TipTopic::Table)
                    .col(uuid(TipTopic::TipId))
                    .col(uuid(TipTopic::TopicId))
                    .primary_key(Index::create().col(TipTopic::TipId).col(TipTopic::TopicId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tip_topic_tip")
                            .from(TipTopic::Table, TipTopic::TipId)
                            .to(Tip::Table, Tip::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tip_topic_topic")
                            .from(TipTopic::Table, TipTopic::TopicId)
                            .to(Topic::Table, Topic::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Full-text search: weighted title (A) over body (B). The `simple` configuration does
        // not stem, so Finnish and English words are both matched as written (with prefixes).
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE tip ADD COLUMN search tsvector GENERATED ALWAYS AS \
                     (setweight(to_tsvector('simple', coalesce(title, '')), 'A') || \
                      setweight(to_tsvector('simple', coalesce(body, '')), 'B')) STORED",
                )
                .await?;
                db.execute_unprepared("CREATE INDEX ix_tip_search ON tip USING GIN (search)")
                    .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE tip_fts USING fts5(tip_id UNINDEXED, title, body, \
                     tokenize = 'unicode61 remove_diacritics 0')",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS tip_fts")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(TipTopic::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tip::Table).to_owned())
            .await
    }
}
