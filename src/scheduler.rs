//! Time-driven work: deadline reminders and digests, queued once a minute on every instance
//! (which also forgets failed logins that left the throttle's window).
//!
//! Running it on several instances at once is safe by construction: every reminder and digest
//! has a dedupe key, so the second instance to plan one inserts nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::notify::digests;
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

/// Queues due reminders and digests as of `now`, and wakes the delivery worker if it queued
/// anything. A failure of one kind of work does not stop the other.
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> TickReport {
    let lead =
        chrono::Duration::from_std(state.config.reminder_lead).unwrap_or(chrono::Duration::days(3));
    let mut report = TickReport::default();
    match reminders::queue_due(&state.db, now, lead, state.mail.domain()).await {
        Ok(queued) => report.reminders = queued,
        Err(err) => err.log_if_internal(),
    }
    match digests::run(&state.db, &state.mail, now).await {
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
        state.mail_wake.notify_one();
    }
    report
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
