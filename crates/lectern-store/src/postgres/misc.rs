//! Enrolments, the staff enrolment list and health on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{Enrollment, SiteStats, User, UserId};
use lectern_app::roster::EnrollmentQuery;
use lectern_app::store::{EnrollmentStore, HealthStore, StoreResult};
use lectern_app::StoreError;
use lectern_content::CourseKey;

use super::PgStore;
use crate::shared::errors::map_err;
use crate::shared::rows::{EnrollmentRow, RosterRow, StatsRow, UserRow, ENROLLMENT_COLUMNS};
use crate::shared::sql;
use crate::time::to_millis;

#[async_trait]
impl EnrollmentStore for PgStore {
    async fn enroll(
        &self,
        user: UserId,
        key: &CourseKey,
        mode: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Enrollment> {
        let sql = format!(
            "INSERT INTO enrollments (user_id, course_key, mode, is_active, created_at) VALUES ($1, $2, $3, TRUE, $4) \
             ON CONFLICT (user_id, course_key) DO UPDATE SET is_active = TRUE RETURNING {ENROLLMENT_COLUMNS}"
        );
        let row: EnrollmentRow = sqlx::query_as(&sql)
            .bind(user)
            .bind(key.to_string())
            .bind(mode)
            .bind(to_millis(now))
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        row.into_enrollment()
    }

    async fn unenroll(&self, user: UserId, key: &CourseKey) -> StoreResult<()> {
        sqlx::query(
            "UPDATE enrollments SET is_active = FALSE WHERE user_id = $1 AND course_key = $2",
        )
        .bind(user)
        .bind(key.to_string())
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn enrollment(&self, user: UserId, key: &CourseKey) -> StoreResult<Option<Enrollment>> {
        let sql = format!(
            "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE user_id = $1 AND course_key = $2"
        );
        let row: Option<EnrollmentRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map(EnrollmentRow::into_enrollment).transpose()
    }

    async fn enrollments_for_user(&self, user: UserId) -> StoreResult<Vec<Enrollment>> {
        let sql = format!(
            "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE user_id = $1 ORDER BY created_at"
        );
        let rows: Vec<EnrollmentRow> = sqlx::query_as(&sql)
            .bind(user)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(EnrollmentRow::into_enrollment)
            .collect()
    }

    async fn count_enrollments(&self, key: &CourseKey) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM enrollments WHERE course_key = $1 AND is_active")
            .bind(key.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn enrolled_users(&self, key: &CourseKey) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(sql::ENROLLED_USERS)
            .bind(key.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn list_enrollments(
        &self,
        query: &EnrollmentQuery,
    ) -> StoreResult<Vec<(Enrollment, String)>> {
        let sql = sql::enrollment_page_sql(query);
        let rows: Vec<RosterRow> = sql::bind_enrollment_page(&sql, query)
            .try_map(|row| <RosterRow as sqlx::FromRow<_>>::from_row(&row))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|r| Ok((r.enrollment.into_enrollment()?, r.username)))
            .collect()
    }
}

#[async_trait]
impl HealthStore for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn stats(&self, now: DateTime<Utc>) -> StoreResult<SiteStats> {
        let row: StatsRow = sqlx::query_as(sql::STATS)
            .bind(to_millis(now))
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.into())
    }

    async fn close(&self) {
        Self::close(self).await;
    }
}
