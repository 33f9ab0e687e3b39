//! `DiscussionStore`: what the discussion use cases need from the database.
//! The app decides who may do what and hands finished values; the store
//! keeps the counts true (a post's vote, flag, comment and child counts
//! change in the same transaction as the rows they count, and a user's
//! vote or flag is one row, so repeating it changes nothing).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_content::CourseKey;

use super::model::{
    Comment, CommentQuery, DiscussionRole, Mark, NewComment, NewThread, Post, PostId, Thread,
    ThreadFields, ThreadQuery,
};
use crate::model::{User, UserId};
use crate::store::StoreResult;

#[async_trait]
pub trait DiscussionStore {
    /// Creates a thread, followed and read by its author.
    async fn create_thread(&self, new: &NewThread) -> StoreResult<PostId>;
    /// Thread `id` as `viewer` sees it (their vote, follow, flag, read marker).
    async fn thread(&self, id: PostId, viewer: UserId) -> StoreResult<Option<Thread>>;
    /// One page of a course's threads, pinned first, and how many match.
    async fn threads(&self, query: &ThreadQuery) -> StoreResult<(Vec<Thread>, i64)>;
    /// Writes the editable fields; `false` when the thread is gone.
    async fn update_thread(&self, id: PostId, fields: &ThreadFields) -> StoreResult<bool>;
    /// Deletes a thread with its responses, comments and marks.
    async fn delete_thread(&self, id: PostId) -> StoreResult<bool>;

    /// Creates a response or comment and counts it on its thread (and its
    /// response), in one transaction; `None` when the thread or the
    /// response is gone (or the response is not the thread's).
    async fn create_comment(&self, new: &NewComment) -> StoreResult<Option<PostId>>;
    async fn comment(&self, id: PostId, viewer: UserId) -> StoreResult<Option<Comment>>;
    /// One page of responses (or of one response's comments), oldest first, and how many match.
    async fn comments(&self, query: &CommentQuery) -> StoreResult<(Vec<Comment>, i64)>;
    async fn update_comment(
        &self,
        id: PostId,
        body: &str,
        edited_by: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Endorses (`Some((who, when))`) or clears the endorsement.
    async fn set_endorsement(
        &self,
        id: PostId,
        by: Option<(UserId, DateTime<Utc>)>,
    ) -> StoreResult<bool>;
    /// Deletes a response with its comments (or one comment), uncounting them.
    async fn delete_comment(&self, id: PostId) -> StoreResult<bool>;

    /// Sets or clears `user`'s mark on a post; `true` if that changed anything.
    async fn set_mark(&self, post: Post, mark: Mark, user: UserId, on: bool) -> StoreResult<bool>;
    /// Clears every abuse flag of a post (a moderator's "not abuse").
    async fn clear_flags(&self, post: Post) -> StoreResult<()>;
    async fn set_following(&self, thread: PostId, user: UserId, on: bool) -> StoreResult<()>;
    /// Records that `user` read the thread at `at`.
    async fn mark_read(&self, thread: PostId, user: UserId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Threads, responses and comments `user` wrote since `since` (the post budget).
    async fn posts_since(&self, user: UserId, since: DateTime<Utc>) -> StoreResult<i64>;

    async fn discussion_roles_of(
        &self,
        course: &CourseKey,
        user: UserId,
    ) -> StoreResult<Vec<DiscussionRole>>;
    /// Everyone with a discussion role in the course, by username.
    async fn discussion_team(&self, course: &CourseKey)
        -> StoreResult<Vec<(User, DiscussionRole)>>;
    async fn grant_discussion_role(
        &self,
        course: &CourseKey,
        user: UserId,
        role: DiscussionRole,
    ) -> StoreResult<()>;
    async fn revoke_discussion_role(
        &self,
        course: &CourseKey,
        user: UserId,
        role: DiscussionRole,
    ) -> StoreResult<bool>;
    /// Deletes every thread, post, mark and role of the course, nothing else.
    async fn delete_course_discussions(&self, course: &CourseKey) -> StoreResult<()>;
}
