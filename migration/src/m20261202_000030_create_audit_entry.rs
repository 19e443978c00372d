//! The audit log: every administrator action, with who did it, when, and the record before
//! and after (as JSON, secrets left out).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEntry {
    Table,
    Id,
    ActorId,
    Action,
    SubjectId,
    Before,
    After,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEntry::Table)
                    .col(uuid(AuditEntry::Id).primary_key())
                    .col(uuid_null(AuditEntry::ActorId))
                    .col(string_len(AuditEntry::Action, 64))
                    .col(uuid_null(AuditEntry::SubjectId))
                    .col(text_null(AuditEntry::Before))
                    .col(text_null(AuditEntry::After))
                    .col(timestamp_with_time_zone(AuditEntry::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_entry_created_at")
                    .table(AuditEntry::Table)
                    .col(AuditEntry::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_entry_subject_id")
                    .table(AuditEntry::Table)
                    .col(AuditEntry::SubjectId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEntry::Table).to_owned())
            .await
    }
}
