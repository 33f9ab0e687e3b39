//! The admin console's jobs page: the newest background jobs (kind, state,
//! attempts, last error, times) and how many are in each state, so an
//! operator can see a regrade running, waiting to retry, or failed.

use axum::extract::{Extension, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lectern_app::jobs::Job;

use super::page_ctx;
use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/jobs", get(jobs))
}

/// One job as the page shows it.
struct JobRow {
    id: i64,
    kind: String,
    /// The payload's target, e.g. the course and version of a regrade.
    target: String,
    state: &'static str,
    attempts: String,
    last_error: String,
    created: String,
    updated: String,
    run_after: String,
    holder: String,
}

#[derive(askama::Template)]
#[template(path = "admin_jobs.html")]
struct JobsPage {
    ctx: PageCtx,
    counts: Vec<(&'static str, i64)>,
    jobs: Vec<JobRow>,
}

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn row(job: Job) -> JobRow {
    let target = match (
        job.payload["course_key"].as_str(),
        job.payload["version"].as_i64(),
    ) {
        (Some(c), Some(v)) => format!("{c} v{v}"),
        // A scheduled backup: the due time it was taken for.
        _ => job.payload["due"]
            .as_str()
            .map(|d| format!("due {d}"))
            .unwrap_or_default(),
    };
    JobRow {
        id: job.id,
        target,
        state: job.state.as_str(),
        attempts: format!("{} / {}", job.attempts, job.max_attempts),
        last_error: job.last_error.unwrap_or_default(),
        created: time(job.created_at),
        updated: time(job.updated_at),
        run_after: time(job.run_after),
        holder: job.locked_by.unwrap_or_default(),
        kind: job.kind,
    }
}

async fn jobs(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
) -> PageResult<Response> {
    let jobs = state.app.admin_jobs(&user).await?;
    let counts = state
        .app
        .job_counts()
        .await?
        .into_iter()
        .map(|(s, n)| (s.as_str(), n))
        .collect();
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&JobsPage {
        ctx,
        counts,
        jobs: jobs.into_iter().map(row).collect(),
    }))
}
