//! Who is asking: a session cookie (browsers) or `Authorization: Bearer`
//! (API clients). Extractors resolve the user once per request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use lectern_app::{AppError, TokenKind, User};

use crate::error::{ApiError, PageError};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "lectern_session";

/// The value of a cookie in the request, if present.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("jwt"))
        .then(|| token.trim())
}

/// A `Set-Cookie` value for a cookie of this site.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: i64,
    http_only: bool,
    secure: bool,
) -> String {
    let mut c = format!("{name}={value}; Path=/; Max-Age={max_age_secs}; SameSite=Lax");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Session,
    Bearer,
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<(User, AuthMethod)>, AppError> {
    if let Some(token) = bearer(&parts.headers) {
        // A bearer header that does not verify is an error, not an anonymous request.
        return match state.app.authenticate(token, TokenKind::Bearer).await? {
            Some(u) => Ok(Some((u, AuthMethod::Bearer))),
            None => Err(AppError::Unauthenticated),
        };
    }
    if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) {
        if let Some(u) = state.app.authenticate(secret, TokenKind::Session).await? {
            return Ok(Some((u, AuthMethod::Session)));
        }
    }
    Ok(None)
}

/// The signed-in user, if any (pages that also work for visitors).
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match resolve(parts, state).await {
            Ok(u) => Ok(MaybeUser(u.map(|(u, _)| u))),
            Err(AppError::Unauthenticated) => Ok(MaybeUser(None)),
            Err(e) => Err(e.into()),
        }
    }
}

/// A signed-in user, for pages: visitors are sent to the login page.
pub struct PageUser(pub User);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match resolve(parts, state).await? {
            Some((u, _)) => Ok(PageUser(u)),
            None => Err(AppError::Unauthenticated.into()),
        }
    }
}

/// A signed-in user, for the API: 401 JSON otherwise.
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match resolve(parts, state).await? {
            Some((u, _)) => Ok(ApiUser(u)),
            None => Err(AppError::Unauthenticated.into()),
        }
    }
}

/// The optional user for API endpoints that also answer visitors.
pub struct ApiMaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for ApiMaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(ApiMaybeUser(resolve(parts, state).await?.map(|(u, _)| u)))
    }
}
