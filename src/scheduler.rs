//! Time-driven work: deadline reminders and digests, queued once a minute on every instance
//! (which also forgets failed logins that left the throttle's window).
//!
//! Running it on several instances at once is safe by construction: every reminder and digest
//! has a dedupe key, so the second instance to plan one inserts nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::changes::{Changes, Done};
use crate::error::AppResult;
use crate::notify::digests::{self, DigestReport};
use crate::notify::reminders;
use crate::state::AppState;

/// How often the scheduler looks for due work.
const INTERVAL: Duration = Duration::from_secs(60);

/// What one tick queued.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    pub reminders: u64,
    pub digests: u64,
}

/// Queues due reminders and digests as of `now`, each through the unit of work (which wakes
/// the delivery worker when it queued anything). A failure of one kind of work does not stop
/// the other.
#[tracing::instrument(skip(state))]
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> TickReport {
    let lead =
        chrono::Duration::from_std(state.config.reminder_lead).unwrap_or(chrono::Duration::days(3));
    let mut report = TickReport::default();
    match queue_reminders(&state.changes, now, lead).await {
        Ok(queued) => report.reminders = queued,
        Err(err) => err.log_if_internal(),
    }
    match run_digests(&state.changes, now).await {
        Ok(run) => report.digests = run.queued,
        Err(err) => err.log_if_internal(),
    }
    if let Err(err) = state.login_throttle.sweep(&state.db, now).await {
        err.log_if_internal();
    }
    if report.reminders + report.digests > 0 {
        tracing::info!(
            reminders = report.reminders,
            digests = report.digests,
            "scheduled emails queued"
        );
    }
    report
}

/// Queues the deadline reminders due at `now`; returns how many.
pub async fn queue_reminders(
    changes: &Changes,
    now: DateTime<Utc>,
    lead: chrono::Duration,
) -> AppResult<u64> {
    let domain = changes.mail().domain().to_owned();
    changes
        .run(async |txn| {
            let queued = reminders::queue_due(txn, now, lead, &domain).await?
                + reminders::queue_training_reminders(txn, changes.mail(), now).await?;
            Ok(Done {
                value: queued,
                events: Vec::new(),
                queued,
            })
        })
        .await
}

/// Builds and queues every digest due at `now`, a batch per unit of work.
pub async fn run_digests(changes: &Changes, now: DateTime<Utc>) -> AppResult<DigestReport> {
    let due = digests::due_at(changes.db(), changes.mail(), now).await?;
    let mut report = DigestReport::default();
    for index in 0..due.batches() {
        let batch = changes
            .run(async |txn| {
                let batch = due.write_batch(txn, changes.mail(), index).await?;
                Ok(Done {
                    value: batch,
                    events: Vec::new(),
                    queued: batch.queued,
                })
            })
            .await?;
        report.queued += batch.queued;
        report.empty += batch.empty;
    }
    Ok(report)
}

/// Ticks every minute until shutdown.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        tick(&state, Utc::now()).await;
        tokio::select! {
            () = tokio::time::sleep(INTERVAL) => {}
            () = shutdown.cancelled() => break,
        }
    }
}
