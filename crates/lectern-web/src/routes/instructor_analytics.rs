//! The instructor dashboard's analytics page (`docs/analytics.md`):
//! `/courses/{key}/instructor/analytics` draws five charts server-side as
//! SVG (`charts/`), each followed by its table (the text alternative) and a
//! link to the same table as CSV at `…/analytics/{chart}.csv`. The course
//! team and site admins only; anyone else gets the not-found page, as on
//! the rest of the dashboard.

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use lectern_app::analytics::{completed_note, ChartKind};
use lectern_app::AppError;

use super::{course_key, page_ctx};
use crate::auth::PageUser;
use crate::charts::analytics::chart_spec;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/courses/{course_key}/instructor/analytics", get(page))
        .route(
            "/courses/{course_key}/instructor/analytics/{file}",
            get(csv),
        )
}

/// One chart with its table.
struct Section {
    name: &'static str,
    title: &'static str,
    svg: String,
    /// Items left out of the drawing, said under it.
    left_out: usize,
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

#[derive(Template)]
#[template(path = "instructor_analytics.html")]
struct AnalyticsPage {
    ctx: PageCtx,
    course_key: String,
    course_name: String,
    sections: Vec<Section>,
    completed_note: String,
}

async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let course = state.app.instructor_course(&user, &key).await?;
    let mut sections = Vec::new();
    for kind in ChartKind::ALL {
        let data = state.app.analytics_chart(&user, &key, kind).await?;
        let (spec, left_out) = chart_spec(&data);
        let table = data.table();
        sections.push(Section {
            name: kind.as_str(),
            title: kind.title(),
            svg: spec.draw().svg(),
            left_out,
            header: table.header,
            rows: table.rows,
        });
    }
    Ok(render(&AnalyticsPage {
        ctx: page_ctx(&state, Some(&user), &csrf).await,
        course_key: key.to_string(),
        course_name: course.display_name,
        sections,
        completed_note: completed_note(),
    }))
}

async fn csv(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((raw, file)): Path<(String, String)>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let kind = file
        .strip_suffix(".csv")
        .and_then(ChartKind::parse)
        .ok_or_else(|| AppError::not_found(format!("chart {file}")))?;
    let data = state.app.analytics_chart(&user, &key, kind).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let course: String = key
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // The name is ASCII letters, digits, `.`, `-` and `_` only.
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{course}_{}.csv\"",
        kind.as_str()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok((headers, data.table().csv()).into_response())
}
