//! Body extractors that turn every malformed or oversized body into a clear
//! error response (axum's own rejections are plain text).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A fresh id to quote in logs and error messages.
pub fn request_id() -> String {
    let n: u64 = rand::random();
    format!("{n:016x}")
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Response> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::with_status(
                status,
                "too_large",
                "The request body is larger than this endpoint accepts.",
            )
        } else {
            ApiError::with_status(
                StatusCode::BAD_REQUEST,
                "bad_body",
                format!("The request body could not be read: {rejection}"),
            )
        }
    })
}

/// A JSON body; a syntax or type error is a 400 naming what is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let bytes = body_bytes(req, state).await?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            ApiError::with_status(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("The request body is not valid JSON for this endpoint: {e}"),
            )
        })
    }
}

/// A form body (`application/x-www-form-urlencoded`) or, for API endpoints
/// that accept both like Open edX's, a JSON object.
pub struct FormOrJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormOrJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        let bytes = body_bytes(req, state).await?;
        let parsed = if is_json {
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())
        } else {
            serde_urlencoded::from_bytes(&bytes).map_err(|e| e.to_string())
        };
        parsed.map(FormOrJson).map_err(|e| {
            ApiError::with_status(
                StatusCode::BAD_REQUEST,
                "malformed_body",
                format!("The request body could not be understood: {e}"),
            )
        })
    }
}

/// An HTML form body; errors become a 400 page.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let bytes = match Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(rejection) => {
                let status = rejection.status();
                let msg = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "What you sent is larger than this form accepts.".to_string()
                } else {
                    format!("The form could not be read: {rejection}")
                };
                return Err((status, crate::pages::error_page(status, &msg)).into_response());
            }
        };
        serde_urlencoded::from_bytes(&bytes)
            .map(PageForm)
            .map_err(|e| {
                let msg = format!("The form could not be understood: {e}");
                (
                    StatusCode::BAD_REQUEST,
                    crate::pages::error_page(StatusCode::BAD_REQUEST, &msg),
                )
                    .into_response()
            })
    }
}
