//! Liveness and readiness probes, and Prometheus metrics.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::HttpState;
use crate::db;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can reach its database.
pub async fn readyz(State(state): State<HttpState>) -> (StatusCode, &'static str) {
    match db::ping(&state.app.db).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Prometheus text exposition of this instance's metrics (and the shared outbox's depth).
pub async fn metrics(State(state): State<HttpState>) -> impl IntoResponse {
    let stats = crate::notify::outbox::stats(&state.app.db).await;
    let body = state.app.metrics.render(stats, chrono::Utc::now());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
