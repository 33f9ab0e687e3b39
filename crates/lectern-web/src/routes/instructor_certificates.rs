//! The course team's certificates page, `/courses/{key}/instructor/certificates`
//! (course staff, instructors and site admins; anyone else gets the 404
//! page): the course's certificates, "generate for every passing learner"
//! (a job; the page shows its state and the counts as it runs), revoke
//! with a reason, and re-issue.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::certificates::{CertificateDisplay, CertificateStatus, CERTIFICATE_LIST_LIMIT};
use lectern_app::{AppError, User};
use serde::Deserialize;

use super::{course_key, page_ctx};
use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/courses/{course_key}/instructor/certificates", get(list))
        .route(
            "/courses/{course_key}/instructor/certificates/generate",
            post(generate),
        )
        .route(
            "/courses/{course_key}/instructor/certificates/{verify_id}/revoke",
            post(revoke),
        )
        .route(
            "/courses/{course_key}/instructor/certificates/{verify_id}/reissue",
            post(reissue),
        )
}

struct Row {
    verify_id: String,
    name: String,
    grade: String,
    issued: String,
    revoked: bool,
    reason: String,
}

#[derive(Template)]
#[template(path = "instructor_certificates.html")]
struct ListPage {
    ctx: PageCtx,
    course_key: String,
    course_name: String,
    enabled: bool,
    /// When learners and the public see issued certificates.
    shown: String,
    generated: i64,
    revoked: i64,
    job_state: Option<String>,
    rows: Vec<Row>,
    limit: i64,
    error: Option<String>,
}

/// The course's display behaviour in words, for the course team.
fn shown_text(d: &CertificateDisplay, now: chrono::DateTime<chrono::Utc>) -> String {
    let day = |t: chrono::DateTime<chrono::Utc>| t.format("%-d %B %Y").to_string();
    let when = if d.visible_at(now) {
        "now".to_string()
    } else {
        match d.shown_from() {
            Some(t) => format!("from {}", day(t)),
            None => "when the course ends (it has no end date)".to_string(),
        }
    };
    format!(
        "Learners and the public see issued certificates {when} (certificates_display_behavior: {}).",
        d.behavior.as_str()
    )
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    job: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
struct RevokeForm {
    #[serde(default)]
    reason: String,
}

async fn list_page(
    state: &AppState,
    user: &User,
    csrf: &Extension<CsrfToken>,
    raw: &str,
    job: Option<i64>,
    error: Option<String>,
) -> PageResult<Response> {
    let key = course_key(raw)?;
    let view = state.app.course_certificates(user, &key).await?;
    let job_state = match job {
        Some(id) => state
            .app
            .certificate_job_state(user, &key, id)
            .await?
            .map(|s| s.as_str().to_string()),
        None => None,
    };
    let course_name = match state.app.published_course(&key).await {
        Ok(c) => c.tree.display_name(),
        Err(_) => key.to_string(),
    };
    let rows = view
        .certificates
        .into_iter()
        .map(|c| Row {
            revoked: c.status == CertificateStatus::Revoked,
            reason: c.revoke_reason.unwrap_or_default(),
            verify_id: c.verify_id,
            name: c.name,
            grade: format!("{:.0}%", c.grade * 100.0),
            issued: c.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect();
    let page = render(&ListPage {
        ctx: page_ctx(state, Some(user), csrf).await,
        course_key: key.to_string(),
        course_name,
        enabled: view.rule.enabled(),
        shown: shown_text(&view.rule.display, state.app.now()),
        generated: view.generated,
        revoked: view.revoked,
        job_state,
        rows,
        limit: CERTIFICATE_LIST_LIMIT,
        error: error.clone(),
    });
    Ok(match error {
        Some(_) => (StatusCode::BAD_REQUEST, page).into_response(),
        None => page,
    })
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    Query(q): Query<ListQuery>,
) -> PageResult<Response> {
    list_page(&state, &user, &csrf, &raw, q.job, None).await
}

/// A refused action: the page again with the reason, as a 400.
async fn refused(
    state: &AppState,
    user: &User,
    csrf: &Extension<CsrfToken>,
    raw: &str,
    e: AppError,
) -> PageResult<Response> {
    match e {
        AppError::Invalid {
            message,
            field_errors,
        } => {
            let message = field_errors.into_values().next().unwrap_or(message);
            list_page(state, user, csrf, raw, None, Some(message)).await
        }
        AppError::Conflict(message) => list_page(state, user, csrf, raw, None, Some(message)).await,
        other => Err(other.into()),
    }
}

async fn generate(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    PageForm(_): PageForm<BTreeMap<String, String>>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    match state.app.start_certificate_generation(&user, &key).await {
        Ok(job) => {
            let query = job.map(|id| format!("?job={id}")).unwrap_or_default();
            Ok(
                Redirect::to(&format!("/courses/{key}/instructor/certificates{query}"))
                    .into_response(),
            )
        }
        Err(e) => refused(&state, &user, &csrf, &raw, e).await,
    }
}

async fn revoke(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path((raw, verify_id)): Path<(String, String)>,
    PageForm(form): PageForm<RevokeForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    match state
        .app
        .revoke_certificate(&user, &key, &verify_id, &form.reason)
        .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/courses/{key}/instructor/certificates")).into_response())
        }
        Err(e) => refused(&state, &user, &csrf, &raw, e).await,
    }
}

async fn reissue(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path((raw, verify_id)): Path<(String, String)>,
    PageForm(_): PageForm<BTreeMap<String, String>>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    match state.app.reissue_certificate(&user, &key, &verify_id).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/courses/{key}/instructor/certificates")).into_response())
        }
        Err(e) => refused(&state, &user, &csrf, &raw, e).await,
    }
}
