//! Reading the `Idempotency-Key` header of a write a client may retry (see
//! `lectern_app::idempotency`): absent is fine, present must be one bounded
//! key, anything else is a 400 before any work is done.
//!
//! HTML forms cannot send headers: a form for a keyed write carries a fresh
//! key per rendering ([`form_key`]) in a hidden `idempotency_key` field, so
//! a double click, or a re-post after an answer that never came, is applied
//! once. A header, when sent, wins over the field.

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

/// The hidden form field that carries a form's key.
pub const FORM_FIELD: &str = "idempotency_key";

/// A fresh key for one rendering of a form.
pub fn form_key() -> String {
    format!("form-{:032x}", rand::random::<u128>())
}

/// The key of a form post: the header if sent, else the form's field.
pub fn header_or_field(
    headers: &HeaderMap,
    field: Option<&str>,
) -> Result<Option<IdempotencyKey>, AppError> {
    if let Some(key) = idempotency_key(headers)? {
        return Ok(Some(key));
    }
    field
        .map(|raw| IdempotencyKey::parse(raw.as_bytes()))
        .transpose()
}
