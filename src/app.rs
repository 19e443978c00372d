//! Building and running the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db;
use crate::graphql::build_schema;
use crate::http::{HttpState, router};
use crate::notify::mailer::Mailer;
use crate::notify::reminders;
use crate::notify::render::Renderer;
use crate::notify::worker::Worker;
use crate::state::AppState;
use crate::subscriptions::digests;
use crate::subscriptions::token::Signer;

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A server that is bound to its port and migrated, ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    worker: Worker,
}

impl Application {
    /// Connects to the database, applies migrations and binds the listening socket.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(&config.database_url)
            .await
            .context("connecting to the database (DATABASE_URL)")?;
        db::migrate(&db)
            .await
            .context("applying database migrations")?;
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding {} (BIND)", config.bind))?;
        let mailer =
            Mailer::new(&config.mail).context("setting up the mail transport (SMTP_URL)")?;
        let renderer = Renderer::new(config.public_url.clone(), config.mail_from.clone())
            .context("loading the email templates")?;
        let settings = config.worker;
        let signer = Signer::load(&db)
            .await
            .map_err(anyhow::Error::from)
            .context("loading the unsubscribe signing key")?;
        let state = AppState::new(db, config, signer);
        let worker = Worker::new(
            state.db.clone(),
            mailer,
            Arc::new(renderer),
            settings,
            state.mail_wake.clone(),
        );
        Ok(Self {
            listener,
            state,
            worker,
        })
    }

    /// The delivery worker, for driving it by hand (tests, with `run_workers` off).
    pub fn worker(&self) -> Worker {
        self.worker.clone()
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// (up to a grace period) and closes WebSocket connections.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr()?;
        let cancel = CancellationToken::new();
        let http_state = HttpState {
            schema: build_schema(self.state.clone()),
            app: self.state.clone(),
            shutdown: cancel.clone(),
        };
        let app = router(http_state).into_make_service_with_connect_info::<SocketAddr>();
        let background = if self.state.config.run_workers {
            vec![
                tokio::spawn(self.worker.run(cancel.clone())),
                tokio::spawn(run_scheduler(self.state.clone(), cancel.clone())),
            ]
        } else {
            Vec::new()
        };
        tracing::info!("listening on http://{addr} — GraphiQL at http://{addr}/graphql");
        let signal_cancel = cancel.clone();
        let server = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            signal_cancel.cancel();
        });
        let server = std::pin::pin!(server.into_future());
        tokio::select! {
            result = server => result.context("serving HTTP")?,
            () = async { cancel.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
                tracing::warn!("in-flight requests did not finish within the grace period");
            }
        }
        // The worker finishes the batch it is sending.
        cancel.cancel();
        for task in background {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
        }
        Ok(())
    }
}

/// How often the scheduler looks for due reminders.
const SCHEDULER_INTERVAL: Duration = Duration::from_secs(60);

/// Queues due deadline reminders and digests every minute until shutdown. Safe on every
/// instance: each reminder and digest has its own dedupe key.
async fn run_scheduler(state: AppState, shutdown: CancellationToken) {
    let lead =
        chrono::Duration::from_std(state.config.reminder_lead).unwrap_or(chrono::Duration::days(3));
    loop {
        let now = chrono::Utc::now();
        match reminders::queue_due(&state.db, now, lead, state.mail.domain()).await {
            Ok(0) => {}
            Ok(queued) => {
                tracing::info!(queued, "deadline reminders queued");
                state.mail_wake.notify_one();
            }
            Err(err) => err.log_if_internal(),
        }
        match digests::run(&state.db, &state.mail, now).await {
            Ok(report) if report.queued > 0 => {
                tracing::info!(
                    queued = report.queued,
                    empty = report.empty,
                    "digests queued"
                );
                state.mail_wake.notify_one();
            }
            Ok(_) => {}
            Err(err) => err.log_if_internal(),
        }
        tokio::select! {
            () = tokio::time::sleep(SCHEDULER_INTERVAL) => {}
            () = shutdown.cancelled() => break,
        }
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
