//! The operator console (`docs/operators.md`): every instance of the
//! deployment with its hosts, state, health, size, last backup and
//! certificate expiry, as a page (`/operator`) and as JSON for scripts
//! (`/api/operator/v1/instances`, session or bearer). Only the deployment's
//! own site has it: on an instance's host both answer 404 whoever asks.
//! Visitors are sent to sign in (the JSON gets 401) and signed-in people
//! who are not operators get 403, as the admin console answers non-admins.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use lectern_app::instances::InstanceStatus;
use lectern_app::AppError;
use serde_json::json;

use super::page_ctx;
use crate::auth::{ApiMaybeUser, MaybeUser};
use crate::csrf::CsrfToken;
use crate::error::{ApiError, PageResult};
use crate::pages::{error_page, render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/operator", get(console))
        .route("/api/operator/v1/instances", get(instances_json))
}

/// One instance as the page shows it.
struct Row {
    name: String,
    hosts: String,
    state: &'static str,
    open: &'static str,
    health: String,
    healthy: bool,
    size: String,
    last_backup: String,
    certificate: String,
}

#[derive(askama::Template)]
#[template(path = "operator.html")]
struct Console {
    ctx: PageCtx,
    rows: Vec<Row>,
    open: usize,
    disabled: usize,
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Bytes in the largest unit that keeps a number of at least 1.
fn size(bytes: Option<u64>) -> String {
    let Some(b) = bytes else {
        return "unknown".into();
    };
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < units.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[unit])
    }
}

fn joined(when: Option<DateTime<Utc>>, note: &str) -> String {
    match (when, note.is_empty()) {
        (Some(t), true) => time(t),
        (Some(t), false) => format!("{} ({note})", time(t)),
        (None, _) => note.to_string(),
    }
}

fn row(s: &InstanceStatus) -> Row {
    Row {
        name: s.name.clone(),
        hosts: s.hosts.join(", "),
        state: if s.disabled { "disabled" } else { "enabled" },
        open: if s.open { "open" } else { "closed" },
        health: s
            .health_problem
            .clone()
            .unwrap_or_else(|| "database answers".into()),
        healthy: s.health_problem.is_none(),
        size: size(s.size_bytes),
        last_backup: joined(s.last_backup, &s.backup_note),
        certificate: joined(s.certificate_expiry, &s.certificate_note),
    }
}

async fn console(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    csrf: Extension<CsrfToken>,
) -> PageResult<Response> {
    if !state.app.has_operator_console() {
        return Ok(error_page(StatusCode::NOT_FOUND, "Page not found."));
    }
    let Some(user) = user else {
        return Err(AppError::Unauthenticated.into());
    };
    let statuses = state.app.operator_instances(&user).await?;
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&Console {
        ctx,
        open: statuses.iter().filter(|s| s.open).count(),
        disabled: statuses.iter().filter(|s| s.disabled).count(),
        rows: statuses.iter().map(row).collect(),
    }))
}

fn rfc3339(t: Option<DateTime<Utc>>) -> serde_json::Value {
    t.map_or(serde_json::Value::Null, |t| json!(t.to_rfc3339()))
}

async fn instances_json(
    State(state): State<AppState>,
    ApiMaybeUser(user): ApiMaybeUser,
) -> Result<Response, ApiError> {
    if !state.app.has_operator_console() {
        return Err(AppError::NotFound("page".into()).into());
    }
    let Some(user) = user else {
        return Err(AppError::Unauthenticated.into());
    };
    let statuses = state.app.operator_instances(&user).await?;
    let instances: Vec<serde_json::Value> = statuses
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "hosts": s.hosts,
                "enabled": !s.disabled,
                "open": s.open,
                "healthy": s.health_problem.is_none(),
                "health_problem": s.health_problem,
                "size_bytes": s.size_bytes,
                "last_backup": rfc3339(s.last_backup),
                "backup_note": s.backup_note,
                "certificate_expiry": rfc3339(s.certificate_expiry),
                "certificate_note": s.certificate_note,
            })
        })
        .collect();
    Ok(Json(json!({ "count": instances.len(), "instances": instances })).into_response())
}
