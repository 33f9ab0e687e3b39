//! Discussion pages (no JavaScript needed): the course's "Discussion" tab
//! (topics, filters unread/unanswered/following/flagged, sorting by recent
//! activity or votes), a thread with its responses and comments and the
//! forms to reply, the form posts, and the inline list a unit's
//! `discussion` block shows. Every rule is the API's (`Lectern`'s
//! discussion use cases); posts' HTML comes sanitized from there.

use askama::Template;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lectern_app::discussions::{
    ListView, Page, PostId, ThreadDraft, ThreadFilter, ThreadOrder, ThreadType, ThreadView,
};
use lectern_app::{AppError, User};
use lectern_content::{Block, CourseTree};
use serde::Deserialize;

mod actions;
mod thread_page;

use thread_page::thread_id;

use super::{course_key, page_ctx};
use crate::auth::PageUser;
use crate::blocks::render_part;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::pages::{render, PageCtx, RenderedBlock};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/courses/{key}/discussion/", get(tab))
        .route(
            "/courses/{key}/discussion",
            get(|Path(key): Path<String>| async move {
                Redirect::permanent(&format!("/courses/{key}/discussion/"))
            }),
        )
        .route("/courses/{key}/discussion/threads", post(new_thread))
        .route(
            "/courses/{key}/discussion/threads/{id}",
            get(thread_page::thread_page),
        )
        .route("/courses/{key}/discussion/threads/{id}/reply", post(reply))
        .merge(actions::router())
}

/// A thread in a list.
pub struct Row {
    id: PostId,
    title: String,
    author: String,
    author_label: Option<&'static str>,
    comments: i64,
    votes: i64,
    unread: i64,
    /// The viewer has not read it since its last activity.
    new: bool,
    flags: i64,
    pinned: bool,
    closed: bool,
    question: bool,
    answered: bool,
}

impl Row {
    fn of(v: &ThreadView) -> Row {
        let t = &v.thread;
        Row {
            id: t.id,
            title: t.title.clone(),
            author: t.author.clone(),
            author_label: v.author_label,
            comments: t.comment_count,
            votes: t.vote_count,
            unread: t.unread_comment_count,
            new: !t.read,
            flags: v.abuse_flagged_count.unwrap_or(0),
            pinned: t.pinned,
            closed: t.closed,
            question: t.thread_type == ThreadType::Question,
            answered: t.has_endorsed,
        }
    }
}

#[derive(Template)]
#[template(path = "parts/discussion_block.html")]
struct BlockPart {
    key: String,
    topic_id: String,
    topic_q: String,
    topic_name: String,
    threads: Vec<Row>,
    more: bool,
    csrf: String,
}

/// How many threads a unit's discussion block lists.
const BLOCK_THREADS: i64 = 10;

/// A unit's `discussion` block: its topic's newest threads and a form to post.
pub async fn block_for_learner(
    state: &AppState,
    user: &User,
    tree: &CourseTree,
    block: &Block,
    csrf: &str,
) -> RenderedBlock {
    let anchor = format!("discussion-{}", block.id);
    let topic_id = block
        .field("discussion_id")
        .filter(|s| !s.is_empty())
        .unwrap_or(&block.id)
        .to_string();
    let filter = ThreadFilter {
        topic_ids: Some(vec![topic_id.clone()]),
        page: Page {
            number: 1,
            size: BLOCK_THREADS,
        },
        ..ThreadFilter::default()
    };
    let html = match state.app.discussion_threads(user, &tree.key, &filter).await {
        Ok(list) => render_part(&BlockPart {
            key: tree.key.to_string(),
            topic_q: serde_urlencoded::to_string([("", &topic_id)])
                .map(|x| x.trim_start_matches('=').to_string())
                .unwrap_or_default(),
            topic_name: list
                .forum
                .topics
                .find(&topic_id)
                .map(|t| t.name.clone())
                .unwrap_or_else(|| block.title()),
            topic_id,
            more: list.count > BLOCK_THREADS,
            threads: list.threads.iter().map(Row::of).collect(),
            csrf: csrf.to_string(),
        }),
        Err(e) => {
            crate::blocks::placeholder(block, &format!("the discussion cannot be shown: {e}"))
        }
    };
    RenderedBlock {
        anchor,
        title: Some(block.title()),
        html,
    }
}

