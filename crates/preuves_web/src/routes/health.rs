//! Liveness and readiness, for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::AppState;

/// The process answers.
pub(crate) async fn live() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// The process answers and its database too.
pub(crate) async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "ok", "backend": state.db.backend().name()})),
        ),
        Err(e) => {
            tracing::error!(error = %e, "readiness: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "unreachable"})),
            )
        }
    }
}
