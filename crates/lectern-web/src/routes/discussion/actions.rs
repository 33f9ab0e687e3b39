//! The thread page's buttons as plain forms (no JavaScript): each posts
//! (CSRF-checked like every page form) to a route here, which asks the
//! discussion use cases — the same PATCH and DELETE the API runs, so a
//! viewer without the right gets the use case's refusal as a 403 page —
//! and redirects back to the post (POST-redirect-GET). Every handler is
//! the same walk, [`act_on`]: the course and post from the address, the
//! form's input, the post refused (404) when it is another course's, the
//! use case, the redirect.

use std::future::Future;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use lectern_app::discussions::{CommentPatch, Page, PostId, ThreadPatch};
use lectern_app::{AppError, User};
use lectern_content::CourseKey;
use serde::Deserialize;

use super::super::course_key;
use super::thread_id;
use crate::auth::PageUser;
use crate::error::PageResult;
use crate::extract::PageForm;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/courses/{key}/discussion/threads/{id}/act",
            post(thread_act),
        )
        .route(
            "/courses/{key}/discussion/threads/{id}/edit",
            post(thread_edit),
        )
        .route(
            "/courses/{key}/discussion/threads/{id}/delete",
            post(thread_delete),
        )
        .route(
            "/courses/{key}/discussion/comments/{id}/act",
            post(comment_act),
        )
        .route(
            "/courses/{key}/discussion/comments/{id}/edit",
            post(comment_edit),
        )
        .route(
            "/courses/{key}/discussion/comments/{id}/delete",
            post(comment_delete),
        )
}

/// Which button was pressed.
#[derive(Deserialize)]
struct ActForm {
    #[serde(default)]
    action: String,
}

fn unknown_action(action: &str) -> AppError {
    AppError::field(
        "action",
        format!("There is no discussion action called \"{action}\"."),
    )
}

fn thread_patch(action: &str) -> Result<ThreadPatch, AppError> {
    let mut p = ThreadPatch::default();
    match action {
        "vote" | "unvote" => p.voted = Some(action == "vote"),
        "follow" | "unfollow" => p.following = Some(action == "follow"),
        "flag" | "unflag" => p.abuse_flagged = Some(action == "flag"),
        "pin" | "unpin" => p.pinned = Some(action == "pin"),
        "close" | "reopen" => p.closed = Some(action == "close"),
        other => return Err(unknown_action(other)),
    }
    Ok(p)
}

fn comment_patch(action: &str) -> Result<CommentPatch, AppError> {
    let mut p = CommentPatch::default();
    match action {
        "vote" | "unvote" => p.voted = Some(action == "vote"),
        "flag" | "unflag" => p.abuse_flagged = Some(action == "flag"),
        "endorse" | "unendorse" => p.endorsed = Some(action == "endorse"),
        other => return Err(unknown_action(other)),
    }
    Ok(p)
}

fn post_id(raw: &str, what: &str) -> Result<PostId, AppError> {
    raw.parse()
        .map_err(|_| AppError::not_found(format!("{what} {raw}")))
}

fn thread_url(key: &CourseKey, id: PostId) -> String {
    format!("/courses/{key}/discussion/threads/{id}")
}

/// Refuses (404) a thread reached through another course's address, before anything changes.
async fn check_thread(
    state: &AppState,
    user: &User,
    key: &CourseKey,
    id: PostId,
) -> Result<(), AppError> {
    let view = state.app.discussion_thread(user, id).await?;
    if &view.thread.course_key != key {
        return Err(AppError::not_found(format!("thread {id}")));
    }
    Ok(())
}

/// The thread a response or comment is on, refused (404) when it is another course's,
/// and where the thread page shows the post.
async fn comment_place(
    state: &AppState,
    user: &User,
    key: &CourseKey,
    id: PostId,
) -> Result<(PostId, String), AppError> {
    let one = Page { number: 1, size: 1 };
    let (view, _) = state
        .app
        .discussion_response_comments(user, id, one)
        .await?;
    if &view.comment.course_key != key {
        return Err(AppError::not_found(format!("comment {id}")));
    }
    let anchor = match view.comment.parent_id {
        Some(_) => format!("comment-{id}"),
        None => format!("response-{id}"),
    };
    Ok((view.comment.thread_id, anchor))
}

/// Which kind of post an address names.
#[derive(Clone, Copy)]
enum Kind {
    Thread,
    Comment,
}

/// Where the browser goes after the action.
#[derive(Clone, Copy)]
enum Then {
    /// The post on its thread page.
    Post,
    /// The thread page's top (after a response or comment is deleted).
    Thread,
    /// The discussion listing (after a thread is deleted).
    Listing,
}

