//! The site while its database cannot be reached (see `lectern_app::outage`
//! and `lectern_app::recall`): reads of published courses are answered from
//! what this node saw recently, and every write is refused at once with a
//! 503 and `Retry-After` (JSON for the API, a page for browsers) rather than
//! waiting for the database and failing later.
//!
//! Reads pass through: the app answers them from memory or with a 503.
//! Writes are refused only while an outage is in progress on this node (a
//! probe of the database, due at most once a second, has not succeeded).

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Seconds a refused client is asked to wait before trying again.
pub const RETRY_AFTER_SECS: &str = "5";

const WRITE_REFUSED: &str = "The site cannot reach its database just now, so nothing can be saved, checked or signed in to; course pages you opened recently can still be read. Try again in a few seconds.";

/// Answers writes with 503 while the database is unreachable.
pub async fn refuse_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let reads = [Method::GET, Method::HEAD, Method::OPTIONS];
    if reads.contains(req.method()) || state.app.database_reachable().await {
        return next.run(req).await;
    }
    let path = req.uri().path();
    tracing::info!(method = %req.method(), path, "write refused: the database is unreachable");
    if path.starts_with("/api/") || path.starts_with("/oauth2/") {
        return crate::error::ApiError::with_status(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            WRITE_REFUSED,
        );
    }
    let mut resp = crate::pages::error_page(StatusCode::SERVICE_UNAVAILABLE, WRITE_REFUSED);
    resp.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    resp
}

/// The note shown in place of a problem's saved state while it cannot be read.
pub const STATE_UNAVAILABLE: &str = "Your saved answers and grades can't be shown right now; answers can't be checked until the service is back.";
