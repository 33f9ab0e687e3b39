//! Course reports on the instructor dashboard (`docs/reports.md`): the
//! list with a button per report, asking for one (POST, CSRF-checked as
//! every form), and the download, streamed a stored chunk at a time as an
//! attachment. The course team and site admins only; anyone else gets the
//! not-found page.

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::reports::store::{ReportInfo, ReportState};
use lectern_app::reports::{ReportKind, KEEP_REPORTS};
use lectern_app::{AppError, Lectern};

use super::{course_key, page_ctx};
use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/courses/{course_key}/instructor/reports", get(list))
        .route(
            "/courses/{course_key}/instructor/reports/request/{kind}",
            post(request),
        )
        .route(
            "/courses/{course_key}/instructor/reports/{id}/download",
            get(download),
        )
}

/// One report as the page lists it.
struct ReportRow {
    id: i64,
    label: &'static str,
    file_name: String,
    state: &'static str,
    created: String,
    finished: String,
    rows: i64,
    size: u64,
    error: String,
}

fn row(r: ReportInfo) -> ReportRow {
    ReportRow {
        id: r.id,
        label: ReportKind::parse(&r.kind).map_or("Report", ReportKind::label),
        file_name: r.file_name,
        state: r.state.as_str(),
        created: r.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        finished: r
            .finished_at
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default(),
        rows: r.rows,
        size: r.size,
        error: r.error.unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "instructor_reports.html")]
struct ReportsPage {
    ctx: PageCtx,
    course_key: String,
    course_name: String,
    kinds: Vec<(&'static str, &'static str)>,
    reports: Vec<ReportRow>,
    keep: i64,
    busy: bool,
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let course = state.app.instructor_course(&user, &key).await?;
    let reports: Vec<ReportRow> = state
        .app
        .course_reports(&user, &key)
        .await?
        .into_iter()
        .map(row)
        .collect();
    Ok(render(&ReportsPage {
        ctx: page_ctx(&state, Some(&user), &csrf).await,
        course_key: key.to_string(),
        course_name: course.display_name,
        kinds: ReportKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        busy: reports
            .iter()
            .any(|r| r.state == ReportState::Pending.as_str()),
        reports,
        keep: KEEP_REPORTS,
    }))
}

async fn request(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((raw, kind)): Path<(String, String)>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let kind = ReportKind::parse(&kind)
        .ok_or_else(|| AppError::not_found(format!("report kind {kind}")))?;
    state.app.request_report(&user, &key, kind).await?;
    Ok(Redirect::to(&format!("/courses/{key}/instructor/reports")).into_response())
}

async fn download(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((raw, id)): Path<(String, String)>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::not_found(format!("report {id}")))?;
    let report = state.app.report_download(&user, &key, id).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    // The name is built from ASCII letters, digits, `.`, `-` and `_` only.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", report.file_name))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(report.size));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    let body = Body::from_stream(chunks(state.app.clone(), report));
    Ok((headers, body).into_response())
}

/// The report's stored chunks, one at a time as the client takes them.
fn chunks(
    app: Lectern,
    report: ReportInfo,
) -> impl futures_util::Stream<Item = Result<Bytes, AppError>> + Send {
    futures_util::stream::unfold(0i64, move |seq| {
        let (app, report) = (app.clone(), report.clone());
        async move {
            if seq >= report.chunks {
                return None;
            }
            match app.report_chunk(&report, seq).await {
                Ok(bytes) => Some((Ok(Bytes::from(bytes)), seq + 1)),
                Err(e) => Some((Err(e), report.chunks)),
            }
        }
    })
}
