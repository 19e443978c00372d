//! Database connection and migrations for both supported engines.

pub mod idempotency;
pub mod pagination;
pub mod single_instance;
pub mod users;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, Statement, TransactionTrait,
};

use crate::config::PoolSettings;

/// How long `/readyz` waits for the database before calling it unreachable.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The name this service's sessions carry in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "digimentor";

/// Whether `url` names a PostgreSQL database (the other supported engine is SQLite).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens a pool for `url` with engine-appropriate settings.
///
/// SQLite uses one connection: writes are serialized by SQLite anyway, and a single connection
/// avoids `SQLITE_BUSY` when two deferred transactions try to upgrade to writers. WAL mode and
/// foreign keys are on (sqlx's defaults for SQLite).
///
/// PostgreSQL gets `settings.max_connections`, and every session carries the statement and
/// idle-in-transaction timeouts, so a stuck query or a forgotten transaction cannot hold locks
/// (and with them the other instances) for long.
#[tracing::instrument(skip(url))]
pub async fn connect(url: &str, settings: &PoolSettings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    // sqlx pings a connection before every acquire by default, which on a busy pool doubles
    // the round trips of every statement. Only a connection idle for 30 s (the kind a server,
    // proxy or firewall may have dropped) is pinged now; a hot one goes straight to its
    // statement. Connections are renewed every half hour, so a failover is not held on to.
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .max_lifetime(Duration::from_secs(30 * 60))
        .sqlx_logging(false);
    if is_postgres(url) {
        let session = session_options(settings);
        options
            .max_connections(settings.max_connections)
            .min_connections(1)
            .map_sqlx_postgres_opts(move |pg| with_session(pg, &session));
    } else {
        options.max_connections(1).min_connections(1);
    }
    Database::connect(options).await
}

/// Run-time parameters every PostgreSQL session of this service starts with.
pub fn session_options(settings: &PoolSettings) -> Vec<(&'static str, String)> {
    vec![
        (
            "statement_timeout",
            settings.statement_timeout.as_millis().to_string(),
        ),
        (
            "idle_in_transaction_session_timeout",
            settings.idle_in_transaction_timeout.as_millis().to_string(),
        ),
    ]
}

/// Applies the session parameters and the application name to PostgreSQL connect options.
pub fn with_session(pg: PgConnectOptions, session: &[(&'static str, String)]) -> PgConnectOptions {
    pg.application_name(APPLICATION_NAME)
        .options(session.iter().map(|(k, v)| (*k, v.as_str())))
}

/// Advisory lock key that serializes migrations between instances ("migr" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6d69_6772;

/// Applies every pending migration.
///
/// On PostgreSQL several instances may start at once: the migrations run in one transaction
/// that first takes an advisory lock, so the second instance waits, then finds nothing pending.
/// A failed migration leaves the schema as it was.
#[tracing::instrument(skip(db))]
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let applied = if db.get_database_backend() != DbBackend::Postgres {
        let pending = Migrator::get_pending_migrations(db).await?.len();
        Migrator::up(db, None).await?;
        pending
    } else {
        let txn = db.begin().await?;
        advisory_xact_lock(&txn, MIGRATION_LOCK_KEY).await?;
        let pending = Migrator::get_pending_migrations(&txn).await?.len();
        Migrator::up(&txn, None).await?;
        txn.commit().await?;
        pending
    };
    // One line for all of them (the migration library's own lines are turned down by default).
    if applied > 0 {
        tracing::info!(applied, "database schema migrated");
    } else {
        tracing::info!("database schema up to date");
    }
    Ok(())
}

/// PostgreSQL: waits for the transaction-scoped advisory lock `key`, held until `txn` ends.
pub async fn advisory_xact_lock(txn: &DatabaseTransaction, key: i64) -> Result<(), DbErr> {
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [key.into()],
    ))
    .await
    .map(|_| ())
}

/// A cheap round trip used by `/readyz`; an unreachable database fails within a short timeout
/// instead of waiting for the pool.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    match tokio::time::timeout(PING_TIMEOUT, db.execute_unprepared("SELECT 1")).await {
        Ok(result) => result.map(|_| ()),
        Err(_) => Err(DbErr::Custom("database did not answer in time".into())),
    }
}

/// Groups rows by a key, keeping their order (the usual shape of a batch load).
pub fn group_by<T>(
    rows: Vec<T>,
    key: impl Fn(&T) -> uuid::Uuid,
) -> std::collections::HashMap<uuid::Uuid, Vec<T>> {
    let mut out: std::collections::HashMap<uuid::Uuid, Vec<T>> = std::collections::HashMap::new();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}
