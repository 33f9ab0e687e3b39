//! Reading the `Idempotency-Key` header of a write a client may retry (see
//! `lectern_app::idempotency`): absent is fine, present must be one bounded
//! key, anything else is a 400 before any work is done.

use axum::http::HeaderMap;
use lectern_app::idempotency::{IdempotencyKey, HEADER};
use lectern_app::AppError;

/// The request's key, if it sent one.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, AppError> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AppError::field(
            "idempotency_key",
            format!("Send one {HEADER} header, not several."),
        ));
    }
    IdempotencyKey::parse(first.as_bytes()).map(Some)
}
