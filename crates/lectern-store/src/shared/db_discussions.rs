//! `DiscussionStore` for both backends (migration 0009). Every action is
//! one transaction; counts change beside the rows they count. Locks are
//! taken thread first, then response, by every write that takes both
//! (a new comment, a deleted response), so two of them never wait on each
//! other in a circle on PostgreSQL; SQLite's one writer runs them in turn.
//! Every write of a post's text (create, edit, delete) also writes its row
//! of the search index's post change log (`db_search_posts.rs`) in the same
//! transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::discussions::{
    Comment, CommentQuery, DiscussionRole, DiscussionStore, Mark, NewComment, NewThread, Post,
    PostId, Thread, ThreadFields, ThreadQuery,
};
use lectern_app::model::{User, UserId};
use lectern_app::store::StoreResult;
use lectern_content::CourseKey;
use sqlx::query::QueryAs;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::db::{Backend, Db};
use super::db_search_posts::LOG_POST_CHANGE;
use super::discussion_sql::{
    comment_filter, comment_select, mark_tables, thread_filter, thread_order, thread_select, Arg,
    CommentRow, ThreadRow,
};
use super::errors::map_err;
use super::rows::TeamRow;
use crate::commit_watch::commit;
use crate::time::to_millis;

/// Binds assembled arguments in order.
fn bind_all<'q, DB, O>(
    mut q: QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>,
    args: &[Arg],
) -> QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(*v),
            Arg::Text(s) => q.bind(s.clone()),
        };
    }
    q
}

