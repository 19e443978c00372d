//! SQLite serves one server process at a time: a second one on the same file would run a second
//! delivery worker and scheduler that the first cannot see (SQLite has no `SKIP LOCKED`), and
//! its live subscribers would miss the first one's events. The server therefore holds an
//! exclusive lock on `<database file>.lock` for as long as it runs, and a second server on the
//! same file refuses to start. Command-line tools (`migrate`, `user add`, `demo`) do not take it.

use std::fs::{File, TryLockError};
use std::path::PathBuf;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// Held for the life of the server; dropping it releases the file.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    pub path: PathBuf,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another digimentor server is already running on the SQLite database {database} \
         (it holds {lock}); SQLite supports one server process. Stop the other one, or use \
         PostgreSQL (DATABASE_URL=postgres://…) to run several instances"
    )]
    Held { database: String, lock: String },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the SQLite database file name: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// Takes the lock for the SQLite database behind `db`. In-memory databases need none.
pub async fn acquire(db: &DatabaseConnection) -> Result<Option<InstanceLock>, LockError> {
    let Some(database) = main_file(db).await? else {
        return Ok(None);
    };
    let path = PathBuf::from(format!("{database}.lock"));
    let io_error = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_error)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(InstanceLock { _file: file, path })),
        Err(TryLockError::WouldBlock) => Err(LockError::Held {
            database,
            lock: path.display().to_string(),
        }),
        Err(TryLockError::Error(source)) => Err(io_error(source)),
    }
}

/// The absolute path of the main database file, as SQLite itself resolved it.
async fn main_file(db: &DatabaseConnection) -> Result<Option<String>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(backend, "PRAGMA database_list"))
        .await?;
    for row in rows {
        let name: String = row.try_get("", "name")?;
        if name == "main" {
            let file: String = row.try_get("", "file")?;
            return Ok((!file.is_empty()).then_some(file));
        }
    }
    Ok(None)
}
