//! GraphQL over HTTP POST and GraphiQL on GET (subscriptions are in [`super::websocket`]).

use std::net::SocketAddr;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::HttpState;
use super::client_ip::client_ip;
use super::responses::{app_error_response, error_response};
use crate::auth::schema::ClientIp;
use crate::auth::service::authenticate;
use crate::error::{AppError, ErrorCode};
use crate::graphql::request_loaders;

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
    request.data.insert(ClientIp(Some(client_ip(
        peer,
        &headers,
        &state.app.config.trusted_proxies,
    ))));
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
