//! Enrolments and health.

use super::{map_err, SqliteStore};
use crate::shared::rows::{EnrollmentRow, StatsRow, UserRow, ENROLLMENT_COLUMNS};
use crate::shared::sql;
use crate::time::to_millis;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{Enrollment, SiteStats, UserId};
use lectern_app::store::{EnrollmentStore, HealthStore, StoreResult};
use lectern_app::StoreError;
use lectern_content::CourseKey;

#[async_trait]
impl EnrollmentStore for SqliteStore {
    async fn enroll(
        &self,
        user: UserId,
        key: &CourseKey,
        mode: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Enrollment> {
        let row: EnrollmentRow = sqlx::query_as(&format!(
            "INSERT INTO enrollments (user_id, course_key, mode, is_active, created_at) VALUES (?, ?, ?, TRUE, ?) \
             ON CONFLICT (user_id, course_key) DO UPDATE SET is_active = TRUE RETURNING {ENROLLMENT_COLUMNS}"
        ))
        .bind(user)
        .bind(key.to_string())
        .bind(mode)
        .bind(to_millis(now))
        .fetch_one(&self.writer)
        .await
        .map_err(map_err)?;
        row.into_enrollment()
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
        let row: Option<EnrollmentRow> = sqlx::query_as(&format!(
            "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE user_id = ? AND course_key = ?"
        ))
        .bind(user)
        .bind(key.to_string())
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        row.map(EnrollmentRow::into_enrollment).transpose()
    }

    async fn enrollments_for_user(&self, user: UserId) -> StoreResult<Vec<Enrollment>> {
        let rows: Vec<EnrollmentRow> = sqlx::query_as(&format!(
            "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE user_id = ? ORDER BY created_at"
        ))
        .bind(user)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.into_iter()
            .map(EnrollmentRow::into_enrollment)
            .collect()
    }

    async fn enrolled_users(&self, key: &CourseKey) -> StoreResult<Vec<lectern_app::User>> {
        let rows: Vec<UserRow> = sqlx::query_as(sql::ENROLLED_USERS)
            .bind(key.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(lectern_app::User::from).collect())
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
        let row: StatsRow = sqlx::query_as(sql::STATS)
            .bind(to_millis(now))
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(row.into())
    }

    async fn close(&self) {
        Self::close(self).await;
    }
}
