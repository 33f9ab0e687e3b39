//! Courses: the draft document, immutable published versions, course roles.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{CourseRecord, CourseRole, User, UserId};
use lectern_app::store::{CourseDates, CourseStore, NewBlob, StoreResult};
use lectern_app::StoreError;
use lectern_content::{CourseKey, CourseTree};
use sqlx::{Row, Sqlite, Transaction};

use super::{map_err, SqliteStore};
use crate::time::{from_millis, to_millis};

const COURSE_COLUMNS: &str =
    "course_key, display_name, created_at, draft_revision, published_version, \
     published_revision, published_at, start_at, end_at, \
     (SELECT v.publish_id FROM course_versions v WHERE v.course_key = courses.course_key \
      AND v.version = courses.published_version) AS publish_id";

fn course_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<CourseRecord> {
    let key: String = row.try_get("course_key").map_err(map_err)?;
    let key: CourseKey = key
        .parse()
        .map_err(|e| StoreError::Internal(format!("stored course key: {e}")))?;
    let opt_time = |col: &str| -> StoreResult<Option<DateTime<Utc>>> {
        Ok(row
            .try_get::<Option<i64>, _>(col)
            .map_err(map_err)?
            .map(from_millis))
    };
    Ok(CourseRecord {
        key,
        display_name: row.try_get("display_name").map_err(map_err)?,
        created_at: from_millis(row.try_get("created_at").map_err(map_err)?),
        draft_revision: row.try_get("draft_revision").map_err(map_err)?,
        published_version: row.try_get("published_version").map_err(map_err)?,
        publish_id: row.try_get("publish_id").map_err(map_err)?,
        published_revision: row.try_get("published_revision").map_err(map_err)?,
        published_at: opt_time("published_at")?,
        start: opt_time("start_at")?,
        end: opt_time("end_at")?,
    })
}

pub(crate) fn tree_to_json(tree: &CourseTree) -> StoreResult<String> {
    serde_json::to_string(tree)
        .map_err(|e| StoreError::Internal(format!("serialising a course: {e}")))
}

pub(crate) fn tree_from_json(json: &str) -> StoreResult<CourseTree> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Internal(format!("stored course does not parse: {e}")))
}

/// [`tree_to_json`] through Lectern's CPU pool (see `lectern_app::cpu`).
async fn tree_to_json_off_async(tree: &CourseTree) -> StoreResult<String> {
    lectern_app::cpu::run_borrowed(|| tree_to_json(tree))
        .await
        .map_err(|e| match e {
            lectern_app::AppError::Unavailable(m) => StoreError::Unavailable(m),
            other => StoreError::Internal(other.to_string()),
        })?
}

/// [`tree_from_json`] on Lectern's CPU pool: a stored course can be large,
/// and parsing it must not hold up an async worker (see `lectern_app::cpu`).
async fn tree_from_json_off_thread(json: String) -> StoreResult<CourseTree> {
    lectern_app::cpu::run(move || tree_from_json(&json))
        .await
        .map_err(|e| match e {
            lectern_app::AppError::Unavailable(m) => StoreError::Unavailable(m),
            other => StoreError::Internal(other.to_string()),
        })?
}

/// The dates as stored: Unix milliseconds.
fn date_millis(dates: CourseDates) -> (Option<i64>, Option<i64>) {
    (dates.start.map(to_millis), dates.end.map(to_millis))
}

async fn insert_course(
    tx: &mut Transaction<'_, Sqlite>,
    tree: &CourseTree,
    dates: CourseDates,
    now: i64,
) -> StoreResult<()> {
    let (start, end) = date_millis(dates);
    sqlx::query(
        "INSERT INTO courses (course_key, display_name, created_at, draft_revision, draft_tree, draft_updated_at, start_at, end_at) \
         VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
    )
    .bind(tree.key.to_string())
    .bind(tree.display_name())
    .bind(now)
    .bind(tree_to_json_off_async(tree).await?)
    .bind(now)
    .bind(start)
    .bind(end)
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
    // The publish id: 128 random bits, so no restore or re-created course
    // can ever bring back one a cache has seen.
    sqlx::query("INSERT INTO course_versions (course_key, version, draft_revision, tree, created_at, publish_id) \
                 VALUES (?, ?, ?, ?, ?, lower(hex(randomblob(16))))")
        .bind(key)
        .bind(version)
        .bind(revision)
        .bind(tree)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    sqlx::query("UPDATE courses SET published_version = ?, published_revision = ?, published_at = ? WHERE course_key = ?")
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
    sqlx::query(
        "INSERT INTO course_roles (course_key, user_id, role) VALUES (?, ?, ?) \
         ON CONFLICT (course_key, user_id) DO UPDATE SET role = excluded.role",
    )
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
        dates: CourseDates,
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<CourseRecord> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        insert_course(&mut tx, draft, dates, to_millis(now))
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
        let row = sqlx::query(&sql)
            .bind(key.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map(|r| course_from_row(&r)).transpose()
    }

    async fn list_courses(&self) -> StoreResult<Vec<CourseRecord>> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses ORDER BY display_name, course_key");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(course_from_row).collect()
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
        dates: CourseDates,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let (start, end) = date_millis(dates);
        let r = sqlx::query(
            "UPDATE courses SET draft_tree = ?, draft_revision = draft_revision + 1, draft_updated_at = ?, \
             display_name = ?, start_at = ?, end_at = ? WHERE course_key = ? AND draft_revision = ?",
        )
        .bind(tree_to_json_off_async(tree).await?)
        .bind(to_millis(now))
        .bind(tree.display_name())
        .bind(start)
        .bind(end)
        .bind(tree.key.to_string())
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
        dates: CourseDates,
        blobs: &[NewBlob<'_>],
        grant: Option<(UserId, CourseRole)>,
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
                let (start, end) = date_millis(dates);
                sqlx::query(
                    "UPDATE courses SET draft_tree = ?, draft_revision = ?, draft_updated_at = ?, display_name = ?, \
                     start_at = ?, end_at = ? WHERE course_key = ?",
                )
                .bind(tree_to_json_off_async(tree).await?)
                .bind(rev + 1)
                .bind(now)
                .bind(tree.display_name())
                .bind(start)
                .bind(end)
                .bind(&key)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                rev + 1
            }
            None => {
                insert_course(&mut tx, tree, dates, now).await?;
                1
            }
        };
        if let Some((user, role)) = grant {
            grant_in(&mut tx, &key, user, role).await?;
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
        let row = sqlx::query(&sql)
            .bind(key.to_string())
            .fetch_one(&self.writer)
            .await
            .map_err(map_err)?;
        course_from_row(&row)
    }
}
