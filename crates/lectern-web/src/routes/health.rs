//! `/health/live`, `/health/ready` and `/metrics`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(state): State<AppState>) -> Response {
    let mut failing = Vec::new();
    if state.is_shutting_down() {
        failing.push(json!({"check": "shutdown", "message": "the process is shutting down"}));
    }
    if let Err(e) = state.app.ping().await {
        failing.push(json!({"check": "database", "message": e.to_string()}));
    }
    if failing.is_empty() {
        Json(json!({"status": "ready", "backend": state.app.backend()})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "failing": failing})),
        )
            .into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let up = if state.app.ping().await.is_ok() {
        1.0
    } else {
        0.0
    };
    let ready = if up > 0.0 && !state.is_shutting_down() {
        1.0
    } else {
        0.0
    };
    let body = state.metrics.render(&[
        ("database_up", "1 when the database answers", up),
        ("ready", "1 when this node accepts traffic", ready),
    ]);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
