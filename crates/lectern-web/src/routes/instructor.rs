//! The instructor dashboard of a course (its team and site admins; anyone
//! else gets the not-found page, so course keys don't leak): the landing
//! page linking to each tool, and the whole-course regrade with its
//! progress. Reports are `instructor_reports.rs`, e-mail `course_email.rs`.

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use super::{course_key, page_ctx};
use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/courses/{course_key}/instructor", get(dashboard))
        .route("/courses/{course_key}/instructor/", get(dashboard))
        .route(
            "/courses/{course_key}/instructor/regrade",
            get(regrade_page),
        )
        .route(
            "/courses/{course_key}/instructor/regrade/start",
            post(start_regrade),
        )
}

#[derive(Template)]
#[template(path = "instructor.html")]
struct DashboardPage {
    ctx: PageCtx,
    course_key: String,
    course_name: String,
}

async fn dashboard(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let course = state.app.instructor_course(&user, &key).await?;
    Ok(render(&DashboardPage {
        ctx: page_ctx(&state, Some(&user), &csrf).await,
        course_key: key.to_string(),
        course_name: course.display_name,
    }))
}

/// One regrade as the page lists it.
struct RunRow {
    version: i64,
    state: String,
    done: i64,
    total: i64,
    updated: String,
}

#[derive(Template)]
#[template(path = "instructor_regrade.html")]
struct RegradePage {
    ctx: PageCtx,
    course_key: String,
    course_name: String,
    published_version: Option<i64>,
    runs: Vec<RunRow>,
    /// Something is queued or running: the page offers a reload.
    busy: bool,
}

async fn regrade_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let status = state.app.regrade_status(&user, &key).await?;
    let runs: Vec<RunRow> = status
        .runs
        .into_iter()
        .map(|r| RunRow {
            version: r.version,
            state: r.state,
            done: r.learners_done,
            total: r.learners_total,
            updated: r.updated_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        })
        .collect();
    Ok(render(&RegradePage {
        ctx: page_ctx(&state, Some(&user), &csrf).await,
        course_key: key.to_string(),
        course_name: status.course_name,
        published_version: status.published_version,
        busy: runs
            .iter()
            .any(|r| matches!(r.state.as_str(), "queued" | "running")),
        runs,
    }))
}

async fn start_regrade(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    state.app.request_course_regrade(&user, &key).await?;
    Ok(Redirect::to(&format!("/courses/{key}/instructor/regrade")).into_response())
}
