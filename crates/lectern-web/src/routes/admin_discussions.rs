//! Discussion roles from the admin console: a form posting username,
//! course key, role and whether to grant or remove it; the decision is
//! `Lectern::grant_discussion_role`'s (site admins and course instructors).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use lectern_app::discussions::DiscussionRole;
use lectern_app::AppError;
use serde::Deserialize;

use super::course_key;
use crate::auth::PageUser;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/discussion-roles", post(change_role))
}

#[derive(Deserialize)]
struct RoleForm {
    username: String,
    course_key: String,
    role: String,
    /// `allow` (default) or `revoke`, as Open edX's roles API names them.
    #[serde(default)]
    action: String,
}

async fn change_role(
    State(state): State<AppState>,
    PageUser(admin): PageUser,
    PageForm(form): PageForm<RoleForm>,
) -> PageResult<Response> {
    let key = course_key(form.course_key.trim())?;
    let role = DiscussionRole::parse(form.role.trim()).ok_or_else(|| {
        AppError::field(
            "role",
            "The role is Administrator, Moderator, Group Moderator or Community TA.",
        )
    })?;
    let username = form.username.trim();
    let message = if form.action == "revoke" {
        state
            .app
            .revoke_discussion_role(&admin, &key, username, role)
            .await?;
        format!(
            "{username} is no longer {} of {key}'s discussions.",
            role.as_str()
        )
    } else {
        state
            .app
            .grant_discussion_role(&admin, &key, username, role)
            .await?;
        format!(
            "{username} is now {} of {key}'s discussions.",
            role.as_str()
        )
    };
    let q = serde_urlencoded::to_string([("message", message)]).unwrap_or_default();
    Ok(Redirect::to(&format!("/admin/?{q}")).into_response())
}
