//! Response and comment use cases: list a thread's responses (or one
//! response's comments), post one, change it (Open edX's PATCH fields:
//! `raw_body`, `voted`, `abuse_flagged`, `endorsed`) and delete it.

use super::access::Forum;
use super::markdown::render;
use super::model::{Comment, CommentQuery, Mark, NewComment, Post, PostId, Thread};
use super::writing::{check_body, Page};
use crate::error::{AppError, AppResult};
use crate::model::User;
use crate::Lectern;

/// A response or comment as one viewer gets it.
pub struct CommentView {
    pub comment: Comment,
    pub rendered_body: String,
    pub author_label: Option<&'static str>,
    pub endorsed_by_label: Option<&'static str>,
    pub editable_fields: Vec<&'static str>,
    pub can_delete: bool,
    pub abuse_flagged_count: Option<i64>,
}

impl CommentView {
    fn new(forum: &Forum, thread: &Thread, comment: Comment) -> Self {
        CommentView {
            rendered_body: render(&comment.body),
            author_label: forum.author_label(comment.author_id),
            endorsed_by_label: comment.endorsed_by_id.and_then(|u| forum.author_label(u)),
            editable_fields: forum.comment_editable(&comment, thread),
            can_delete: forum.may_delete_comment(&comment),
            abuse_flagged_count: forum.is_moderator().then_some(comment.flag_count),
            comment,
        }
    }
}

/// One page of responses or comments.
pub struct CommentList {
    pub comments: Vec<CommentView>,
    pub count: i64,
    pub page: Page,
}

/// Open edX's comment PATCH.
#[derive(Debug, Clone, Default)]
pub struct CommentPatch {
    pub raw_body: Option<String>,
    pub voted: Option<bool>,
    pub abuse_flagged: Option<bool>,
    pub endorsed: Option<bool>,
}

impl CommentPatch {
    fn fields(&self) -> Vec<&'static str> {
        [
            ("raw_body", self.raw_body.is_some()),
            ("voted", self.voted.is_some()),
            ("abuse_flagged", self.abuse_flagged.is_some()),
            ("endorsed", self.endorsed.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, set)| set.then_some(n))
        .collect()
    }
}

impl Lectern {
    /// A thread's responses (`endorsed` filters them), oldest first.
    pub async fn discussion_responses(
        &self,
        user: &User,
        thread_id: PostId,
        endorsed: Option<bool>,
        page: Page,
    ) -> AppResult<CommentList> {
        let (forum, thread) = self.thread_forum(user, thread_id).await?;
        self.comment_list(&forum, &thread, None, endorsed, page)
            .await
    }

    /// The comments on a response (Open edX's `GET comments/{id}/`).
    pub async fn discussion_response_comments(
        &self,
        user: &User,
        comment_id: PostId,
        page: Page,
    ) -> AppResult<(CommentView, CommentList)> {
        let (forum, thread, comment) = self.comment_forum(user, comment_id).await?;
        let list = self
            .comment_list(&forum, &thread, Some(comment_id), None, page)
            .await?;
        Ok((CommentView::new(&forum, &thread, comment), list))
    }

    async fn comment_list(
        &self,
        forum: &Forum,
        thread: &Thread,
        parent_id: Option<PostId>,
        endorsed: Option<bool>,
        page: Page,
    ) -> AppResult<CommentList> {
        let (comments, count) = self
            .store
            .comments(&CommentQuery {
                thread_id: thread.id,
                parent_id,
                endorsed,
                viewer: forum.user.id,
                offset: page.offset(),
                limit: page.size,
            })
            .await?;
        Ok(CommentList {
            comments: comments
                .into_iter()
                .map(|c| CommentView::new(forum, thread, c))
                .collect(),
            count,
            page,
        })
    }

    /// Posts a response to a thread, or (with `parent_id`) a comment on a response.
    pub async fn create_discussion_comment(
        &self,
        user: &User,
        thread_id: PostId,
        parent_id: Option<PostId>,
        raw_body: &str,
    ) -> AppResult<CommentView> {
        let (forum, thread) = self.thread_forum(user, thread_id).await?;
        if thread.closed && !forum.is_moderator() {
            return Err(AppError::Forbidden(
                "This thread is closed to new responses.".into(),
            ));
        }
        check_body(raw_body)?;
        self.may_post(&forum).await?;
        let made = self
            .store
            .create_comment(&NewComment {
                course_key: thread.course_key.clone(),
                thread_id,
                parent_id,
                body: raw_body.to_string(),
                author: user.id,
                at: self.now(),
            })
            .await?;
        let id = match made {
            Some(id) => id,
            None if parent_id.is_some() => {
                return Err(AppError::field(
                    "parent_id",
                    "Comments go on a response of this thread (one level deep).",
                ))
            }
            None => return Err(AppError::not_found(format!("thread {thread_id}"))),
        };
        self.posts_changed();
        self.comment_view(&forum, &thread, id).await
    }

    /// Applies an Open edX PATCH to a response or comment.
    pub async fn patch_discussion_comment(
        &self,
        user: &User,
        id: PostId,
        patch: &CommentPatch,
    ) -> AppResult<CommentView> {
        let (forum, thread, comment) = self.comment_forum(user, id).await?;
        let editable = forum.comment_editable(&comment, &thread);
        if let Some(field) = patch.fields().into_iter().find(|f| !editable.contains(f)) {
            return Err(AppError::Forbidden(format!(
                "You may not change the field {field} of this comment."
            )));
        }
        if let Some(body) = &patch.raw_body {
            check_body(body)?;
            self.store
                .update_comment(id, body, user.id, self.now())
                .await?;
            self.posts_changed();
        }
        if let Some(endorse) = patch.endorsed {
            let by = endorse.then(|| (user.id, self.now()));
            self.store.set_endorsement(id, by).await?;
        }
        if let Some(on) = patch.voted {
            self.store
                .set_mark(Post::Comment(id), Mark::Vote, user.id, on)
                .await?;
        }
        if let Some(on) = patch.abuse_flagged {
            self.flag(&forum, Post::Comment(id), on).await?;
        }
        self.comment_view(&forum, &thread, id).await
    }

    /// Deletes a response (with its comments) or a comment.
    pub async fn delete_discussion_comment(&self, user: &User, id: PostId) -> AppResult<()> {
        let (forum, _, comment) = self.comment_forum(user, id).await?;
        if !forum.may_delete_comment(&comment) {
            return Err(AppError::Forbidden(
                "Only its author or a moderator may delete this comment.".into(),
            ));
        }
        self.store.delete_comment(id).await?;
        self.posts_changed();
        tracing::info!(comment = id, by = %user.username, "comment deleted");
        Ok(())
    }

    async fn comment_forum(&self, user: &User, id: PostId) -> AppResult<(Forum, Thread, Comment)> {
        let what = format!("comment {id}");
        let comment = self
            .store
            .comment(id, user.id)
            .await?
            .ok_or_else(|| AppError::not_found(what.clone()))?;
        let thread = self
            .store
            .thread(comment.thread_id, user.id)
            .await?
            .ok_or_else(|| AppError::not_found(what.clone()))?;
        let forum = self
            .forum_of_post(user, &thread.course_key, &thread.topic_id, &what)
            .await?;
        Ok((forum, thread, comment))
    }

    async fn comment_view(
        &self,
        forum: &Forum,
        thread: &Thread,
        id: PostId,
    ) -> AppResult<CommentView> {
        let comment = self
            .store
            .comment(id, forum.user.id)
            .await?
            .ok_or_else(|| AppError::not_found(format!("comment {id}")))?;
        Ok(CommentView::new(forum, thread, comment))
    }
}
