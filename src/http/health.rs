//! Liveness and readiness probes.

use axum::extract::State;
use axum::http::StatusCode;

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
