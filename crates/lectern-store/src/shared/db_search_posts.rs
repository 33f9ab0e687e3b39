//! `PostIndexStore` for both backends (migration 0013): the search index's
//! post change log (written by `db_discussions.rs` in each post write's
//! transaction, read here by every node past its cursor, pruned by age)
//! and posts' text by id, in pages, for the index.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::search::{PostChange, PostIndexStore, PostSelection, PostText};
use lectern_app::store::StoreResult;
use lectern_app::StoreError;
use sqlx::{Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::commit_watch::acknowledged;
use crate::time::{from_millis, to_millis};

/// The change row every post write adds: `$1` thread, `$2` comment (or
/// NULL for the thread), `$3` when (Unix milliseconds).
pub(crate) const LOG_POST_CHANGE: &str =
    "INSERT INTO search_post_changes (thread_id, comment_id, changed_at) VALUES ($1, $2, $3)";

#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    id: i64,
    thread_id: i64,
    comment_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct TextRow {
    thread_id: i64,
    comment_id: Option<i64>,
    parent_id: Option<i64>,
    course_key: String,
    topic_id: String,
    title: String,
    body: String,
    created_at: i64,
}

impl TextRow {
    fn into_text(self) -> StoreResult<PostText> {
        Ok(PostText {
            course: self
                .course_key
                .parse()
                .map_err(|_| StoreError::Internal("stored course key does not parse".into()))?,
            thread_id: self.thread_id,
            comment_id: self.comment_id,
            parent_id: self.parent_id,
            topic_id: self.topic_id,
            title: self.title,
            body: self.body,
            created: from_millis(self.created_at),
        })
    }
}

/// `$first, $first+1, …` for `n` arguments.
fn marks(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `AND …` of a selection over `column` (the thread's or comment's id,
/// or a comment's thread id), its placeholders from `$3` on.
fn selection(which: &PostSelection, id: &str, thread: &str) -> (String, Vec<i64>) {
    match which {
        PostSelection::All => (String::new(), Vec::new()),
        PostSelection::Ids(ids) => (
            format!(" AND {id} IN ({})", marks(3, ids.len())),
            ids.clone(),
        ),
        PostSelection::OfThreads(ids) => (
            format!(" AND {thread} IN ({})", marks(3, ids.len())),
            ids.clone(),
        ),
    }
}

#[async_trait]
impl<DB> PostIndexStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'r> ChangeRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TextRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <DB as Database>::Row>,
{
    async fn post_changes(
        &self,
        after: i64,
        also: &[i64],
        limit: i64,
    ) -> StoreResult<Vec<PostChange>> {
        let gaps = if also.is_empty() {
            String::new()
        } else {
            format!(" OR id IN ({})", marks(3, also.len()))
        };
        let sql = format!(
            "SELECT id, thread_id, comment_id FROM search_post_changes \
             WHERE id > $1{gaps} ORDER BY id LIMIT $2"
        );
        let mut q = sqlx::query_as::<DB, ChangeRow>(&sql)
            .bind(after)
            .bind(limit);
        for id in also {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(&self.read).await.map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|r| PostChange {
                id: r.id,
                thread_id: r.thread_id,
                comment_id: r.comment_id,
            })
            .collect())
    }

    async fn last_post_change(&self) -> StoreResult<i64> {
        let (top,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM search_post_changes")
            .fetch_one(&self.read)
            .await
            .map_err(map_err)?;
        Ok(top)
    }

    async fn prune_post_changes(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = acknowledged(
            sqlx::query("DELETE FROM search_post_changes WHERE changed_at < $1")
                .bind(to_millis(before))
                .execute(&self.write),
        )
        .await?;
        Ok(DB::rows_affected(&done))
    }

    async fn thread_texts(
        &self,
        which: &PostSelection,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<PostText>> {
        let (filter, ids) = selection(which, "t.id", "t.id");
        let sql = format!(
            "SELECT t.id AS thread_id, CAST(NULL AS BIGINT) AS comment_id, \
             CAST(NULL AS BIGINT) AS parent_id, t.course_key, \
             t.topic_id, t.title, t.body, t.created_at FROM discussion_threads t \
             WHERE t.id > $1{filter} ORDER BY t.id LIMIT $2"
        );
        read_texts(&self.read, &sql, after, limit, ids).await
    }

    async fn comment_texts(
        &self,
        which: &PostSelection,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<PostText>> {
        let (filter, ids) = selection(which, "c.id", "c.thread_id");
        let sql = format!(
            "SELECT c.thread_id, c.id AS comment_id, c.parent_id, c.course_key, t.topic_id, \
             t.title, c.body, c.created_at FROM discussion_comments c \
             JOIN discussion_threads t ON t.id = c.thread_id \
             WHERE c.id > $1{filter} ORDER BY c.id LIMIT $2"
        );
        read_texts(&self.read, &sql, after, limit, ids).await
    }
}

/// Runs a text query (`$1` after, `$2` limit, then `ids`).
async fn read_texts<DB>(
    pool: &sqlx::Pool<DB>,
    sql: &str,
    after: i64,
    limit: i64,
    ids: Vec<i64>,
) -> StoreResult<Vec<PostText>>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'r> TextRow: FromRow<'r, <DB as Database>::Row>,
{
    let mut q = sqlx::query_as::<DB, TextRow>(sql).bind(after).bind(limit);
    for id in ids {
        q = q.bind(id);
    }
    q.fetch_all(pool)
        .await
        .map_err(map_err)?
        .into_iter()
        .map(TextRow::into_text)
        .collect()
}
