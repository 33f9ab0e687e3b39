//! The public certificate pages: `/certificates/{verify_id}` (anyone, no
//! sign-in: name, course, date, the grade when the course shows it, the
//! signatories and the organisation logo of the course's active
//! configuration; "revoked" for a revoked one; an unknown id, or one the
//! course does not show yet, is the plain 404 page, except to the course
//! team, who see a preview), its PDF at `/certificates/{verify_id}.pdf` or
//! `/certificates/{verify_id}/pdf` (`certificate_pdf.rs`; a revoked
//! certificate has none: 410 with the page), and the page's print
//! stylesheet. Signature and logo images are the course's files, shown
//! through its file route and embedded in the PDF, only when they decode
//! within bounds (`certificate_images.rs`); any other is left out.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use lectern_app::certificates::{
    CertificateImage, CertificateStatus, CertificateVerification, ImageKind,
};
use lectern_app::{AppError, User};
use lectern_content::CourseKey;

use crate::auth::MaybeUser;
use crate::certificate_images;
use crate::certificate_pdf::{self, CertificateText, PdfSignatory};
use crate::error::PageResult;
use crate::pages::render;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/certificates/{verify_id}", get(page_or_pdf))
        .route("/certificates/{verify_id}/pdf", get(pdf))
        .route("/assets/certificate.css", get(stylesheet))
}

/// A signatory as the page shows them.
struct SignatoryView {
    name: String,
    title: String,
    organization: String,
    image_url: Option<String>,
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
    logo_url: Option<String>,
    signatories: Vec<SignatoryView>,
    /// For the course team before the certificate is shown: when it will be.
    preview: Option<String>,
}

fn grade_text(v: &CertificateVerification) -> Option<String> {
    v.show_grade
        .then(|| format!("{:.0}%", v.certificate.grade * 100.0))
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%-d %B %Y").to_string()
}

/// Whether a certificate image decodes within bounds; the verdict is kept
/// per file content, so each file is decoded once per process.
async fn usable(state: &AppState, image: &CertificateImage) -> bool {
    if let Some(verdict) = certificate_images::known_verdict(&image.asset.sha256) {
        return verdict;
    }
    let verdict = match load(state, image).await {
        Some(bytes) => {
            let kind = image.kind;
            match lectern_app::cpu::run(move || certificate_images::decode(&bytes, kind)).await {
                Ok(Ok(_)) => true,
                Ok(Err(why)) => {
                    tracing::warn!(file = %image.name, "certificate image left out: {why}");
                    false
                }
                // The CPU pool is busy: leave it out this time, decide later.
                Err(_) => return false,
            }
        }
        None => false,
    };
    certificate_images::keep_verdict(&image.asset.sha256, verdict);
    verdict
}

/// A certificate image's bytes; `None` (logged) when they cannot be read.
async fn load(state: &AppState, image: &CertificateImage) -> Option<Vec<u8>> {
    match state.app.certificate_image_bytes(image).await {
        Ok(Some(bytes)) => Some(bytes),
        Ok(None) => {
            tracing::warn!(file = %image.name, "certificate image left out: its bytes are missing");
            None
        }
        Err(e) => {
            tracing::warn!(file = %image.name, error = %e, "certificate image left out");
            None
        }
    }
}

/// Where the page shows an image from: the course's file route, when the
/// image decodes.
async fn image_url(
    state: &AppState,
    base: Option<&str>,
    image: &Option<CertificateImage>,
) -> Option<String> {
    let (Some(image), Some(base)) = (image, base) else {
        return None;
    };
    usable(state, image)
        .await
        .then(|| format!("{base}{}", image.name))
}

async fn page(state: &AppState, v: &CertificateVerification) -> CertificatePage {
    let c = &v.certificate;
    let base = c
        .course_key
        .parse::<CourseKey>()
        .ok()
        .map(|k| crate::blocks::static_base(&k));
    let logo_url = image_url(state, base.as_deref(), &v.config.logo).await;
    let mut signatories = Vec::new();
    for s in &v.config.signatories {
        signatories.push(SignatoryView {
            name: s.name.clone(),
            title: s.title.clone(),
            organization: s.organization.clone(),
            image_url: image_url(state, base.as_deref(), &s.image).await,
        });
    }
    CertificatePage {
        site_name: state.config.site_name.clone(),
        name: c.name.clone(),
        course_title: c.course_title.clone(),
        course_key: c.course_key.clone(),
        date: day(v.printed_date),
        grade: grade_text(v),
        revoked: c.status == CertificateStatus::Revoked,
        revoked_date: c.revoked_at.map(day),
        verify_id: c.verify_id.clone(),
        logo_url,
        signatories,
        preview: v.preview.map(|p| match p.shown_from {
            Some(d) => format!("Learners and the public see this certificate from {}.", day(d)),
            None => "Learners and the public do not see this certificate yet: the course shows certificates when it ends, and it has no end date.".into(),
        }),
    }
}

async fn page_or_pdf(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    if let Some(id) = raw.strip_suffix(".pdf") {
        return pdf_of(&state, user.as_ref(), id).await;
    }
    let v = state.app.verify_certificate(&raw, user.as_ref()).await?;
    Ok(render(&page(&state, &v).await))
}

async fn pdf(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    pdf_of(&state, user.as_ref(), &raw).await
}

/// Bytes of an image to decode with the PDF, when they can be read.
async fn bytes_of(
    state: &AppState,
    image: &Option<CertificateImage>,
) -> Option<(Vec<u8>, ImageKind, String)> {
    let image = image.as_ref()?;
    Some((load(state, image).await?, image.kind, image.name.clone()))
}

fn decoded(source: Option<(Vec<u8>, ImageKind, String)>) -> Option<certificate_images::PdfImage> {
    let (bytes, kind, name) = source?;
    certificate_images::decode(&bytes, kind)
        .map_err(|why| tracing::warn!(file = %name, "certificate image left out: {why}"))
        .ok()
}

async fn pdf_of(state: &AppState, viewer: Option<&User>, verify_id: &str) -> PageResult<Response> {
    let v = state.app.verify_certificate(verify_id, viewer).await?;
    if v.certificate.status == CertificateStatus::Revoked {
        return Ok((StatusCode::GONE, render(&page(state, &v).await)).into_response());
    }
    let c = &v.certificate;
    let logo = bytes_of(state, &v.config.logo).await;
    let mut people = Vec::new();
    for s in &v.config.signatories {
        people.push((
            s.name.clone(),
            s.title.clone(),
            s.organization.clone(),
            bytes_of(state, &s.image).await,
        ));
    }
    let mut text = CertificateText {
        site_name: state.config.site_name.clone(),
        name: c.name.clone(),
        course_title: c.course_title.clone(),
        course_key: c.course_key.clone(),
        date: day(v.printed_date),
        grade: grade_text(&v).map(|g| format!("Grade: {g}")),
        verify_url: format!(
            "{}/certificates/{}",
            state.app.settings().site_url,
            c.verify_id
        ),
        logo: None,
        signatories: Vec::new(),
    };
    // Decoding images and subsetting the font are CPU work: the bounded pool.
    let bytes = lectern_app::cpu::run(move || {
        text.logo = decoded(logo);
        text.signatories = people
            .into_iter()
            .map(|(name, title, organization, image)| PdfSignatory {
                name,
                title,
                organization,
                image: decoded(image),
            })
            .collect();
        certificate_pdf::render(&text)
    })
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