/// The walk every button shares: parse the course key and the post id,
/// take the form's `input` (already parsed, so an unknown action is
/// refused only after the address is), refuse (404) a post of another
/// course, run `act` (the use case) and redirect as `then` says.
async fn act_on<P, Fut>(
    state: &AppState,
    user: &User,
    kind: Kind,
    (raw, id): (String, String),
    input: Result<P, AppError>,
    act: impl FnOnce(PostId, P) -> Fut,
    then: Then,
) -> PageResult<Response>
where
    Fut: Future<Output = Result<(), AppError>>,
{
    let key = course_key(&raw)?;
    let id = match kind {
        Kind::Thread => thread_id(&id)?,
        Kind::Comment => post_id(&id, "comment")?,
    };
    let input = input?;
    let (thread, anchor) = match kind {
        Kind::Thread => {
            check_thread(state, user, &key, id).await?;
            (id, "thread".to_string())
        }
        Kind::Comment => comment_place(state, user, &key, id).await?,
    };
    act(id, input).await?;
    let to = match then {
        Then::Post => format!("{}#{anchor}", thread_url(&key, thread)),
        Then::Thread => thread_url(&key, thread),
        Then::Listing => format!("/courses/{key}/discussion/?deleted=true"),
    };
    Ok(Redirect::to(&to).into_response())
}

async fn thread_act(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(path): Path<(String, String)>,
    PageForm(form): PageForm<ActForm>,
) -> PageResult<Response> {
    let (app, who) = (&state.app, &user);
    let act = |id, patch: ThreadPatch| async move {
        app.patch_discussion_thread(who, id, &patch)
            .await
            .map(|_| ())
    };
    let patch = thread_patch(&form.action);
    act_on(&state, &user, Kind::Thread, path, patch, act, Then::Post).await
}

#[derive(Deserialize)]
struct ThreadEditForm {
    title: String,
    body: String,
}

async fn thread_edit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(path): Path<(String, String)>,
    PageForm(form): PageForm<ThreadEditForm>,
) -> PageResult<Response> {
    let (app, who) = (&state.app, &user);
    let act = |id, patch: ThreadPatch| async move {
        app.patch_discussion_thread(who, id, &patch)
            .await
            .map(|_| ())
    };
    let patch = ThreadPatch {
        title: Some(form.title),
        raw_body: Some(form.body),
        ..ThreadPatch::default()
    };
    act_on(
        &state,
        &user,
        Kind::Thread,
        path,
        Ok(patch),
        act,
        Then::Post,
    )
    .await
}

async fn thread_delete(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(path): Path<(String, String)>,
    PageForm(_): PageForm<ActForm>,
) -> PageResult<Response> {
    let (app, who) = (&state.app, &user);
    let act = |id, ()| async move { app.delete_discussion_thread(who, id).await };
    act_on(
        &state,
        &user,
        Kind::Thread,
        path,
        Ok(()),
        act,
        Then::Listing,
    )
    .await
}

async fn comment_act(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(path): Path<(String, String)>,
    PageForm(form): PageForm<ActForm>,
) -> PageResult<Response> {
    let (app, who) = (&state.app, &user);
    let act = |id, patch: CommentPatch| async move {
        app.patch_discussion_comment(who, id, &patch)
            .await
            .map(|_| ())
    };
    let patch = comment_patch(&form.action);
    act_on(&state, &user, Kind::Comment, path, patch, act, Then::Post).await
}

#[derive(Deserialize)]
struct CommentEditForm {
    body: String,
}

async fn comment_edit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(path): Path<(String, String)>,
    PageForm(form): PageForm<CommentEditForm>,
) -> PageResult<Response> {
    let (app, who) = (&state.app, &user);
    let act = |id, patch: CommentPatch| async move {
        app.patch_discussion_comment(who, id, &patch)
            .await
            .map(|_| ())
    };
    let patch = CommentPatch {
        raw_body: Some(form.body),
        ..CommentPatch::default()
    };
    act_on(
        &state,
        &user,
        Kind::Comment,
        path,
        Ok(patch),
        act,
        Then::Post,
    )
    .await
}

async fn comment_delete(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(path): Path<(String, String)>,
    PageForm(_): PageForm<ActForm>,
) -> PageResult<Response> {
    let (app, who) = (&state.app, &user);
    let act = |id, ()| async move { app.delete_discussion_comment(who, id).await };
    act_on(
        &state,
        &user,
        Kind::Comment,
        path,
        Ok(()),
        act,
        Then::Thread,
    )
    .await
}
