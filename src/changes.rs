//! The one way to change data: a unit of work.
//!
//! Every caller — a GraphQL mutation, a page's form, an email reply, the CLI, the demo loader,
//! the scheduler — hands [`Changes::run`] the work to do inside one transaction. The work
//! returns what it made and the events it appended; the unit of work then queues the emails
//! those events call for in the same transaction, commits in event-log order, and only after
//! the commit announces the events to live subscribers and wakes the delivery worker. Nobody
//! ever sees an event, or gets an email, whose change was rolled back, and no caller writes
//! that sequence itself.

use std::sync::Arc;

use entity::event;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait};

use crate::error::AppResult;
use crate::events::{EventBus, ordering};
use crate::notify::{MailContext, outbox};

/// What one unit of work produced: the value for its caller, the events it appended, and how
/// many emails it queued itself (reminders, digests, a retried delivery) besides those its
/// events call for.
#[derive(Debug)]
pub struct Done<T> {
    pub value: T,
    pub events: Vec<event::Model>,
    pub queued: u64,
}

impl<T> Done<T> {
    /// A change that appends no event and queues no email (a user's own settings).
    pub fn quiet(value: T) -> Self {
        Self {
            value,
            events: Vec::new(),
            queued: 0,
        }
    }
}

impl Done<()> {
    /// A change that only queued emails (no event).
    pub fn mail(queued: u64) -> Self {
        Self {
            value: (),
            events: Vec::new(),
            queued,
        }
    }
}

/// What a service returns, read as a [`Done`]: the services' `(value, event)` shapes.
pub trait IntoDone {
    type Value;
    fn into_done(self) -> Done<Self::Value>;
}

impl<T> IntoDone for Done<T> {
    type Value = T;
    fn into_done(self) -> Done<T> {
        self
    }
}

impl IntoDone for event::Model {
    type Value = ();
    fn into_done(self) -> Done<()> {
        Done {
            value: (),
            events: vec![self],
            queued: 0,
        }
    }
}

impl<T> IntoDone for (T, event::Model) {
    type Value = T;
    fn into_done(self) -> Done<T> {
        Done {
            value: self.0,
            events: vec![self.1],
            queued: 0,
        }
    }
}

impl<A, B> IntoDone for (A, B, event::Model) {
    type Value = (A, B);
    fn into_done(self) -> Done<(A, B)> {
        Done {
            value: (self.0, self.1),
            events: vec![self.2],
            queued: 0,
        }
    }
}

impl<T> IntoDone for (T, Vec<event::Model>) {
    type Value = T;
    fn into_done(self) -> Done<T> {
        Done {
            value: self.0,
            events: self.1,
            queued: 0,
        }
    }
}

/// What a change needs: the database, the event bus, the mail context, and the worker to wake.
/// Cheap to clone.
#[derive(Clone)]
pub struct Changes {
    db: DatabaseConnection,
    bus: EventBus,
    mail: MailContext,
    mail_wake: Arc<tokio::sync::Notify>,
    /// SQLite: held across commit-then-publish so live subscribers see events in commit order
    /// (on PostgreSQL the relay publishes, in log order).
    commit_order: Arc<tokio::sync::Mutex<()>>,
    /// Whether committed events are published here (SQLite) or by the relay (PostgreSQL).
    publish_on_commit: bool,
}

impl Changes {
    pub fn new(db: DatabaseConnection, mail: MailContext) -> Self {
        let publish_on_commit = db.get_database_backend() != DbBackend::Postgres;
        Self {
            db,
            bus: EventBus::default(),
            mail,
            mail_wake: Arc::default(),
            commit_order: Arc::default(),
            publish_on_commit,
        }
    }

    /// The connection, for reads outside a change.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Committed events, for live subscribers (and the relay that publishes other instances').
    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Links and unsubscribe signing for planned emails.
    pub fn mail(&self) -> &MailContext {
        &self.mail
    }

    /// The signal that wakes the delivery worker.
    pub fn mail_wake(&self) -> &Arc<tokio::sync::Notify> {
        &self.mail_wake
    }

    /// Runs `work` in a transaction; queues the emails its events call for in the same
    /// transaction; commits in event-log order; then announces the events and wakes the
    /// delivery worker. An error from `work` rolls everything back.
    #[tracing::instrument(name = "change", skip_all)]
    pub async fn run<O: IntoDone>(
        &self,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<O>,
    ) -> AppResult<O::Value> {
        self.run_in(false, work).await
    }

    /// As [`Changes::run`] for a bulk load that may be run by several instances at once (the
    /// network import): the commit-order lock is taken before the work, so a second loader
    /// waits for the first and then finds everything in place.
    #[tracing::instrument(name = "bulk_change", skip_all)]
    pub async fn run_exclusive<O: IntoDone>(
        &self,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<O>,
    ) -> AppResult<O::Value> {
        self.run_in(true, work).await
    }

    async fn run_in<O: IntoDone>(
        &self,
        exclusive: bool,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> AppResult<O>,
    ) -> AppResult<O::Value> {
        let txn = self.db.begin().await?;
        if exclusive {
            ordering::lock_for_commit(&txn).await?;
        }
        let done = work(&txn).await?.into_done();
        self.commit(txn, done.events, done.queued).await?;
        Ok(done.value)
    }

    async fn commit(
        &self,
        txn: DatabaseTransaction,
        mut events: Vec<event::Model>,
        queued_by_work: u64,
    ) -> AppResult<()> {
        let queued = queued_by_work + outbox::enqueue(&txn, &events, &self.mail).await?;
        if self.publish_on_commit {
            let _in_order = self.commit_order.lock().await;
            ordering::commit(txn, &mut events).await?;
            for event in events {
                self.bus.publish(event);
            }
        } else {
            ordering::commit(txn, &mut events).await?;
        }
        if queued > 0 {
            self.mail_wake.notify_one();
        }
        Ok(())
    }

    /// Wakes the delivery worker (an admin asked to retry an email now).
    pub fn wake_mail(&self) {
        self.mail_wake.notify_one();
    }
}
