//! Open edX's cohort API (`/api/cohorts/v1/…`) in its shapes: the course's
//! setting (`settings/{course_id}`: `is_cohorted`), its cohorts (list as a
//! JSON array, create), one cohort (get, PATCH name and/or assignment type,
//! answered 204 as Open edX does) and its members (a page in Open edX's
//! page envelope; add by usernames/e-mails answered with `added`,
//! `changed`, `present`, `unknown`, `preassigned`, `invalid`, plus
//! Lectern's `not_enrolled`; remove one, 204). Cohort JSON:
//! `{id, name, user_count, assignment_type, group_id, user_partition_id}`
//! (Lectern has no content groups, so the last two are null).
//!
//! Who: the course team and site admins, by bearer token or session (a
//! session's writes carry the CSRF header); for anyone else the course is
//! not found (404), as Open edX answers without staff access.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lectern_app::cohorts::{split_identifiers, AddReport, Cohort, MAX_IDENTIFIERS, MAX_PAGE_SIZE};
use lectern_app::AppError;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::routes::course_key;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    let c = "/api/cohorts/v1/courses/{course_id}/cohorts";
    Router::new()
        .route(
            "/api/cohorts/v1/settings/{course_id}",
            get(settings).put(set_settings),
        )
        .route(c, get(list).post(create))
        .route(&format!("{c}/"), get(list).post(create))
        .route(&format!("{c}/{{cohort_id}}"), get(one).patch(update))
        .route(&format!("{c}/{{cohort_id}}/"), get(one).patch(update))
        .route(&format!("{c}/{{cohort_id}}/users"), get(members).post(add))
        .route(&format!("{c}/{{cohort_id}}/users/"), get(members).post(add))
        .route(
            &format!("{c}/{{cohort_id}}/users/{{username}}"),
            post(add_one).delete(remove),
        )
}

/// A cohort in Open edX's fields.
pub fn cohort_json(c: &Cohort) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "user_count": c.user_count,
        "assignment_type": c.assignment_type.as_str(),
        "group_id": null,
        "user_partition_id": null,
    })
}

fn id_of(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::not_found(format!("cohort {raw}")))
}

async fn settings(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    state.app.instructor_course(&user, &key).await?;
    let on = state.app.cohorts_enabled(&key).await?;
    Ok(Json(json!({ "is_cohorted": on })))
}

#[derive(Deserialize)]
struct SettingsBody {
    is_cohorted: Option<bool>,
}

async fn set_settings(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<SettingsBody>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    state.app.instructor_course(&user, &key).await?;
    let Some(on) = body.is_cohorted else {
        return Err(AppError::field("is_cohorted", "Missing field \"is_cohorted\".").into());
    };
    state.app.set_cohorts_enabled(&user, &key, on).await?;
    Ok(Json(json!({ "is_cohorted": on })))
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
    page_size: Option<i64>,
}

/// The course's cohorts as a JSON array (`page`/`page_size` slice it;
/// a course has at most 100, so one page holds them all by default).
async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let key = course_key(&raw)?;
    let cohorts = state.app.list_cohorts(&user, &key).await?;
    let size = q.page_size.unwrap_or(MAX_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE) as usize;
    let skip = (q.page.unwrap_or(1).max(1) as usize - 1).saturating_mul(size);
    Ok(Json(
        cohorts
            .iter()
            .skip(skip)
            .take(size)
            .map(cohort_json)
            .collect(),
    ))
}

#[derive(Deserialize)]
struct CohortBody {
    name: Option<String>,
    assignment_type: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<CohortBody>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    state.app.instructor_course(&user, &key).await?;
    let Some(name) = body.name.filter(|n| !n.trim().is_empty()) else {
        return Err(AppError::field("name", "\"name\" must be specified to create cohort.").into());
    };
    let Some(assignment) = body.assignment_type.filter(|t| !t.trim().is_empty()) else {
        return Err(AppError::field(
            "assignment_type",
            "\"assignment_type\" must be specified to create cohort.",
        )
        .into());
    };
    let c = state
        .app
        .create_cohort(&user, &key, &name, &assignment)
        .await?;
    Ok(Json(cohort_json(&c)))
}

