//! The public certificate pages: `/certificates/{verify_id}` (anyone, no
//! sign-in: name, course, date, and the grade when the course shows it;
//! "revoked" for a revoked one; an unknown id is the plain 404 page), its
//! PDF at `/certificates/{verify_id}.pdf` or `/certificates/{verify_id}/pdf`
//! (`certificate_pdf.rs`; a revoked certificate has none: 410 with the
//! page), and the page's print stylesheet.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use lectern_app::certificates::{CertificateStatus, CertificateVerification};
use lectern_app::AppError;

use crate::certificate_pdf::{self, CertificateText};
use crate::error::PageResult;
use crate::pages::render;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/certificates/{verify_id}", get(page_or_pdf))
        .route("/certificates/{verify_id}/pdf", get(pdf))
        .route("/assets/certificate.css", get(stylesheet))
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    site_name: String,
    name: String,
    course_title: String,
    course_key: String,
    date: String,
    grade: Option<String>,
    revoked: bool,
    revoked_date: Option<String>,
    verify_id: String,
}

fn grade_text(v: &CertificateVerification) -> Option<String> {
    v.show_grade
        .then(|| format!("{:.0}%", v.certificate.grade * 100.0))
}

fn page(state: &AppState, v: &CertificateVerification) -> CertificatePage {
    let c = &v.certificate;
    CertificatePage {
        site_name: state.config.site_name.clone(),
        name: c.name.clone(),
        course_title: c.course_title.clone(),
        course_key: c.course_key.clone(),
        date: c.created_at.format("%-d %B %Y").to_string(),
        grade: grade_text(v),
        revoked: c.status == CertificateStatus::Revoked,
        revoked_date: c.revoked_at.map(|t| t.format("%-d %B %Y").to_string()),
        verify_id: c.verify_id.clone(),
    }
}

async fn page_or_pdf(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    if let Some(id) = raw.strip_suffix(".pdf") {
        return pdf_of(&state, id).await;
    }
    let v = state.app.verify_certificate(&raw).await?;
    Ok(render(&page(&state, &v)))
}

async fn pdf(State(state): State<AppState>, Path(raw): Path<String>) -> PageResult<Response> {
    pdf_of(&state, &raw).await
}

async fn pdf_of(state: &AppState, verify_id: &str) -> PageResult<Response> {
    let v = state.app.verify_certificate(verify_id).await?;
    if v.certificate.status == CertificateStatus::Revoked {
        return Ok((StatusCode::GONE, render(&page(state, &v))).into_response());
    }
    let c = &v.certificate;
    let text = CertificateText {
        site_name: state.config.site_name.clone(),
        name: c.name.clone(),
        course_title: c.course_title.clone(),
        course_key: c.course_key.clone(),
        date: c.created_at.format("%-d %B %Y").to_string(),
        grade: grade_text(&v).map(|g| format!("Grade: {g}")),
        verify_url: format!(
            "{}/certificates/{}",
            state.app.settings().site_url,
            c.verify_id
        ),
    };
    // Subsetting the font is CPU work: the bounded pool.
    let bytes = lectern_app::cpu::run(move || certificate_pdf::render(&text))
        .await?
        .map_err(AppError::Internal)?;
    let disposition = format!("inline; filename=\"certificate-{}.pdf\"", c.verify_id);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/certificate.css"),
    )
}
