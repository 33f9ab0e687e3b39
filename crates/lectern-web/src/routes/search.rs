//! Search over HTTP: Open edX's edx-search endpoints (`POST
//! /search/course_discovery/`, `POST /search/{course_id}`) with their field
//! names, and the search pages behind the search boxes of the catalogue
//! and the course. Who may find what is decided by `lectern_app::search`.

use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lectern_app::search::{DocKind, SearchHit, SearchRequest, SearchResults};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{course_key, page_ctx};
use crate::auth::{ApiUser, MaybeUser, PageUser};
use crate::csrf::CsrfToken;
use crate::error::{ApiError, PageResult};
use crate::extract::FormOrJson;
use crate::pages::render;
use crate::state::AppState;

/// Open edX's default page size.
const DEFAULT_PAGE_SIZE: usize = 20;
/// Results on one search page.
const PAGE_RESULTS: usize = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/search/course_discovery/", post(course_discovery))
        .route("/search/course_discovery", post(course_discovery))
        .route("/search/{course_id}", post(course_search))
        .route("/search", get(catalogue_page))
        .route("/courses/{course_key}/search", get(course_page))
}

/// A number as a form sends it (text) or as JSON does.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(u64),
    Text(String),
}

/// edx-search's request fields.
#[derive(Deserialize)]
struct SearchForm {
    #[serde(default)]
    search_string: Option<String>,
    #[serde(default)]
    page_size: Option<Number>,
    #[serde(default)]
    page_index: Option<Number>,
}

fn number(n: Option<Number>, name: &str, default: usize) -> Result<usize, ApiError> {
    let bad = || {
        ApiError(lectern_app::AppError::field(
            name,
            format!("{name} must be a whole number."),
        ))
    };
    match n {
        None => Ok(default),
        Some(Number::Int(i)) => usize::try_from(i).map_err(|_| bad()),
        Some(Number::Text(t)) if t.trim().is_empty() => Ok(default),
        Some(Number::Text(t)) => t.trim().parse().map_err(|_| bad()),
    }
}

impl SearchForm {
    fn request(self) -> Result<SearchRequest, ApiError> {
        Ok(SearchRequest {
            text: self.search_string.unwrap_or_default(),
            page_size: number(self.page_size, "page_size", DEFAULT_PAGE_SIZE)?,
            page_index: number(self.page_index, "page_index", 0)?,
        })
    }
}

async fn course_discovery(
    State(state): State<AppState>,
    FormOrJson(form): FormOrJson<SearchForm>,
) -> Result<Json<Value>, ApiError> {
    let results = state.app.search_catalogue(&form.request()?).await?;
    let hits = results.page.hits.iter().map(course_result).collect();
    Ok(Json(envelope(&results, hits)))
}

async fn course_search(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(course_id): Path<String>,
    FormOrJson(form): FormOrJson<SearchForm>,
) -> Result<Json<Value>, ApiError> {
    let key = course_key(&course_id)?;
    let results = state
        .app
        .search_course(&user, &key, &form.request()?)
        .await?;
    let hits = results.page.hits.iter().map(content_result).collect();
    let mut body = envelope(&results, hits);
    body["access_denied_count"] = json!(0);
    Ok(Json(body))
}

fn envelope(results: &SearchResults, hits: Vec<Value>) -> Value {
    json!({
        "took": results.took_ms,
        "total": results.page.total,
        "max_score": results.page.max_score,
        "results": hits,
    })
}

fn payload(hit: &SearchHit) -> Value {
    serde_json::from_str(&hit.payload).unwrap_or(Value::Null)
}

/// A catalogue entry as edx-search's `course_info` documents look.
fn course_result(hit: &SearchHit) -> Value {
    let p = payload(hit);
    let key = hit.course.to_string();
    let text = |name: &str| p.get(name).cloned().unwrap_or(Value::Null);
    json!({
        "_index": "course_info",
        "_type": "course_info",
        "_id": key,
        "_score": hit.score,
        "score": hit.score,
        "data": {
            "id": key,
            "course": key,
            "org": hit.course.org,
            "number": hit.course.number,
            "start": text("start"),
            "content": {
                "display_name": hit.title,
                "short_description": text("short_description"),
                "overview": text("overview"),
                "org": hit.course.org,
                "number": hit.course.number,
            },
            "image_url": format!("/courses/{key}/image"),
            "url": hit.url,
        },
    })
}

/// A course search result as edx-search's `courseware_content` documents look.
fn content_result(hit: &SearchHit) -> Value {
    let (content_type, text_field) = match (hit.kind, hit.block_type.as_str()) {
        (DocKind::Post, _) => ("Post", "text"),
        (_, "html") => ("Text", "html_content"),
        (_, "problem") => ("CAPA", "capa_content"),
        (_, "video") => ("Video", "transcript_en"),
        _ => ("Sequence", "text"),
    };
    let mut content = json!({"display_name": hit.title});
    content[text_field] = json!(hit.summary);
    if text_field != "text" {
        content["text"] = json!(hit.summary);
    }
    let id = match hit.kind {
        DocKind::Post => payload(hit)
            .get("thread_id")
            .cloned()
            .unwrap_or(Value::Null),
        _ => json!(hit.id),
    };
    json!({
        "_index": "courseware_content",
        "_type": if hit.kind == DocKind::Post { "post" } else { "courseware_content" },
        "_id": hit.id,
        "_score": hit.score,
        "score": hit.score,
        "data": {
            "id": id,
            "course": hit.course.to_string(),
            "location": hit.location,
            "content": content,
            "content_type": content_type,
            "url": hit.url,
        },
    })
}

/// The search pages' query string.
#[derive(Deserialize)]
struct PageQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: usize,
}

async fn catalogue_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    csrf: Extension<CsrfToken>,
    Query(query): Query<PageQuery>,
) -> PageResult<Response> {
    let ctx = page_ctx(&state, user.as_ref(), &csrf).await;
    let results = if query.q.trim().is_empty() {
        None
    } else {
        Some(state.app.search_catalogue(&page_request(&query)).await?)
    };
    Ok(render(&crate::search_page::SearchPage::new(
        ctx,
        None,
        &query.q,
        query.page,
        results,
        PAGE_RESULTS,
    ))
    .into_response())
}

async fn course_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    Query(query): Query<PageQuery>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let course = state.app.courseware(&user, &key).await?;
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    let results = if query.q.trim().is_empty() {
        None
    } else {
        Some(
            state
                .app
                .search_course(&user, &key, &page_request(&query))
                .await?,
        )
    };
    let scope = Some((key.to_string(), course.tree.display_name()));
    Ok(render(&crate::search_page::SearchPage::new(
        ctx,
        scope,
        &query.q,
        query.page,
        results,
        PAGE_RESULTS,
    ))
    .into_response())
}

fn page_request(q: &PageQuery) -> SearchRequest {
    SearchRequest {
        text: q.q.clone(),
        page_size: PAGE_RESULTS,
        page_index: q.page,
    }
}
