//! Open edX's discussion API (v1): the course's discussion settings, its
//! topics, threads (list with filters, create, read, PATCH, delete) and
//! responses/comments (list, create, read a response's comments, PATCH,
//! delete). Handlers parse, call one `Lectern` use case, and shape the
//! answer with `discussion_json`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use lectern_app::discussions::{
    CommentPatch, ListView, Page, PostId, ThreadDraft, ThreadFilter, ThreadOrder, ThreadPatch,
    ThreadType,
};
use lectern_app::AppError;
use lectern_content::CourseKey;
use serde::Deserialize;
use serde_json::Value;

use super::discussion_json as j;
use crate::auth::ApiUser;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/discussion/v1/courses/{course_id}", get(course))
        .route("/api/discussion/v1/courses/{course_id}/", get(course))
        .route("/api/discussion/v1/course_topics/{course_id}", get(topics))
        .route("/api/discussion/v1/course_topics/{course_id}/", get(topics))
        .route(
            "/api/discussion/v1/threads/",
            get(list_threads).post(create_thread),
        )
        .route(
            "/api/discussion/v1/threads/{thread_id}/",
            get(read_thread).patch(patch_thread).delete(delete_thread),
        )
        .route(
            "/api/discussion/v1/comments/",
            get(list_comments).post(create_comment),
        )
        .route(
            "/api/discussion/v1/comments/{comment_id}/",
            get(read_comment)
                .patch(patch_comment)
                .delete(delete_comment),
        )
}

fn course_key(raw: &str, field: &str) -> Result<CourseKey, AppError> {
    raw.parse()
        .map_err(|_| AppError::field(field, format!("'{raw}' is not a valid course id.")))
}

fn post_id(raw: &str, what: &str) -> Result<PostId, AppError> {
    raw.parse::<PostId>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::not_found(format!("{what} {raw}")))
}

/// Open edX's booleans in query strings: `True`/`true`/`1`, `False`/`false`/`0`.
fn flag(raw: Option<&str>, field: &str) -> Result<Option<bool>, AppError> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(AppError::field(field, "Use True or False.")),
    }
}

fn number(raw: Option<&str>, field: &str) -> Result<Option<i64>, AppError> {
    raw.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| AppError::field(field, "Give a whole number."))
        })
        .transpose()
}

async fn course(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    Path(course_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&course_id, "course_id")?;
    let forum = state.app.forum(&user, &key).await?;
    Ok(Json(j::course(
        &super::user::base_url(&headers, &state),
        &forum,
    )))
}

async fn topics(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    Path(course_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&course_id, "course_id")?;
    let forum = state.app.forum(&user, &key).await?;
    let site = super::user::base_url(&headers, &state);
    Ok(Json(j::topics(&site, &key.to_string(), &forum.topics)))
}

#[derive(Deserialize, Default)]
struct ThreadListQuery {
    course_id: Option<String>,
    topic_id: Option<String>,
    text_search: Option<String>,
    following: Option<String>,
    view: Option<String>,
    order_by: Option<String>,
    flagged: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

fn thread_filter(q: &ThreadListQuery) -> Result<ThreadFilter, AppError> {
    let view = match q.view.as_deref() {
        None | Some("") => None,
        Some("unread") => Some(ListView::Unread),
        Some("unanswered") => Some(ListView::Unanswered),
        Some(_) => return Err(AppError::field("view", "Use unread or unanswered.")),
    };
    let order = match q.order_by.as_deref() {
        None | Some("") | Some("last_activity_at") => ThreadOrder::LastActivity,
        Some("comment_count") => ThreadOrder::CommentCount,
        Some("vote_count") => ThreadOrder::VoteCount,
        Some(_) => {
            return Err(AppError::field(
                "order_by",
                "Use last_activity_at, comment_count or vote_count.",
            ))
        }
    };
    Ok(ThreadFilter {
        topic_ids: q
            .topic_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| s.split(',').map(|t| t.trim().to_string()).collect()),
        text_search: q.text_search.clone(),
        following: flag(q.following.as_deref(), "following")?.unwrap_or(false),
        view,
        flagged: flag(q.flagged.as_deref(), "flagged")?.unwrap_or(false),
        order,
        page: Page::new(
            number(q.page.as_deref(), "page")?,
            number(q.page_size.as_deref(), "page_size")?,
        )?,
    })
}

