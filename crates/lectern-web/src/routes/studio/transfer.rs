//! Course import (upload an Open edX export) and export (download one), in
//! Studio and in the JSON API.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Extension, Multipart, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lectern_app::transfer::{ImportOutcome, ImportSource};
use lectern_app::AppError;
use lectern_content::olx::ImportLimits;
use serde_json::json;

use crate::auth::{ApiUser, PageUser};
use crate::csrf::CsrfToken;
use crate::error::{ApiError, ApiResult, PageResult};
use crate::idempotency::{header_or_field, idempotency_key, FORM_FIELD};
use crate::pages::{render, PageCtx};
use crate::routes::{course_key, page_ctx};
use crate::state::AppState;
use crate::upload::{declared_size, is_body_limit, spool, SpoolError, FORM_OVERHEAD};

pub fn router(state: &AppState) -> Router<AppState> {
    let upload_limit = DefaultBodyLimit::max(state.config.max_upload_bytes);
    Router::new()
        .route("/studio/import", post(studio_import).layer(upload_limit))
        .route("/studio/course/{course_key}/export", get(studio_export))
        .route(
            "/api/courses/v0/import/",
            post(api_import).layer(upload_limit),
        )
        .route("/api/courses/v0/export/{course_key}", get(api_export))
}

fn limits(state: &AppState) -> ImportLimits {
    ImportLimits {
        max_total_bytes: (state.config.max_upload_bytes as u64).saturating_mul(4),
        ..ImportLimits::default()
    }
}

#[derive(askama::Template)]
#[template(path = "studio_import.html")]
struct ImportPage {
    ctx: PageCtx,
    key: String,
    name: String,
    version: i64,
    replaced: bool,
    blocks: Vec<(String, usize)>,
    assets: usize,
    asset_mb: String,
    unsupported: Vec<(String, usize)>,
    warnings: Vec<String>,
    scripted: Vec<String>,
}

/// Studio's import form. The caller's right to import is checked before a
/// byte of the body is read; the archive is spooled to disk under the cap
/// and read from there as a stream.
async fn studio_import(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    headers: HeaderMap,
    mut form: Multipart,
) -> PageResult<Response> {
    state.app.may_import(&user)?;
    let limit = state.config.max_upload_bytes as u64;
    if declared_size(&headers).is_some_and(|n| n > limit + FORM_OVERHEAD) {
        return Ok(SpoolError::TooLarge { limit }.page_response("course archive"));
    }
    let (mut archive, mut form_idem) = (None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::field("archive", format!("The upload could not be read: {e}")))?
    {
        if field.name() == Some("archive") {
            match spool(field, limit, &state.config.upload_dir, is_body_limit).await {
                Ok(s) => archive = Some(s),
                Err(e) => return Ok(e.page_response("course archive")),
            }
        } else if field.name() == Some(FORM_FIELD) {
            let text = field.text().await.map_err(|e| {
                AppError::field("archive", format!("The upload could not be read: {e}"))
            })?;
            form_idem = Some(text);
        }
    }
    let archive = archive
        .filter(|a| a.size > 0)
        .ok_or_else(|| AppError::field("archive", "Choose a course export (.tar.gz) to upload."))?;
    let idem = header_or_field(&headers, form_idem.as_deref())?;
    let source = ImportSource::ArchiveFile(archive.file.into_std().await);
    let keyed = idem.as_ref().map(|k| (k, archive.sha256.as_str()));
    let outcome = state
        .app
        .import_course_keyed(Some(&user), source, limits(&state), keyed)
        .await
        .map_err(|e| match e {
            AppError::KeyReused(_) => AppError::KeyReused(
                "This import form was already used for another archive; reload Studio and import again."
                    .into(),
            ),
            other => other,
        })?;
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    let r = &outcome.report;
    Ok(render(&ImportPage {
        ctx,
        key: outcome.course.key.to_string(),
        name: outcome.course.display_name.clone(),
        version: outcome.version,
        replaced: outcome.replaced,
        blocks: r
            .blocks_by_type
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        assets: r.assets,
        asset_mb: format!("{:.1}", r.asset_bytes as f64 / 1_048_576.0),
        unsupported: r.unsupported.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        warnings: r.warnings.clone(),
        scripted: r.scripted.clone(),
    }))
}

fn archive_response(key: &str, bytes: Vec<u8>) -> Response {
    let filename = format!("{}.tar.gz", key.replace([':', '+'], "_"));
    (
        [
            (header::CONTENT_TYPE, "application/gzip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn studio_export(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let bytes = state.app.export_course(Some(&user), &key).await?;
    Ok(archive_response(&key.to_string(), bytes))
}

/// The import report as JSON.
pub fn outcome_json(o: &ImportOutcome) -> serde_json::Value {
    json!({
        "course_id": o.course.key.to_string(),
        "name": o.course.display_name,
        "version": o.version,
        "replaced": o.replaced,
        "report": o.report,
    })
}

/// The API's import: the archive is the request body. The caller's right
/// to import is checked before a byte of it is read.
async fn api_import(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, Response> {
    let api = |e: AppError| ApiError(e).into_response();
    state.app.may_import(&user).map_err(api)?;
    let idem = idempotency_key(&headers).map_err(api)?;
    let limit = state.config.max_upload_bytes as u64;
    if declared_size(&headers).is_some_and(|n| n > limit) {
        return Err(SpoolError::TooLarge { limit }.api_response("course archive"));
    }
    let archive = spool(
        body.into_data_stream(),
        limit,
        &state.config.upload_dir,
        |_| false,
    )
    .await
    .map_err(|e| e.api_response("course archive"))?;
    if archive.size == 0 {
        return Err(api(AppError::field(
            "archive",
            "Send the course export (.tar.gz) as the request body.",
        )));
    }
    // A retry is recognised by the archive's SHA-256, computed while it
    // was spooled: the body is never held in memory to compare.
    let source = ImportSource::ArchiveFile(archive.file.into_std().await);
    let keyed = idem.as_ref().map(|k| (k, archive.sha256.as_str()));
    let outcome = state
        .app
        .import_course_keyed(Some(&user), source, limits(&state), keyed)
        .await
        .map_err(api)?;
    Ok(Json(outcome_json(&outcome)))
}

async fn api_export(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let key = course_key(&raw)?;
    let bytes = state.app.export_course(Some(&user), &key).await?;
    Ok(archive_response(&key.to_string(), bytes))
}
