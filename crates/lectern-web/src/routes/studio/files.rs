//! Studio's "Files & uploads": a course's static files (`/static/NAME`).

use axum::extract::{DefaultBodyLimit, Extension, Multipart, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::transfer::AssetUpload;
use lectern_app::AppError;
use lectern_content::Asset;
use serde::Deserialize;

use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::idempotency::{form_key, header_or_field, FORM_FIELD};
use crate::pages::{render, PageCtx};
use crate::routes::{course_key, page_ctx};
use crate::state::AppState;
use crate::upload::{declared_size, is_body_limit, spool, SpoolError, FORM_OVERHEAD};

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/studio/course/{course_key}/files",
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(state.config.max_upload_bytes)),
        )
        .route("/studio/course/{course_key}/files/delete", post(delete))
}

#[derive(askama::Template)]
#[template(path = "studio_files.html")]
struct FilesPage {
    ctx: PageCtx,
    key: String,
    name: String,
    files: Vec<Asset>,
    error: Option<String>,
    /// The upload form's key for this rendering.
    upload_key: String,
}

async fn files_page(
    state: &AppState,
    user: &lectern_app::User,
    csrf: &Extension<CsrfToken>,
    raw: &str,
    error: Option<String>,
) -> PageResult<Response> {
    let key = course_key(raw)?;
    let (_, tree) = state.app.draft(user, &key).await?;
    let ctx = page_ctx(state, Some(user), csrf).await;
    let failed = error.is_some();
    let mut resp = render(&FilesPage {
        ctx,
        key: key.to_string(),
        name: tree.display_name(),
        files: tree.assets.into_values().collect(),
        error,
        upload_key: form_key(),
    });
    if failed {
        *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    files_page(&state, &user, &csrf, &raw, None).await
}

/// Upload: the caller's place on the course team is checked before a byte
/// of the body is read; the file is then spooled to disk under the upload
/// cap and stored from there a chunk at a time.
async fn upload(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    mut form: Multipart,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    state.app.may_upload_asset(&user, &key).await?;
    let limit = state.config.max_upload_bytes as u64;
    if declared_size(&headers).is_some_and(|n| n > limit + FORM_OVERHEAD) {
        return Ok(SpoolError::TooLarge { limit }.page_response("file"));
    }
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        AppError::field("file", format!("The upload could not be read: {e}"))
    };
    let (mut file, mut name, mut form_idem) = (None, String::new(), None);
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("file") => {
                let filename = field.file_name().unwrap_or_default().to_string();
                let spooled = spool(field, limit, &state.config.upload_dir, is_body_limit).await;
                match spooled {
                    Ok(s) => file = Some((filename, s)),
                    Err(e) => return Ok(e.page_response("file")),
                }
            }
            Some("path") => name = field.text().await.map_err(unreadable)?,
            Some(FORM_FIELD) => form_idem = Some(field.text().await.map_err(unreadable)?),
            _ => {}
        }
    }
    let Some((filename, mut spooled)) = file else {
        return files_page(
            &state,
            &user,
            &csrf,
            &raw,
            Some("Choose a file to upload.".into()),
        )
        .await;
    };
    let path = if name.trim().is_empty() {
        filename
    } else {
        name
    };
    let upload = AssetUpload {
        sha256: spooled.sha256.clone(),
        size: spooled.size,
        source: &mut spooled.file,
    };
    // The key is checked once the body is read (a multipart field may come
    // after the file); the upload is fingerprinted by the SHA-256 computed
    // while it was spooled, never by holding it in memory.
    let idem = header_or_field(&headers, form_idem.as_deref())?;
    let stored = state
        .app
        .upload_asset_keyed(&user, &key, &path, upload, idem.as_ref())
        .await;
    match stored {
        Ok(_) => Ok(Redirect::to(&format!("/studio/course/{key}/files")).into_response()),
        Err(AppError::Invalid { message, .. }) => {
            files_page(&state, &user, &csrf, &raw, Some(message)).await
        }
        // The same rendering of the form posted with another file (say,
        // after a failed try): the page comes back with a fresh key.
        Err(AppError::KeyReused(_)) => {
            let message =
                "This upload form was already used for another file; choose the file again here.";
            let mut page = files_page(&state, &user, &csrf, &raw, Some(message.into())).await?;
            *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct DeleteForm {
    path: String,
}

async fn delete(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(raw): Path<String>,
    PageForm(form): PageForm<DeleteForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    state.app.delete_asset(&user, &key, &form.path).await?;
    Ok(Redirect::to(&format!("/studio/course/{key}/files")).into_response())
}