/// The listing's URL for page `page`, with the same filters.
fn thread_list_link(site: &str, q: &ThreadListQuery, page: Page, number: i64) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for (name, value) in [
        ("course_id", &q.course_id),
        ("topic_id", &q.topic_id),
        ("text_search", &q.text_search),
        ("following", &q.following),
        ("view", &q.view),
        ("order_by", &q.order_by),
        ("flagged", &q.flagged),
    ] {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            pairs.push((name, v.clone()));
        }
    }
    pairs.push(("page", number.to_string()));
    pairs.push(("page_size", page.size.to_string()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{site}/api/discussion/v1/threads/?{query}")
}

async fn list_threads(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    Query(q): Query<ThreadListQuery>,
) -> ApiResult<Json<Value>> {
    let raw = q
        .course_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::field("course_id", "Name the course (course_id)."))?;
    let key = course_key(raw, "course_id")?;
    let filter = thread_filter(&q)?;
    let list = state.app.discussion_threads(&user, &key, &filter).await?;
    if list.page.number > list.page.pages_for(list.count) {
        return Err(AppError::not_found(format!("page {}", list.page.number)).into());
    }
    let site = super::user::base_url(&headers, &state);
    let results = list.threads.iter().map(|t| j::thread(&site, t)).collect();
    let mut body = j::envelope(results, list.count, list.page, |n| {
        thread_list_link(&site, &q, list.page, n)
    });
    // Open edX's spelling correction of `text_search`; Lectern never rewrites.
    body["text_search_rewrite"] = Value::Null;
    Ok(Json(body))
}

#[derive(Deserialize)]
struct NewThreadBody {
    course_id: String,
    topic_id: String,
    #[serde(rename = "type")]
    thread_type: String,
    title: String,
    raw_body: String,
}

fn thread_type(raw: &str) -> Result<ThreadType, AppError> {
    ThreadType::parse(raw).ok_or_else(|| AppError::field("type", "Use discussion or question."))
}

async fn create_thread(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewThreadBody>,
) -> ApiResult<Json<Value>> {
    let key = course_key(&body.course_id, "course_id")?;
    let draft = ThreadDraft {
        topic_id: body.topic_id,
        thread_type: thread_type(&body.thread_type)?,
        title: body.title,
        raw_body: body.raw_body,
    };
    let view = state
        .app
        .create_discussion_thread(&user, &key, &draft)
        .await?;
    Ok(Json(j::thread(
        &super::user::base_url(&headers, &state),
        &view,
    )))
}

