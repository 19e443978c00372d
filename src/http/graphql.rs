//! GraphQL over HTTP POST and GraphiQL on GET (subscriptions are in [`super::websocket`]).

use std::collections::HashMap;
use std::net::SocketAddr;

use async_graphql::parser::types::{DocumentOperations, OperationType};

use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;
use super::client_ip::client_ip;
use super::responses::{app_error_response, error_response};
use crate::auth::schema::ClientIp;
use crate::auth::service::authenticate;
use crate::error::{AppError, ErrorCode};
use crate::graphql::{MAX_NESTING, text_nesting};
use crate::schema::request_loaders;

/// GraphiQL, wired to the subscription endpoint (see [`super::graphiql`]); not served when
/// introspection is off, since it could not show the schema.
async fn graphiql(state: &HttpState) -> Response {
    if state.app.config.graphql.introspection {
        super::graphiql::page()
    } else {
        error_response(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "GraphiQL is off because schema introspection is off (GRAPHQL_INTROSPECTION).",
        )
    }
}

/// `GET /graphql`: with a `query` parameter, runs it (queries only, never mutations, as the
/// GraphQL-over-HTTP spec says, since links and prefetches send GET); without one, GraphiQL.
pub async fn get(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(query) = params.get("query") else {
        return graphiql(&state).await;
    };
    if let Err(refusal) = only_a_query(query, params.get("operationName")) {
        return refusal;
    }
    let mut request = async_graphql::Request::new(query.clone());
    if let Some(name) = params.get("operationName") {
        request = request.operation_name(name.clone());
    }
    if let Some(raw) = params.get("variables") {
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(value) => request = request.variables(async_graphql::Variables::from_json(value)),
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "The variables parameter is not valid JSON.",
                );
            }
        }
    }
    run(&state, peer, &headers, request).await
}

/// Refuses a GET whose operation is not a query (405, as the spec asks).
#[allow(clippy::result_large_err)]
fn only_a_query(query: &str, operation: Option<&String>) -> Result<(), Response> {
    let refuse = |message: &str| {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            message,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
        response
    };
    // Parsing recurses: the same nesting bound as for any request comes first.
    if text_nesting(query) > MAX_NESTING {
        return Ok(()); // the schema refuses it with its coded error
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return Ok(()); // the schema reports the syntax error
    };
    let ty = match (&document.operations, operation) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name.as_str()).map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    match ty {
        Some(OperationType::Query) | None => Ok(()),
        Some(_) => Err(refuse(
            "Only queries may be sent with GET; send mutations and subscriptions with POST.",
        )),
    }
}

/// Executes one GraphQL request sent with `POST`. The body must be `application/json` (415
/// otherwise: a cross-origin page can send `text/plain` without asking first) and at most
/// `GRAPHQL_MAX_BODY_BYTES` (413, as JSON with a code). Batched requests (a JSON array) are
/// refused.
pub async fn execute(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !is_json(&headers) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Send GraphQL requests as Content-Type: application/json.",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                &format!(
                    "The request body is larger than {} bytes.",
                    state.app.config.graphql.max_body_bytes
                ),
            );
        }
        Err(rejection) => {
            return error_response(
                rejection.status(),
                ErrorCode::BadUserInput,
                "The request body could not be read.",
            );
        }
    };
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
    let request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(request) => request,
        Err(err) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!("The body is not a GraphQL request: {err}"),
            );
        }
    };
    run(&state, peer, &headers, request).await
}

/// Whether the body is declared as JSON (`application/json`, parameters such as `charset`
/// allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Runs a request as the caller its bearer token names (or a visitor).
async fn run(
    state: &HttpState,
    peer: SocketAddr,
    headers: &HeaderMap,
    mut request: async_graphql::Request,
) -> Response {
    request.data = request_loaders(&state.app);
    request.data.insert(ClientIp(Some(client_ip(
        peer,
        headers,
        &state.app.config.trusted_proxies,
    ))));
    match bearer_token(headers) {
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
