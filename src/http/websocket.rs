//! Subscriptions over WebSocket (`graphql-transport-ws`), with connection hygiene:
//!
//! - a client that sends no `connection_init` in time is closed with 4408;
//! - the server pings every keepalive interval and closes a client it has not heard from
//!   (not even a pong) for three intervals;
//! - outgoing messages pass through a small bounded queue, and a client that does not take a
//!   message within the send timeout is closed, so a slow consumer holds a bounded amount of
//!   memory and is never waited on forever;
//! - each user, and each client address, may hold a limited number of connections at once, and
//!   each connection a limited number of running operations;
//! - a connection keeps the rights of its token and memberships, no more: it closes (4403)
//!   when its token is revoked or expires, and when the user's password or memberships change,
//!   on every instance ([`end_sessions_on_rights_change`] runs once per instance); a forged
//!   token in `connection_init` is closed with 4403 as well.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, PollSender};
use uuid::Uuid;

use super::HttpState;
use super::client_ip::client_ip;
use super::responses::app_error_response;
use crate::auth::service::authenticate_until;
use crate::config::WebSocketLimits;
use crate::error::{AppError, ErrorCode};
use crate::events::kinds;
use crate::graphql::SubscriptionBudget;
use crate::metrics::Metrics;
use crate::schema::request_loaders;

/// Messages waiting for a client before the GraphQL side has to wait too.
const OUTGOING_QUEUE: usize = 32;
/// graphql-transport-ws: "Connection initialisation timeout".
const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// graphql-transport-ws: "Forbidden": a bad token, or the rights the connection was opened
/// with are gone (logged out, expired, password or memberships changed).
const CLOSE_FORBIDDEN: u16 = 4403;
/// Bytes read from a connection's socket at a time.
const READ_BUFFER_BYTES: usize = 4096;
/// A keepalive interval's multiple after which a silent client is closed.
const SILENT_INTERVALS: u32 = 3;

/// Subscriptions over `graphql-transport-ws`. The `connection_init` payload may carry a token
/// (see [`init_token`]); a connection without one is a visitor's, a bad token closes it.
pub async fn upgrade(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let address = client_ip(peer, &headers, &state.app.config.trusted_proxies);
    let limits = state.app.config.websocket;
    let Some(address_slot) = state
        .websocket_slots
        .take_address(address, limits.max_per_address)
    else {
        return app_error_response(AppError::RateLimited {
            retry_after_secs: 60,
        });
    };
    // A message is a GraphQL request at most as large as an HTTP one. A small read buffer keeps
    // idle connections cheap (tungstenite allocates 128 KiB per connection by default).
    let max_message = state.app.config.graphql.max_body_bytes;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |socket| {
            let cookie_token = session_cookie_token(&headers);
            serve(state, protocol, socket, address_slot, cookie_token)
        })
}

/// The web pages' session (the `session` cookie) for a connection opened by a page of this
/// site, so the pages' live view needs no token in script. A handshake from another site
/// (`Origin` not this host) never gets the cookie's rights.
fn session_cookie_token(headers: &HeaderMap) -> Option<String> {
    let token =
        crate::http::pages::reader::cookie(headers, crate::http::pages::reader::SESSION_COOKIE)?;
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())?;
        let origin = origin.to_str().ok()?;
        if origin != format!("http://{host}") && origin != format!("https://{host}") {
            return None;
        }
    }
    Some(token.to_owned())
}

