//! The deadline on a whole request (`request_timeout_secs`): a request
//! that has not produced its response by then is answered `503` with
//! `Retry-After`, as JSON on `/api/` paths and as a page elsewhere.
//!
//! Why 503 and not 408: what makes a request this late is the server side
//! (typically a database link that went dead during a failover, which no
//! socket option of sqlx 0.8 can notice), and the client should retry, not
//! resend faster. Reaching the deadline drops the request's future; a
//! dropped sqlx future closes its connection and never sends a cancel, so a
//! COMMIT in flight is never cancelled, and its write was never
//! acknowledged to this client (it retries, with its `Idempotency-Key` where
//! it has one). A streamed response body is not bounded here: only the
//! time until the response starts.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lectern_app::AppError;

use crate::error::{ApiError, PageError};
use crate::AppState;

pub(crate) async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let limit = Duration::from_secs(state.config.request_timeout_secs);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            let e = AppError::Unavailable(format!(
                "the request did not finish within its {}s deadline",
                limit.as_secs()
            ));
            if api {
                ApiError(e).into_response()
            } else {
                PageError(e).into_response()
            }
        }
    }
}
