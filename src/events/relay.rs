//! Cross-instance fan-out on PostgreSQL: every instance keeps one dedicated connection (outside
//! the pool) that `LISTEN`s for committed events and feeds them, in log order, to the local
//! [`EventBus`] that subscriptions read.
//!
//! Notifications carry only the event's seq; the relay reads the events themselves from the
//! log, everything after the last seq it published, so a notification that was lost (the
//! connection dropped, or several arrived at once) costs nothing but a later read. Because
//! events are numbered in commit order ([`super::ordering`]), "after the last seq" never skips
//! one. A lost connection is re-established with backoff; the relay then replays the log from
//! where it stopped, so subscribers see no gap and no duplicate.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use entity::event;
use sea_orm::ColumnTrait;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sea_orm::sqlx::{self, Executor as _};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::EventBus;
use super::ordering::CHANNEL;
use crate::metrics::Metrics;

/// Events read from the log per query while catching up.
const CATCH_UP_BATCH: u64 = 500;
/// With nothing heard for this long the relay checks its connection and reads the log anyway.
const IDLE_CHECK: Duration = Duration::from_secs(15);
/// First and longest wait between reconnection attempts.
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("connecting the event listener: {0}")]
    Listen(#[from] sqlx::Error),
    #[error("reading the event log: {0}")]
    Log(#[from] DbErr),
}

/// What the relay needs; see [`start`].
pub struct Relay {
    /// Connect options for the listening connection (URL plus application name).
    options: PgConnectOptions,
    db: DatabaseConnection,
    bus: EventBus,
    metrics: Arc<Metrics>,
    /// Highest seq published to the bus.
    last_seen: i64,
}

impl Relay {
    /// `application_name` identifies the listening session in `pg_stat_activity`.
    pub fn new(
        url: &str,
        application_name: &str,
        db: DatabaseConnection,
        bus: EventBus,
        metrics: Arc<Metrics>,
    ) -> Result<Self, RelayError> {
        let options = PgConnectOptions::from_str(url)?.application_name(application_name);
        Ok(Self {
            options,
            db,
            bus,
            metrics,
            last_seen: 0,
        })
    }

    /// Listens, notes where the log ends now, and spawns the relay loop. Events committed after
    /// this returns reach the bus.
    pub async fn start(
        mut self,
        shutdown: CancellationToken,
    ) -> Result<JoinHandle<()>, RelayError> {
        let listener = self.listen().await?;
        self.last_seen = super::service::log_end(&self.db).await?;
        Ok(tokio::spawn(self.run(listener, shutdown)))
    }

    /// Opens the dedicated connection (a pool of exactly one, used only for this) and listens.
    #[tracing::instrument(skip_all)]
    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(self.options.clone());
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.ignore_pool_close_event(true);
        listener.eager_reconnect(false);
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }

    async fn run(mut self, listener: PgListener, shutdown: CancellationToken) {
        let mut listener = Some(listener);
        let mut backoff = BACKOFF_START;
        loop {
            let mut connected = match listener.take() {
                Some(connected) => connected,
                None => {
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.cancelled() => return,
                    }
                    match self.listen().await {
                        Ok(connected) => {
                            self.metrics.listener_reconnects.inc();
                            tracing::info!(
                                after = self.last_seen,
                                "event listener reconnected; replaying the log"
                            );
                            connected
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, retry_in = ?backoff, "event listener cannot connect");
                            backoff = (backoff * 2).min(BACKOFF_MAX);
                            continue;
                        }
                    }
                }
            };
            // Whatever was committed while not listening (or before the first notification).
            if let Err(err) = self.catch_up().await {
                tracing::warn!(error = %err, "event relay cannot read the log; reconnecting");
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
            backoff = BACKOFF_START;
            tokio::select! {
                lost = self.relay(&mut connected) => {
                    tracing::warn!(error = %lost, "event listener lost its connection");
                }
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// Publishes what each notification announces until the connection is lost.
    #[tracing::instrument(skip_all)]
    async fn relay(&mut self, listener: &mut PgListener) -> String {
        loop {
            match tokio::time::timeout(IDLE_CHECK, listener.try_recv()).await {
                Ok(Ok(Some(notification))) => {
                    let announced = notification.payload().parse::<i64>().unwrap_or(i64::MAX);
                    if announced <= self.last_seen {
                        continue; // already read with an earlier batch
                    }
                }
                Ok(Ok(None)) => return "connection closed".into(),
                Ok(Err(err)) => return err.to_string(),
                Err(_idle) => {
                    if let Err(err) = listener.execute("SELECT 1").await {
                        return err.to_string();
                    }
                }
            }
            if let Err(err) = self.catch_up().await {
                return format!("reading the event log: {err}");
            }
        }
    }

    /// Publishes every event after `last_seen`, in order.
    #[tracing::instrument(skip_all)]
    async fn catch_up(&mut self) -> Result<(), DbErr> {
        loop {
            let batch = event::Entity::find()
                .filter(event::Column::Seq.gt(self.last_seen))
                .order_by_asc(event::Column::Seq)
                .limit(CATCH_UP_BATCH)
                .all(&self.db)
                .await?;
            let full = batch.len() as u64 == CATCH_UP_BATCH;
            for event in batch {
                self.last_seen = event.seq;
                self.bus.publish(event);
            }
            if !full {
                return Ok(());
            }
        }
    }
}