#[derive(Template)]
#[template(path = "discussion.html")]
struct Tab {
    ctx: PageCtx,
    key: String,
    course_name: String,
    topics: Vec<(String, String)>,
    topic_id: String,
    view: String,
    order_by: String,
    moderator: bool,
    threads: Vec<Row>,
    count: i64,
    previous: Option<String>,
    next: Option<String>,
    deleted: bool,
}

#[derive(Deserialize, Default)]
struct TabQuery {
    #[serde(default)]
    topic_id: String,
    #[serde(default)]
    view: String,
    #[serde(default)]
    order_by: String,
    page: Option<i64>,
    /// Set by the redirect after a thread is deleted.
    #[serde(default)]
    deleted: bool,
}

async fn tab(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path(raw): Path<String>,
    Query(q): Query<TabQuery>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let filter = ThreadFilter {
        topic_ids: (!q.topic_id.is_empty()).then(|| vec![q.topic_id.clone()]),
        following: q.view == "following",
        flagged: q.view == "flagged",
        view: match q.view.as_str() {
            "unread" => Some(ListView::Unread),
            "unanswered" => Some(ListView::Unanswered),
            _ => None,
        },
        order: match q.order_by.as_str() {
            "vote_count" => ThreadOrder::VoteCount,
            "comment_count" => ThreadOrder::CommentCount,
            _ => ThreadOrder::LastActivity,
        },
        text_search: None,
        page: Page::new(q.page, Some(20))?,
    };
    let list = state.app.discussion_threads(&user, &key, &filter).await?;
    let link = |n: i64| {
        let pairs = [
            ("topic_id", q.topic_id.clone()),
            ("view", q.view.clone()),
            ("order_by", q.order_by.clone()),
            ("page", n.to_string()),
        ];
        format!(
            "/courses/{key}/discussion/?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let pages = list.page.pages_for(list.count);
    let forum = &list.forum;
    let topics = forum
        .topics
        .course_wide
        .iter()
        .chain(&forum.topics.courseware)
        .map(|t| {
            let name = match &t.category {
                Some(c) => format!("{c} / {}", t.name),
                None => t.name.clone(),
            };
            (t.id.clone(), name)
        })
        .collect();
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&Tab {
        ctx,
        key: key.to_string(),
        course_name: forum.course.tree.display_name(),
        topics,
        topic_id: q.topic_id.clone(),
        view: q.view.clone(),
        order_by: q.order_by.clone(),
        moderator: forum.is_moderator(),
        threads: list.threads.iter().map(Row::of).collect(),
        count: list.count,
        previous: (list.page.number > 1).then(|| link(list.page.number - 1)),
        next: (list.page.number < pages).then(|| link(list.page.number + 1)),
        deleted: q.deleted,
    }))
}

#[derive(Deserialize)]
struct NewThreadForm {
    topic_id: String,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    body: String,
}

async fn new_thread(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(raw): Path<String>,
    PageForm(form): PageForm<NewThreadForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let draft = ThreadDraft {
        topic_id: form.topic_id,
        thread_type: ThreadType::parse(&form.kind)
            .ok_or_else(|| AppError::field("type", "Choose discussion or question."))?,
        title: form.title,
        raw_body: form.body,
    };
    let view = state
        .app
        .create_discussion_thread(&user, &key, &draft)
        .await?;
    Ok(Redirect::to(&format!(
        "/courses/{key}/discussion/threads/{}",
        view.thread.id
    ))
    .into_response())
}

#[derive(Deserialize)]
struct ReplyForm {
    body: String,
    #[serde(default)]
    parent_id: String,
}

async fn reply(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((raw, id)): Path<(String, String)>,
    PageForm(form): PageForm<ReplyForm>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let id = thread_id(&id)?;
    let parent = match form.parent_id.trim() {
        "" => None,
        p => Some(
            p.parse::<PostId>()
                .map_err(|_| AppError::field("parent_id", "Reply to a response of this thread."))?,
        ),
    };
    let view = state
        .app
        .create_discussion_comment(&user, id, parent, &form.body)
        .await?;
    let anchor = match view.comment.parent_id {
        Some(_) => format!("comment-{}", view.comment.id),
        None => format!("response-{}", view.comment.id),
    };
    Ok(Redirect::to(&format!("/courses/{key}/discussion/threads/{id}#{anchor}")).into_response())
}
