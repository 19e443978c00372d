//! The delivery worker: claims due deliveries in batches, sends them and records the outcome.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entity::delivery;
use futures_util::StreamExt;
use rand::Rng;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::mailer::{Mailer, SendError};
use super::outbox;
use super::render::Renderer;
use crate::error::AppResult;
use crate::metrics::{FailureLabels, Metrics};

pub use crate::config::WorkerSettings;

/// Longest retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// Sends the outbox.
#[derive(Clone)]
pub struct Worker {
    db: DatabaseConnection,
    mailer: Mailer,
    renderer: Arc<Renderer>,
    settings: WorkerSettings,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

/// What became of one claimed delivery.
enum Outcome {
    /// Sent; recorded by the step with the others that ended together.
    Sent(uuid::Uuid),
    Retrying,
    Dead,
}

/// What one step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StepReport {
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
}

impl StepReport {
    pub fn claimed(&self) -> usize {
        self.sent + self.retrying + self.dead
    }
}

impl Worker {
    pub fn new(
        db: DatabaseConnection,
        mailer: Mailer,
        renderer: Arc<Renderer>,
        settings: WorkerSettings,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            db,
            mailer,
            renderer,
            settings,
            wake,
            metrics,
        }
    }

    /// One step: claim a batch, send up to `concurrency` of it at once and record each outcome
    /// as soon as it is known. Tests drive this by hand.
    #[tracing::instrument(skip_all)]
    pub async fn try_execute_step(&self) -> AppResult<StepReport> {
        let claimed = outbox::claim(
            &self.db,
            self.settings.batch_size,
            self.settings.lease,
            Utc::now(),
        )
        .await?;
        // Every send of the batch runs to its end and is recorded; a failure to record one is
        // reported after the others (its claim lapses after the lease and it is sent again).
        // Sends are recorded as they end, by a recorder beside the sending: those that end
        // while it writes go in its next statement together.
        let (ended, mut to_record) = tokio::sync::mpsc::unbounded_channel();
        let send = async move {
            let mut report = StepReport::default();
            let mut first_error = None;
            let mut outcomes = futures_util::stream::iter(claimed)
                .map(|delivery| self.deliver(delivery))
                .buffer_unordered(self.settings.concurrency.max(1));
            while let Some(outcome) = outcomes.next().await {
                match outcome {
                    Ok(Outcome::Sent(id)) => {
                        // The recorder lives as long as this loop.
                        let _ = ended.send(id);
                    }
                    Ok(Outcome::Retrying) => report.retrying += 1,
                    Ok(Outcome::Dead) => report.dead += 1,
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
            (report, first_error)
        };
        let record = async {
            let (mut recorded, mut first_error) = (0, None);
            while let Some(id) = to_record.recv().await {
                let mut ids = vec![id];
                while let Ok(id) = to_record.try_recv() {
                    ids.push(id);
                }
                match outbox::mark_sent_many(&self.db, &ids, Utc::now()).await {
                    Ok(()) => recorded += ids.len(),
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
            (recorded, first_error)
        };
        let ((mut report, send_error), (recorded, record_error)) = tokio::join!(send, record);
        report.sent = recorded;
        match send_error.or(record_error) {
            Some(error) => Err(error),
            None => Ok(report),
        }
    }

    /// Sends one claimed delivery and records a failure; a success is the caller's to record.
    #[tracing::instrument(skip_all)]
    async fn deliver(&self, delivery: delivery::Model) -> AppResult<Outcome> {
        self.metrics.delivery_attempts.inc();
        let outcome = self.send(&delivery).await;
        let now = Utc::now();
        match outcome {
            Ok(()) => Ok(Outcome::Sent(delivery.id)),
            Err(SendError::Temporary(error)) if delivery.attempts < self.settings.max_attempts => {
                let delay = backoff(self.settings.retry_base, delivery.attempts);
                let retry_at = now + chrono::Duration::from_std(delay).unwrap_or_default();
                tracing::warn!(delivery = %delivery.id, attempts = delivery.attempts, %error, "email failed; will retry");
                self.failed("retry");
                outbox::mark_failed(&self.db, delivery.id, &error, Some(retry_at), now).await?;
                Ok(Outcome::Retrying)
            }
            Err(error) => {
                tracing::error!(delivery = %delivery.id, attempts = delivery.attempts, error = error.message(), "email is dead");
                self.failed("dead");
                outbox::mark_failed(&self.db, delivery.id, error.message(), None, now).await?;
                Ok(Outcome::Dead)
            }
        }
    }

    fn failed(&self, outcome: &'static str) {
        self.metrics
            .delivery_failures
            .get_or_create(&FailureLabels { outcome })
            .inc();
    }

    /// Renders and sends one claimed delivery without recording the outcome.
    pub async fn send(&self, delivery: &delivery::Model) -> Result<(), SendError> {
        let earlier = match delivery.thread_id {
            Some(thread) => outbox::earlier_in_thread(&self.db, thread, delivery)
                .await
                .map_err(|err| SendError::Temporary(format!("{err:?}")))?,
            None => Default::default(),
        };
        let message = self.renderer.message(delivery, &earlier)?;
        self.mailer.send(&message, &delivery.id.to_string()).await
    }

    /// Runs until `shutdown`, finishing the batch in flight. Sleeps until woken by a commit
    /// that queued mail, or until the fallback poll.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let busy = match self.try_execute_step().await {
                Ok(report) => report.claimed() > 0,
                Err(err) => {
                    err.log_if_internal();
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                () = shutdown.cancelled() => break,
            }
        }
        tracing::info!("delivery worker stopped");
    }
}

/// `base · 2^(attempts-1)`, capped, with ±25 % jitter so that retries of many deliveries do not
/// arrive together.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = attempts.saturating_sub(1).clamp(0, 20) as u32;
    let delay = base
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_BACKOFF);
    let jitter = rand::rng().random_range(0.75..=1.25);
    delay.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(10);
        for attempts in 1..6 {
            let expected = 10.0 * 2f64.powi(attempts - 1);
            let got = backoff(base, attempts).as_secs_f64();
            assert!(
                got >= expected * 0.75 && got <= expected * 1.25,
                "{attempts}: {got}"
            );
        }
        assert!(backoff(base, 40) <= MAX_BACKOFF.mul_f64(1.25));
    }
}