async fn one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((raw, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    let c = state.app.get_cohort(&user, &key, id_of(&id)?).await?;
    Ok(Json(cohort_json(&c)))
}

async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((raw, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CohortBody>,
) -> ApiResult<StatusCode> {
    let key = course_key(&raw)?;
    state
        .app
        .update_cohort(
            &user,
            &key,
            id_of(&id)?,
            body.name.as_deref(),
            body.assignment_type.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of members in Open edX's envelope (`page_size` 10 by default,
/// at most 100).
async fn members(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    Path((raw, id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    let id = id_of(&id)?;
    let size = q.page_size.unwrap_or(10).clamp(1, MAX_PAGE_SIZE);
    let page = q.page.unwrap_or(1);
    if page < 1 {
        return Err(AppError::field("page", "The page must be 1 or more.").into());
    }
    let (rows, count) = state
        .app
        .cohort_members(&user, &key, id, page, size)
        .await?;
    let num_pages = if count <= 0 {
        1
    } else {
        (count - 1) / size + 1
    };
    if page > num_pages {
        return Err(AppError::not_found(format!("page {page}")).into());
    }
    let site = super::user::base_url(&headers, &state);
    let link = |p: i64| {
        format!("{site}/api/cohorts/v1/courses/{key}/cohorts/{id}/users?page={p}&page_size={size}")
    };
    Ok(Json(json!({
        "count": count,
        "num_pages": num_pages,
        "current_page": page,
        "start": (page - 1) * size,
        "next": (page < num_pages).then(|| link(page + 1)),
        "previous": (page > 1).then(|| link(page - 1)),
        "results": rows.iter().map(|m| json!({
            "username": m.username, "email": m.email, "name": m.name,
        })).collect::<Vec<_>>(),
    })))
}

/// `users`: a list of usernames/e-mails, or one string of them separated
/// by commas or white space (as the dashboard form sends).
#[derive(Deserialize)]
#[serde(untagged)]
enum UsersField {
    List(Vec<String>),
    Text(String),
}

#[derive(Deserialize)]
struct UsersBody {
    users: Option<UsersField>,
}

fn report_json(r: AddReport) -> Value {
    json!({
        "success": true,
        "added": r.added.iter().map(|(u, e)| json!({"username": u, "email": e})).collect::<Vec<_>>(),
        "changed": r.changed.iter().map(|m| json!({
            "username": m.username, "email": m.email, "previous_cohort": m.previous_cohort,
        })).collect::<Vec<_>>(),
        "present": r.present,
        "unknown": r.unknown,
        "preassigned": [],
        "invalid": r.invalid,
        "not_enrolled": r.not_enrolled,
    })
}

async fn add(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((raw, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<UsersBody>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    state.app.instructor_course(&user, &key).await?;
    let ids = match body.users {
        Some(UsersField::List(list)) => {
            if list.len() > MAX_IDENTIFIERS {
                return Err(AppError::field(
                    "users",
                    format!("Name at most {MAX_IDENTIFIERS} learners at a time."),
                )
                .into());
            }
            split_identifiers(&list.join(","), "users")?
        }
        Some(UsersField::Text(text)) => split_identifiers(&text, "users")?,
        None => Vec::new(),
    };
    if ids.is_empty() {
        return Err(AppError::field("users", "Missing users key in payload").into());
    }
    let report = state
        .app
        .add_to_cohort(&user, &key, id_of(&id)?, &ids)
        .await?;
    Ok(Json(report_json(report)))
}

async fn add_one(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((raw, id, username)): Path<(String, String, String)>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&raw)?;
    let ids = split_identifiers(&username, "username")?;
    if ids.len() != 1 {
        return Err(AppError::field("username", "Name one learner in the path.").into());
    }
    let report = state
        .app
        .add_to_cohort(&user, &key, id_of(&id)?, &ids)
        .await?;
    Ok(Json(report_json(report)))
}

async fn remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((raw, id, username)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let key = course_key(&raw)?;
    state
        .app
        .remove_from_cohort(&user, &key, id_of(&id)?, &username)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
