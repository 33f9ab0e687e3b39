//! Studio: the authoring pages. Every page works on the draft; learners
//! see nothing of it until Publish.

mod discussion_roles;
mod edit;
mod files;
mod grading;
mod outline;
mod transfer;

use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::{AppError, CourseRecord};
use serde::Deserialize;

use super::page_ctx;
use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/studio/", get(home))
        .route("/studio", get(|| async { Redirect::permanent("/studio/") }))
        .route("/studio/courses", post(create))
        .merge(outline::router())
        .merge(edit::router())
        .merge(grading::router())
        .merge(discussion_roles::router())
        .merge(files::router(state))
        .merge(transfer::router(state))
}

#[derive(askama::Template)]
#[template(path = "studio_home.html")]
struct StudioHome {
    ctx: PageCtx,
    courses: Vec<CourseRecord>,
    can_create: bool,
    error: Option<String>,
    /// The import form's key for this rendering (see `crate::idempotency`).
    import_key: String,
}

async fn home(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
) -> PageResult<Response> {
    let courses = state.app.studio_courses(&user).await?;
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    let can_create = user.is_admin || user.is_course_creator;
    Ok(render(&StudioHome {
        ctx,
        courses,
        can_create,
        error: None,
        import_key: crate::idempotency::form_key(),
    }))
}

#[derive(Deserialize)]
struct NewCourse {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    run: String,
}

async fn create(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    PageForm(form): PageForm<NewCourse>,
) -> PageResult<Response> {
    match state
        .app
        .create_course(
            &user,
            &form.org,
            &form.number,
            &form.run,
            &form.display_name,
        )
        .await
    {
        Ok(c) => Ok(Redirect::to(&format!("/studio/course/{}", c.key)).into_response()),
        Err(AppError::Invalid { message, .. }) => {
            let courses = state.app.studio_courses(&user).await?;
            let ctx = page_ctx(&state, Some(&user), &csrf).await;
            let mut resp = render(&StudioHome {
                ctx,
                courses,
                can_create: true,
                error: Some(message),
                import_key: crate::idempotency::form_key(),
            });
            *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
