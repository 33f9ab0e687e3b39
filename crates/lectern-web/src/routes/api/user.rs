//! Open edX's user APIs: `GET /api/mobile/v0.5/my_user_info` and
//! `GET`/`PATCH /api/user/v1/accounts/{username}` (PATCH takes
//! `application/merge-patch+json`, anything else is a 415, as on Open edX).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lectern_app::profile::AccountView;
use lectern_app::AppError;
use serde_json::{json, Map, Value};

use crate::auth::ApiUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/mobile/v0.5/my_user_info", get(my_user_info))
        .route("/api/mobile/v0.5/my_user_info/", get(my_user_info))
        .route(
            "/api/mobile/v0.5/users/{username}/course_enrollments/",
            get(mobile_enrollments),
        )
        .route(
            "/api/user/v1/accounts/{username}",
            get(account).patch(patch_account),
        )
        .route(
            "/api/user/v1/accounts/{username}/",
            get(account).patch(patch_account),
        )
}

/// The site's address as the client reached it (the `Host` header, as
/// Open edX builds absolute links), else the configured `site_url`.
pub(super) fn base_url(headers: &HeaderMap, state: &AppState) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(h) => {
            let scheme = if state.config.secure_cookies {
                "https"
            } else {
                "http"
            };
            format!("{scheme}://{h}")
        }
        None => state
            .app
            .settings()
            .site_url
            .trim_end_matches('/')
            .to_string(),
    }
}

async fn my_user_info(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
) -> Json<Value> {
    Json(json!({
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "name": user.name,
        "course_enrollments": format!("{}/api/mobile/v0.5/users/{}/course_enrollments/", base_url(&headers, &state), user.username),
    }))
}

/// No uploaded profile pictures yet: Open edX's shape with `has_image: false`.
fn profile_image() -> Value {
    json!({
        "has_image": false,
        "image_url_full": "",
        "image_url_large": "",
        "image_url_medium": "",
        "image_url_small": "",
    })
}

fn account_json(v: &AccountView) -> Value {
    let u = &v.user;
    if !v.full {
        // Every account is private: others see what Open edX shows of a private profile.
        return json!({
            "username": u.username,
            "account_privacy": "private",
            "profile_image": profile_image(),
        });
    }
    let p = &v.profile;
    let date =
        |d: chrono::DateTime<chrono::Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "name": u.name,
        "date_joined": date(u.created_at),
        "last_login": null,
        "is_active": u.is_active,
        "bio": p.bio,
        "country": p.country,
        "state": p.state,
        "language": p.language,
        "level_of_education": p.level_of_education,
        "gender": p.gender,
        "goals": p.goals,
        "mailing_address": p.mailing_address,
        "year_of_birth": p.year_of_birth,
        "language_proficiencies": p.language_proficiencies.iter().map(|c| json!({"code": c})).collect::<Vec<_>>(),
        "requires_parental_consent": false,
        "account_privacy": "private",
        "profile_image": profile_image(),
        "social_links": [],
        "extended_profile": [],
        "secondary_email": null,
        "time_zone": null,
        "phone_number": null,
        "accomplishments_shared": false,
        "is_verified_name_enabled": false,
        "pending_name_change": null,
    })
}

async fn account(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(username): Path<String>,
) -> ApiResult<Json<Value>> {
    let view = state.app.account(&user, &username).await?;
    Ok(Json(account_json(&view)))
}

/// Open edX's error shape for a refused PATCH: one object per field.
fn field_errors_response(
    message: String,
    errors: &std::collections::BTreeMap<String, String>,
) -> Response {
    let fields: Map<String, Value> = errors
        .iter()
        .map(|(field, problem)| {
            let user_message = if problem == "This field is not editable via this API" {
                format!("The '{field}' field cannot be edited.")
            } else {
                problem.clone()
            };
            (
                field.clone(),
                json!({"developer_message": problem, "user_message": user_message}),
            )
        })
        .collect();
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid", "message": message, "field_errors": fields})),
    )
        .into_response()
}

async fn patch_account(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(username): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let merge_patch = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim().starts_with("application/merge-patch+json"));
    if !merge_patch {
        return Ok(ApiError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the changes as Content-Type: application/merge-patch+json.",
        ));
    }
    let patch: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Ok(ApiError::with_status(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                "The body must be a JSON object of the fields to change.",
            ))
        }
    };
    match state.app.patch_account(&user, &username, &patch).await {
        Ok(view) => Ok(Json(account_json(&view)).into_response()),
        Err(AppError::Invalid {
            message,
            field_errors,
        }) => Ok(field_errors_response(message, &field_errors)),
        Err(e) => Err(e.into()),
    }
}

/// The link `my_user_info` gives: the caller's active enrolments, in the
/// mobile API's shape (only your own, as on Open edX).
async fn mobile_enrollments(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    if !username.eq_ignore_ascii_case(&user.username) {
        return Err(AppError::Forbidden("You may only list your own enrollments.".into()).into());
    }
    let site = base_url(&headers, &state);
    let date = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    let list: Vec<Value> = state
        .app
        .dashboard(&user)
        .await?
        .iter()
        .map(|(e, c)| {
            json!({
                "created": e.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "mode": e.mode,
                "is_active": e.is_active,
                "course": {
                    "id": c.key.to_string(),
                    "name": c.display_name,
                    "number": c.key.number,
                    "org": c.key.org,
                    "start": date(c.start),
                    "end": date(c.end),
                    "course_about": format!("{site}/courses/{}/about", c.key),
                    "courseware_url": format!("{site}/courses/{}/", c.key),
                },
                "certificate": {},
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}
