//! The unit editor and the block editor (with a preview that does not save).

use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::studio::BlockEdit;
use lectern_app::AppError;
use lectern_content::tree::{level_of, Level};
use lectern_content::{Block, BlockRef};
use serde::Deserialize;

use super::outline::block_ref;
use crate::auth::PageUser;
use crate::blocks::render_leaf;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, PageCtx, RenderedBlock};
use crate::routes::{course_key, page_ctx};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/course/{course_key}/unit/{unit_id}", get(unit))
        .route("/studio/course/{course_key}/edit/{block}", get(edit_page))
        .route(
            "/studio/course/{course_key}/block/{block}/update",
            post(update),
        )
}

pub struct UnitBlock {
    r: String,
    block_type: String,
    rendered: RenderedBlock,
}

#[derive(askama::Template)]
#[template(path = "studio_unit.html")]
struct UnitPage {
    ctx: PageCtx,
    key: String,
    course_name: String,
    unit_name: String,
    unit_ref: String,
    blocks: Vec<UnitBlock>,
    /// Served scripts the previews need (math).
    scripts: Vec<&'static str>,
}

async fn unit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path((raw, unit_id)): Path<(String, String)>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let (_, tree) = state.app.draft(&user, &key).await?;
    let r = BlockRef::new("vertical", &unit_id);
    let unit = tree
        .block(&r)
        .ok_or_else(|| AppError::not_found(format!("unit {unit_id}")))?;
    let mut blocks: Vec<UnitBlock> = tree
        .children(unit)
        .map(|b| UnitBlock {
            r: b.block_ref().to_string(),
            block_type: b.block_type.clone(),
            rendered: render_leaf(b, &key),
        })
        .collect();
    let scripts = crate::media::finish_blocks(blocks.iter_mut().map(|b| &mut b.rendered), &key);
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&UnitPage {
        ctx,
        key: key.to_string(),
        course_name: tree.display_name(),
        unit_name: unit.title(),
        unit_ref: r.to_string(),
        blocks,
        scripts,
    }))
}

/// The settings the editor offers for each type, with their labels.
fn editable_fields(block_type: &str) -> &'static [(&'static str, &'static str)] {
    match block_type {
        "course" => &[("start", "Course start (e.g. 2026-09-01T00:00:00Z)"), ("end", "Course end")],
        "chapter" => &[("start", "Release date"), ("visible_to_staff_only", "Hide from learners (true/false)")],
        "sequential" => &[
            ("start", "Release date"),
            ("due", "Due date (e.g. 2026-10-01T23:59:00Z)"),
            ("graded", "Graded (true/false)"),
            ("format", "Assignment type (e.g. Homework)"),
            ("visible_to_staff_only", "Hide from learners (true/false)"),
        ],
        "vertical" => &[("visible_to_staff_only", "Hide from learners (true/false)")],
        "problem" => &[
            ("max_attempts", "Maximum attempts (empty = unlimited)"),
            ("weight", "Problem weight"),
            ("showanswer", "Show answer (always, answered, attempted, closed, finished, past_due, never, correct_or_past_due)"),
            ("rerandomize", "Randomization (never, always, onreset, per_student)"),
        ],
        "video" => &[
            ("youtube_id_1_0", "YouTube id"),
            ("html5_sources", "Video file URLs (JSON list)"),
            ("transcript_url", "Transcript URL"),
        ],
        "discussion" => &[("discussion_category", "Category"), ("discussion_target", "Subcategory")],
        _ => &[],
    }
}

#[derive(askama::Template)]
#[template(path = "studio_edit.html")]
struct EditPage {
    ctx: PageCtx,
    key: String,
    course_name: String,
    unit_id: Option<String>,
    r: String,
    block_type: String,
    block_name: String,
    display_name: String,
    has_body: bool,
    body: String,
    fields: Vec<(String, String, String)>,
    preview: Option<RenderedBlock>,
    error: Option<String>,
    saved: bool,
}

#[derive(Deserialize, Default)]
struct EditQuery {
    #[serde(default)]
    saved: bool,
}

