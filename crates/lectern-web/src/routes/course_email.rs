//! Bulk e-mail pages: the instructor page of a course (compose → preview →
//! send, and the progress of what was sent) for the course team and site
//! admins, and the unsubscribe link every copy carries (no sign-in: the
//! token is the key; GET asks, POST opts out), as Open edX's course e-mail
//! settings.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::bulk_email::{EmailDraft, EmailProgress, EmailTarget};
use lectern_app::AppError;
use serde::Deserialize;

use super::{course_key, page_ctx};
use crate::auth::{MaybeUser, PageUser};
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/courses/{course_key}/instructor/email", get(compose))
        .route(
            "/courses/{course_key}/instructor/email/preview",
            post(preview),
        )
        .route("/courses/{course_key}/instructor/email/send", post(send))
        .route(
            "/email/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
}

/// The compose form; one checkbox per target.
#[derive(Debug, Default, Deserialize)]
struct ComposeForm {
    #[serde(default)]
    target_myself: Option<String>,
    #[serde(default)]
    target_staff: Option<String>,
    #[serde(default)]
    target_learners: Option<String>,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    /// Cohort checkboxes: `target_cohort:ID`.
    #[serde(flatten)]
    cohorts: BTreeMap<String, String>,
}

impl ComposeForm {
    fn draft(&self) -> EmailDraft {
        let mut targets: Vec<String> = [
            (&self.target_myself, EmailTarget::Myself),
            (&self.target_staff, EmailTarget::Staff),
            (&self.target_learners, EmailTarget::Learners),
        ]
        .into_iter()
        .filter(|(v, _)| v.is_some())
        .map(|(_, t)| t.key())
        .collect();
        targets.extend(
            self.cohorts
                .keys()
                .filter_map(|k| k.strip_prefix("target_"))
                .filter(|k| k.starts_with("cohort:"))
                .map(str::to_string),
        );
        EmailDraft {
            targets,
            subject: self.subject.clone(),
            body: self.body.clone(),
        }
    }
}

/// One sent e-mail as the page lists it.
struct SentRow {
    subject: String,
    targets: String,
    created: String,
    status: String,
    queued: i64,
    sent: i64,
    failed: i64,
}

fn sent_row(p: EmailProgress) -> SentRow {
    let targets = p.target_labels.join(", ");
    let status = match (p.email.fanned_out_at, p.queued) {
        (None, _) => "queueing recipients",
        (Some(_), 0) => "finished",
        (Some(_), _) => "sending",
    };
    SentRow {
        subject: p.email.subject,
        targets,
        created: p.email.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        status: status.into(),
        queued: p.queued + p.sent + p.failed,
        sent: p.sent,
        failed: p.failed,
    }
}

#[derive(Template)]
#[template(path = "course_email.html")]
struct ComposePage {
    ctx: PageCtx,
    course_key: String,
    course_name: String,
    targets: Vec<(String, String, bool)>,
    subject: String,
    body: String,
    notice: Option<String>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    sent: Vec<SentRow>,
}

#[derive(Template)]
#[template(path = "course_email_preview.html")]
struct PreviewPage {
    ctx: PageCtx,
    course_key: String,
    course_name: String,
    targets: Vec<(String, String)>,
    subject: String,
    /// The form's body as typed, sent again with "Send".
    body: String,
    /// Sanitized: what recipients get.
    body_html: String,
    body_text: String,
}

#[allow(clippy::too_many_arguments)]
async fn compose_page(
    state: &AppState,
    user: &lectern_app::User,
    csrf: &Extension<CsrfToken>,
    raw: &str,
    form: &ComposeForm,
    notice: Option<String>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
) -> PageResult<Response> {
    let key = course_key(raw)?;
    let course = state.app.email_course(user, &key).await?;
    let sent = state.app.bulk_emails(user, &key).await?;
    let chosen = form.draft().targets;
    let offered = state.app.email_targets(user, &key).await?;
    Ok(render(&ComposePage {
        ctx: page_ctx(state, Some(user), csrf).await,
        course_key: key.to_string(),
        course_name: course.display_name,
        targets: offered
            .into_iter()
            .map(|(t, label)| {
                let key = t.key();
                let on = chosen.contains(&key);
                (key, label, on)
            })
            .collect(),
        subject: form.subject.clone(),
        body: form.body.clone(),
        notice,
        error,
        field_errors,
        sent: sent.into_iter().map(sent_row).collect(),
    }))
}

async fn compose(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    compose_page(
        &state,
        &user,
        &csrf,
        &raw,
        &ComposeForm::default(),
        None,
        None,
        BTreeMap::new(),
    )
    .await
}

/// A refused draft: the form again, with what is wrong, as a 400.
async fn refused(
    state: &AppState,
    user: &lectern_app::User,
    csrf: &Extension<CsrfToken>,
    raw: &str,
    form: &ComposeForm,
    e: AppError,
) -> PageResult<Response> {
    match e {
        AppError::Invalid {
            message,
            field_errors,
        } => {
            let page = compose_page(
                state,
                user,
                csrf,
                raw,
                form,
                None,
                Some(message),
                field_errors,
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        other => Err(other.into()),
    }
}

async fn preview(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ComposeForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let checked = match state
        .app
        .preview_bulk_email(&user, &key, &form.draft())
        .await
    {
        Ok(c) => c,
        Err(e) => return refused(&state, &user, &csrf, &raw, &form, e).await,
    };
    let course = state.app.email_course(&user, &key).await?;
    let labels = state
        .app
        .email_target_labels(&key, &checked.targets)
        .await?;
    Ok(render(&PreviewPage {
        ctx: page_ctx(&state, Some(&user), &csrf).await,
        course_key: key.to_string(),
        course_name: course.display_name,
        targets: checked
            .targets
            .iter()
            .map(|t| t.key())
            .zip(labels)
            .collect(),
        subject: checked.subject,
        body: form.body.clone(),
        body_html: checked.body_html,
        body_text: checked.body_text,
    }))
}

async fn send(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ComposeForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    match state.app.send_bulk_email(&user, &key, &form.draft()).await {
        Ok(_) => Ok(Redirect::to(&format!("/courses/{key}/instructor/email")).into_response()),
        Err(e) => refused(&state, &user, &csrf, &raw, &form, e).await,
    }
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    ctx: PageCtx,
    token: String,
    course_name: String,
    done: bool,
}

async fn unsubscribe_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    csrf: Extension<CsrfToken>,
    Path(token): Path<String>,
) -> PageResult<Response> {
    let Some((_, course_name)) = state.app.unsubscribe_course(&token).await? else {
        return Err(AppError::not_found("this unsubscribe link").into());
    };
    Ok(render(&UnsubscribePage {
        ctx: page_ctx(&state, user.as_ref(), &csrf).await,
        token,
        course_name,
        done: false,
    }))
}

async fn unsubscribe(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    csrf: Extension<CsrfToken>,
    Path(token): Path<String>,
) -> PageResult<Response> {
    let Some(course_name) = state.app.unsubscribe(&token).await? else {
        return Err(AppError::not_found("this unsubscribe link").into());
    };
    Ok(render(&UnsubscribePage {
        ctx: page_ctx(&state, user.as_ref(), &csrf).await,
        token,
        course_name,
        done: true,
    }))
}
