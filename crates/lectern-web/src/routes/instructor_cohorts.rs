//! The instructor dashboard's Cohorts page (`/courses/{key}/instructor/cohorts`),
//! as Open edX's Cohorts tab: the course's switch, its cohorts with their
//! member counts, creating one, and for a chosen cohort its members, adding
//! learners by username or e-mail (the page reports who was added, moved,
//! already there, unknown, invalid or not enrolled), removing one; and
//! assigning learners from a CSV file. Every change is a POST form with the
//! CSRF token (the upload carries it in its query string, as Studio's file
//! upload does). The course team and site admins only; anyone else gets the
//! not-found page.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Extension, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::cohorts::{split_identifiers, AddReport, CsvCohortResult, MAX_CSV_BYTES};
use lectern_app::{AppError, User};
use serde::Deserialize;

use super::{course_key, page_ctx};
use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

/// Members a page lists.
const MEMBERS_PER_PAGE: i64 = 100;

pub fn router() -> Router<AppState> {
    let base = "/courses/{course_key}/instructor/cohorts";
    Router::new()
        .route(base, get(show))
        .route(&format!("{base}/settings"), post(settings))
        .route(&format!("{base}/create"), post(create))
        .route(&format!("{base}/upload"), post(upload))
        .route(&format!("{base}/{{cohort_id}}/add"), post(add))
        .route(&format!("{base}/{{cohort_id}}/remove"), post(remove))
}

struct CohortRow {
    id: i64,
    name: String,
    assignment: &'static str,
    count: i64,
    selected: bool,
}

struct MemberRow {
    username: String,
    email: String,
    name: String,
}

