//! Public feeds for feed readers and calendar apps.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;
use crate::news::feed::news_feed;

/// The news column as Atom.
pub async fn news(State(state): State<HttpState>) -> Response {
    match news_feed(&state.app.db, &state.app.mail).await {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
            xml,
        )
            .into_response(),
        Err(err) => {
            err.log_if_internal();
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