async fn serve(
    state: HttpState,
    protocol: GraphQLProtocol,
    socket: WebSocket,
    _address_slot: AddressSlot,
    cookie_token: Option<String>,
) {
    let app = state.app.clone();
    let limits = app.config.websocket;
    let _open = OpenConnection::count(&app.metrics);
    let (socket_sink, socket_stream) = socket.split();
    let heard = Arc::new(Mutex::new(Instant::now()));
    let initialized = Arc::new(AtomicBool::new(false));
    // Held for the life of the connection once the user is known.
    let slot: Arc<Mutex<Option<UserSlot>>> = Arc::default();
    // Cancelled when the connection's rights end (see [`end_sessions_on_rights_change`]).
    let session_ended = CancellationToken::new();
    // Ends the expiry timer with the connection.
    let _connection_over = session_ended.clone().drop_guard();
    // Set when `connection_init` carried a token that is not valid: its close becomes 4403.
    let forbidden = Arc::new(AtomicBool::new(false));

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
        let (initialized, slot, session_ended, forbidden) = (
            initialized.clone(),
            slot.clone(),
            session_ended.clone(),
            forbidden.clone(),
        );
        let slots = state.websocket_slots.clone();
        GraphQLWebSocket::new_with_pair(
            outgoing.sink_map_err(|_| ()),
            incoming,
            state.schema.clone(),
            protocol,
        )
        .on_connection_init(move |payload| async move {
            let mut data = request_loaders(&app);
            data.insert(SubscriptionBudget::new(limits.max_subscriptions));
            if let Some(token) = init_token(&payload).or(cookie_token.as_deref()) {
                // Read before the grants: a change of rights up to this seq is already in what
                // authentication reads (events become visible in seq order), so only later ones
                // end this session.
                let seen = crate::events::service::log_end(&app.db)
                    .await
                    .map_err(crate::error::AppError::from)?;
                let (viewer, expires_at) = match authenticate_until(&app.db, token).await {
                    Ok(found) => found,
                    Err(err) => {
                        if err.code() == ErrorCode::Unauthenticated {
                            forbidden.store(true, Ordering::SeqCst);
                        }
                        return Err(err.into());
                    }
                };
                let taken = slots.take(
                    viewer.id(),
                    Session {
                        token: viewer.token_id,
                        seen,
                        ended: session_ended.clone(),
                    },
                    limits.max_per_user,
                )?;
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(taken);
                }
                // The token's end is the connection's end.
                let until_expiry = (expires_at - chrono::Utc::now())
                    .to_std()
                    .unwrap_or_default();
                tokio::spawn(async move {
                    tokio::select! {
                        () = tokio::time::sleep(until_expiry) => session_ended.cancel(),
                        () = session_ended.cancelled() => {}
                    }
                });
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
        forbidden,
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
    forbidden: Arc<AtomicBool>,
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
                let _ = close(
                    &mut socket,
                    CLOSE_FORBIDDEN,
                    "Your session or rights changed; connect again (log in again if refused)",
                )
                .await;
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
        // async-graphql closes a failed `connection_init` with 1002; the protocol's code for a
        // bad token is 4403.
        let message = match message {
            Message::Close(Some(frame))
                if frame.code == 1002 && forbidden.load(Ordering::SeqCst) =>
            {
                Message::Close(Some(CloseFrame {
                    code: CLOSE_FORBIDDEN,
                    reason: "Forbidden: Authentication failed; the token is not valid".into(),
                }))
            }
            other => other,
        };
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

/// Ends connections on this instance whose rights changed; the events reach every instance.
/// A password change or a membership added or removed ends all of the user's connections (they
/// reconnect with their new rights); a logout ends those opened with the revoked token. One
/// task per instance, so that other events wake nothing per connection.
pub async fn end_sessions_on_rights_change(
    events: crate::events::EventBus,
    slots: Arc<WebSocketSlots>,
    stop: CancellationToken,
) {
    let mut events = events.subscribe();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            received = events.recv() => match received {
                Ok(event) => {
                    let model = &event.model;
                    match model.kind.as_str() {
                        kinds::USER_PASSWORD_CHANGED
                        | kinds::USER_DEACTIVATED
                        | kinds::MEMBERSHIP_ADDED
                        | kinds::MEMBERSHIP_REMOVED => {
                            slots.end_sessions(model.subject_id, None, model.seq);
                        }
                        kinds::USER_LOGGED_OUT => {
                            slots.end_sessions(model.subject_id, model.object_id, model.seq);
                        }
                        _ => {}
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // Which connections lost their rights is unknown: end them all here; each
                    // client reconnects with the rights it has now.
                    tracing::warn!(missed, "the session watcher fell behind; ending every WebSocket session");
                    slots.end_all();
                }
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

/// Open connections on this instance: per user, each with its token and the cancellation that
/// closes it when its rights end; and a count per client address.
#[derive(Default)]
pub struct WebSocketSlots {
    next_id: AtomicU64,
    open: Mutex<HashMap<Uuid, HashMap<u64, Session>>>,
    addresses: Mutex<HashMap<IpAddr, usize>>,
}

/// A connection's token, the last event seq its authentication had seen, and the
/// cancellation that closes it.
struct Session {
    token: Uuid,
    seen: i64,
    ended: CancellationToken,
}

/// One user's connection; dropping it frees the slot.
pub struct UserSlot {
    slots: Arc<WebSocketSlots>,
    user: Uuid,
    id: u64,
}

/// One connection of a client address; dropping it frees the slot.
pub struct AddressSlot {
    slots: Arc<WebSocketSlots>,
    address: IpAddr,
}

/// A poisoned lock only means a thread panicked mid-update; the map stays usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl WebSocketSlots {
    fn take(
        self: &Arc<Self>,
        user: Uuid,
        session: Session,
        max: usize,
    ) -> Result<UserSlot, AppError> {
        let mut open = lock(&self.open);
        let connections = open.entry(user).or_default();
        if connections.len() >= max {
            return Err(AppError::RateLimited {
                retry_after_secs: 60,
            });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        connections.insert(id, session);
        Ok(UserSlot {
            slots: self.clone(),
            user,
            id,
        })
    }

    /// A connection for `address`, or `None` when it already holds `max`.
    fn take_address(self: &Arc<Self>, address: IpAddr, max: usize) -> Option<AddressSlot> {
        let mut addresses = lock(&self.addresses);
        let count = addresses.entry(address).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            slots: self.clone(),
            address,
        })
    }

    /// Closes the connections `user` has open here (only those of `token`, if given) that
    /// authenticated before the change numbered `seq`; a later one already has its outcome.
    fn end_sessions(&self, user: Uuid, token: Option<Uuid>, seq: i64) {
        if let Some(connections) = lock(&self.open).get(&user) {
            connections
                .values()
                .filter(|session| token.is_none_or(|token| token == session.token))
                .filter(|session| session.seen < seq)
                .for_each(|session| session.ended.cancel());
        }
    }

    fn end_all(&self) {
        lock(&self.open)
            .values()
            .flat_map(HashMap::values)
            .for_each(|session| session.ended.cancel());
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.slots.open);
        if let Some(connections) = open.get_mut(&self.user) {
            connections.remove(&self.id);
            if connections.is_empty() {
                open.remove(&self.user);
            }
        }
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut addresses = lock(&self.slots.addresses);
        if let Some(count) = addresses.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                addresses.remove(&self.address);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rights_change_ends_only_sessions_that_authenticated_before_it() {
        let slots = Arc::new(WebSocketSlots::default());
        let user = Uuid::now_v7();
        let token = Uuid::now_v7();
        let session = |seen: i64| {
            let ended = CancellationToken::new();
            let taken = slots
                .take(
                    user,
                    Session {
                        token,
                        seen,
                        ended: ended.clone(),
                    },
                    10,
                )
                .unwrap();
            (taken, ended)
        };
        let (_older, older_ended) = session(5);
        let (_newer, newer_ended) = session(12);
        // Seq 8 was committed before the newer session read its grants: it keeps them.
        slots.end_sessions(user, None, 8);
        assert!(older_ended.is_cancelled());
        assert!(!newer_ended.is_cancelled());
        // A later change ends it too; another token's logout does not.
        slots.end_sessions(user, Some(Uuid::now_v7()), 20);
        assert!(!newer_ended.is_cancelled());
        slots.end_sessions(user, Some(token), 20);
        assert!(newer_ended.is_cancelled());
    }
}
