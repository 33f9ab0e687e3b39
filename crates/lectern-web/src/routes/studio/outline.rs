//! The course outline editor: sections, subsections, units; publish.

use axum::extract::{Extension, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lectern_content::tree::{level_of, Level};
use lectern_content::{BlockRef, CourseTree};
use serde::Deserialize;

use crate::auth::{ApiUser, PageUser};
use crate::csrf::CsrfToken;
use crate::error::{ApiResult, PageResult};
use crate::extract::PageForm;
use crate::idempotency::{form_key, header_or_field, idempotency_key};
use crate::pages::{render, PageCtx};
use crate::routes::{course_key, page_ctx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/course/{course_key}", get(outline))
        .route("/studio/course/{course_key}/publish", post(publish))
        .route("/api/courses/v0/publish/{course_key}", post(api_publish))
        .route("/studio/course/{course_key}/blocks", post(add_block))
        .route(
            "/studio/course/{course_key}/block/{block}/move",
            post(move_block),
        )
        .route(
            "/studio/course/{course_key}/block/{block}/delete",
            post(delete_block),
        )
}

pub struct Node {
    pub r: String,
    pub id: String,
    pub name: String,
}

pub struct SubNode {
    pub r: String,
    pub name: String,
    pub graded: bool,
    pub format: String,
    pub units: Vec<Node>,
}

pub struct SectionNode {
    pub r: String,
    pub name: String,
    pub subsections: Vec<SubNode>,
}

#[derive(askama::Template)]
#[template(path = "studio_outline.html")]
struct OutlinePage {
    ctx: PageCtx,
    key: String,
    name: String,
    published_version: Option<i64>,
    unpublished: bool,
    sections: Vec<SectionNode>,
    /// The publish form's key for this rendering.
    publish_key: String,
}

fn sections(tree: &CourseTree) -> Vec<SectionNode> {
    let Some(root) = tree.root() else {
        return Vec::new();
    };
    tree.children(root)
        .filter(|b| level_of(&b.block_type) == Level::Section)
        .map(|ch| SectionNode {
            r: ch.block_ref().to_string(),
            name: ch.title(),
            subsections: tree
                .children(ch)
                .map(|seq| SubNode {
                    r: seq.block_ref().to_string(),
                    name: seq.title(),
                    graded: seq.field("graded") == Some("true"),
                    format: seq.field("format").unwrap_or("").to_string(),
                    units: tree
                        .children(seq)
                        .map(|u| Node {
                            r: u.block_ref().to_string(),
                            id: u.id.clone(),
                            name: u.title(),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

async fn outline(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let (record, tree) = state.app.draft(&user, &key).await?;
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&OutlinePage {
        ctx,
        key: key.to_string(),
        name: tree.display_name(),
        published_version: record.published_version,
        unpublished: record.has_unpublished_changes(),
        sections: sections(&tree),
        publish_key: form_key(),
    }))
}

#[derive(Deserialize)]
struct PublishForm {
    /// The key of this rendering of the outline (see `crate::idempotency`).
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// Studio's Publish button: under the form's key (or the header), so a
/// second copy of one post makes no second version.
async fn publish(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
    PageForm(form): PageForm<PublishForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let idem = header_or_field(&headers, form.idempotency_key.as_deref())?;
    state.app.publish_keyed(&user, &key, idem.as_ref()).await?;
    Ok(Redirect::to(&format!("/studio/course/{key}")).into_response())
}

/// `POST /api/courses/v0/publish/{course_key}`: publishes the draft (the
/// course team); with an `Idempotency-Key` a retry makes no new version and
/// answers with the one the first request made.
async fn api_publish(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<serde_json::Value>> {
    let key = course_key(&raw)?;
    let idem = idempotency_key(&headers)?;
    let version = state.app.publish_keyed(&user, &key, idem.as_ref()).await?;
    Ok(Json(
        serde_json::json!({"course_id": key.to_string(), "version": version}),
    ))
}

/// Parses a block reference from a path or form value.
pub fn block_ref(raw: &str) -> Result<BlockRef, lectern_app::AppError> {
    raw.parse()
        .map_err(|_| lectern_app::AppError::not_found(format!("block {raw}")))
}

#[derive(Deserialize)]
struct AddBlock {
    parent: String,
    block_type: String,
    #[serde(default)]
    display_name: String,
}

async fn add_block(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(raw): Path<String>,
    PageForm(form): PageForm<AddBlock>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let parent = block_ref(&form.parent)?;
    let added = state
        .app
        .add_block(&user, &key, &parent, &form.block_type, &form.display_name)
        .await?;
    let to = match level_of(&added.block_type) {
        Level::Leaf => format!("/studio/course/{key}/edit/{added}"),
        Level::Unit => format!("/studio/course/{key}/unit/{}", added.id),
        _ => format!("/studio/course/{key}"),
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
struct MoveForm {
    delta: i64,
}

/// After changing a block, go back to where it is shown.
fn back_to(key: &lectern_content::CourseKey, parent_unit: Option<&BlockRef>) -> String {
    match parent_unit {
        Some(u) => format!("/studio/course/{key}/unit/{}", u.id),
        None => format!("/studio/course/{key}"),
    }
}

async fn parent_unit(
    state: &AppState,
    user: &lectern_app::User,
    key: &lectern_content::CourseKey,
    r: &BlockRef,
) -> PageResult<Option<BlockRef>> {
    if level_of(&r.block_type) != Level::Leaf {
        return Ok(None);
    }
    let (_, tree) = state.app.draft(user, key).await?;
    Ok(tree
        .ancestry(r)
        .into_iter()
        .find(|a| a.block_type == "vertical"))
}

async fn move_block(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((raw, block)): Path<(String, String)>,
    PageForm(form): PageForm<MoveForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let r = block_ref(&block)?;
    state
        .app
        .move_block(&user, &key, &r, form.delta.clamp(-1, 1))
        .await?;
    let unit = parent_unit(&state, &user, &key, &r).await?;
    Ok(Redirect::to(&back_to(&key, unit.as_ref())).into_response())
}

async fn delete_block(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((raw, block)): Path<(String, String)>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let r = block_ref(&block)?;
    let unit = parent_unit(&state, &user, &key, &r).await?;
    state.app.delete_block(&user, &key, &r).await?;
    Ok(Redirect::to(&back_to(&key, unit.as_ref())).into_response())
}
