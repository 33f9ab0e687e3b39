//! Courses (drafts, immutable published versions, roles) and blobs: the
//! queries both backends share (see [`super::db`]).
//!
//! Publish and import read the course row with `Backend::FOR_UPDATE`, so on
//! PostgreSQL concurrent publishes queue on the row lock and get
//! consecutive versions; import first inserts the course if it is new
//! (`ON CONFLICT DO NOTHING`), so concurrent imports of a new course meet
//! at that row instead of at a key clash. Blobs are inserted in hash order,
//! so two imports never wait on each other's blobs in opposite orders.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{CourseRecord, CourseRole, User, UserId};
use lectern_app::store::{
    BlobInfo, BlobSource, BlobStore, CourseDates, CourseStore, NewBlob, StoreResult,
};
use lectern_app::StoreError;
use lectern_content::{CourseKey, CourseTree};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Transaction, Type};
use tokio::io::AsyncReadExt;

use super::chunks::{chunk_span, join_chunks, CHUNK};
use super::db::{Backend, Db};
use super::errors::map_err;
use super::rows::{CourseRow, TeamRow, COURSE_COLUMNS, TEAM_SQL};
use super::sql;
use super::trees::{tree_from_json_off_thread, tree_to_json_off_async};
use crate::commit_watch::{commit, Acknowledge};
use crate::time::{from_millis, to_millis};

