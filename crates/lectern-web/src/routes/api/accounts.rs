//! `POST /api/user/v1/account/registration/` and `POST /oauth2/access_token`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use lectern_app::accounts::Registration;
use lectern_app::AppError;
use serde::Deserialize;
use serde_json::json;

use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::extract::FormOrJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/user/v1/account/registration/", post(register))
        .route("/oauth2/access_token", post(access_token))
        .route("/oauth2/access_token/", post(access_token))
}

async fn register(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    FormOrJson(form): FormOrJson<Registration>,
) -> ApiResult<Response> {
    if let Err(retry) = state.throttle.begin_registration(client) {
        return Ok(retry.json());
    }
    let user = state.app.register(&form).await?;
    Ok(
        Json(json!({"success": true, "username": user.username, "redirect_url": "/dashboard"}))
            .into_response(),
    )
}

#[derive(Deserialize)]
struct TokenRequest {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    #[allow(dead_code)]
    client_id: String,
}

async fn access_token(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    FormOrJson(req): FormOrJson<TokenRequest>,
) -> Result<Response, ApiError> {
    if req.grant_type != "password" {
        // OAuth2's own error shape (RFC 6749 §5.2).
        return Ok((StatusCode::BAD_REQUEST, Json(json!({"error": "unsupported_grant_type", "error_description": "Only grant_type=password is supported."}))).into_response());
    }
    let attempt = match state.throttle.begin_login(client, &req.username) {
        Ok(a) => a,
        Err(retry) => return Ok(retry.json()),
    };
    let result = state.app.access_token(&req.username, &req.password).await;
    attempt.finish(&result);
    match result {
        Ok((_, token)) => Ok(Json(json!({
            "access_token": token.secret,
            "token_type": "Bearer",
            "expires_in": token.expires_in_seconds,
            "scope": "read write profile email",
        }))
        .into_response()),
        Err(AppError::Invalid { .. }) | Err(AppError::Forbidden(_)) => Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "Invalid credentials given.", "message": "Invalid credentials given."})),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
