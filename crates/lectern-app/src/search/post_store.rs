//! What the post indexer needs from the database: the change log of
//! discussion posts (migration 0013: one row per thread or comment
//! created, edited or deleted, written in the same transaction as the
//! change) and the text of posts by id, in pages.
//!
//! Why a change log rather than "posts changed since" on the post rows:
//! a deleted post leaves no row to find, and the log's ids give every
//! node one cheap cursor ([`PostIndexStore::post_changes`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_content::CourseKey;

use crate::discussions::PostId;
use crate::store::StoreResult;

/// One row of the change log: thread `thread_id` changed (`comment_id`
/// `None`), or its comment `comment_id` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostChange {
    pub id: i64,
    pub thread_id: PostId,
    pub comment_id: Option<PostId>,
}

/// A thread's or comment's text as the index takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PostText {
    pub course: CourseKey,
    pub thread_id: PostId,
    /// `None` for the thread itself.
    pub comment_id: Option<PostId>,
    /// The response a comment answers (`None` for a response or a thread).
    pub parent_id: Option<PostId>,
    /// The thread's topic (a comment's thread's).
    pub topic_id: String,
    /// The thread's title (a comment's thread's).
    pub title: String,
    /// The raw body (Markdown).
    pub body: String,
    pub created: DateTime<Utc>,
}

/// Which posts a page of [`PostText`] is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostSelection {
    /// Every thread (or comment) of the site.
    All,
    /// These threads (or comments) by id.
    Ids(Vec<PostId>),
    /// The comments of these threads (for comments only; threads read as `Ids`).
    OfThreads(Vec<PostId>),
}

#[async_trait]
pub trait PostIndexStore {
    /// Changes with an id above `after`, and those with an id in `also`
    /// (ids the caller saw missing earlier), by id, at most `limit`.
    async fn post_changes(
        &self,
        after: i64,
        also: &[i64],
        limit: i64,
    ) -> StoreResult<Vec<PostChange>>;
    /// The highest change id (0 when there is none).
    async fn last_post_change(&self) -> StoreResult<i64>;
    /// Deletes changes older than `before`; how many.
    async fn prune_post_changes(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Threads of `which` with an id above `after`, by id, at most `limit`.
    async fn thread_texts(
        &self,
        which: &PostSelection,
        after: PostId,
        limit: i64,
    ) -> StoreResult<Vec<PostText>>;
    /// Comments and responses of `which` with an id above `after`, by id,
    /// at most `limit`.
    async fn comment_texts(
        &self,
        which: &PostSelection,
        after: PostId,
        limit: i64,
    ) -> StoreResult<Vec<PostText>>;
}
