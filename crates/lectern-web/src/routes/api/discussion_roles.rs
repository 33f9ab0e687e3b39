//! Open edX's discussion roles API:
//! `GET|POST /api/discussion/v1/courses/{course_id}/roles/{rolename}/`.
//! GET lists who holds the role; POST `{"user_id": username, "action":
//! "allow"|"revoke"}` changes it (the course's instructors and site admins).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use lectern_app::discussions::DiscussionRole;
use lectern_app::{AppError, User};
use lectern_content::CourseKey;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/discussion/v1/courses/{course_id}/roles/{rolename}/",
            get(list).post(change),
        )
        .route(
            "/api/discussion/v1/courses/{course_id}/roles/{rolename}",
            get(list).post(change),
        )
}

fn parse(course_id: &str, rolename: &str) -> Result<(CourseKey, DiscussionRole), AppError> {
    let key = course_id.parse().map_err(|_| {
        AppError::field(
            "course_id",
            format!("'{course_id}' is not a valid course id."),
        )
    })?;
    let role = DiscussionRole::parse(rolename).ok_or_else(|| {
        AppError::field(
            "rolename",
            "The role is Administrator, Moderator, Group Moderator or Community TA.",
        )
    })?;
    Ok((key, role))
}

async fn holders(
    state: &AppState,
    user: &User,
    key: &CourseKey,
    role: DiscussionRole,
) -> ApiResult<Json<Value>> {
    let team = state.app.discussion_team(user, key).await?;
    let results: Vec<Value> = team
        .iter()
        .filter(|(_, r)| *r == role)
        .map(|(u, _)| json!({"id": u.id, "username": u.username, "email": u.email, "first_name": u.name, "last_name": "", "group_name": null}))
        .collect();
    Ok(Json(
        json!({"course_id": key.to_string(), "results": results, "division_scheme": null}),
    ))
}

async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((course_id, rolename)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let (key, role) = parse(&course_id, &rolename)?;
    holders(&state, &user, &key, role).await
}

#[derive(Deserialize)]
struct Change {
    user_id: String,
    action: String,
}

async fn change(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((course_id, rolename)): Path<(String, String)>,
    ApiJson(body): ApiJson<Change>,
) -> ApiResult<Json<Value>> {
    let (key, role) = parse(&course_id, &rolename)?;
    match body.action.as_str() {
        "allow" => {
            state
                .app
                .grant_discussion_role(&user, &key, body.user_id.trim(), role)
                .await?
        }
        "revoke" => {
            state
                .app
                .revoke_discussion_role(&user, &key, body.user_id.trim(), role)
                .await?
        }
        _ => return Err(AppError::field("action", "Use allow or revoke.").into()),
    }
    holders(&state, &user, &key, role).await
}
