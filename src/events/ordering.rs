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
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};

/// The `LISTEN`/`NOTIFY` channel that carries the seq of each committed event.
pub const CHANNEL: &str = "digimentor_events";

/// Advisory lock key that orders event commits ("digi" in ASCII).
const COMMIT_LOCK_KEY: i64 = 0x6469_6769;

/// Takes the commit-order lock now, for a transaction that must not interleave with other
/// changes (a bulk load run by several instances at once). Held until the commit.
pub async fn lock_for_commit(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        lock(txn).await?;
    }
    Ok(())
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