fn edit_page_for(
    ctx: PageCtx,
    tree: &lectern_content::CourseTree,
    block: &Block,
    error: Option<String>,
    saved: bool,
    show_preview: bool,
) -> EditPage {
    let key = &tree.key;
    let r = block.block_ref();
    let fields = editable_fields(&block.block_type)
        .iter()
        .map(|(name, label)| {
            (
                name.to_string(),
                label.to_string(),
                block.field(name).unwrap_or("").to_string(),
            )
        })
        .collect();
    let has_body = matches!(block.block_type.as_str(), "html" | "problem");
    EditPage {
        ctx,
        key: key.to_string(),
        course_name: tree.display_name(),
        unit_id: tree
            .ancestry(&r)
            .into_iter()
            .find(|a| a.block_type == "vertical")
            .map(|u| u.id),
        r: r.to_string(),
        block_type: block.block_type.clone(),
        block_name: block.title(),
        display_name: block.display_name.clone().unwrap_or_default(),
        has_body,
        body: block.body.clone().unwrap_or_default(),
        fields,
        preview: (show_preview && level_of(&block.block_type) == Level::Leaf)
            .then(|| render_leaf(block, key)),
        error,
        saved,
    }
}

async fn edit_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path((raw, block)): Path<(String, String)>,
    Query(q): Query<EditQuery>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let r = block_ref(&block)?;
    let (_, tree) = state.app.draft(&user, &key).await?;
    let block = tree
        .block(&r)
        .ok_or_else(|| AppError::not_found(format!("block {r}")))?;
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&edit_page_for(
        ctx, &tree, block, None, q.saved, true,
    )))
}

/// The edit form: `display_name`, `body`, `field.NAME` settings, `action` = save | preview.
fn edit_from_form(pairs: &[(String, String)]) -> (BlockEdit, bool) {
    let mut edit = BlockEdit::default();
    let mut preview = false;
    for (k, v) in pairs {
        match k.as_str() {
            "display_name" => edit.display_name = Some(v.clone()),
            "body" => edit.body = Some(v.replace("\r\n", "\n")),
            "action" => preview = v == "preview",
            other => {
                if let Some(name) = other.strip_prefix("field.") {
                    edit.fields.push((name.to_string(), v.clone()));
                }
            }
        }
    }
    (edit, preview)
}

async fn update(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path((raw, block)): Path<(String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let r = block_ref(&block)?;
    let (edit, preview) = edit_from_form(&pairs);
    if preview {
        // Show what the submitted content would look like; nothing is saved.
        let (_, tree) = state.app.draft(&user, &key).await?;
        let mut block = tree
            .block(&r)
            .cloned()
            .ok_or_else(|| AppError::not_found(format!("block {r}")))?;
        if let Some(n) = &edit.display_name {
            block.display_name = Some(n.clone()).filter(|n| !n.trim().is_empty());
        }
        if let Some(b) = &edit.body {
            block.body = Some(b.clone());
        }
        for (k, v) in &edit.fields {
            block.fields.insert(k.clone(), v.clone());
        }
        let ctx = page_ctx(&state, Some(&user), &csrf).await;
        return Ok(render(&edit_page_for(
            ctx, &tree, &block, None, false, true,
        )));
    }
    match state.app.update_block(&user, &key, &r, &edit).await {
        Ok(()) => {
            Ok(Redirect::to(&format!("/studio/course/{key}/edit/{r}?saved=true")).into_response())
        }
        Err(AppError::Invalid { message, .. }) => {
            let (_, tree) = state.app.draft(&user, &key).await?;
            let mut block = tree
                .block(&r)
                .cloned()
                .ok_or_else(|| AppError::not_found(format!("block {r}")))?;
            if let Some(b) = &edit.body {
                block.body = Some(b.clone());
            }
            let ctx = page_ctx(&state, Some(&user), &csrf).await;
            let mut resp = render(&edit_page_for(
                ctx,
                &tree,
                &block,
                Some(message),
                false,
                false,
            ));
            *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}
