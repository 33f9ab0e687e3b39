//! Courses: the draft document, immutable published versions, course roles.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{CourseRecord, CourseRole, User, UserId};
use lectern_app::store::{CourseStore, NewBlob, StoreResult};
use lectern_app::StoreError;
use lectern_content::{CourseKey, CourseTree};
use sqlx::{Row, Sqlite, Transaction};

use super::{map_err, SqliteStore};
use crate::shared::rows::{CourseRow, COURSE_COLUMNS};
use crate::shared::sql;
use crate::shared::trees::{tree_from_json_off_thread, tree_to_json_off_async};
use crate::time::to_millis;

async fn insert_course(
    tx: &mut Transaction<'_, Sqlite>,
    tree: &CourseTree,
    now: i64,
) -> StoreResult<()> {
    let json = tree_to_json_off_async(tree).await?;
    sql::bind_course(sql::INSERT_COURSE, tree, json, now)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Copies the draft into the next version, inside `tx`; the draft must still be at `expected_revision`.
async fn publish_in(
    tx: &mut Transaction<'_, Sqlite>,
    key: &str,
    expected_revision: i64,
    now: i64,
) -> StoreResult<i64> {
    let row = sqlx::query("SELECT draft_revision, draft_tree, COALESCE(published_version, 0) AS v FROM courses WHERE course_key = ?")
        .bind(key)
        .fetch_optional(&mut **tx)
        .await
        .map_err(map_err)?
        .ok_or_else(|| StoreError::Internal(format!("course {key} vanished")))?;
    let revision: i64 = row.try_get("draft_revision").map_err(map_err)?;
    if revision != expected_revision {
        return Err(StoreError::StaleRevision);
    }
    let tree: String = row.try_get("draft_tree").map_err(map_err)?;
    let version: i64 = row.try_get::<i64, _>("v").map_err(map_err)? + 1;
    sqlx::query(sql::INSERT_VERSION)
        .bind(key)
        .bind(version)
        .bind(revision)
        .bind(tree)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    sqlx::query(sql::MARK_PUBLISHED)
        .bind(version)
        .bind(revision)
        .bind(now)
        .bind(key)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(version)
}

async fn grant_in(
    tx: &mut Transaction<'_, Sqlite>,
    key: &str,
    user: UserId,
    role: CourseRole,
) -> StoreResult<()> {
    sqlx::query(sql::UPSERT_ROLE)
        .bind(key)
        .bind(user)
        .bind(role.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl CourseStore for SqliteStore {
    async fn create_course(
        &self,
        draft: &CourseTree,
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<CourseRecord> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        insert_course(&mut tx, draft, to_millis(now))
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => StoreError::Conflict {
                    field: "course_key".into(),
                },
                other => other,
            })?;
        if let Some(owner) = owner {
            grant_in(
                &mut tx,
                &draft.key.to_string(),
                owner,
                CourseRole::Instructor,
            )
            .await?;
        }
        tx.commit().await.map_err(map_err)?;
        self.course_on_writer(&draft.key).await
    }

    async fn course(&self, key: &CourseKey) -> StoreResult<Option<CourseRecord>> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses WHERE course_key = ?");
        let row: Option<CourseRow> = sqlx::query_as(&sql)
            .bind(key.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map(CourseRow::into_record).transpose()
    }

    async fn list_courses(&self) -> StoreResult<Vec<CourseRecord>> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses ORDER BY display_name, course_key");
        let rows: Vec<CourseRow> = sqlx::query_as(&sql)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(CourseRow::into_record).collect()
    }

    async fn draft(&self, key: &CourseKey) -> StoreResult<Option<(CourseTree, i64)>> {
        let row =
            sqlx::query("SELECT draft_tree, draft_revision FROM courses WHERE course_key = ?")
                .bind(key.to_string())
                .fetch_optional(&self.reader)
                .await
                .map_err(map_err)?;
        match row {
            Some(r) => {
                let json: String = r.try_get("draft_tree").map_err(map_err)?;
                let revision = r.try_get("draft_revision").map_err(map_err)?;
                Ok(Some((tree_from_json_off_thread(json).await?, revision)))
            }
            None => Ok(None),
        }
    }

    async fn save_draft(
        &self,
        tree: &CourseTree,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let json = tree_to_json_off_async(tree).await?;
        let guarded = format!("{} AND draft_revision = $7", sql::UPDATE_DRAFT);
        let r = sql::bind_course(&guarded, tree, json, to_millis(now))
            .bind(expected_revision)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        if r.rows_affected() == 0 {
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
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let version =
            publish_in(&mut tx, &key.to_string(), expected_revision, to_millis(now)).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(version)
    }

    async fn published(&self, key: &CourseKey, version: i64) -> StoreResult<Option<CourseTree>> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT tree FROM course_versions WHERE course_key = ? AND version = ?",
        )
        .bind(key.to_string())
        .bind(version)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        match json {
            Some(j) => Ok(Some(tree_from_json_off_thread(j).await?)),
            None => Ok(None),
        }
    }

    async fn import_course(
        &self,
        tree: &CourseTree,
        blobs: &[NewBlob<'_>],
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<(CourseRecord, i64)> {
        let now = to_millis(now);
        let key = tree.key.to_string();
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        for blob in blobs {
            super::blobs::put_blob_in(&mut tx, blob, now).await?;
        }
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT draft_revision FROM courses WHERE course_key = ?")
                .bind(&key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
        let revision = match existing {
            Some(rev) => {
                let json = tree_to_json_off_async(tree).await?;
                sql::bind_course(sql::UPDATE_DRAFT, tree, json, now)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                rev + 1
            }
            None => {
                insert_course(&mut tx, tree, now).await?;
                1
            }
        };
        if let Some(owner) = owner {
            sqlx::query(sql::INSERT_ROLE_IF_NONE)
                .bind(&key)
                .bind(owner)
                .bind(CourseRole::Instructor.as_str())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let version = publish_in(&mut tx, &key, revision, now).await?;
        tx.commit().await.map_err(map_err)?;
        Ok((self.course_on_writer(&tree.key).await?, version))
    }

    async fn grant_course_role(
        &self,
        key: &CourseKey,
        user: UserId,
        role: CourseRole,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        grant_in(&mut tx, &key.to_string(), user, role).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn revoke_course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM course_roles WHERE course_key = ? AND user_id = ?")
            .bind(key.to_string())
            .bind(user)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<Option<CourseRole>> {
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM course_roles WHERE course_key = ? AND user_id = ?",
        )
        .bind(key.to_string())
        .bind(user)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(role.as_deref().and_then(CourseRole::parse))
    }

    async fn courses_with_role(&self, user: UserId) -> StoreResult<Vec<(CourseKey, CourseRole)>> {
        let rows = sqlx::query(
            "SELECT course_key, role FROM course_roles WHERE user_id = ? ORDER BY course_key",
        )
        .bind(user)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        let mut out = Vec::new();
        for r in rows {
            let key: String = r.try_get("course_key").map_err(map_err)?;
            let role: String = r.try_get("role").map_err(map_err)?;
            if let (Ok(key), Some(role)) = (key.parse(), CourseRole::parse(&role)) {
                out.push((key, role));
            }
        }
        Ok(out)
    }

    async fn course_team(&self, key: &CourseKey) -> StoreResult<Vec<(User, CourseRole)>> {
        let rows = sqlx::query(
            "SELECT user_id, role FROM course_roles WHERE course_key = ? ORDER BY user_id",
        )
        .bind(key.to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        let mut out = Vec::new();
        for r in rows {
            let id: i64 = r.try_get("user_id").map_err(map_err)?;
            let role: String = r.try_get("role").map_err(map_err)?;
            if let (Some(user), Some(role)) = (
                lectern_app::store::UserStore::user_by_id(self, id).await?,
                CourseRole::parse(&role),
            ) {
                out.push((user, role));
            }
        }
        Ok(out)
    }
}

impl SqliteStore {
    /// Reads a course through the writer, so a caller sees its own write at once.
    async fn course_on_writer(&self, key: &CourseKey) -> StoreResult<CourseRecord> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses WHERE course_key = ?");
        let row: CourseRow = sqlx::query_as(&sql)
            .bind(key.to_string())
            .fetch_one(&self.writer)
            .await
            .map_err(map_err)?;
        row.into_record()
    }
}
