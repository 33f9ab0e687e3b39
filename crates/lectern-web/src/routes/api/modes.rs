//! `GET /api/course_modes/v1/courses/{course_id}/`: the enrolment modes a
//! course offers, in Open edX's shape. Lectern has no paid tracks, so every
//! published course offers `audit`, free and without expiry. As on Open edX
//! the list is for staff: site admins and the course's team.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use lectern_app::roster::COURSE_MODES;
use lectern_app::AppError;
use serde_json::{json, Value};

use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::routes::course_key;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/course_modes/v1/courses/{course_id}", get(modes))
        .route("/api/course_modes/v1/courses/{course_id}/", get(modes))
}

async fn modes(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    if !state.app.is_course_author(&user, &key).await? {
        return Err(AppError::Forbidden(
            "Only site staff or the course's team may list its modes.".into(),
        )
        .into());
    }
    let course = state.app.published_course(&key).await?;
    let list: Vec<Value> = COURSE_MODES
        .iter()
        .map(|slug| {
            json!({
                "course_id": course.record.key.to_string(),
                "mode_slug": slug,
                "mode_display_name": "Audit",
                "min_price": 0,
                "price": "0.00",
                "currency": "usd",
                "expiration_datetime": null,
                "expiration_datetime_is_explicit": false,
                "description": null,
                "sku": null,
                "bulk_sku": null,
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}
