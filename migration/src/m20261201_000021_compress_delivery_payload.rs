//! Emails' payloads on PostgreSQL are compressed with LZ4 instead of the default pglz: a digest
//! holds every item of its window (tens of kilobytes of JSON), and writing a run's digests spent
//! much of its time compressing them. Measured by the bench's digest run (20,000 digests):
//! 43.5 s with pglz, 34.9 s with LZ4. A server built without LZ4 keeps pglz (the change is
//! skipped, not failed). SQLite has nothing to change.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = "DO $$ BEGIN
    ALTER TABLE delivery ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'LZ4 is not available; email payloads stay compressed with pglz';
END $$";

const DOWN: &str = "ALTER TABLE delivery ALTER COLUMN payload SET COMPRESSION pglz";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(DOWN).await?;
        }
        Ok(())
    }
}
