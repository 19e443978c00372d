//! Inquiry and question pages, read-only: what their reader may see of them. A visitor is sent
//! to sign in first; a reader who may not see one gets "not available".

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;
use uuid::Uuid;

use super::{Reader, not_available, page, query};
use crate::http::HttpState;

async fn read_only(
    state: &HttpState,
    reader: &Reader,
    id: &str,
    operation: &'static str,
    field: &str,
    template: &str,
) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return not_available(state, reader);
    };
    if reader.viewer.is_none() {
        return not_available(state, reader);
    }
    let variables = json!({ "id": id, "locale": reader.lang.graphql_locale() });
    let data = match query(state, reader, operation, variables).await {
        Ok(data) => data,
        Err(response) => return response,
    };
    match data.get(field) {
        Some(found) if !found.is_null() => page(state, reader, template, json!({ "item": found })),
        _ => not_available(state, reader),
    }
}

/// `GET /inquiries/{id}`: title, body, state, deadline, coverage and the answers the reader
/// may see.
pub async fn inquiry(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    read_only(
        &state,
        &reader,
        &id,
        include_str!("ops/inquiry.graphql"),
        "inquiry",
        "inquiry.html",
    )
    .await
}

/// `GET /questions/{id}`: the question, its state and each step it has taken.
pub async fn question(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    reader: Reader,
) -> Response {
    read_only(
        &state,
        &reader,
        &id,
        include_str!("ops/question.graphql"),
        "question",
        "question.html",
    )
    .await
}
