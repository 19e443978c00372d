//! Shared application state handed to every request.

use std::sync::Arc;

use entity::event;
use prometheus_client::metrics::counter::Counter;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::error::AppResult;
use crate::events::{EventBus, ordering};
use crate::metrics::Metrics;
use crate::notify::{MailContext, outbox};
use crate::subscriptions::token::Signer;

/// Everything a request needs: the database, configuration and in-process channels.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub events: EventBus,
    /// Failed-login limits; the counts are shared through the database.
    pub login_throttle: LoginThrottle,
    /// Counts SQL statements; read by tests that guard against N+1 queries, and by metrics.
    pub statements: StatementCounter,
    /// SQLite: held across commit-then-publish so live subscribers see events in commit order
    /// (on PostgreSQL the relay publishes, in log order).
    commit_order: Arc<tokio::sync::Mutex<()>>,
    /// Whether committed events are published here (SQLite) or by the relay (PostgreSQL).
    publish_on_commit: bool,
    /// Names this process among the instances sharing the database (logs, `pg_stat_activity`).
    pub instance: Arc<str>,
    pub metrics: Arc<Metrics>,
    /// Wakes the delivery worker when a commit queued email.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Links and unsubscribe signing for planned emails.
    pub mail: MailContext,
}

/// A shared count of executed SQL statements: the `digimentor_sql_statements_total` counter
/// itself, so tests and `/metrics` read the same number.
#[derive(Clone, Default, Debug)]
pub struct StatementCounter(Counter);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.get()
    }

    /// Installs the counter on a connection (before it is cloned into the state).
    pub fn install(&self, db: &mut DatabaseConnection) {
        let count = self.0.clone();
        db.set_metric_callback(move |_| {
            count.inc();
        });
    }
}

impl AppState {
    pub fn new(mut db: DatabaseConnection, config: Config, signer: Signer) -> Self {
        let metrics = Arc::new(Metrics::default());
        let statements = StatementCounter(metrics.sql_statements.clone());
        statements.install(&mut db);
        let mail = MailContext {
            public_url: config.public_url.clone(),
            signer,
        };
        let publish_on_commit = db.get_database_backend() != sea_orm::DbBackend::Postgres;
        let instance = Uuid::new_v4().simple().to_string()[..12].into();
        Self {
            mail,
            publish_on_commit,
            instance,
            metrics,
            db,
            statements,
            commit_order: Arc::default(),
            mail_wake: Arc::default(),
            config: Arc::new(config),
            events: EventBus::default(),
            login_throttle: LoginThrottle::default(),
        }
    }

    /// Starts the transaction that a mutation's writes, event and deliveries share.
    pub async fn begin(&self) -> AppResult<DatabaseTransaction> {
        Ok(self.db.begin().await?)
    }

    /// Queues the emails the events call for in the same transaction, commits, and only then
    /// announces the events to live subscribers and wakes the delivery worker: nobody ever sees
    /// an event, or gets an email, whose change was rolled back.
    pub async fn commit(
        &self,
        txn: DatabaseTransaction,
        events: impl IntoIterator<Item = event::Model>,
    ) -> AppResult<()> {
        let mut events: Vec<event::Model> = events.into_iter().collect();
        let queued = outbox::enqueue(&txn, &events, &self.mail).await?;
        if self.publish_on_commit {
            let _in_order = self.commit_order.lock().await;
            ordering::commit(txn, &mut events).await?;
            for event in events {
                self.events.publish(event);
            }
        } else {
            ordering::commit(txn, &mut events).await?;
        }
        if queued > 0 {
            self.mail_wake.notify_one();
        }
        Ok(())
    }
}
