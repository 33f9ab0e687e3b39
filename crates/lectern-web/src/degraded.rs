//! The site while its database cannot be reached (see `lectern_app::outage`
//! and `lectern_app::recall`): published course pages and the blocks API
//! are answered from what this node saw recently; every other request is
//! refused at once with a 503 and `Retry-After` (JSON for the API, a page
//! for browsers) rather than waiting for the database and failing later.
//!
//! Nothing here acts while the database answers: the check is one atomic
//! load until an outage starts, and an outage ends at the first probe of the
//! database that succeeds (at most a second apart).

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Seconds a refused client is asked to wait before trying again.
pub const RETRY_AFTER_SECS: &str = "5";

const WRITE_REFUSED: &str = "The site cannot reach its database just now, so nothing can be saved, checked or signed in to; course pages you opened recently can still be read. Try again in a few seconds.";

const READ_REFUSED: &str = "The site cannot reach its database just now. Course pages you opened recently can still be read, but this page needs the database. Try again in a few seconds.";

/// Whether a read can be answered from memory: the outline, unit pages and
/// `jump_to` links, a course's about page and catalogue entry, the blocks
/// APIs, and what needs no database (health, metrics, the site's assets).
pub fn served_from_memory(path: &str) -> bool {
    if path.starts_with("/health/") || path == "/metrics" || path.starts_with("/assets/") {
        return true;
    }
    if matches!(path, "/api/courses/v1/blocks/" | "/api/courses/v2/blocks/") {
        return true;
    }
    if let Some(key) = path.strip_prefix("/api/courses/v1/courses/") {
        let key = key.strip_suffix('/').unwrap_or(key);
        return !key.is_empty() && !key.contains('/');
    }
    let Some(rest) = path.strip_prefix("/courses/") else {
        return false;
    };
    let parts: Vec<&str> = rest.splitn(4, '/').collect();
    match parts.as_slice() {
        [_key] | [_key, ""] | [_key, "about"] => true,
        [_key, "unit" | "jump_to", id] => !id.is_empty(),
        _ => false,
    }
}

/// During an outage: passes reads that memory can answer, refuses the rest.
pub async fn during_outage(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.app.database_reachable().await {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let read = req.method() == Method::GET || req.method() == Method::HEAD;
    if read && served_from_memory(path) {
        return next.run(req).await;
    }
    tracing::info!(method = %req.method(), path, "refused: the database is unreachable");
    let message = if !read || matches!(path, "/login" | "/register") {
        WRITE_REFUSED
    } else {
        READ_REFUSED
    };
    if path.starts_with("/api/") || path.starts_with("/oauth2/") {
        return crate::error::ApiError::with_status(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            message,
        );
    }
    let mut resp = crate::pages::error_page(StatusCode::SERVICE_UNAVAILABLE, message);
    resp.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    resp
}

/// The note shown in place of a problem's saved state while it cannot be read.
pub const STATE_UNAVAILABLE: &str = "Your saved answers and grades can't be shown right now; answers can't be checked until the service is back.";

#[cfg(test)]
mod tests {
    use super::served_from_memory;

    #[test]
    fn only_published_course_reads_are_served_from_memory() {
        let key = "course-v1:T+D+R";
        for served in [
            format!("/courses/{key}/"),
            format!("/courses/{key}"),
            format!("/courses/{key}/about"),
            format!("/courses/{key}/unit/v1"),
            format!("/courses/{key}/jump_to/block-v1:T+D+R+type@html+block@h1"),
            "/api/courses/v1/blocks/".into(),
            "/api/courses/v2/blocks/".into(),
            format!("/api/courses/v1/courses/{key}"),
            "/health/ready".into(),
            "/assets/lectern.css".into(),
        ] {
            assert!(served_from_memory(&served), "{served}");
        }
        for refused in [
            "/".to_string(),
            "/courses".into(),
            "/dashboard".into(),
            "/login".into(),
            format!("/courses/{key}/progress"),
            format!("/courses/{key}/static/a.png"),
            format!("/courses/{key}/unit/"),
            format!("/courses/{key}/unit/v1/extra"),
            "/api/courses/v1/courses/".into(),
            format!("/api/problems/v1/block-v1:{key}/check"),
            "/studio/".into(),
            "/admin/".into(),
        ] {
            assert!(!served_from_memory(&refused), "{refused}");
        }
    }
}
