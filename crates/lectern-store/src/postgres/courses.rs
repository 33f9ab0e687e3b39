//! Courses on PostgreSQL: the draft document, immutable published versions,
//! course roles. At READ COMMITTED with many nodes, publish and import lock
//! the course row (`SELECT … FOR UPDATE`) before reading the version to
//! write after it, so concurrent publishes get consecutive versions; import
//! first inserts the course if new (`ON CONFLICT DO NOTHING`), so concurrent
//! imports of a new course meet at that row lock instead of at a key clash.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{CourseRecord, CourseRole, User, UserId};
use lectern_app::store::{CourseStore, NewBlob, StoreResult};
use lectern_app::StoreError;
use lectern_content::{CourseKey, CourseTree};
use sqlx::{Postgres, Transaction};

use super::PgStore;
use crate::shared::errors::map_err;
use crate::shared::rows::{CourseRow, UserRow, COURSE_COLUMNS, USER_COLUMNS};
use crate::shared::sql;
use crate::shared::trees::{tree_from_json_off_thread, tree_to_json_off_async};
use crate::time::to_millis;

/// Copies the draft into the next version, inside `tx`, holding the course
/// row's lock; the draft must still be at `expected_revision`.
async fn publish_in(
    tx: &mut Transaction<'_, Postgres>,
    key: &str,
    expected_revision: i64,
    now: i64,
) -> StoreResult<i64> {
    let row: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT draft_revision, draft_tree, COALESCE(published_version, 0) FROM courses WHERE course_key = $1 FOR UPDATE",
    )
    .bind(key)
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
    tx: &mut Transaction<'_, Postgres>,
    sql: &str,
    key: &str,
    user: UserId,
    role: CourseRole,
) -> StoreResult<()> {
    sqlx::query(sql)
        .bind(key)
        .bind(user)
        .bind(role.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

impl PgStore {
    async fn course_record(&self, key: &CourseKey) -> StoreResult<Option<CourseRecord>> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses WHERE course_key = $1");
        let row: Option<CourseRow> = sqlx::query_as(&sql)
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(CourseRow::into_record).transpose()
    }
}

#[async_trait]
impl CourseStore for PgStore {
    async fn create_course(
        &self,
        draft: &CourseTree,
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<CourseRecord> {
        let json = tree_to_json_off_async(draft).await?;
        let key = draft.key.to_string();
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sql::bind_course(sql::INSERT_COURSE, draft, json, to_millis(now))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if let Some(owner) = owner {
            grant_in(
                &mut tx,
                sql::UPSERT_ROLE,
                &key,
                owner,
                CourseRole::Instructor,
            )
            .await?;
        }
        tx.commit().await.map_err(map_err)?;
        self.course_record(&draft.key)
            .await?
            .ok_or_else(|| StoreError::Internal(format!("course {key} vanished")))
    }

    async fn course(&self, key: &CourseKey) -> StoreResult<Option<CourseRecord>> {
        self.course_record(key).await
    }

    async fn list_courses(&self) -> StoreResult<Vec<CourseRecord>> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses ORDER BY display_name, course_key");
        let rows: Vec<CourseRow> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(CourseRow::into_record).collect()
    }

    async fn draft(&self, key: &CourseKey) -> StoreResult<Option<(CourseTree, i64)>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT draft_tree, draft_revision FROM courses WHERE course_key = $1")
                .bind(key.to_string())
                .fetch_optional(&self.pool)
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
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let json = tree_to_json_off_async(tree).await?;
        let guarded = format!("{} AND draft_revision = $7", sql::UPDATE_DRAFT);
        let r = sql::bind_course(&guarded, tree, json, to_millis(now))
            .bind(expected_revision)
            .execute(&self.pool)
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
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let version =
            publish_in(&mut tx, &key.to_string(), expected_revision, to_millis(now)).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(version)
    }

    async fn published(&self, key: &CourseKey, version: i64) -> StoreResult<Option<CourseTree>> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT tree FROM course_versions WHERE course_key = $1 AND version = $2",
        )
        .bind(key.to_string())
        .bind(version)
        .fetch_optional(&self.pool)
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
        let json = tree_to_json_off_async(tree).await?;
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // Insert if new; either way the row exists now (ours, or one a
        // concurrent import committed, which this insert waited for).
        let created = sql::bind_course(sql::INSERT_COURSE_IF_NEW, tree, json.clone(), now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
            == 1;
        let revision = if created {
            1
        } else {
            let rev: i64 = sqlx::query_scalar(
                "SELECT draft_revision FROM courses WHERE course_key = $1 FOR UPDATE",
            )
            .bind(&key)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            sql::bind_course(sql::UPDATE_DRAFT, tree, json, now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            rev + 1
        };
        super::blobs::put_blobs_in(&mut tx, blobs, now).await?;
        if let Some(owner) = owner {
            grant_in(
                &mut tx,
                sql::INSERT_ROLE_IF_NONE,
                &key,
                owner,
                CourseRole::Instructor,
            )
            .await?;
        }
        let version = publish_in(&mut tx, &key, revision, now).await?;
        tx.commit().await.map_err(map_err)?;
        let record = self
            .course_record(&tree.key)
            .await?
            .ok_or_else(|| StoreError::Internal(format!("course {key} vanished")))?;
        Ok((record, version))
    }

    async fn grant_course_role(
        &self,
        key: &CourseKey,
        user: UserId,
        role: CourseRole,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        grant_in(&mut tx, sql::UPSERT_ROLE, &key.to_string(), user, role).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn revoke_course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM course_roles WHERE course_key = $1 AND user_id = $2")
            .bind(key.to_string())
            .bind(user)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<Option<CourseRole>> {
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM course_roles WHERE course_key = $1 AND user_id = $2",
        )
        .bind(key.to_string())
        .bind(user)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(role.as_deref().and_then(CourseRole::parse))
    }

    async fn courses_with_role(&self, user: UserId) -> StoreResult<Vec<(CourseKey, CourseRole)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT course_key, role FROM course_roles WHERE user_id = $1 ORDER BY course_key",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, role)| Some((key.parse().ok()?, CourseRole::parse(&role)?)))
            .collect())
    }

    async fn course_team(&self, key: &CourseKey) -> StoreResult<Vec<(User, CourseRole)>> {
        let sql = format!(
            "SELECT {}, r.role FROM course_roles r JOIN users u ON u.id = r.user_id \
             WHERE r.course_key = $1 ORDER BY u.id",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows: Vec<TeamRow> = sqlx::query_as(&sql)
            .bind(key.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.user.into(), CourseRole::parse(&r.role)?)))
            .collect())
    }
}

#[derive(sqlx::FromRow)]
struct TeamRow {
    #[sqlx(flatten)]
    user: UserRow,
    role: String,
}
