//! A thread's page: the thread, its responses and their comments, the
//! forms to reply, and each post's buttons (vote, follow, report, pin,
//! close, endorse or mark as answer, edit, delete). Which buttons a viewer
//! gets comes from the use cases' `editable_fields` and `can_delete`, the
//! same answer the API gives, so a page never offers what a post refuses.

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::response::Response;
use lectern_app::discussions::{CommentView, Page, PostId, ThreadType, ThreadView};
use lectern_app::AppError;

use super::super::{course_key, page_ctx};
use crate::auth::PageUser;
use crate::csrf::CsrfToken;
use crate::error::PageResult;
use crate::pages::{render, PageCtx};
use crate::state::AppState;

/// The buttons a viewer gets on one post, from what the use case lets them change.
pub struct Controls {
    vote: bool,
    follow: bool,
    flag: bool,
    edit: bool,
    pin: bool,
    close: bool,
    endorse: bool,
    delete: bool,
}

impl Controls {
    fn of(editable: &[&str], can_delete: bool) -> Controls {
        let has = |f: &str| editable.contains(&f);
        Controls {
            vote: has("voted"),
            follow: has("following"),
            flag: has("abuse_flagged"),
            edit: has("raw_body"),
            pin: has("pinned"),
            close: has("closed"),
            endorse: has("endorsed"),
            delete: can_delete,
        }
    }
}

/// A response or comment on the thread page.
pub struct Post {
    id: PostId,
    author: String,
    author_label: Option<&'static str>,
    body: String,
    raw_body: String,
    endorsed: bool,
    endorsed_by: Option<String>,
    votes: i64,
    voted: bool,
    flagged: bool,
    /// Abuse flags, for moderators only.
    flags: Option<i64>,
    controls: Controls,
    comments: Vec<Post>,
}

impl Post {
    fn of(v: &CommentView) -> Post {
        Post {
            id: v.comment.id,
            author: v.comment.author.clone(),
            author_label: v.author_label,
            body: v.rendered_body.clone(),
            raw_body: v.comment.body.clone(),
            endorsed: v.comment.endorsed,
            endorsed_by: v.comment.endorsed_by.clone(),
            votes: v.comment.vote_count,
            voted: v.comment.voted,
            flagged: v.comment.flagged,
            flags: v.abuse_flagged_count,
            controls: Controls::of(&v.editable_fields, v.can_delete),
            comments: Vec::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "discussion_thread.html")]
struct ThreadPage {
    ctx: PageCtx,
    key: String,
    course_name: String,
    topic_name: String,
    id: PostId,
    title: String,
    kind: &'static str,
    author: String,
    author_label: Option<&'static str>,
    votes: i64,
    voted: bool,
    following: bool,
    flagged: bool,
    flags: Option<i64>,
    pinned: bool,
    closed: bool,
    question: bool,
    body: String,
    raw_body: String,
    controls: Controls,
    responses: Vec<Post>,
    may_reply: bool,
    csrf: String,
}

/// Responses shown on a thread page, and comments under each.
const PAGE_POSTS: i64 = 50;

pub(super) fn thread_id(raw: &str) -> Result<PostId, AppError> {
    raw.parse()
        .map_err(|_| AppError::not_found(format!("thread {raw}")))
}

fn thread_page_of(view: &ThreadView) -> (bool, Controls) {
    let t = &view.thread;
    (
        t.thread_type == ThreadType::Question,
        Controls::of(&view.editable_fields, view.can_delete),
    )
}

pub(super) async fn thread_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    csrf: Extension<CsrfToken>,
    Path((raw, id)): Path<(String, String)>,
) -> PageResult<Response> {
    let key = course_key(&raw)?;
    let id = thread_id(&id)?;
    let view = state.app.discussion_thread(&user, id).await?;
    if view.thread.course_key != key {
        return Err(AppError::not_found(format!("thread {id}")).into());
    }
    let page = Page {
        number: 1,
        size: PAGE_POSTS,
    };
    let list = state
        .app
        .discussion_responses(&user, id, None, page)
        .await?;
    let mut responses = Vec::new();
    for r in &list.comments {
        let mut post = Post::of(r);
        if r.comment.child_count > 0 {
            let (_, children) = state
                .app
                .discussion_response_comments(&user, r.comment.id, page)
                .await?;
            post.comments = children.comments.iter().map(Post::of).collect();
        }
        responses.push(post);
    }
    let forum = state.app.forum(&user, &key).await?;
    let t = &view.thread;
    let (question, controls) = thread_page_of(&view);
    let ctx = page_ctx(&state, Some(&user), &csrf).await;
    Ok(render(&ThreadPage {
        csrf: ctx.csrf.clone(),
        ctx,
        key: key.to_string(),
        course_name: forum.course.tree.display_name(),
        topic_name: forum
            .topics
            .find(&t.topic_id)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| t.topic_id.clone()),
        id,
        title: t.title.clone(),
        kind: if question { "Question" } else { "Discussion" },
        author: t.author.clone(),
        author_label: view.author_label,
        votes: t.vote_count,
        voted: t.voted,
        following: t.following,
        flagged: t.flagged,
        flags: view.abuse_flagged_count,
        pinned: t.pinned,
        closed: t.closed,
        question,
        body: view.rendered_body.clone(),
        raw_body: t.body.clone(),
        controls,
        responses,
        may_reply: !t.closed || forum.is_moderator(),
    }))
}
