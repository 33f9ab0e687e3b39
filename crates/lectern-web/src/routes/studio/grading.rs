//! The grading policy editor: Open edX's `grading_policy.json`, checked on save.

use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use lectern_app::AppError;
use lectern_content::grader::GradingPolicy;
use serde::Deserialize;

use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, PageCtx};
use crate::routes::{course_key, page_ctx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/studio/course/{course_key}/grading", get(page).post(save))
}

#[derive(askama::Template)]
#[template(path = "studio_grading.html")]
struct GradingPage {
    ctx: PageCtx,
    key: String,
    name: String,
    graders: Vec<(String, String, f64, u32, u32)>,
    cutoffs: Vec<(String, f64)>,
    json: String,
    error: Option<String>,
    saved: bool,
}

fn page_for(
    ctx: PageCtx,
    key: String,
    name: String,
    policy: &GradingPolicy,
    json: String,
    error: Option<String>,
    saved: bool,
) -> GradingPage {
    GradingPage {
        ctx,
        key,
        name,
        graders: policy
            .graders
            .iter()
            .map(|g| {
                (
                    g.assignment_type.clone(),
                    g.short_label.clone().unwrap_or_default(),
                    g.weight,
                    g.min_count,
                    g.drop_count,
                )
            })
            .collect(),
        cutoffs: policy
            .grade_cutoffs
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        json,
        error,
        saved,
    }
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    #[serde(default)]
    saved: bool,
}

async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    Query(q): Query<SavedQuery>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let (_, tree) = state.app.draft(&user, &key).await?;
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    let policy = &tree.grading_policy;
    Ok(render(&page_for(
        ctx,
        key.to_string(),
        tree.display_name(),
        policy,
        policy.to_json(),
        None,
        q.saved,
    )))
}

#[derive(Deserialize)]
struct PolicyForm {
    #[serde(default)]
    grading_policy: String,
}

async fn save(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<PolicyForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    match state
        .app
        .set_grading_policy(&user, &key, &form.grading_policy)
        .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/studio/course/{key}/grading?saved=true")).into_response())
        }
        Err(AppError::Invalid { message, .. }) => {
            let (_, tree) = state.app.draft(&user, &key).await?;
            let ctx = page_ctx(&state, Some(&user), &csrf).await;
            let page = page_for(
                ctx,
                key.to_string(),
                tree.display_name(),
                &tree.grading_policy,
                form.grading_policy,
                Some(message),
                false,
            );
            let mut resp = render(&page);
            *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
