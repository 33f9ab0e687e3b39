//! Course import (upload an Open edX export) and export (download one), in
//! Studio and in the JSON API.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lectern_app::transfer::{ImportOutcome, ImportSource};
use lectern_app::AppError;
use lectern_content::olx::ImportLimits;
use serde_json::json;

use crate::auth::{ApiUser, PageUser};
use crate::csrf::CsrfToken;
use crate::error::{ApiResult, PageResult};
use crate::pages::{render, PageCtx};
use crate::routes::{course_key, page_ctx};
use crate::state::AppState;

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
}

async fn studio_import(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    mut form: Multipart,
) -> PageResult<Response> {
    let mut archive = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::field("archive", format!("The upload could not be read: {e}")))?
    {
        if field.name() == Some("archive") {
            let bytes = field.bytes().await.map_err(|e| {
                AppError::field("archive", format!("The upload could not be read: {e}"))
            })?;
            archive = Some(bytes.to_vec());
        }
    }
    let archive = archive
        .filter(|a| !a.is_empty())
        .ok_or_else(|| AppError::field("archive", "Choose a course export (.tar.gz) to upload."))?;
    let outcome = state
        .app
        .import_course(Some(&user), ImportSource::Archive(archive), limits(&state))
        .await?;
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

async fn api_import(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    if body.is_empty() {
        return Err(AppError::field(
            "archive",
            "Send the course export (.tar.gz) as the request body.",
        )
        .into());
    }
    let outcome = state
        .app
        .import_course(
            Some(&user),
            ImportSource::Archive(body.to_vec()),
            limits(&state),
        )
        .await?;
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
