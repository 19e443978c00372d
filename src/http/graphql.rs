//! GraphQL over HTTP POST, GraphiQL on GET, subscriptions over WebSocket.

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, GraphiQLSource};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse, GraphQLWebSocket};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::HttpState;
use super::responses::{app_error_response, error_response};
use crate::auth::schema::ClientIp;
use crate::auth::service::authenticate;
use crate::error::{AppError, ErrorCode};
use crate::graphql::request_loaders;
use crate::metrics::Metrics;

/// GraphiQL, wired to the subscription endpoint.
pub async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Digimentor GraphiQL")
            .finish(),
    )
}

/// Executes one GraphQL request. Batched requests (a JSON array) are refused; the body size is
/// bounded by the router's body limit (413 beyond it).
pub async fn execute(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let value: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "The request body is not valid JSON.",
            );
        }
    };
    if value.is_array() {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "Batched requests are not supported: send one operation per request.",
        );
    }
    if !value.get("query").is_some_and(serde_json::Value::is_string) {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "The body must be a JSON object with a \"query\" string.",
        );
    }
    let mut request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(request) => request,
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!("The body is not a GraphQL request: {err}"),
            );
        }
    };
    request.data = request_loaders(&state.app);
    request.data.insert(ClientIp(Some(peer.ip())));
    match bearer_token(&headers) {
        Ok(None) => {}
        Ok(Some(token)) => match authenticate(&state.app.db, token).await {
            Ok(viewer) => request.data.insert(viewer),
            Err(err) => return app_error_response(err),
        },
        Err(err) => return app_error_response(err),
    }
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

/// The token of an `Authorization: Bearer` header; any other scheme is refused.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|token| Some(token.trim()))
        .ok_or(AppError::Unauthenticated)
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

/// Subscriptions over `graphql-transport-ws`. The `connection_init` payload may carry a token
/// (see [`init_token`]); a connection without one is a visitor's, a bad token closes it.
pub async fn websocket(
    State(state): State<HttpState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let app = state.app.clone();
            let _open = OpenConnection::count(&app.metrics);
            let connection = GraphQLWebSocket::new(socket, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let mut data = request_loaders(&app);
                    if let Some(token) = init_token(&payload) {
                        let viewer = authenticate(&app.db, token).await?;
                        data.insert(viewer);
                    }
                    Ok(data)
                })
                .serve();
            tokio::select! {
                () = connection => {}
                () = state.shutdown.cancelled() => {}
            }
        })
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
