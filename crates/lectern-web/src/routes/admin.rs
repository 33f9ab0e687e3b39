//! The admin console: site numbers, users (search, deactivate, roles), courses.

use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::admin::UserChange;
use lectern_app::{AppError, CourseRecord, CourseRole, SiteStats, User};
use serde::Deserialize;

use super::{course_key, page_ctx};
use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/", get(console))
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/users/{username}", post(change_user))
        .route("/admin/course-roles", post(grant_role))
}

#[derive(askama::Template)]
#[template(path = "admin.html")]
struct Console {
    ctx: PageCtx,
    stats: SiteStats,
    blob_mb: String,
    backend: &'static str,
    q: String,
    page: i64,
    /// Whether a further page of users exists.
    more: bool,
    users: Vec<User>,
    courses: Vec<(CourseRecord, i64)>,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct ConsoleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

async fn console(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Query(query): Query<ConsoleQuery>,
) -> PageResult<Response> {
    let stats = state.app.admin_stats(&user).await?;
    let page = query.page.unwrap_or(1).max(1);
    let users = state.app.admin_users(&user, &query.q, page).await?;
    let more = users.len() as i64 == lectern_app::admin::USERS_PER_PAGE;
    let courses = state.app.admin_courses(&user).await?;
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&Console {
        ctx,
        blob_mb: format!("{:.1}", stats.blob_bytes as f64 / 1_048_576.0),
        stats,
        backend: state.app.backend(),
        q: query.q,
        page,
        more,
        users,
        courses,
        message: query.message.filter(|m| m.len() < 200),
    }))
}

#[derive(Deserialize)]
struct ChangeForm {
    change: String,
}

fn back(message: &str) -> Response {
    let q = serde_urlencoded::to_string([("message", message)]).unwrap_or_default();
    Redirect::to(&format!("/admin/?{q}")).into_response()
}

async fn change_user(
    State(state): State<AppState>,
    PageUser(admin): PageUser,
    Path(username): Path<String>,
    PageForm(form): PageForm<ChangeForm>,
) -> PageResult<Response> {
    let change = match form.change.as_str() {
        "activate" => UserChange::Activate,
        "deactivate" => UserChange::Deactivate,
        "make_admin" => UserChange::MakeAdmin,
        "revoke_admin" => UserChange::RevokeAdmin,
        "make_creator" => UserChange::MakeCourseCreator,
        "revoke_creator" => UserChange::RevokeCourseCreator,
        other => {
            return Err(AppError::field("change", format!("Unknown change “{other}”.")).into())
        }
    };
    let user = state
        .app
        .admin_change_user(&admin, &username, change)
        .await?;
    Ok(back(&format!("{} updated.", user.username)))
}

#[derive(Deserialize)]
struct RoleForm {
    username: String,
    course_key: String,
    role: String,
}

async fn grant_role(
    State(state): State<AppState>,
    PageUser(admin): PageUser,
    PageForm(form): PageForm<RoleForm>,
) -> PageResult<Response> {
    let key = course_key(form.course_key.trim())?;
    let role = CourseRole::parse(&form.role)
        .ok_or_else(|| AppError::field("role", "The role is staff or instructor."))?;
    state
        .app
        .admin_grant_course_role(&admin, form.username.trim(), &key, role)
        .await?;
    Ok(back(&format!(
        "{} is now {} of {}.",
        form.username.trim(),
        role.as_str(),
        key
    )))
}
