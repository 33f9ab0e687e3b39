//! `GET /api/enrollment/v1/enrollments`: every enrolment, for site staff (or
//! one course's, for its team), newest first, in Open edX's cursor-paginated
//! shape `{"next", "previous", "results": [{created, mode, is_active, user,
//! course_id}]}`. `username` takes a comma-separated list.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/enrollment/v1/enrollments", get(list))
        .route("/api/enrollment/v1/enrollments/", get(list))
}

#[derive(Deserialize)]
struct ListQuery {
    course_id: Option<String>,
    username: Option<String>,
    cursor: Option<String>,
    page_size: Option<usize>,
}

fn link(site: &str, q: &ListQuery, cursor: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(c) = q.course_id.as_deref() {
        pairs.push(("course_id", c));
    }
    if let Some(u) = q.username.as_deref() {
        pairs.push(("username", u));
    }
    let size = q.page_size.map(|s| s.to_string());
    if let Some(s) = size.as_deref() {
        pairs.push(("page_size", s));
    }
    pairs.push(("cursor", cursor));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{site}/api/enrollment/v1/enrollments?{query}")
}

async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let course = match q.course_id.as_deref().filter(|c| !c.is_empty()) {
        Some(raw) => Some(raw.parse().map_err(|_| {
            lectern_app::AppError::field("course_id", format!("'{raw}' is not a valid course id."))
        })?),
        None => None,
    };
    let usernames: Vec<String> = q
        .username
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    let page = state
        .app
        .enrollment_roster(&user, course, &usernames, q.cursor.as_deref(), q.page_size)
        .await?;
    let site = super::user::base_url(&headers, &state);
    let results: Vec<Value> = page
        .items
        .iter()
        .map(|(e, username)| {
            json!({
                "created": e.created_at.to_rfc3339(),
                "mode": e.mode,
                "is_active": e.is_active,
                "user": username,
                "course_id": e.course_key.to_string(),
            })
        })
        .collect();
    Ok(Json(json!({
        "next": page.next.map(|c| link(&site, &q, &c)),
        "previous": page.previous.map(|c| link(&site, &q, &c)),
        "results": results,
    })))
}
