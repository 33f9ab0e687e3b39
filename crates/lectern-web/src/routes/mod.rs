//! One router per feature, merged here.

mod accounts;
mod admin;
mod admin_discussions;
mod admin_jobs;
mod admin_mail;
mod api;
mod certificates;
mod course_email;
pub(crate) mod discussion;
mod health;
mod instructor;
mod instructor_analytics;
mod instructor_certificates;
mod instructor_cohorts;
mod instructor_reports;
mod lms;
mod media;
mod operator;
mod password;
mod search;
mod studio;
mod tracking;

use axum::extract::Extension;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use lectern_app::User;

use crate::csrf::CsrfToken;
use crate::pages::PageCtx;
use crate::state::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/assets/lectern.css", get(stylesheet))
        .route("/assets/upload.js", get(upload_script))
        .route("/assets/problem.js", get(problem_script))
        .merge(media::router())
        .merge(health::router())
        .merge(accounts::router())
        .merge(password::router())
        .merge(lms::router())
        .merge(discussion::router())
        .merge(studio::router(&state))
        .merge(admin::router())
        .merge(admin_jobs::router())
        .merge(admin_discussions::router())
        .merge(admin_mail::router())
        .merge(operator::router())
        .merge(course_email::router())
        .merge(instructor::router())
        .merge(instructor_analytics::router())
        .merge(instructor_reports::router())
        .merge(certificates::router())
        .merge(instructor_certificates::router())
        .merge(instructor_cohorts::router())
        .merge(api::router())
        .merge(search::router())
        .merge(tracking::router())
        .fallback(not_found)
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/lectern.css"),
    )
}

async fn upload_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/upload.js"),
    )
}

async fn problem_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/problem.js"),
    )
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    let path = uri.path();
    if path.starts_with("/api/") || path.starts_with("/oauth2/") {
        crate::error::ApiError::with_status(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            format!("No API endpoint at {path}."),
        )
    } else {
        crate::pages::error_page(
            axum::http::StatusCode::NOT_FOUND,
            "There is no page at this address.",
        )
    }
}

/// The layout context for a page.
pub async fn page_ctx(
    state: &AppState,
    user: Option<&User>,
    csrf: &Extension<CsrfToken>,
) -> PageCtx {
    let studio = match user {
        Some(u) => state.app.may_use_studio(u).await.unwrap_or(false),
        None => false,
    };
    PageCtx {
        user: user.cloned(),
        csrf: csrf.0 .0.clone(),
        site_name: state.config.site_name.clone(),
        logo_url: state.config.logo_url.clone(),
        contact_email: state.config.contact_email.clone(),
        studio,
    }
}

/// Parses a course key from a path segment, as a 404 when it is not one.
pub fn course_key(raw: &str) -> Result<lectern_content::CourseKey, lectern_app::AppError> {
    raw.parse()
        .map_err(|_| lectern_app::AppError::not_found(format!("course {raw}")))
}

/// A file name safe to put after `/static/` in a link: no path tricks, no markup.
pub fn safe_static_name(name: &str) -> bool {
    lectern_app::transfer::valid_asset_path(name)
}