#[async_trait]
impl<DB> DiscussionStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
    for<'r> ThreadRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> CommentRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TeamRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, Option<i64>): FromRow<'r, <DB as Database>::Row>,
{
    async fn create_thread(&self, new: &NewThread) -> StoreResult<PostId> {
        let at = to_millis(new.at);
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO discussion_threads (course_key, topic_id, thread_type, title, body, \
             author_id, created_at, updated_at, last_activity_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) RETURNING id",
        )
        .bind(new.course_key.to_string())
        .bind(new.topic_id.clone())
        .bind(new.thread_type.as_str().to_string())
        .bind(new.title.clone())
        .bind(new.body.clone())
        .bind(new.author)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("INSERT INTO discussion_follows (thread_id, user_id) VALUES ($1, $2)")
            .bind(id)
            .bind(new.author)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO discussion_reads (thread_id, user_id, read_at) VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(new.author)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(LOG_POST_CHANGE)
            .bind(id)
            .bind(None::<i64>)
            .bind(to_millis(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await?;
        Ok(id)
    }

    async fn thread(&self, id: PostId, viewer: UserId) -> StoreResult<Option<Thread>> {
        let sql = format!("{} WHERE t.id = $2", thread_select());
        let row: Option<ThreadRow> = sqlx::query_as(&sql)
            .bind(viewer)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map(ThreadRow::into_thread).transpose()
    }

    async fn threads(&self, query: &ThreadQuery) -> StoreResult<(Vec<Thread>, i64)> {
        let filter = thread_filter(query);
        let n = filter.args.len();
        let sql = format!(
            "{}{}{} LIMIT ${} OFFSET ${}",
            thread_select(),
            filter.sql(),
            thread_order(query.order),
            n + 1,
            n + 2
        );
        let rows: Vec<ThreadRow> = bind_all(sqlx::query_as(&sql), &filter.args)
            .bind(query.limit)
            .bind(query.offset)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        // The count repeats the filter; `$1` (the viewer) is used by some
        // filters, so it stays the first argument.
        let count_sql = format!(
            "SELECT COUNT(*) FROM discussion_threads t{} AND $1 = $1",
            filter.sql()
        );
        let (total,): (i64,) = bind_all(sqlx::query_as(&count_sql), &filter.args)
            .fetch_one(&self.read)
            .await
            .map_err(map_err)?;
        let threads = rows
            .into_iter()
            .map(ThreadRow::into_thread)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((threads, total))
    }

    async fn update_thread(&self, id: PostId, f: &ThreadFields) -> StoreResult<bool> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let done = sqlx::query(
            "UPDATE discussion_threads SET topic_id = $2, thread_type = $3, title = $4, \
             body = $5, pinned = $6, closed = $7, closed_by = $8, edited_by = $9, \
             updated_at = $10 WHERE id = $1",
        )
        .bind(id)
        .bind(f.topic_id.clone())
        .bind(f.thread_type.as_str().to_string())
        .bind(f.title.clone())
        .bind(f.body.clone())
        .bind(f.pinned)
        .bind(f.closed)
        .bind(f.closed_by)
        .bind(f.edited_by)
        .bind(to_millis(f.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&done) != 1 {
            return Ok(false);
        }
        sqlx::query(LOG_POST_CHANGE)
            .bind(id)
            .bind(None::<i64>)
            .bind(to_millis(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await?;
        Ok(true)
    }

    async fn delete_thread(&self, id: PostId) -> StoreResult<bool> {
        // Responses, comments and every mark go with it (ON DELETE CASCADE);
        // the change row tells the search index to drop all of them.
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let done = sqlx::query("DELETE FROM discussion_threads WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if DB::rows_affected(&done) != 1 {
            return Ok(false);
        }
        sqlx::query(LOG_POST_CHANGE)
            .bind(id)
            .bind(None::<i64>)
            .bind(to_millis(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await?;
        Ok(true)
    }

    async fn create_comment(&self, new: &NewComment) -> StoreResult<Option<PostId>> {
        let at = to_millis(new.at);
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let counted = sqlx::query(
            "UPDATE discussion_threads SET comment_count = comment_count + 1, \
             last_activity_at = $2 WHERE id = $1 AND course_key = $3",
        )
        .bind(new.thread_id)
        .bind(at)
        .bind(new.course_key.to_string())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&counted) != 1 {
            return Ok(None);
        }
        if let Some(parent) = new.parent_id {
            let counted = sqlx::query(
                "UPDATE discussion_comments SET child_count = child_count + 1 \
                 WHERE id = $1 AND thread_id = $2 AND parent_id IS NULL",
            )
            .bind(parent)
            .bind(new.thread_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if DB::rows_affected(&counted) != 1 {
                return Ok(None);
            }
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO discussion_comments (thread_id, parent_id, course_key, body, author_id, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(new.thread_id)
        .bind(new.parent_id)
        .bind(new.course_key.to_string())
        .bind(new.body.clone())
        .bind(new.author)
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(LOG_POST_CHANGE)
            .bind(new.thread_id)
            .bind(Some(id))
            .bind(to_millis(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await?;
        Ok(Some(id))
    }

    async fn comment(&self, id: PostId, viewer: UserId) -> StoreResult<Option<Comment>> {
        let sql = format!("{} WHERE c.id = $2", comment_select());
        let row: Option<CommentRow> = sqlx::query_as(&sql)
            .bind(viewer)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map(CommentRow::into_comment).transpose()
    }

    async fn comments(&self, query: &CommentQuery) -> StoreResult<(Vec<Comment>, i64)> {
        let filter = comment_filter(query);
        let n = filter.args.len();
        let sql = format!(
            "{}{} ORDER BY c.created_at, c.id LIMIT ${} OFFSET ${}",
            comment_select(),
            filter.sql(),
            n + 1,
            n + 2
        );
        let rows: Vec<CommentRow> = bind_all(sqlx::query_as(&sql), &filter.args)
            .bind(query.limit)
            .bind(query.offset)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        let count_sql = format!(
            "SELECT COUNT(*) FROM discussion_comments c{} AND $1 = $1",
            filter.sql()
        );
        let (total,): (i64,) = bind_all(sqlx::query_as(&count_sql), &filter.args)
            .fetch_one(&self.read)
            .await
            .map_err(map_err)?;
        let comments = rows
            .into_iter()
            .map(CommentRow::into_comment)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((comments, total))
    }

    async fn update_comment(
        &self,
        id: PostId,
        body: &str,
        edited_by: UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let thread: Option<(i64,)> = sqlx::query_as(
            "UPDATE discussion_comments SET body = $2, edited_by = $3, updated_at = $4 \
             WHERE id = $1 RETURNING thread_id",
        )
        .bind(id)
        .bind(body.to_string())
        .bind(edited_by)
        .bind(to_millis(at))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some((thread,)) = thread else {
            return Ok(false);
        };
        sqlx::query(LOG_POST_CHANGE)
            .bind(thread)
            .bind(Some(id))
            .bind(to_millis(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await?;
        Ok(true)
    }

    async fn set_endorsement(
        &self,
        id: PostId,
        by: Option<(UserId, DateTime<Utc>)>,
    ) -> StoreResult<bool> {
        let n = self
            .execute_write(
                sqlx::query(
                    "UPDATE discussion_comments SET endorsed = $2, endorsed_by = $3, \
                     endorsed_at = $4 WHERE id = $1 AND parent_id IS NULL",
                )
                .bind(id)
                .bind(by.is_some())
                .bind(by.map(|(u, _)| u))
                .bind(by.map(|(_, at)| to_millis(at))),
            )
            .await?;
        Ok(n == 1)
    }

    async fn delete_comment(&self, id: PostId) -> StoreResult<bool> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT thread_id FROM discussion_comments WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let Some((thread,)) = found else {
            return Ok(false);
        };
        // The thread first, as a new comment locks it.
        let lock = format!(
            "SELECT id FROM discussion_threads WHERE id = $1{}",
            DB::FOR_UPDATE
        );
        let locked: Option<(i64,)> = sqlx::query_as(&lock)
            .bind(thread)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        if locked.is_none() {
            return Ok(false);
        }
        let gone: Option<(i64, Option<i64>)> = sqlx::query_as(
            "DELETE FROM discussion_comments WHERE id = $1 RETURNING thread_id, parent_id",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some((_, parent)) = gone else {
            return Ok(false);
        };
        let children = sqlx::query("DELETE FROM discussion_comments WHERE parent_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let removed = 1 + i64::try_from(DB::rows_affected(&children)).unwrap_or(0);
        sqlx::query(
            "UPDATE discussion_threads SET comment_count = comment_count - $2 WHERE id = $1",
        )
        .bind(thread)
        .bind(removed)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if let Some(parent) = parent {
            sqlx::query(
                "UPDATE discussion_comments SET child_count = child_count - 1 WHERE id = $1",
            )
            .bind(parent)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        // One row: the index drops the comment and, for a response, its comments.
        sqlx::query(LOG_POST_CHANGE)
            .bind(thread)
            .bind(Some(id))
            .bind(to_millis(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await?;
        Ok(true)
    }

    async fn set_mark(&self, post: Post, mark: Mark, user: UserId, on: bool) -> StoreResult<bool> {
        let (table, column, posts, count, id) = mark_tables(post, mark);
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        // Lock the post: its count changes with the mark.
        let lock = format!("SELECT id FROM {posts} WHERE id = $1{}", DB::FOR_UPDATE);
        let found: Option<(i64,)> = sqlx::query_as(&lock)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        if found.is_none() {
            return Ok(false);
        }
        let (change, delta) = if on {
            (
                format!(
                    "INSERT INTO {table} ({column}, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                ),
                1_i64,
            )
        } else {
            (
                format!("DELETE FROM {table} WHERE {column} = $1 AND user_id = $2"),
                -1_i64,
            )
        };
        let done = sqlx::query(&change)
            .bind(id)
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if DB::rows_affected(&done) != 1 {
            return Ok(false);
        }
        let bump = format!("UPDATE {posts} SET {count} = {count} + $2 WHERE id = $1");
        sqlx::query(&bump)
            .bind(id)
            .bind(delta)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await?;
        Ok(true)
    }

    async fn clear_flags(&self, post: Post) -> StoreResult<()> {
        let (table, column, posts, count, id) = mark_tables(post, Mark::AbuseFlag);
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        sqlx::query(&format!("UPDATE {posts} SET {count} = 0 WHERE id = $1"))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(&format!("DELETE FROM {table} WHERE {column} = $1"))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await
    }

    async fn set_following(&self, thread: PostId, user: UserId, on: bool) -> StoreResult<()> {
        let sql = if on {
            "INSERT INTO discussion_follows (thread_id, user_id) SELECT id, $2 FROM \
             discussion_threads WHERE id = $1 ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM discussion_follows WHERE thread_id = $1 AND user_id = $2"
        };
        self.execute_write(sqlx::query(sql).bind(thread).bind(user))
            .await?;
        Ok(())
    }

    async fn mark_read(&self, thread: PostId, user: UserId, at: DateTime<Utc>) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO discussion_reads (thread_id, user_id, read_at) \
                 SELECT id, $2, $3 FROM discussion_threads WHERE id = $1 \
                 ON CONFLICT (thread_id, user_id) DO UPDATE SET read_at = excluded.read_at",
            )
            .bind(thread)
            .bind(user)
            .bind(to_millis(at)),
        )
        .await?;
        Ok(())
    }

    async fn posts_since(&self, user: UserId, since: DateTime<Utc>) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM discussion_threads WHERE author_id = $1 AND created_at >= $2) \
             + (SELECT COUNT(*) FROM discussion_comments WHERE author_id = $1 AND created_at >= $2)",
        )
        .bind(user)
        .bind(to_millis(since))
        .fetch_one(&self.read)
        .await
        .map_err(map_err)?;
        Ok(n)
    }

    async fn discussion_roles_of(
        &self,
        course: &CourseKey,
        user: UserId,
    ) -> StoreResult<Vec<DiscussionRole>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT role FROM discussion_roles WHERE course_key = $1 AND user_id = $2 ORDER BY role",
        )
        .bind(course.to_string())
        .bind(user)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|(r,)| DiscussionRole::parse(&r))
            .collect())
    }

    async fn discussion_team(
        &self,
        course: &CourseKey,
    ) -> StoreResult<Vec<(User, DiscussionRole)>> {
        let rows: Vec<TeamRow> = sqlx::query_as(
            "SELECT u.id, u.username, u.email, u.name, u.is_admin, u.is_course_creator, \
             u.is_active, u.created_at, r.role FROM discussion_roles r \
             JOIN users u ON u.id = r.user_id WHERE r.course_key = $1 ORDER BY u.username, r.role",
        )
        .bind(course.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| DiscussionRole::parse(&r.role).map(|role| (User::from(r.user), role)))
            .collect())
    }

    async fn grant_discussion_role(
        &self,
        course: &CourseKey,
        user: UserId,
        role: DiscussionRole,
    ) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO discussion_roles (course_key, user_id, role) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(course.to_string())
            .bind(user)
            .bind(role.as_str().to_string()),
        )
        .await?;
        Ok(())
    }

    async fn revoke_discussion_role(
        &self,
        course: &CourseKey,
        user: UserId,
        role: DiscussionRole,
    ) -> StoreResult<bool> {
        let n = self
            .execute_write(
                sqlx::query(
                    "DELETE FROM discussion_roles WHERE course_key = $1 AND user_id = $2 AND role = $3",
                )
                .bind(course.to_string())
                .bind(user)
                .bind(role.as_str().to_string()),
            )
            .await?;
        Ok(n == 1)
    }

    async fn delete_course_discussions(&self, course: &CourseKey) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        // Comments, marks and read markers go with their threads (ON DELETE CASCADE).
        for sql in [
            "DELETE FROM discussion_threads WHERE course_key = $1",
            "DELETE FROM discussion_roles WHERE course_key = $1",
        ] {
            sqlx::query(sql)
                .bind(course.to_string())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        commit(tx).await
    }
}
