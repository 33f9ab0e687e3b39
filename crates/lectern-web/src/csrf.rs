//! Cross-site request forgery protection for everything a browser can send
//! with its cookies: the double-submit pattern. Every visitor gets a random
//! `lectern_csrf` cookie; a write must carry the same value in the
//! `csrf_token` form field, the `X-CSRFToken` header, or (for file uploads)
//! the `csrf_token` query parameter. A request authenticated with a bearer
//! token carries no ambient credentials and needs none. `SameSite=Lax` on the
//! session cookie is a second line, not the only one.
//!
//! The token is replaced whenever the session changes (sign-in, sign-out,
//! sign-up): a token someone saw or planted before does not carry over into
//! the account.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{bearer, cookie, set_cookie, SESSION_COOKIE};
use crate::error::ApiError;
use crate::state::AppState;

pub const CSRF_COOKIE: &str = "lectern_csrf";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrftoken";

/// The visitor's CSRF token, for forms to embed.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// API endpoints an anonymous client (a mobile app) may call without any
/// cookie: signing up and getting a token (with or without the trailing
/// slash, which Open edX clients send either way).
const ANONYMOUS_API: &[&str] = &[
    "/api/user/v1/account/registration/",
    "/oauth2/access_token",
    "/oauth2/access_token/",
    // Revoking needs the token itself; asking for a reset link needs nothing.
    "/oauth2/revoke_token",
    "/oauth2/revoke_token/",
    "/user_api/v1/account/password_reset/",
    "/api/user/v1/account/password_reset/",
    // Course discovery reads the public catalogue; it changes nothing.
    "/search/course_discovery/",
    "/search/course_discovery",
];

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn valid_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

fn refuse(message: &str) -> Response {
    ApiError::with_status(StatusCode::FORBIDDEN, "csrf_failed", message)
}

pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), CSRF_COOKIE)
        .filter(|t| valid_token(t))
        .map(str::to_string);
    let token = existing
        .clone()
        .unwrap_or_else(lectern_app::passwords::new_secret);
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);

    let req = if safe || bearer(req.headers()).is_some() {
        req
    } else {
        let path = req.uri().path().to_string();
        let has_session = cookie(req.headers(), SESSION_COOKIE).is_some();
        if ANONYMOUS_API.contains(&path.as_str()) && !has_session {
            req
        } else {
            let Some(expected) = existing.as_deref() else {
                return refuse(
                    "This form has expired or cookies are off; reload the page and try again.",
                );
            };
            match check(req, expected, state.config.max_body_bytes).await {
                Ok(req) => req,
                Err(resp) => return resp,
            }
        }
    };

    let mut req = req;
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    if existing.is_none() {
        let c = set_cookie(
            CSRF_COOKIE,
            &token,
            365 * 24 * 3600,
            false,
            state.config.secure_cookies,
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Gives the visitor a fresh token with this response (called when the
/// session changes), replacing whatever the browser held.
pub fn rotate(state: &AppState, resp: &mut Response) {
    let c = set_cookie(
        CSRF_COOKIE,
        &lectern_app::passwords::new_secret(),
        365 * 24 * 3600,
        false,
        state.config.secure_cookies,
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Finds the submitted token (header, query, or form field) and compares it.
async fn check(req: Request, expected: &str, limit: usize) -> Result<Request, Response> {
    if let Some(h) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if constant_time_eq(h, expected) {
            Ok(req)
        } else {
            Err(refuse("The CSRF token does not match."))
        };
    }
    if let Some(q) = req.uri().query() {
        let from_query = serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()
            .and_then(|pairs| {
                pairs
                    .into_iter()
                    .find(|(k, _)| k == CSRF_FIELD)
                    .map(|(_, v)| v)
            });
        if let Some(t) = from_query {
            return if constant_time_eq(&t, expected) {
                Ok(req)
            } else {
                Err(refuse("The CSRF token does not match."))
            };
        }
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refuse(
            "A CSRF token is required (X-CSRFToken header) for this request.",
        ));
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return Err(ApiError::with_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "The request body is too large.",
            ))
        }
    };
    let submitted = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| {
            pairs
                .into_iter()
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v)
        });
    match submitted {
        Some(t) if constant_time_eq(&t, expected) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(refuse(
            "This form has expired; reload the page and try again.",
        )),
    }
}

impl IntoResponse for CsrfToken {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(valid_token(&"a".repeat(64)));
        assert!(!valid_token("short"));
    }
}
