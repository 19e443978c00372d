//! A question can be a wish or a view rather than a question; the service unit it was forwarded
//! to records what happens to a wish or a view (noted, planned, done, not possible) and why.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Question {
    Table,
    Kind,
    Decision,
    DecisionReason,
    DecidedBy,
    DecidedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in [
            string_len(Question::Kind, 16)
                .default("question")
                .to_owned(),
            string_len_null(Question::Decision, 16),
            text_null(Question::DecisionReason),
            uuid_null(Question::DecidedBy),
            timestamp_with_time_zone_null(Question::DecidedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Question::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Question::DecidedAt,
            Question::DecidedBy,
            Question::DecisionReason,
            Question::Decision,
            Question::Kind,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Question::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
