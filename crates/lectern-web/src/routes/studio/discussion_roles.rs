//! Studio's "Discussion roles" page of a course: who holds Open edX's forum
//! roles (Administrator, Moderator, Group Moderator, Community TA), and for
//! the course's instructors and site admins the forms to grant one (by
//! username or e-mail) and remove one. The course team sees the list; the
//! decisions are `Lectern::grant_discussion_role`'s and
//! `revoke_discussion_role`'s, the same as the admin console's and the API's.

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use lectern_app::discussions::DiscussionRole;
use lectern_app::{AppError, User};
use lectern_content::CourseKey;
use serde::Deserialize;

use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, PageCtx};
use crate::routes::{course_key, page_ctx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/studio/course/{course_key}/discussion-roles",
        get(page).post(change),
    )
}

/// One role holder: username, e-mail, role name.
struct Holder {
    username: String,
    email: String,
    role: &'static str,
}

#[derive(askama::Template)]
#[template(path = "studio_discussion_roles.html")]
struct RolesPage {
    ctx: PageCtx,
    key: String,
    name: String,
    holders: Vec<Holder>,
    roles: Vec<&'static str>,
    may_manage: bool,
    done: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    #[serde(default)]
    done: String,
}

async fn roles_page(
    state: &AppState,
    user: &User,
    csrf: &Extension<CsrfToken>,
    key: &CourseKey,
    done: Option<&'static str>,
    error: Option<String>,
) -> Result<RolesPage, AppError> {
    let (record, _) = state.app.draft(user, key).await?;
    let team = state.app.discussion_team(user, key).await?;
    let may_manage = state.app.may_manage_discussion_roles(user, key).await?;
    Ok(RolesPage {
        ctx: page_ctx(state, Some(user), csrf).await,
        key: key.to_string(),
        name: record.display_name,
        holders: team
            .into_iter()
            .map(|(u, role)| Holder {
                username: u.username,
                email: u.email,
                role: role.as_str(),
            })
            .collect(),
        roles: DiscussionRole::ALL.iter().map(|r| r.as_str()).collect(),
        may_manage,
        done,
        error,
    })
}

async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let done = match q.done.as_str() {
        "granted" => Some("The discussion role was granted."),
        "revoked" => Some("The discussion role was removed."),
        _ => None,
    };
    Ok(render(
        &roles_page(&state, &user, &csrf, &key, done, None).await?,
    ))
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    role: String,
    /// `allow` (default) or `revoke`, as Open edX's roles API names them.
    #[serde(default)]
    action: String,
}

async fn change(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<RoleForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let result = match DiscussionRole::parse(form.role.trim()) {
        None => Err(AppError::field(
            "role",
            "The role is Administrator, Moderator, Group Moderator or Community TA.",
        )),
        Some(_) if form.user.trim().is_empty() => Err(AppError::field(
            "user",
            "Name the person by username or e-mail.",
        )),
        Some(role) if form.action == "revoke" => state
            .app
            .revoke_discussion_role(&user, &key, form.user.trim(), role)
            .await
            .map(|()| "revoked"),
        Some(role) => state
            .app
            .grant_discussion_role(&user, &key, form.user.trim(), role)
            .await
            .map(|()| "granted"),
    };
    match result {
        Ok(done) => Ok(Redirect::to(&format!(
            "/studio/course/{key}/discussion-roles?done={done}"
        ))
        .into_response()),
        // A mistyped name or role: the page again, saying what is wrong.
        Err(e @ (AppError::Invalid { .. } | AppError::NotFound(_))) => {
            let status = match e {
                AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
                _ => StatusCode::NOT_FOUND,
            };
            let page = roles_page(&state, &user, &csrf, &key, None, Some(e.to_string())).await?;
            let mut resp = render(&page);
            *resp.status_mut() = status;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
