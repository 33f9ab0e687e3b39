//! The one place errors become responses. API paths get Open edX-style JSON
//! (`{"error", "message", "field_errors"}`); pages get an HTML page. Internal
//! errors are logged with a request id and shown without details.

use std::collections::BTreeMap;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use lectern_app::AppError;
use serde::Serialize;

fn status_and_code(e: &AppError) -> (StatusCode, &'static str) {
    match e {
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        AppError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid"),
        AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        AppError::KeyReused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
        AppError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        AppError::LimitReached(reached) => limit_status(reached.kind),
        AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

/// A site limit's refusal (`docs/limits.md`): the course and account
/// limits are 403 (the request is understood and allowed in general, but
/// this site may not hold more; repeating it will not help); the storage
/// limit is 413, as Open edX answers a file over its upload size: it is
/// this request's bytes that do not fit, and a smaller one may.
fn limit_status(kind: lectern_app::site_limits::LimitKind) -> (StatusCode, &'static str) {
    use lectern_app::site_limits::LimitKind;
    match kind {
        LimitKind::Courses => (StatusCode::FORBIDDEN, "course_limit_reached"),
        LimitKind::Accounts => (StatusCode::FORBIDDEN, "account_limit_reached"),
        LimitKind::Storage => (StatusCode::PAYLOAD_TOO_LARGE, "storage_limit_reached"),
    }
}

/// `Retry-After` for a spent rate limit whose freeing time is known.
fn retry_after(e: &AppError, resp: &mut Response) {
    if let AppError::TooManyRequests {
        retry_after: Some(secs),
        ..
    } = e
    {
        if let Ok(v) = header::HeaderValue::from_str(&secs.max(&1).to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
}

/// The message shown to the client; internal details stay in the log.
fn public_message(e: &AppError) -> (String, Option<String>) {
    match e {
        AppError::Internal(detail) | AppError::Unavailable(detail) => {
            let id = crate::extract::request_id();
            tracing::error!(request_id = %id, error = %detail, "request failed");
            let msg = if matches!(e, AppError::Unavailable(_)) {
                format!("The service is temporarily unavailable; try again shortly (request {id}).")
            } else {
                format!("Something went wrong on our side (request {id}).")
            };
            (msg, Some(id))
        }
        other => (other.to_string(), None),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    field_errors: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

/// An error answered as JSON (API paths).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    pub fn with_status(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Response {
        json_error(status, code, message.into(), BTreeMap::new(), None)
    }
}

fn json_error(
    status: StatusCode,
    code: &str,
    message: String,
    field_errors: BTreeMap<String, String>,
    request_id: Option<String>,
) -> Response {
    let mut resp = (
        status,
        axum::Json(ErrorBody {
            error: code,
            message,
            field_errors,
            request_id,
        }),
    )
        .into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    }
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = status_and_code(&self.0);
        let field_errors = match &self.0 {
            AppError::Invalid { field_errors, .. } => field_errors.clone(),
            _ => BTreeMap::new(),
        };
        let (message, request_id) = public_message(&self.0);
        let mut resp = json_error(status, code, message, field_errors, request_id);
        retry_after(&self.0, &mut resp);
        resp
    }
}

/// An error answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, AppError::Unauthenticated) {
            return axum::response::Redirect::to("/login").into_response();
        }
        let (status, _) = status_and_code(&self.0);
        let (message, _) = public_message(&self.0);
        let mut resp = crate::pages::error_page(status, &message).into_response();
        *resp.status_mut() = status;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        }
        retry_after(&self.0, &mut resp);
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
pub type PageResult<T> = Result<T, PageError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(retry_after: Option<u64>) -> AppError {
        AppError::TooManyRequests {
            message: "slow down".into(),
            retry_after,
        }
    }

    #[test]
    fn a_spent_rate_limit_is_429_with_retry_after_when_known() {
        for resp in [
            ApiError(limited(Some(30))).into_response(),
            PageError(limited(Some(30))).into_response(),
        ] {
            assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(
                resp.headers()
                    .get(header::RETRY_AFTER)
                    .map(|v| v.as_bytes()),
                Some(&b"30"[..])
            );
        }
        for resp in [
            ApiError(limited(None)).into_response(),
            PageError(limited(None)).into_response(),
        ] {
            assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
            assert!(resp.headers().get(header::RETRY_AFTER).is_none());
        }
    }
}
