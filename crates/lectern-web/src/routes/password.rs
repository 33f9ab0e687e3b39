//! Password change (account settings), password reset by e-mail link, and
//! ending sessions and tokens: the pages, Open edX's reset API
//! (`POST /user_api/v1/account/password_reset/`) and OAuth2 token revocation
//! (`POST /oauth2/revoke_token/`, RFC 7009).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lectern_app::credentials::PasswordChange;
use lectern_app::AppError;
use serde::Deserialize;
use serde_json::json;

use super::accounts::session_cookie;
use super::page_ctx;
use crate::auth::PageUser;
use crate::client_addr::ClientAddr;
use crate::csrf::CsrfToken;
use crate::error::{ApiResult, PageResult};
use crate::extract::{FormOrJson, PageForm};
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/settings", get(settings_page))
        .route("/account/password", post(change_password))
        .route("/account/logout_everywhere", post(logout_everywhere))
        .route("/account/revoke_tokens", post(revoke_tokens))
        .route("/password_reset", get(reset_page).post(request_reset))
        .route("/password_reset/", get(reset_page).post(request_reset))
        .route(
            "/password_reset_confirm/{secret}/",
            get(confirm_page).post(confirm),
        )
        .route("/user_api/v1/account/password_reset/", post(api_reset))
        .route("/api/user/v1/account/password_reset/", post(api_reset))
        .route("/oauth2/revoke_token", post(revoke_token))
        .route("/oauth2/revoke_token/", post(revoke_token))
}

#[derive(Template)]
#[template(path = "account_settings.html")]
struct Settings {
    ctx: PageCtx,
    notice: Option<String>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetRequest {
    ctx: PageCtx,
    sent: bool,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "password_reset_confirm.html")]
struct ResetConfirm {
    ctx: PageCtx,
    secret: String,
    username: String,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
}

fn with_status(mut resp: Response, status: StatusCode) -> Response {
    *resp.status_mut() = status;
    resp
}

async fn settings_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
) -> Response {
    render(&Settings {
        ctx: page_ctx(&state, Some(&user), &csrf).await,
        notice: None,
        error: None,
        field_errors: BTreeMap::new(),
    })
}

async fn change_password(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    PageForm(form): PageForm<PasswordChange>,
) -> PageResult<Response> {
    match state.app.change_password(&user, &form).await {
        Ok(token) => {
            // Every session ended, this one included: the new one replaces it.
            let mut resp = render(&Settings {
                ctx: page_ctx(&state, Some(&user), &csrf).await,
                notice: Some(
                    "Your password was changed. Every other session and API token has ended."
                        .into(),
                ),
                error: None,
                field_errors: BTreeMap::new(),
            });
            resp.headers_mut().append(
                header::SET_COOKIE,
                session_cookie(&state, &token.secret, token.expires_in_seconds),
            );
            Ok(resp)
        }
        Err(AppError::Invalid {
            message,
            field_errors,
        }) => Ok(with_status(
            render(&Settings {
                ctx: page_ctx(&state, Some(&user), &csrf).await,
                notice: None,
                error: Some(message),
                field_errors,
            }),
            StatusCode::BAD_REQUEST,
        )),
        Err(e) => Err(e.into()),
    }
}

async fn logout_everywhere(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> PageResult<Response> {
    state.app.sign_out_everywhere(&user).await?;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(resp)
}

async fn revoke_tokens(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
) -> PageResult<Response> {
    let n = state.app.revoke_api_tokens(&user).await?;
    Ok(render(&Settings {
        ctx: page_ctx(&state, Some(&user), &csrf).await,
        notice: Some(format!("{n} API token(s) revoked.")),
        error: None,
        field_errors: BTreeMap::new(),
    }))
}

#[derive(Deserialize, Default)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

async fn reset_page(State(state): State<AppState>, csrf: Extension<CsrfToken>) -> Response {
    render(&ResetRequest {
        ctx: page_ctx(&state, None, &csrf).await,
        sent: false,
        email: String::new(),
        error: None,
    })
}

async fn request_reset(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    csrf: Extension<CsrfToken>,
    PageForm(form): PageForm<EmailForm>,
) -> PageResult<Response> {
    if let Err(retry) = state.throttle.begin_reset(client) {
        return Ok(retry.page());
    }
    let ctx = page_ctx(&state, None, &csrf).await;
    match state.app.request_password_reset(&form.email).await {
        Ok(()) => Ok(render(&ResetRequest {
            ctx,
            sent: true,
            email: String::new(),
            error: None,
        })),
        Err(AppError::Invalid { message, .. }) => Ok(with_status(
            render(&ResetRequest {
                ctx,
                sent: false,
                email: form.email,
                error: Some(message),
            }),
            StatusCode::BAD_REQUEST,
        )),
        Err(e) => Err(e.into()),
    }
}

async fn confirm_page(
    State(state): State<AppState>,
    csrf: Extension<CsrfToken>,
    Path(secret): Path<String>,
) -> PageResult<Response> {
    let user = state.app.reset_link_user(&secret).await?;
    Ok(render(&ResetConfirm {
        ctx: page_ctx(&state, None, &csrf).await,
        secret,
        username: user.username,
        error: None,
        field_errors: BTreeMap::new(),
    }))
}

#[derive(Deserialize, Default)]
struct NewPassword {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_confirm: String,
}

async fn confirm(
    State(state): State<AppState>,
    csrf: Extension<CsrfToken>,
    Path(secret): Path<String>,
    PageForm(form): PageForm<NewPassword>,
) -> PageResult<Response> {
    match state
        .app
        .reset_password(&secret, &form.new_password, &form.new_password_confirm)
        .await
    {
        // Signed out everywhere, this browser too: sign in with the new password.
        Ok(_) => {
            let mut resp = Redirect::to("/login").into_response();
            resp.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, "", 0));
            Ok(resp)
        }
        Err(AppError::Invalid {
            message,
            field_errors,
        }) => {
            let user = state.app.reset_link_user(&secret).await?;
            Ok(with_status(
                render(&ResetConfirm {
                    ctx: page_ctx(&state, None, &csrf).await,
                    secret,
                    username: user.username,
                    error: Some(message),
                    field_errors,
                }),
                StatusCode::BAD_REQUEST,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Open edX's reset API: always 200 with the same body for a well-formed address.
async fn api_reset(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    FormOrJson(form): FormOrJson<EmailForm>,
) -> ApiResult<Response> {
    if let Err(retry) = state.throttle.begin_reset(client) {
        return Ok(retry.json());
    }
    state.app.request_password_reset(&form.email).await?;
    Ok(Json(json!({
        "success": true,
        "value": "If an account exists for this e-mail address, a password reset link has been sent to it."
    }))
    .into_response())
}

#[derive(Deserialize, Default)]
struct RevokeForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    #[allow(dead_code)]
    client_id: String,
    #[serde(default)]
    #[allow(dead_code)]
    token_type_hint: String,
}

/// RFC 7009: 200 with an empty body whether or not the token was valid.
async fn revoke_token(
    State(state): State<AppState>,
    FormOrJson(form): FormOrJson<RevokeForm>,
) -> ApiResult<Response> {
    state.app.revoke_token(form.token.trim()).await?;
    Ok(StatusCode::OK.into_response())
}
