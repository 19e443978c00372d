//! Subscriptions over WebSocket (`graphql-transport-ws`), with connection hygiene:
//!
//! - a client that sends no `connection_init` in time is closed with 4408;
//! - the server pings every keepalive interval and closes a client it has not heard from
//!   (not even a pong) for three intervals;
//! - outgoing messages pass through a small bounded queue, and a client that does not take a
//!   message within the send timeout is closed, so a slow consumer holds a bounded amount of
//!   memory and is never waited on forever;
//! - each user may hold a limited number of connections at once;
//! - a user's connections close (4403) when they change their password, on every instance
//!   ([`end_sessions_on_password_change`] runs once per instance).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, PollSender};
use uuid::Uuid;

use super::HttpState;
use crate::auth::service::authenticate;
use crate::config::WebSocketLimits;
use crate::error::AppError;
use crate::events::kinds;
use crate::graphql::request_loaders;
use crate::metrics::Metrics;

/// Messages waiting for a client before the GraphQL side has to wait too.
const OUTGOING_QUEUE: usize = 32;
/// graphql-transport-ws: "Connection initialisation timeout".
const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// The user's sessions were ended (password changed).
const CLOSE_SESSION_ENDED: u16 = 4403;
/// Bytes read from a connection's socket at a time.
const READ_BUFFER_BYTES: usize = 4096;
/// A keepalive interval's multiple after which a silent client is closed.
const SILENT_INTERVALS: u32 = 3;

/// Subscriptions over `graphql-transport-ws`. The `connection_init` payload may carry a token
/// (see [`init_token`]); a connection without one is a visitor's, a bad token closes it.
pub async fn upgrade(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    // A message is a GraphQL request at most as large as an HTTP one. A small read buffer keeps
    // idle connections cheap (tungstenite allocates 128 KiB per connection by default).
    let max_message = state.app.config.graphql.max_body_bytes;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |socket| serve(state, protocol, socket))
}

async fn serve(state: HttpState, protocol: GraphQLProtocol, socket: WebSocket) {
    let app = state.app.clone();
    let limits = app.config.websocket;
    let _open = OpenConnection::count(&app.metrics);
    let (socket_sink, socket_stream) = socket.split();
    let heard = Arc::new(Mutex::new(Instant::now()));
    let initialized = Arc::new(AtomicBool::new(false));
    // Held for the life of the connection once the user is known.
    let slot: Arc<Mutex<Option<UserSlot>>> = Arc::default();
    // Cancelled when the user's sessions end (see [`end_sessions_on_password_change`]).
    let session_ended = CancellationToken::new();

    let incoming = {
        let heard = heard.clone();
        socket_stream.inspect(move |_| {
            if let Ok(mut at) = heard.lock() {
                *at = Instant::now();
            }
        })
    };
    let (outgoing, queue) = mpsc::channel::<Message>(OUTGOING_QUEUE);
    let outgoing = PollSender::new(outgoing);
    let graphql = {
        let (initialized, slot, session_ended) =
            (initialized.clone(), slot.clone(), session_ended.clone());
        GraphQLWebSocket::new_with_pair(
            outgoing.sink_map_err(|_| ()),
            incoming,
            state.schema.clone(),
            protocol,
        )
        .on_connection_init(move |payload| async move {
            let mut data = request_loaders(&app);
            if let Some(token) = init_token(&payload) {
                let viewer = authenticate(&app.db, token).await?;
                let taken =
                    app.websocket_slots
                        .take(viewer.id(), limits.max_per_user, session_ended)?;
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(taken);
                }
                data.insert(viewer);
            }
            initialized.store(true, Ordering::SeqCst);
            Ok(data)
        })
        .serve()
    };
    let writer = write(
        socket_sink,
        queue,
        limits,
        heard,
        initialized,
        session_ended,
    );
    tokio::pin!(writer);
    tokio::select! {
        // The GraphQL side is done (its queue is closed): let the writer deliver what is left,
        // such as a close frame.
        () = graphql => {
            let _ = tokio::time::timeout(limits.send_timeout, &mut writer).await;
        }
        () = &mut writer => {}
        () = state.shutdown.cancelled() => {}
    }
}

