//! Committing events so that the log's order is commit order, on every engine.
//!
//! Sequence numbers come from a sequence when the event row is inserted, which can be long
//! before its transaction commits: a transaction holding seq 5 may commit after one holding
//! seq 6, and a reader that had already passed 6 would never see 5. On PostgreSQL, therefore,
//! every transaction that carries events takes one advisory lock just before it commits, gives
//! its events fresh numbers under that lock and commits while still holding it. The lock is
//! released only after the commit is visible, so once a reader sees seq N, every event with a
//! lower number is either visible too or was rolled back: a listener can read "everything
//! after the last seq I saw" and never miss one. The same statement sends a `NOTIFY` carrying
//! only the new seq, which PostgreSQL delivers to listeners on every instance at commit.
//!
//! SQLite runs one connection per server (and one server per file), so insertion order is
//! already commit order there.

use entity::event;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};

/// The `LISTEN`/`NOTIFY` channel that carries the seq of each committed event.
pub const CHANNEL: &str = "digimentor_events";

/// Advisory lock key that orders event commits ("digi" in ASCII).
const COMMIT_LOCK_KEY: i64 = 0x6469_6769;

/// For a bulk load that writes events without collecting them (the demo data): takes the
/// commit-order lock for the whole transaction, so its events are numbered while no other
/// change can commit, then commits and announces the end of the log. A second loader on
/// another instance waits for the first.
pub async fn commit_bulk<F, T, E>(db: &DatabaseConnection, load: F) -> Result<T, E>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
    E: From<DbErr>,
{
    let txn = db.begin().await?;
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    if postgres {
        lock(&txn).await?;
    }
    let loaded = load(&txn).await?;
    if postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, coalesce(max(seq), 0)::text) FROM event",
            [CHANNEL.into()],
        ))
        .await?;
    }
    txn.commit().await?;
    Ok(loaded)
}

async fn lock(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    crate::db::advisory_xact_lock(txn, COMMIT_LOCK_KEY).await
}

/// Renumbers `events` in commit order, announces them and commits `txn`. The models' `seq` is
/// updated to the number they were committed with.
pub async fn commit(txn: DatabaseTransaction, events: &mut [event::Model]) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres && !events.is_empty() {
        lock(&txn).await?;
        for event in events.iter_mut() {
            event.seq = renumber_and_notify(&txn, event).await?;
        }
    }
    txn.commit().await
}

async fn renumber_and_notify(
    txn: &DatabaseTransaction,
    event: &event::Model,
) -> Result<i64, DbErr> {
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH moved AS (\
                UPDATE event SET seq = nextval(pg_get_serial_sequence('event', 'seq')) \
                WHERE id = $1 RETURNING seq\
             ) \
             SELECT seq, pg_notify($2, seq::text)::text AS notified FROM moved",
            [event.id.into(), CHANNEL.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("event {} is not in the log", event.id)))?;
    row.try_get("", "seq")
}
