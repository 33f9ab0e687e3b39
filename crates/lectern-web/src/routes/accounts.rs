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
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, Login, Register};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/register", get(register_page).post(register))
        .route("/logout", post(logout))
        .route("/setup/{secret}", get(setup_page).post(setup))
}

/// Only same-site paths are followed after sign-in (no open redirects).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/dashboard"
    }
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

fn session_cookie(state: &AppState, secret: &str, max_age: i64) -> HeaderValue {
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
    csrf: Extension<CsrfToken>,
    PageForm(form): PageForm<LoginForm>,
) -> PageResult<Response> {
    match state.app.login(&form.login, &form.password).await {
        Ok((_, token)) => {
            let mut resp = Redirect::to(safe_next(&form.next)).into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&state, &token.secret, token.expires_in_seconds),
            );
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

async fn register_page(State(state): State<AppState>, csrf: Extension<CsrfToken>) -> Response {
    let ctx = page_ctx(&state, None, &csrf).await;
    render(&Register {
        ctx,
        heading: "Create an account".into(),
        button: "Create account".into(),
        action: "/register".into(),
        error: None,
        form: Registration::default(),
        field_errors: BTreeMap::new(),
    })
}

async fn register(
    State(state): State<AppState>,
    csrf: Extension<CsrfToken>,
    PageForm(form): PageForm<Registration>,
) -> PageResult<Response> {
    match state.app.register(&form).await {
        Ok(user) => {
            // A new account is signed in straight away, as on Open edX.
            let (_, token) = state.app.login(&user.username, &form.password).await?;
            let mut resp = Redirect::to("/dashboard").into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&state, &token.secret, token.expires_in_seconds),
            );
            Ok(resp)
        }
        Err(AppError::Invalid {
            message,
            field_errors,
        }) => {
            let ctx = page_ctx(&state, None, &csrf).await;
            let form = Registration {
                password: String::new(),
                ..form
            };
            let mut resp = render(&Register {
                ctx,
                heading: "Create an account".into(),
                button: "Create account".into(),
                action: "/register".into(),
                error: Some(message),
                form,
                field_errors,
            });
            *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(resp)
        }
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
    let ctx = page_ctx(&state, None, &csrf).await;
    Ok(render(&Register {
        ctx,
        heading: "Create the first administrator".into(),
        button: "Create administrator".into(),
        action: format!("/setup/{secret}"),
        error: None,
        form: Registration::default(),
        field_errors: BTreeMap::new(),
    }))
}

async fn setup(
    State(state): State<AppState>,
    csrf: Extension<CsrfToken>,
    Path(secret): Path<String>,
    PageForm(form): PageForm<Registration>,
) -> PageResult<Response> {
    match state.app.complete_setup(&secret, &form).await {
        Ok(user) => {
            let (_, token) = state.app.login(&user.username, &form.password).await?;
            let mut resp = Redirect::to("/admin/").into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&state, &token.secret, token.expires_in_seconds),
            );
            Ok(resp)
        }
        Err(AppError::Invalid {
            message,
            field_errors,
        }) => {
            let ctx = page_ctx(&state, None, &csrf).await;
            let mut resp = render(&Register {
                ctx,
                heading: "Create the first administrator".into(),
                button: "Create administrator".into(),
                action: format!("/setup/{secret}"),
                error: Some(message),
                form: Registration {
                    password: String::new(),
                    ..form
                },
                field_errors,
            });
            *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