/// Forwards queued messages to the client, pings it, and closes it when it is silent, slow or
/// never initialized.
async fn write(
    mut socket: futures_util::stream::SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Message>,
    limits: WebSocketLimits,
    heard: Arc<Mutex<Instant>>,
    initialized: Arc<AtomicBool>,
    session_ended: CancellationToken,
) {
    let started = Instant::now();
    let mut ping = tokio::time::interval_at(started + limits.keepalive, limits.keepalive);
    let init_deadline = tokio::time::sleep_until(started + limits.init_timeout);
    tokio::pin!(init_deadline);
    let mut init_checked = false;
    loop {
        let message = tokio::select! {
            next = queue.recv() => match next {
                Some(message) => message,
                None => return,
            },
            _ = ping.tick() => {
                let silent = heard.lock().map(|at| at.elapsed()).unwrap_or_default();
                if silent > limits.keepalive * SILENT_INTERVALS {
                    let _ = close(&mut socket, 1001, "no answer to keepalive pings").await;
                    return;
                }
                Message::Ping(Default::default())
            }
            () = session_ended.cancelled() => {
                let _ = close(&mut socket, CLOSE_SESSION_ENDED, "Session ended; log in again").await;
                return;
            }
            () = &mut init_deadline, if !init_checked => {
                init_checked = true;
                if initialized.load(Ordering::SeqCst) {
                    continue;
                }
                let _ = close(&mut socket, CLOSE_INIT_TIMEOUT, "Connection initialisation timeout").await;
                return;
            }
        };
        let closing = matches!(message, Message::Close(_));
        match tokio::time::timeout(limits.send_timeout, socket.send(message)).await {
            Ok(Ok(())) if !closing => {}
            Ok(_) => return,
            Err(_) => {
                tracing::info!("closing a WebSocket client that does not read its messages");
                return;
            }
        }
    }
}

/// Ends users' connections on this instance when they change their password; the event reaches
/// every instance. One task per instance, so that other events wake nothing per connection.
pub async fn end_sessions_on_password_change(app: crate::state::AppState, stop: CancellationToken) {
    let mut events = app.events.subscribe();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            received = events.recv() => match received {
                Ok(event) if event.model.kind == kinds::USER_PASSWORD_CHANGED => {
                    app.websocket_slots.end_sessions(event.model.subject_id);
                }
                Err(broadcast::error::RecvError::Closed) => return,
                _ => {}
            },
        }
    }
}

async fn close(
    socket: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    code: u16,
    reason: &'static str,
) -> Result<(), axum::Error> {
    socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await
}

/// The token of a `connection_init` payload: `{"token": "…"}`, or the
/// `{"Authorization": "Bearer …"}` that GraphiQL sends from its headers tab.
fn init_token(payload: &serde_json::Value) -> Option<&str> {
    if let Some(token) = payload.get("token").and_then(|t| t.as_str()) {
        return Some(token);
    }
    ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(*key).and_then(|v| v.as_str()))
        .map(|value| value.strip_prefix("Bearer ").unwrap_or(value).trim())
}

/// Open connections per user on this instance, each with the token that closes it when the
/// user's sessions end.
#[derive(Default)]
pub struct WebSocketSlots {
    next_id: AtomicU64,
    open: Mutex<HashMap<Uuid, HashMap<u64, CancellationToken>>>,
}

/// One user's connection; dropping it frees the slot.
pub struct UserSlot {
    slots: Arc<WebSocketSlots>,
    user: Uuid,
    id: u64,
}

impl WebSocketSlots {
    /// A poisoned lock only means a thread panicked mid-update; the map stays usable.
    fn open(&self) -> MutexGuard<'_, HashMap<Uuid, HashMap<u64, CancellationToken>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(
        self: &Arc<Self>,
        user: Uuid,
        max: usize,
        ended: CancellationToken,
    ) -> Result<UserSlot, AppError> {
        let mut open = self.open();
        let connections = open.entry(user).or_default();
        if connections.len() >= max {
            return Err(AppError::RateLimited {
                retry_after_secs: 60,
            });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        connections.insert(id, ended);
        Ok(UserSlot {
            slots: self.clone(),
            user,
            id,
        })
    }

    /// Closes every connection `user` has open here.
    fn end_sessions(&self, user: Uuid) {
        if let Some(connections) = self.open().get(&user) {
            connections.values().for_each(CancellationToken::cancel);
        }
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open();
        if let Some(connections) = open.get_mut(&self.user) {
            connections.remove(&self.id);
            if connections.is_empty() {
                open.remove(&self.user);
            }
        }
    }
}

/// Counts an open WebSocket connection in the gauge for as long as it lives.
struct OpenConnection(Arc<Metrics>);

impl OpenConnection {
    fn count(metrics: &Arc<Metrics>) -> Self {
        metrics.websocket_connections.inc();
        Self(metrics.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.websocket_connections.dec();
    }
}
