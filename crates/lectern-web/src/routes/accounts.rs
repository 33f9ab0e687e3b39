//! Sign-in, registration, sign-out and the first-admin setup link (pages).

use std::collections::BTreeMap;

use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::accounts::Registration;
use lectern_app::AppError;
use serde::Deserialize;

use super::page_ctx;
use crate::auth::{cookie, set_cookie, MaybeUser, SESSION_COOKIE};
use crate::client_addr::ClientAddr;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::next_path::safe_next;
use crate::pages::{render, Login, Register};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/register", get(register_page).post(register))
        .route("/logout", post(logout))
        .route("/setup/{secret}", get(setup_page).post(setup))
}

#[derive(Deserialize, Default)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

async fn login_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    csrf: Extension<CsrfToken>,
    Query(q): Query<NextQuery>,
) -> Response {
    if user.is_some() {
        return Redirect::to(safe_next(&q.next)).into_response();
    }
    let ctx = page_ctx(&state, None, &csrf).await;
    render(&Login {
        ctx,
        error: None,
        login: String::new(),
        next: q.next,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The session cookie's header (an empty secret with max age 0 ends it).
pub(crate) fn session_cookie(state: &AppState, secret: &str, max_age: i64) -> HeaderValue {
    let c = set_cookie(
        SESSION_COOKIE,
        secret,
        max_age,
        true,
        state.config.secure_cookies,
    );
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    csrf: Extension<CsrfToken>,
    PageForm(form): PageForm<LoginForm>,
) -> PageResult<Response> {
    let attempt = match state.throttle.begin_login(client, &form.login) {
        Ok(a) => a,
        Err(retry) => {
            // The form again, with the wait, so the person knows when to retry.
            let ctx = page_ctx(&state, None, &csrf).await;
            return Ok(retry.with_header(render(&Login {
                ctx,
                error: Some(retry.message()),
                login: form.login,
                next: form.next,
            })));
        }
    };
    let result = state.app.login(&form.login, &form.password).await;
    attempt.finish(&result);
    match result {
        Ok((_, token)) => {
            let mut resp = Redirect::to(safe_next(&form.next)).into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&state, &token.secret, token.expires_in_seconds),
            );
            crate::csrf::rotate(&state, &mut resp);
            Ok(resp)
        }
        Err(AppError::Invalid { message, .. }) | Err(AppError::Forbidden(message)) => {
            let ctx = page_ctx(&state, None, &csrf).await;
            let mut resp = render(&Login {
                ctx,
                error: Some(message),
                login: form.login,
                next: form.next,
            });
            *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

/// Which sign-up form: self-registration or the first-admin setup link.
fn signup_labels(setup_secret: Option<&str>) -> (String, String, String) {
    match setup_secret {
        Some(secret) => (
            "Create the first administrator".into(),
            "Create administrator".into(),
            format!("/setup/{secret}"),
        ),
        None => (
            "Create an account".into(),
            "Create account".into(),
            "/register".into(),
        ),
    }
}

/// The sign-up form, empty or with the problems of a refused attempt (password never echoed).
async fn signup_page(
    state: &AppState,
    csrf: &Extension<CsrfToken>,
    setup_secret: Option<&str>,
    refused: Option<(Registration, String, BTreeMap<String, String>)>,
) -> Response {
    let ctx = page_ctx(state, None, csrf).await;
    let (heading, button, action) = signup_labels(setup_secret);
    let failed = refused.is_some();
    let (form, error, field_errors) = match refused {
        Some((form, message, errors)) => (
            Registration {
                password: String::new(),
                ..form
            },
            Some(message),
            errors,
        ),
        None => (Registration::default(), None, BTreeMap::new()),
    };
    let mut resp = render(&Register {
        ctx,
        heading,
        button,
        action,
        error,
        form,
        field_errors,
    });
    if failed {
        *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    resp
}

/// Signs a just-created account in and sends it on.
async fn sign_in_and_go(
    state: &AppState,
    username: &str,
    password: &str,
    to: &str,
) -> PageResult<Response> {
    let (_, token) = state.app.login(username, password).await?;
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(state, &token.secret, token.expires_in_seconds),
    );
    crate::csrf::rotate(state, &mut resp);
    Ok(resp)
}

async fn register_page(State(state): State<AppState>, csrf: Extension<CsrfToken>) -> Response {
    signup_page(&state, &csrf, None, None).await
}

async fn register(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    csrf: Extension<CsrfToken>,
    PageForm(form): PageForm<Registration>,
) -> PageResult<Response> {
    if let Err(retry) = state.throttle.begin_registration(client) {
        return Ok(retry.page());
    }
    match state.app.register(&form).await {
        // A new account is signed in straight away, as on Open edX.
        Ok(user) => sign_in_and_go(&state, &user.username, &form.password, "/dashboard").await,
        Err(AppError::Invalid {
            message,
            field_errors,
        }) => Ok(signup_page(&state, &csrf, None, Some((form, message, field_errors))).await),
        Err(e) => Err(e.into()),
    }
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> PageResult<Response> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.app.logout(secret).await?;
    }
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&state, "", 0));
    crate::csrf::rotate(&state, &mut resp);
    Ok(resp)
}

async fn setup_page(
    State(state): State<AppState>,
    csrf: Extension<CsrfToken>,
    Path(secret): Path<String>,
) -> PageResult<Response> {
    if !state.app.setup_secret_valid(&secret).await? {
        return Err(
            AppError::Forbidden("This setup link has expired or was already used.".into()).into(),
        );
    }
    Ok(signup_page(&state, &csrf, Some(&secret), None).await)
}

async fn setup(
    State(state): State<AppState>,
    csrf: Extension<CsrfToken>,
    Path(secret): Path<String>,
    PageForm(form): PageForm<Registration>,
) -> PageResult<Response> {
    match state.app.complete_setup(&secret, &form).await {
        Ok(user) => sign_in_and_go(&state, &user.username, &form.password, "/admin/").await,
        Err(AppError::Invalid {
            message,
            field_errors,
        }) => Ok(signup_page(
            &state,
            &csrf,
            Some(&secret),
            Some((form, message, field_errors)),
        )
        .await),
        Err(e) => Err(e.into()),
    }
}
