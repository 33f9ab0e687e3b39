//! `/health/live`, `/health/ready` and `/metrics`.
//!
//! These answer anyone, so they name what is failing and never why: error
//! text (paths, SQL, driver messages) goes to the log only.

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

/// Ready when the database answers and the node is not shutting down.
/// While the database is unreachable the node is `degraded`: it still
/// serves published courses from memory to sessions it saw recently
/// (`crate::degraded`), says since when, and turns ready again by itself.
async fn ready(State(state): State<AppState>) -> Response {
    let shutdown_ok = !state.is_shutting_down();
    // Through the breaker: during an outage this answers at once.
    let database = match state.app.check_database().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database check failed");
            match e {
                lectern_app::StoreError::Unavailable(_) => "unreachable",
                _ => "failing",
            }
        }
    };
    let word = |ok: bool| if ok { "ok" } else { "failing" };
    let checks = json!({"database": database, "shutdown": word(shutdown_ok)});
    if database == "ok" && shutdown_ok {
        return Json(json!({"status": "ready", "backend": state.app.backend(), "checks": checks}))
            .into_response();
    }
    let mut body = json!({"status": "unavailable", "checks": checks});
    if let (Some(outage), true) = (state.app.outage(), shutdown_ok) {
        body["status"] = json!("degraded");
        body["degraded"] = json!({
            "since": outage.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "serving": format!(
                "published course pages and the blocks API, from memory, to sessions this node saw in the last {} minutes",
                lectern_app::recall::WINDOW.num_minutes()
            ),
            "refusing": "writes, answer checks, enrolment, sign-in and registration (503 with Retry-After)",
            "remembered_sessions": state.app.recall().sessions(),
        });
    }
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let up = if state.app.check_database().await.is_ok() {
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
    let body = with_job_metrics(&state, body).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Adds the job queue's families before the closing `# EOF`: jobs by state
/// (the whole queue, from the database) and this node's runs and failures
/// by kind since it started.
async fn with_job_metrics(state: &AppState, body: String) -> String {
    use std::fmt::Write;
    let mut out = body.strip_suffix("# EOF\n").unwrap_or(&body).to_string();
    // During an outage the queue cannot be counted; say nothing rather than wait.
    let counts = match state.app.outage() {
        None => state.app.job_counts().await,
        Some(_) => Err(lectern_app::AppError::Unavailable(
            "database unreachable".into(),
        )),
    };
    match counts {
        Ok(counts) => {
            out.push_str(
                "# HELP lectern_jobs Jobs in the queue by state\n# TYPE lectern_jobs gauge\n",
            );
            for (s, n) in counts {
                let _ = writeln!(out, "lectern_jobs{{state=\"{}\"}} {n}", s.as_str());
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: counting jobs failed"),
    }
    let counters = state.app.job_counters();
    for (name, help, pick) in [
        ("job_runs", "Job runs finished on this node, by kind", 0),
        (
            "job_failures",
            "Job runs on this node that failed, by kind",
            1,
        ),
    ] {
        let _ = write!(
            out,
            "# HELP lectern_{name} {help}\n# TYPE lectern_{name} counter\n"
        );
        for (kind, runs, failures) in &counters {
            let n = if pick == 0 { runs } else { failures };
            // Kinds are this binary's own names, never user input.
            let _ = writeln!(out, "lectern_{name}_total{{kind=\"{kind}\"}} {n}");
        }
    }
    backup_metrics(state, &mut out);
    mail_metrics(state, &mut out).await;
    out.push_str("# EOF\n");
    out
}

/// The mail outbox by state (the whole outbox, from the database); absent
/// during an outage.
async fn mail_metrics(state: &AppState, out: &mut String) {
    use std::fmt::Write;
    if state.app.outage().is_some() {
        return;
    }
    match state.app.mail_counts().await {
        Ok(counts) => {
            out.push_str(
                "# HELP lectern_mail_outbox Messages in the mail outbox by state\n# TYPE lectern_mail_outbox gauge\n",
            );
            for (s, n) in counts {
                let _ = writeln!(out, "lectern_mail_outbox{{state=\"{}\"}} {n}", s.as_str());
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: counting mail failed"),
    }
}

/// The last scheduled backup this node ran (none: the families are absent).
/// With several nodes, take the maximum over them.
fn backup_metrics(state: &AppState, out: &mut String) {
    use std::fmt::Write;
    let Some(last) = state.app.last_backup() else {
        return;
    };
    let ts = |t: chrono::DateTime<chrono::Utc>| t.timestamp_millis() as f64 / 1000.0;
    let success = if last.ok { ts(last.finished_at) } else { 0.0 };
    let mut gauge = |name: &str, help: &str, v: f64| {
        let _ = write!(
            out,
            "# HELP lectern_backup_{name} {help}\n# TYPE lectern_backup_{name} gauge\nlectern_backup_{name} {v}\n"
        );
    };
    if last.ok {
        gauge(
            "last_success_timestamp_seconds",
            "When the last scheduled backup on this node succeeded (Unix time)",
            success,
        );
        gauge(
            "last_size_bytes",
            "Size of the last successful scheduled backup",
            last.size as f64,
        );
    }
    gauge(
        "last_duration_seconds",
        "How long the last scheduled backup on this node took",
        last.duration_secs,
    );
    gauge(
        "last_ok",
        "1 when the last scheduled backup on this node succeeded",
        if last.ok { 1.0 } else { 0.0 },
    );
}