impl<DB> Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    /// The course as the writer sees it, so a caller reads its own write.
    pub(super) async fn course_written(&self, key: &CourseKey) -> StoreResult<CourseRecord> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses WHERE course_key = $1");
        let row: CourseRow = sqlx::query_as(&sql)
            .bind(key.to_string())
            .fetch_one(&self.write)
            .acknowledged()
            .await?;
        row.into_record()
    }

    /// Copies the draft into the next version inside `tx`, holding the
    /// course row; the draft must still be at `expected_revision`.
    pub(super) async fn publish_in(
        tx: &mut Transaction<'_, DB>,
        key: &str,
        expected_revision: i64,
        now: i64,
    ) -> StoreResult<i64> {
        let sql = format!(
            "SELECT draft_revision, draft_tree, COALESCE(published_version, 0) FROM courses WHERE course_key = $1{}",
            DB::FOR_UPDATE
        );
        let row: Option<(i64, String, i64)> = sqlx::query_as(&sql)
            .bind(key.to_string())
            .fetch_optional(&mut **tx)
            .await
            .map_err(map_err)?;
        let Some((revision, tree, published)) = row else {
            return Err(StoreError::Internal(format!("course {key} vanished")));
        };
        if revision != expected_revision {
            return Err(StoreError::StaleRevision);
        }
        let version = published + 1;
        sqlx::query(sql::INSERT_VERSION)
            .bind(key.to_string())
            .bind(version)
            .bind(revision)
            .bind(tree)
            .bind(now)
            .bind(hex::encode(rand::random::<[u8; 16]>()))
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        sqlx::query(sql::MARK_PUBLISHED)
            .bind(version)
            .bind(revision)
            .bind(now)
            .bind(key.to_string())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(version)
    }

    /// The writes of an import inside `tx`: the course (created, or its draft
    /// replaced under the row lock), the blobs in hash order, the grant, and
    /// the publish; returns the new version.
    pub(super) async fn import_in(
        tx: &mut Transaction<'_, DB>,
        tree: &CourseTree,
        dates: CourseDates,
        json: String,
        blobs: &[NewBlob<'_>],
        grant: Option<(UserId, CourseRole)>,
        now: i64,
    ) -> StoreResult<i64> {
        let key = tree.key.to_string();
        // Insert if new; either way the row exists now (ours, or one a
        // concurrent import committed, which this insert waited for).
        let r = sql::bind_course(sql::INSERT_COURSE_IF_NEW, tree, dates, json.clone(), now)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        let revision = if DB::rows_affected(&r) == 1 {
            1
        } else {
            let sql = format!(
                "SELECT draft_revision FROM courses WHERE course_key = $1{}",
                DB::FOR_UPDATE
            );
            let (rev,): (i64,) = sqlx::query_as(&sql)
                .bind(key.clone())
                .fetch_one(&mut **tx)
                .await
                .map_err(map_err)?;
            sql::bind_course(sql::UPDATE_DRAFT, tree, dates, json, now)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            rev + 1
        };
        let mut sorted: Vec<&NewBlob<'_>> = blobs.iter().collect();
        sorted.sort_by_key(|b| b.sha256);
        sorted.dedup_by_key(|b| b.sha256);
        for blob in sorted {
            Self::put_blob_in(tx, blob, now).await?;
        }
        if let Some((user, role)) = grant {
            Self::grant_in(tx, sql::INSERT_ROLE_IF_NONE, &key, user, role).await?;
        }
        Self::publish_in(tx, &key, revision, now).await
    }

    async fn grant_in(
        tx: &mut Transaction<'_, DB>,
        sql: &str,
        key: &str,
        user: UserId,
        role: CourseRole,
    ) -> StoreResult<()> {
        sqlx::query(sql)
            .bind(key.to_string())
            .bind(user)
            .bind(role.as_str().to_string())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn courses_where(
        &self,
        filter: &str,
        key: Option<&CourseKey>,
    ) -> StoreResult<Vec<CourseRecord>> {
        let sql = format!(
            "SELECT {COURSE_COLUMNS} FROM courses{filter} ORDER BY display_name, course_key"
        );
        let mut query = sqlx::query_as(&sql);
        if let Some(key) = key {
            query = query.bind(key.to_string());
        }
        let rows: Vec<CourseRow> = query.fetch_all(&self.read).await.map_err(map_err)?;
        rows.into_iter().map(CourseRow::into_record).collect()
    }

    /// Inserts a blob's head row; false if those bytes are stored already.
    async fn insert_blob_head(
        tx: &mut Transaction<'_, DB>,
        sha256: &str,
        size: u64,
        now: i64,
    ) -> StoreResult<bool> {
        let r = sqlx::query(sql::INSERT_BLOB_HEAD)
            .bind(sha256.to_string())
            .bind(size as i64)
            .bind(Vec::<u8>::new())
            .bind(now)
            .bind(CHUNK as i64)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) == 1)
    }

    async fn insert_chunk(
        tx: &mut Transaction<'_, DB>,
        sha256: &str,
        seq: i64,
        data: &[u8],
    ) -> StoreResult<()> {
        sqlx::query(sql::INSERT_BLOB_CHUNK)
            .bind(sha256.to_string())
            .bind(seq)
            .bind(data.to_vec())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn put_blob_in(
        tx: &mut Transaction<'_, DB>,
        blob: &NewBlob<'_>,
        now: i64,
    ) -> StoreResult<()> {
        if Self::insert_blob_head(tx, blob.sha256, blob.bytes.len() as u64, now).await? {
            for (seq, piece) in blob.bytes.chunks(CHUNK).enumerate() {
                Self::insert_chunk(tx, blob.sha256, seq as i64, piece).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl<DB> CourseStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn create_course(
        &self,
        draft: &CourseTree,
        dates: CourseDates,
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<CourseRecord> {
        let json = tree_to_json_off_async(draft).await?;
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        sql::bind_course(sql::INSERT_COURSE, draft, dates, json, to_millis(now))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if let Some(owner) = owner {
            let key = draft.key.to_string();
            Self::grant_in(
                &mut tx,
                sql::UPSERT_ROLE,
                &key,
                owner,
                CourseRole::Instructor,
            )
            .await?;
        }
        commit(tx).await?;
        self.course_written(&draft.key).await
    }

    async fn course(&self, key: &CourseKey) -> StoreResult<Option<CourseRecord>> {
        Ok(self
            .courses_where(" WHERE course_key = $1", Some(key))
            .await?
            .pop())
    }

    async fn list_courses(&self) -> StoreResult<Vec<CourseRecord>> {
        // SQLite: the catalogue's read without sqlx's hand-off (`sqlite/hot_reads.rs`).
        if let Some(hot) = &self.hot {
            let sql =
                format!("SELECT {COURSE_COLUMNS} FROM courses ORDER BY display_name, course_key");
            if let Some(rows) = hot.courses(&sql, None) {
                super::db_pages::statement_logged(&sql);
                return rows.into_iter().map(CourseRow::into_record).collect();
            }
        }
        self.courses_where("", None).await
    }

    async fn enrolled_courses(&self, user: UserId) -> StoreResult<Vec<CourseRecord>> {
        let sql = format!(
            "SELECT {COURSE_COLUMNS} FROM courses WHERE course_key IN \
             (SELECT course_key FROM enrollments WHERE user_id = $1 AND is_active) \
             ORDER BY display_name, course_key"
        );
        if let Some(hot) = &self.hot {
            if let Some(rows) = hot.courses(&sql, Some(user)) {
                super::db_pages::statement_logged(&sql);
                return rows.into_iter().map(CourseRow::into_record).collect();
            }
        }
        let rows: Vec<CourseRow> = sqlx::query_as(&sql)
            .bind(user)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(CourseRow::into_record).collect()
    }

    async fn draft(&self, key: &CourseKey) -> StoreResult<Option<(CourseTree, i64)>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT draft_tree, draft_revision FROM courses WHERE course_key = $1")
                .bind(key.to_string())
                .fetch_optional(&self.read)
                .await
                .map_err(map_err)?;
        match row {
            Some((json, revision)) => Ok(Some((tree_from_json_off_thread(json).await?, revision))),
            None => Ok(None),
        }
    }

    async fn save_draft(
        &self,
        tree: &CourseTree,
        dates: CourseDates,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let json = tree_to_json_off_async(tree).await?;
        let guarded = format!("{} AND draft_revision = $7", sql::UPDATE_DRAFT);
        let r = sql::bind_course(&guarded, tree, dates, json, to_millis(now))
            .bind(expected_revision)
            .execute(&self.write)
            .acknowledged()
            .await?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::StaleRevision);
        }
        Ok(expected_revision + 1)
    }

    async fn publish(
        &self,
        key: &CourseKey,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let version =
            Self::publish_in(&mut tx, &key.to_string(), expected_revision, to_millis(now)).await?;
        commit(tx).await?;
        Ok(version)
    }

    async fn published(&self, key: &CourseKey, version: i64) -> StoreResult<Option<CourseTree>> {
        let json: Option<(String,)> = sqlx::query_as(
            "SELECT tree FROM course_versions WHERE course_key = $1 AND version = $2",
        )
        .bind(key.to_string())
        .bind(version)
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        match json {
            Some((j,)) => Ok(Some(tree_from_json_off_thread(j).await?)),
            None => Ok(None),
        }
    }

    async fn import_course(
        &self,
        tree: &CourseTree,
        dates: CourseDates,
        blobs: &[NewBlob<'_>],
        grant: Option<(UserId, CourseRole)>,
        now: DateTime<Utc>,
    ) -> StoreResult<(CourseRecord, i64)> {
        let now = to_millis(now);
        let json = tree_to_json_off_async(tree).await?;
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let version = Self::import_in(&mut tx, tree, dates, json, blobs, grant, now).await?;
        commit(tx).await?;
        Ok((self.course_written(&tree.key).await?, version))
    }

    async fn grant_course_role(
        &self,
        key: &CourseKey,
        user: UserId,
        role: CourseRole,
    ) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        Self::grant_in(&mut tx, sql::UPSERT_ROLE, &key.to_string(), user, role).await?;
        commit(tx).await
    }

    async fn revoke_course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM course_roles WHERE course_key = $1 AND user_id = $2")
            .bind(key.to_string())
            .bind(user)
            .execute(&self.write)
            .acknowledged()
            .await?;
        Ok(())
    }

    async fn course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<Option<CourseRole>> {
        let role: Option<(String,)> =
            sqlx::query_as("SELECT role FROM course_roles WHERE course_key = $1 AND user_id = $2")
                .bind(key.to_string())
                .bind(user)
                .fetch_optional(&self.read)
                .await
                .map_err(map_err)?;
        Ok(role.and_then(|(r,)| CourseRole::parse(&r)))
    }

    async fn courses_with_role(&self, user: UserId) -> StoreResult<Vec<(CourseKey, CourseRole)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT course_key, role FROM course_roles WHERE user_id = $1 ORDER BY course_key",
        )
        .bind(user)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, role)| Some((key.parse().ok()?, CourseRole::parse(&role)?)))
            .collect())
    }

    async fn course_team(&self, key: &CourseKey) -> StoreResult<Vec<(User, CourseRole)>> {
        let rows: Vec<TeamRow> = sqlx::query_as(TEAM_SQL)
            .bind(key.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.user.into(), CourseRole::parse(&r.role)?)))
            .collect())
    }
}

