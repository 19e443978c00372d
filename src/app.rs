//! Building and running the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sea_orm::DbBackend;
use tokio::net::TcpListener;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::config::Config;
use crate::db;
use crate::db::single_instance::InstanceLock;
use crate::events::relay::Relay;
use crate::http::{HttpState, router};
use crate::notify::mailer::Mailer;
use crate::notify::render::{Renderer, ReplyAddresses};
use crate::notify::worker::Worker;
use crate::scheduler;
use crate::schema::build_schema;
use crate::state::AppState;
use crate::subscriptions::token::Signer;

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A server that is bound to its port and migrated, ready to run.
pub struct Application {
    listener: TcpListener,
    /// The inbound SMTP/LMTP listener for replies and bounces (`INBOUND_SMTP_BIND`).
    inbound_listener: Option<TcpListener>,
    /// The internal address serving `/metrics` (`METRICS_BIND`).
    metrics_listener: Option<TcpListener>,
    state: AppState,
    worker: Worker,
    /// Stops the event relay when the application ends (or is dropped unstarted).
    relay_guard: DropGuard,
    /// SQLite: this process's claim on the database file.
    _instance_lock: Option<InstanceLock>,
}

impl Application {
    /// Connects to the database, applies migrations and binds the listening socket.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(&config.database_url, &config.database)
            .await
            .context("connecting to the database (DATABASE_URL)")?;
        let instance_lock = match db.get_database_backend() {
            DbBackend::Sqlite => db::single_instance::acquire(&db).await?,
            _ => None,
        };
        db::migrate(&db)
            .await
            .context("applying database migrations")?;
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding {} (BIND)", config.bind))?;
        let inbound_listener = match config.inbound_smtp_bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding {addr} (INBOUND_SMTP_BIND)"))?,
            ),
            None => None,
        };
        let metrics_listener = match config.metrics_bind {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding {addr} (METRICS_BIND)"))?,
            ),
            None => None,
        };
        let mailer = Mailer::new(
            &config.mail,
            config.worker.concurrency,
            config.worker.message_deadline,
        )
        .context("setting up the mail transport (SMTP_URL)")?;
        let signer = Signer::load(&db)
            .await
            .map_err(anyhow::Error::from)
            .context("loading the unsubscribe signing key")?;
        let mut renderer = Renderer::new(config.public_url.clone(), config.mail_from.clone())
            .context("loading the email templates")?;
        if let Some(domain) = &config.reply_domain {
            renderer = renderer.with_replies(ReplyAddresses {
                domain: domain.clone(),
                signer: signer.clone(),
            });
        }
        let settings = config.worker;
        let state = AppState::new(db, config, signer);
        let worker = Worker::new(
            state.db.clone(),
            mailer,
            Arc::new(renderer),
            settings,
            state.changes.mail_wake().clone(),
            state.metrics.clone(),
        );
        let relay_stop = CancellationToken::new();
        if db::is_postgres(&state.config.database_url) {
            Relay::new(
                &state.config.database_url,
                &format!("{}-listener-{}", db::APPLICATION_NAME, state.instance),
                state.db.clone(),
                state.events().clone(),
                state.metrics.clone(),
            )?
            .start(relay_stop.clone())
            .await
            .context("starting the event listener")?;
        }
        Ok(Self {
            listener,
            inbound_listener,
            metrics_listener,
            state,
            worker,
            relay_guard: relay_stop.drop_guard(),
            _instance_lock: instance_lock,
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

    /// The address the inbound mail listener actually bound, when there is one.
    pub fn inbound_addr(&self) -> Option<SocketAddr> {
        self.inbound_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The address the internal metrics listener actually bound, when there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
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
        let websocket_slots = Arc::new(crate::http::WebSocketSlots::default());
        let schema = build_schema(self.state.clone());
        let http_state = HttpState::new(crate::http::Shared {
            schema: schema.clone(),
            app: self.state.clone(),
            shutdown: cancel.clone(),
            websocket_slots: websocket_slots.clone(),
            pages: Arc::new(
                crate::http::pages::Pages::new().context("loading the page templates")?,
            ),
        });
        let app = router(http_state.clone());
        let mut background = vec![tokio::spawn(crate::http::end_sessions_on_rights_change(
            self.state.events().clone(),
            websocket_slots,
            cancel.clone(),
        ))];
        if let Some(listener) = self.metrics_listener {
            tracing::info!("serving /metrics on http://{}", listener.local_addr()?);
            let stop = cancel.clone();
            background.push(tokio::spawn(async move {
                crate::http::serve(
                    listener,
                    crate::http::metrics_router(http_state),
                    Duration::from_secs(10),
                    async move { stop.cancelled().await },
                    Duration::from_secs(1),
                )
                .await;
            }));
        }
        if let Some(listener) = self.inbound_listener {
            match crate::inbound::Inbound::new(self.state.clone(), schema.clone()) {
                Some(inbound) => {
                    tracing::info!(
                        "taking replies and bounces for {} on {}",
                        inbound.domain(),
                        listener.local_addr()?
                    );
                    background.push(tokio::spawn(crate::inbound::smtp::serve(
                        listener,
                        inbound,
                        cancel.clone(),
                    )));
                }
                None => tracing::warn!("INBOUND_SMTP_BIND is set without REPLY_DOMAIN"),
            }
        }
        if let (Some(mailbox), true) = (
            self.state.config.inbound_imap.clone(),
            self.state.config.run_workers,
        ) && let Some(inbound) = crate::inbound::Inbound::new(self.state.clone(), schema.clone())
        {
            background.push(tokio::spawn(crate::inbound::imap::run(
                inbound,
                mailbox,
                cancel.clone(),
            )));
        }
        if self.state.config.run_workers {
            background.push(tokio::spawn(self.worker.run(cancel.clone())));
            background.push(tokio::spawn(scheduler::run(
                self.state.clone(),
                cancel.clone(),
            )));
        }
        tracing::info!(
            "listening on http://{addr} — web pages at http://{addr}/, GraphiQL at http://{addr}/graphql"
        );
        let signal_cancel = cancel.clone();
        let finished = crate::http::serve(
            self.listener,
            app,
            self.state.config.header_timeout,
            async move {
                shutdown.await;
                tracing::info!("shutting down: finishing in-flight requests");
                // Ends WebSocket connections and tells the worker to finish its batch.
                signal_cancel.cancel();
            },
            SHUTDOWN_GRACE,
        )
        .await;
        if !finished {
            tracing::warn!("in-flight requests did not finish within the grace period");
        }
        // The worker finishes the batch it is sending.
        cancel.cancel();
        for task in background {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, task).await;
        }
        drop(self.relay_guard);
        Ok(())
    }
}

/// Completes when `signal` arrives; never without one.
#[cfg(unix)]
async fn received(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Completes on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so a signal that arrives right after the "listening" line (an
/// operator, a container runtime) already shuts down gracefully instead of killing the process.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &'static str| match signal(kind) {
            Ok(signal) => Some(signal),
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for {name}");
                None
            }
        };
        let mut interrupt = listen(SignalKind::interrupt(), "SIGINT");
        let mut terminate = listen(SignalKind::terminate(), "SIGTERM");
        async move {
            tokio::select! {
                () = received(interrupt.as_mut()) => {}
                () = received(terminate.as_mut()) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}
