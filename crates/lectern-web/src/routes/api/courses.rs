//! Courses, blocks and enrolment APIs (`/api/courses/v1/`, `/api/courses/v2/blocks/`,
//! `/api/enrollment/v1/`).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use lectern_app::learning::parse_date;
use lectern_app::{AppError, CourseRecord};
use lectern_content::tree::{level_of, Level};
use lectern_content::CourseTree;
use serde::Deserialize;
use serde_json::{json, Value};

use super::paginate;
use crate::auth::{ApiMaybeUser, ApiUser};
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::idempotency::idempotency_key;
use crate::routes::course_key;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/courses/v1/courses/", get(list_courses))
        .route("/api/courses/v1/courses/{course_key}", get(one_course))
        .route("/api/courses/v1/courses/{course_key}/", get(one_course))
        .route("/api/courses/v2/blocks/", get(blocks))
        .route(
            "/api/enrollment/v1/enrollment",
            get(my_enrollments).post(enroll),
        )
        .route(
            "/api/enrollment/v1/enrollment/",
            get(my_enrollments).post(enroll),
        )
}

fn date(d: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    d.map(|d| json!(d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .unwrap_or(Value::Null)
}

fn course_json(c: &CourseRecord, tree: Option<&CourseTree>) -> Value {
    let short = tree
        .and_then(|t| t.about.get("short_description"))
        .cloned()
        .unwrap_or_default();
    json!({
        "id": c.key.to_string(),
        "course_id": c.key.to_string(),
        "name": c.display_name,
        "org": c.key.org,
        "number": c.key.number,
        "start": date(c.start),
        "end": date(c.end),
        "short_description": short,
        "pacing": if tree.and_then(|t| t.root()).and_then(|r| r.field("self_paced")) == Some("true") { "self" } else { "instructor" },
        "blocks_url": format!("/api/courses/v2/blocks/?course_id={}", c.key),
        "effort": tree.and_then(|t| t.about.get("effort")).cloned(),
        "mobile_available": true,
        "hidden": false,
    })
}

#[derive(Deserialize)]
struct ListQuery {
    page: Option<usize>,
    page_size: Option<usize>,
}

async fn list_courses(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let courses: Vec<Value> = state
        .app
        .catalogue()
        .await?
        .iter()
        .map(|c| course_json(c, None))
        .collect();
    let page = paginate(
        courses,
        q.page.unwrap_or(1),
        q.page_size.unwrap_or(10),
        "/api/courses/v1/courses/",
    );
    Ok(Json(
        serde_json::to_value(page).map_err(|e| AppError::Internal(e.to_string()))?,
    ))
}

async fn one_course(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    let course = state.app.published_course(&key).await?;
    Ok(Json(course_json(&course.record, Some(&course.tree))))
}

#[derive(Deserialize)]
struct BlocksQuery {
    course_id: Option<String>,
}

async fn blocks(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(q): Query<BlocksQuery>,
) -> ApiResult<Json<Value>> {
    let raw = q
        .course_id
        .ok_or_else(|| AppError::field("course_id", "course_id is required."))?;
    let key = course_key(&raw)?;
    let course = state.app.courseware(&user, &key).await?;
    let sees = state.app.visibility(&user, &key).await?;
    let tree = &course.tree;
    let mut blocks = BTreeMap::new();
    for b in tree.walk() {
        let r = b.block_ref();
        if !sees.shows(tree, &r) {
            continue;
        }
        let usage = tree.usage_key(&r).to_string();
        let children: Vec<String> = b
            .children
            .iter()
            .filter(|c| sees.shows(tree, c))
            .map(|c| tree.usage_key(c).to_string())
            .collect();
        let graded = tree.effective_field(&r, "graded").as_deref() == Some("true");
        let unit = tree
            .ancestry(&r)
            .into_iter()
            .find(|a| a.block_type == "vertical");
        let web_url = match (level_of(&b.block_type), &unit) {
            (Level::Course, _) => format!("/courses/{key}/"),
            (_, Some(u)) => format!("/courses/{key}/unit/{}", u.id),
            _ => format!("/courses/{key}/jump_to/{usage}"),
        };
        blocks.insert(
            usage.clone(),
            json!({
                "id": usage,
                "block_id": b.id,
                "type": b.block_type,
                "display_name": b.title(),
                "children": children,
                "graded": graded,
                "format": tree.effective_field(&r, "format"),
                "due": tree.effective_field(&r, "due").as_deref().and_then(parse_date).map(|d| d.to_rfc3339()),
                "start": b.field("start").and_then(parse_date).map(|d| d.to_rfc3339()),
                "lms_web_url": web_url,
                "student_view_url": web_url,
            }),
        );
    }
    Ok(Json(
        json!({"root": tree.usage_key(&CourseTree::root_ref()).to_string(), "blocks": blocks}),
    ))
}

fn enrollment_json(e: &lectern_app::Enrollment, c: Option<&CourseRecord>, username: &str) -> Value {
    json!({
        "created": e.created_at.to_rfc3339(),
        "mode": e.mode,
        "is_active": e.is_active,
        "user": username,
        "course_details": {
            "course_id": e.course_key.to_string(),
            "course_name": c.map(|c| c.display_name.clone()),
            "course_start": date(c.and_then(|c| c.start)),
            "course_end": date(c.and_then(|c| c.end)),
        }
    })
}

async fn my_enrollments(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<Value>> {
    let list: Vec<Value> = state
        .app
        .dashboard(&user)
        .await?
        .iter()
        .map(|(e, c)| enrollment_json(e, Some(c), &user.username))
        .collect();
    Ok(Json(Value::Array(list)))
}

#[derive(Deserialize)]
struct EnrollRequest {
    course_details: CourseDetails,
    #[serde(default)]
    is_active: Option<bool>,
    /// `audit` (the only mode offered); others are refused.
    #[serde(default)]
    mode: Option<String>,
    /// Someone else's username (site staff or the course's team).
    #[serde(default)]
    user: Option<String>,
}

#[derive(Deserialize)]
struct CourseDetails {
    course_id: String,
}

/// Enrols (or unenrols) the caller or, for staff, someone else. With an
/// `Idempotency-Key` a retry answers with the first request's enrolment.
async fn enroll(
    State(state): State<AppState>,
    ApiMaybeUser(user): ApiMaybeUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> ApiResult<Json<Value>> {
    let user = user.ok_or(AppError::Unauthenticated)?;
    let idem = idempotency_key(&headers)?;
    let key = course_key(&req.course_details.course_id)?;
    let (e, username) = state
        .app
        .change_enrollment_keyed(
            &user,
            req.user.as_deref(),
            &key,
            req.mode.as_deref(),
            req.is_active != Some(false),
            idem.as_ref(),
        )
        .await?;
    let c = state.app.published_course(&key).await?.record;
    Ok(Json(enrollment_json(&e, Some(&c), &username)))
}
