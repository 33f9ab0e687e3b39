//! Enrolments and health.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{Enrollment, SiteStats, UserId};
use lectern_app::store::{EnrollmentStore, HealthStore, StoreResult};
use lectern_app::StoreError;
use lectern_content::CourseKey;
use sqlx::Row;

use super::{map_err, SqliteStore};
use crate::time::{from_millis, to_millis};

fn enrollment_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<Enrollment> {
    let key: String = row.try_get("course_key").map_err(map_err)?;
    Ok(Enrollment {
        user_id: row.try_get("user_id").map_err(map_err)?,
        course_key: key
            .parse()
            .map_err(|e| StoreError::Internal(format!("stored course key: {e}")))?,
        mode: row.try_get("mode").map_err(map_err)?,
        is_active: row.try_get("is_active").map_err(map_err)?,
        created_at: from_millis(row.try_get("created_at").map_err(map_err)?),
    })
}

#[async_trait]
impl EnrollmentStore for SqliteStore {
    async fn enroll(
        &self,
        user: UserId,
        key: &CourseKey,
        mode: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Enrollment> {
        let row = sqlx::query(
            "INSERT INTO enrollments (user_id, course_key, mode, is_active, created_at) VALUES (?, ?, ?, TRUE, ?) \
             ON CONFLICT (user_id, course_key) DO UPDATE SET is_active = TRUE \
             RETURNING user_id, course_key, mode, is_active, created_at",
        )
        .bind(user)
        .bind(key.to_string())
        .bind(mode)
        .bind(to_millis(now))
        .fetch_one(&self.writer)
        .await
        .map_err(map_err)?;
        enrollment_from_row(&row)
    }

    async fn unenroll(&self, user: UserId, key: &CourseKey) -> StoreResult<()> {
        sqlx::query(
            "UPDATE enrollments SET is_active = FALSE WHERE user_id = ? AND course_key = ?",
        )
        .bind(user)
        .bind(key.to_string())
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn enrollment(&self, user: UserId, key: &CourseKey) -> StoreResult<Option<Enrollment>> {
        let row = sqlx::query("SELECT user_id, course_key, mode, is_active, created_at FROM enrollments WHERE user_id = ? AND course_key = ?")
            .bind(user)
            .bind(key.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map(|r| enrollment_from_row(&r)).transpose()
    }

    async fn enrollments_for_user(&self, user: UserId) -> StoreResult<Vec<Enrollment>> {
        let rows = sqlx::query("SELECT user_id, course_key, mode, is_active, created_at FROM enrollments WHERE user_id = ? ORDER BY created_at")
            .bind(user)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(enrollment_from_row).collect()
    }

    async fn enrolled_users(&self, key: &CourseKey) -> StoreResult<Vec<lectern_app::User>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT user_id FROM enrollments WHERE course_key = ? AND is_active ORDER BY user_id",
        )
        .bind(key.to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(u) = lectern_app::store::UserStore::user_by_id(self, id).await? {
                out.push(u);
            }
        }
        Ok(out)
    }

    async fn count_enrollments(&self, key: &CourseKey) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM enrollments WHERE course_key = ? AND is_active")
            .bind(key.to_string())
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)
    }

    async fn list_enrollments(
        &self,
        query: &lectern_app::roster::EnrollmentQuery,
    ) -> StoreResult<Vec<(Enrollment, String)>> {
        self.enrollment_page(query).await
    }
}

#[async_trait]
impl HealthStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn stats(&self, now: DateTime<Utc>) -> StoreResult<SiteStats> {
        let row = sqlx::query(
            "SELECT \
               (SELECT COUNT(*) FROM users) AS users, \
               (SELECT COUNT(*) FROM users WHERE is_active) AS active_users, \
               (SELECT COUNT(*) FROM users WHERE is_admin) AS admins, \
               (SELECT COUNT(*) FROM courses) AS courses, \
               (SELECT COUNT(*) FROM courses WHERE published_version IS NOT NULL) AS published_courses, \
               (SELECT COUNT(*) FROM enrollments WHERE is_active) AS enrollments, \
               (SELECT COUNT(*) FROM auth_tokens WHERE kind = 'session' AND expires_at > ?) AS active_sessions, \
               (SELECT COUNT(*) FROM blobs) AS blobs, \
               (SELECT COALESCE(SUM(size), 0) FROM blobs) AS blob_bytes",
        )
        .bind(to_millis(now))
        .fetch_one(&self.reader)
        .await
        .map_err(map_err)?;
        let get = |c: &str| row.try_get::<i64, _>(c).map_err(map_err);
        Ok(SiteStats {
            users: get("users")?,
            active_users: get("active_users")?,
            admins: get("admins")?,
            courses: get("courses")?,
            published_courses: get("published_courses")?,
            enrollments: get("enrollments")?,
            active_sessions: get("active_sessions")?,
            blobs: get("blobs")?,
            blob_bytes: get("blob_bytes")?,
        })
    }
}