#[async_trait]
impl<DB> BlobStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn put_blob(&self, blob: &NewBlob<'_>) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        Self::put_blob_in(&mut tx, blob, to_millis(Utc::now())).await?;
        commit(tx).await
    }

    async fn put_blob_stream(
        &self,
        sha256: &str,
        size: u64,
        source: BlobSource<'_>,
    ) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        if !Self::insert_blob_head(&mut tx, sha256, size, to_millis(Utc::now())).await? {
            return Ok(());
        }
        let mut buf = vec![0u8; CHUNK];
        let (mut left, mut seq) = (size, 0i64);
        while left > 0 {
            let want = left.min(CHUNK as u64) as usize;
            source
                .read_exact(&mut buf[..want])
                .await
                .map_err(|e| StoreError::Internal(format!("reading a blob to store: {e}")))?;
            Self::insert_chunk(&mut tx, sha256, seq, &buf[..want]).await?;
            left -= want as u64;
            seq += 1;
        }
        commit(tx).await
    }

    async fn blob_info(&self, sha256: &str) -> StoreResult<Option<BlobInfo>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT size, created_at FROM blobs WHERE sha256 = $1")
                .bind(sha256.to_string())
                .fetch_optional(&self.read)
                .await
                .map_err(map_err)?;
        Ok(row.map(|(size, created)| BlobInfo {
            size: size as u64,
            created_at: from_millis(created),
        }))
    }

    async fn blob(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        let Some(info) = self.blob_info(sha256).await? else {
            return Ok(None);
        };
        self.blob_range(sha256, 0, info.size).await
    }

    async fn blob_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> StoreResult<Option<Vec<u8>>> {
        let head: Option<(i64, i64)> =
            sqlx::query_as("SELECT size, chunk_size FROM blobs WHERE sha256 = $1")
                .bind(sha256.to_string())
                .fetch_optional(&self.read)
                .await
                .map_err(map_err)?;
        let Some((size, chunk)) = head else {
            return Ok(None);
        };
        let len = len.min((size as u64).saturating_sub(offset));
        if len == 0 {
            return Ok(Some(Vec::new()));
        }
        if chunk <= 0 {
            // A blob from before chunking: the database slices it (1-based).
            let (bytes,): (Vec<u8>,) = sqlx::query_as(DB::SLICE_WHOLE_BLOB)
                .bind(offset as i64 + 1)
                .bind(len as i64)
                .bind(sha256.to_string())
                .fetch_one(&self.read)
                .await
                .map_err(map_err)?;
            return Ok(Some(bytes));
        }
        let (first, last, skip) = chunk_span(offset, len, chunk as u64);
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT data FROM blob_chunks WHERE sha256 = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
        )
        .bind(sha256.to_string())
        .bind(first)
        .bind(last)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        join_chunks(sha256, rows.iter().map(|(d,)| d.as_slice()), skip, len).map(Some)
    }
}