async fn read_thread(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    Path(thread_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = post_id(&thread_id, "thread")?;
    let view = state.app.discussion_thread(&user, id).await?;
    Ok(Json(j::thread(
        &super::user::base_url(&headers, &state),
        &view,
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThreadPatchBody {
    title: Option<String>,
    raw_body: Option<String>,
    topic_id: Option<String>,
    #[serde(rename = "type")]
    thread_type: Option<String>,
    voted: Option<bool>,
    following: Option<bool>,
    abuse_flagged: Option<bool>,
    pinned: Option<bool>,
    closed: Option<bool>,
    read: Option<bool>,
}

async fn patch_thread(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    Path(thread_id): Path<String>,
    ApiJson(body): ApiJson<ThreadPatchBody>,
) -> ApiResult<Json<Value>> {
    let id = post_id(&thread_id, "thread")?;
    let patch = ThreadPatch {
        title: body.title,
        raw_body: body.raw_body,
        topic_id: body.topic_id,
        thread_type: body.thread_type.as_deref().map(thread_type).transpose()?,
        voted: body.voted,
        following: body.following,
        abuse_flagged: body.abuse_flagged,
        pinned: body.pinned,
        closed: body.closed,
        read: body.read,
    };
    let view = state.app.patch_discussion_thread(&user, id, &patch).await?;
    Ok(Json(j::thread(
        &super::user::base_url(&headers, &state),
        &view,
    )))
}

async fn delete_thread(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(thread_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = post_id(&thread_id, "thread")?;
    state.app.delete_discussion_thread(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct CommentListQuery {
    thread_id: Option<String>,
    endorsed: Option<String>,
    page: Option<String>,
    page_size: Option<String>,
}

async fn list_comments(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    Query(q): Query<CommentListQuery>,
) -> ApiResult<Json<Value>> {
    let raw = q
        .thread_id
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::field("thread_id", "Name the thread (thread_id)."))?;
    let id = post_id(raw, "thread")?;
    let endorsed = flag(q.endorsed.as_deref(), "endorsed")?;
    let page = Page::new(
        number(q.page.as_deref(), "page")?,
        number(q.page_size.as_deref(), "page_size")?,
    )?;
    let list = state
        .app
        .discussion_responses(&user, id, endorsed, page)
        .await?;
    let site = super::user::base_url(&headers, &state);
    let results = list.comments.iter().map(j::comment).collect();
    let endorsed_part = q
        .endorsed
        .as_deref()
        .map(|e| format!("&endorsed={}", j::urlencode(e)))
        .unwrap_or_default();
    Ok(Json(j::envelope(results, list.count, page, |n| {
        format!(
            "{site}/api/discussion/v1/comments/?thread_id={id}{endorsed_part}&page={n}&page_size={}",
            page.size
        )
    })))
}

#[derive(Deserialize)]
struct NewCommentBody {
    thread_id: String,
    parent_id: Option<String>,
    raw_body: String,
}

async fn create_comment(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewCommentBody>,
) -> ApiResult<Json<Value>> {
    let thread = post_id(&body.thread_id, "thread")?;
    let parent = match body.parent_id.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(
            p.parse::<PostId>()
                .map_err(|_| AppError::field("parent_id", "Give a comment id."))?,
        ),
        None => None,
    };
    let view = state
        .app
        .create_discussion_comment(&user, thread, parent, &body.raw_body)
        .await?;
    Ok(Json(j::comment(&view)))
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<String>,
    page_size: Option<String>,
}

/// Open edX answers `GET comments/{id}/` with the response's comments.
async fn read_comment(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    Path(comment_id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Value>> {
    let id = post_id(&comment_id, "comment")?;
    let page = Page::new(
        number(q.page.as_deref(), "page")?,
        number(q.page_size.as_deref(), "page_size")?,
    )?;
    let (_, list) = state
        .app
        .discussion_response_comments(&user, id, page)
        .await?;
    let site = super::user::base_url(&headers, &state);
    let results = list.comments.iter().map(j::comment).collect();
    Ok(Json(j::envelope(results, list.count, page, |n| {
        format!(
            "{site}/api/discussion/v1/comments/{id}/?page={n}&page_size={}",
            page.size
        )
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentPatchBody {
    raw_body: Option<String>,
    voted: Option<bool>,
    abuse_flagged: Option<bool>,
    endorsed: Option<bool>,
}

async fn patch_comment(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(comment_id): Path<String>,
    ApiJson(body): ApiJson<CommentPatchBody>,
) -> ApiResult<Json<Value>> {
    let id = post_id(&comment_id, "comment")?;
    let patch = CommentPatch {
        raw_body: body.raw_body,
        voted: body.voted,
        abuse_flagged: body.abuse_flagged,
        endorsed: body.endorsed,
    };
    let view = state
        .app
        .patch_discussion_comment(&user, id, &patch)
        .await?;
    Ok(Json(j::comment(&view)))
}

async fn delete_comment(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(comment_id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = post_id(&comment_id, "comment")?;
    state.app.delete_discussion_comment(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
