//! A meeting can be cancelled: it stays listed (marked cancelled, with the reason), calendars
//! receive `STATUS:CANCELLED`, and the invited are sent `METHOD:CANCEL`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Meeting {
    Table,
    CancelledAt,
    CancelReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Meeting::Table)
                    .add_column(timestamp_with_time_zone_null(Meeting::CancelledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Meeting::Table)
                    .add_column(text_null(Meeting::CancelReason))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Meeting::CancelReason, Meeting::CancelledAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Meeting::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