struct Selected {
    id: i64,
    name: String,
    members: Vec<MemberRow>,
    total: i64,
    page: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

/// What adding learners did, as lines for the page.
#[derive(Default)]
struct ReportView {
    added: Vec<String>,
    changed: Vec<String>,
    present: Vec<String>,
    unknown: Vec<String>,
    invalid: Vec<String>,
    not_enrolled: Vec<String>,
}

impl From<AddReport> for ReportView {
    fn from(r: AddReport) -> Self {
        ReportView {
            added: r
                .added
                .into_iter()
                .map(|(u, e)| format!("{u} ({e})"))
                .collect(),
            changed: r
                .changed
                .into_iter()
                .map(|m| {
                    format!(
                        "{} ({}), moved from {}",
                        m.username, m.email, m.previous_cohort
                    )
                })
                .collect(),
            present: r.present,
            unknown: r.unknown,
            invalid: r.invalid,
            not_enrolled: r.not_enrolled,
        }
    }
}

#[derive(Template)]
#[template(path = "instructor_cohorts.html")]
struct CohortsPage {
    ctx: PageCtx,
    course_key: String,
    course_name: String,
    enabled: bool,
    cohorts: Vec<CohortRow>,
    without_cohort: i64,
    selected: Option<Selected>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    report: Option<ReportView>,
    csv: Vec<CsvCohortResult>,
    new_name: String,
    users: String,
    max_csv_kib: usize,
}

/// The parts of the page that depend on what was just done.
#[derive(Default)]
struct View {
    cohort: Option<i64>,
    page: i64,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    report: Option<ReportView>,
    csv: Vec<CsvCohortResult>,
    new_name: String,
    users: String,
}

impl View {
    /// A refused form: what is wrong, with the typed values kept.
    fn refused(mut self, e: AppError) -> Result<(Self, StatusCode), AppError> {
        match e {
            AppError::Invalid {
                message,
                field_errors,
            } => {
                self.error = Some(message);
                self.field_errors = field_errors;
                Ok((self, StatusCode::BAD_REQUEST))
            }
            other => Err(other),
        }
    }
}

async fn page(
    state: &AppState,
    user: &User,
    csrf: &Extension<CsrfToken>,
    raw: &str,
    view: View,
    status: StatusCode,
) -> PageResult<Response> {
    let key = course_key(raw)?;
    let overview = state.app.course_cohorts(user, &key).await?;
    let selected = match view.cohort {
        Some(id) => {
            let cohort = state.app.get_cohort(user, &key, id).await?;
            let page = view.page.max(1);
            let (members, total) = state
                .app
                .cohort_members(user, &key, id, page, MEMBERS_PER_PAGE)
                .await?;
            Some(Selected {
                id,
                name: cohort.name,
                members: members
                    .into_iter()
                    .map(|m| MemberRow {
                        username: m.username,
                        email: m.email,
                        name: m.name,
                    })
                    .collect(),
                total,
                page,
                prev: (page > 1).then(|| page - 1),
                next: (page * MEMBERS_PER_PAGE < total).then(|| page + 1),
            })
        }
        None => None,
    };
    let mut resp = render(&CohortsPage {
        ctx: page_ctx(state, Some(user), csrf).await,
        course_key: key.to_string(),
        course_name: overview.course_name,
        enabled: overview.enabled,
        cohorts: overview
            .cohorts
            .into_iter()
            .map(|c| CohortRow {
                selected: view.cohort == Some(c.id),
                id: c.id,
                name: c.name,
                assignment: c.assignment_type.as_str(),
                count: c.user_count,
            })
            .collect(),
        without_cohort: overview.without_cohort,
        selected,
        error: view.error,
        field_errors: view.field_errors,
        report: view.report,
        csv: view.csv,
        new_name: view.new_name,
        users: view.users,
        max_csv_kib: MAX_CSV_BYTES / 1024,
    });
    *resp.status_mut() = status;
    Ok(resp)
}

fn back(key: &str, cohort: Option<i64>) -> Response {
    match cohort {
        Some(id) => Redirect::to(&format!("/courses/{key}/instructor/cohorts?cohort={id}")),
        None => Redirect::to(&format!("/courses/{key}/instructor/cohorts")),
    }
    .into_response()
}

#[derive(Deserialize)]
struct ShowQuery {
    cohort: Option<i64>,
    page: Option<i64>,
}

async fn show(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult<Response> {
    let view = View {
        cohort: q.cohort,
        page: q.page.unwrap_or(1),
        ..View::default()
    };
    page(&state, &user, &csrf, &raw, view, StatusCode::OK).await
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    enabled: String,
}

async fn settings(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(raw): Path<String>,
    PageForm(form): PageForm<SettingsForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let on = match form.enabled.as_str() {
        "on" | "true" => true,
        "off" | "false" => false,
        other => {
            return Err(
                AppError::field("enabled", format!("Expected on or off, not {other:?}.")).into(),
            )
        }
    };
    state.app.set_cohorts_enabled(&user, &key, on).await?;
    Ok(back(&key.to_string(), None))
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    assignment_type: String,
}

async fn create(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<CreateForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    match state
        .app
        .create_cohort(&user, &key, &form.name, &form.assignment_type)
        .await
    {
        Ok(c) => Ok(back(&key.to_string(), Some(c.id))),
        Err(e) => {
            let view = View {
                new_name: form.name,
                ..View::default()
            };
            let (view, status) = view.refused(e)?;
            page(&state, &user, &csrf, &raw, view, status).await
        }
    }
}

#[derive(Deserialize)]
struct AddForm {
    #[serde(default)]
    users: String,
}

async fn add(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path((raw, id)): Path<(String, i64)>,
    PageForm(form): PageForm<AddForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let added = match split_identifiers(&form.users, "users") {
        Ok(ids) if ids.is_empty() => Err(AppError::field(
            "users",
            "Enter one or more usernames or e-mail addresses.",
        )),
        Ok(ids) => state.app.add_to_cohort(&user, &key, id, &ids).await,
        Err(e) => Err(e),
    };
    let view = View {
        cohort: Some(id),
        page: 1,
        ..View::default()
    };
    match added {
        Ok(report) => {
            let view = View {
                report: Some(report.into()),
                ..view
            };
            page(&state, &user, &csrf, &raw, view, StatusCode::OK).await
        }
        Err(e) => {
            let view = View {
                users: form.users,
                ..view
            };
            let (view, status) = view.refused(e)?;
            page(&state, &user, &csrf, &raw, view, status).await
        }
    }
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(default)]
    username: String,
}

async fn remove(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path((raw, id)): Path<(String, i64)>,
    PageForm(form): PageForm<RemoveForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    match state
        .app
        .remove_from_cohort(&user, &key, id, &form.username)
        .await
    {
        Ok(()) => Ok(back(&key.to_string(), Some(id))),
        Err(e) => {
            let view = View {
                cohort: Some(id),
                page: 1,
                ..View::default()
            };
            let (view, status) = view.refused(e)?;
            page(&state, &user, &csrf, &raw, view, status).await
        }
    }
}

/// The CSV upload: the caller's place on the course team is checked
/// before the body is read; the file is read up to `MAX_CSV_BYTES` (one
/// byte more is the "too large" answer).
async fn upload(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    mut form: Multipart,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    state.app.instructor_course(&user, &key).await?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        AppError::field("file", format!("The upload could not be read: {e}"))
    };
    let mut file: Option<Vec<u8>> = None;
    let read = async {
        while let Some(mut field) = form.next_field().await.map_err(unreadable)? {
            if field.name() != Some("file") {
                continue;
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                if bytes.len() + chunk.len() > MAX_CSV_BYTES {
                    return Err(AppError::field(
                        "file",
                        format!("The file is larger than {} KiB.", MAX_CSV_BYTES / 1024),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            file = Some(bytes);
        }
        Ok(())
    }
    .await;
    let outcome = match (read, file) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(AppError::field("file", "Choose a CSV file to upload.")),
        (Ok(()), Some(bytes)) => state.app.upload_cohort_csv(&user, &key, &bytes).await,
    };
    match outcome {
        Ok(csv) => {
            let view = View {
                csv,
                ..View::default()
            };
            page(&state, &user, &csrf, &raw, view, StatusCode::OK).await
        }
        Err(e) => {
            let (view, status) = View::default().refused(e)?;
            page(&state, &user, &csrf, &raw, view, status).await
        }
    }
}
