//! The job queue and named leases on SQLite. One writer connection
//! serialises every write, so a claim is one guarded `UPDATE … RETURNING`
//! over the oldest due row: no two claimers can take the same job.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use lectern_app::jobs::{bounded_error, Job, JobState, JobStore, LeaseStore, NewJob};
use lectern_app::store::StoreResult;
use lectern_app::StoreError;
use sqlx::Row;

use super::SqliteStore;
use crate::shared::errors::map_err;
use crate::time::{from_millis, to_millis};

const JOB_COLUMNS: &str = "id, kind, payload, dedupe_key, state, attempts, max_attempts, run_after, locked_until, locked_by, last_error, created_at, updated_at";

fn job_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<Job> {
    let state: String = row.try_get("state").map_err(map_err)?;
    let payload: String = row.try_get("payload").map_err(map_err)?;
    let locked_until: Option<i64> = row.try_get("locked_until").map_err(map_err)?;
    Ok(Job {
        id: row.try_get("id").map_err(map_err)?,
        kind: row.try_get("kind").map_err(map_err)?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Internal(format!("stored job payload: {e}")))?,
        dedupe_key: row.try_get("dedupe_key").map_err(map_err)?,
        state: JobState::parse(&state)
            .ok_or_else(|| StoreError::Internal(format!("stored job state {state:?}")))?,
        attempts: row.try_get("attempts").map_err(map_err)?,
        max_attempts: row.try_get("max_attempts").map_err(map_err)?,
        run_after: from_millis(row.try_get("run_after").map_err(map_err)?),
        locked_until: locked_until.map(from_millis),
        locked_by: row.try_get("locked_by").map_err(map_err)?,
        last_error: row.try_get("last_error").map_err(map_err)?,
        created_at: from_millis(row.try_get("created_at").map_err(map_err)?),
        updated_at: from_millis(row.try_get("updated_at").map_err(map_err)?),
    })
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        // The partial unique index refuses a second pending job with the key.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, dedupe_key, state, attempts, max_attempts, run_after, created_at, updated_at) \
             VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&job.kind)
        .bind(job.payload.to_string())
        .bind(&job.dedupe_key)
        .bind(job.max_attempts.max(1))
        .bind(to_millis(job.run_after))
        .bind(to_millis(now))
        .bind(to_millis(now))
        .fetch_optional(&self.write)
        .await
        .map_err(map_err)?;
        Ok(id)
    }

    async fn claim_job(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<Option<Job>> {
        let now_ms = to_millis(now);
        let mut tx = self.write.begin().await.map_err(map_err)?;
        sqlx::query(
            "UPDATE jobs SET state = 'failed', locked_until = NULL, updated_at = ?1, \
             last_error = 'its node stopped during the last attempt (lease expired)' \
             WHERE state = 'running' AND locked_until < ?1 AND attempts >= max_attempts",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ?2, locked_by = ?3, updated_at = ?1 \
             WHERE id = (SELECT id FROM jobs WHERE (state = 'queued' AND run_after <= ?1) OR (state = 'running' AND locked_until < ?1) \
             ORDER BY run_after, id LIMIT 1) RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(now_ms)
            .bind(to_millis(now + lease))
            .bind(holder)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn extend_job(
        &self,
        id: i64,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET locked_until = ?, updated_at = ? WHERE id = ? AND state = 'running' AND locked_by = ?",
        )
        .bind(to_millis(now + lease))
        .bind(to_millis(now))
        .bind(id)
        .bind(holder)
        .execute(&self.write)
        .await
        .map_err(map_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn complete_job(&self, id: i64, holder: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = ? WHERE id = ? AND state = 'running' AND locked_by = ?",
        )
        .bind(to_millis(now))
        .bind(id)
        .bind(holder)
        .execute(&self.write)
        .await
        .map_err(map_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn fail_job(
        &self,
        id: i64,
        holder: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<JobState>> {
        let state: Option<String> = sqlx::query_scalar(
            "UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
             run_after = ?, last_error = ?, locked_until = NULL, updated_at = ? \
             WHERE id = ? AND state = 'running' AND locked_by = ? RETURNING state",
        )
        .bind(to_millis(retry_at))
        .bind(bounded_error(error))
        .bind(to_millis(now))
        .bind(id)
        .bind(holder)
        .fetch_optional(&self.write)
        .await
        .map_err(map_err)?;
        Ok(state.as_deref().and_then(JobState::parse))
    }

    async fn release_job(&self, id: i64, holder: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), run_after = ?1, locked_until = NULL, updated_at = ?1 \
             WHERE id = ?2 AND state = 'running' AND locked_by = ?3",
        )
        .bind(to_millis(now))
        .bind(id)
        .bind(holder)
        .execute(&self.write)
        .await
        .map_err(map_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn recent_jobs(&self, limit: i64) -> StoreResult<Vec<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT ?");
        let rows = sqlx::query(&sql)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn job(&self, id: i64) -> StoreResult<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn count_jobs(&self) -> StoreResult<Vec<(JobState, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        let mut out = Vec::new();
        for r in rows {
            let state: String = r.try_get("state").map_err(map_err)?;
            if let Some(s) = JobState::parse(&state) {
                out.push((s, r.try_get("n").map_err(map_err)?));
            }
        }
        out.sort();
        Ok(out)
    }

    async fn delete_done_jobs(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        Ok(
            sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?")
                .bind(to_millis(before))
                .execute(&self.write)
                .await
                .map_err(map_err)?
                .rows_affected(),
        )
    }

    async fn count_jobs_with_key(&self, dedupe_key: &str) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE dedupe_key = ?")
            .bind(dedupe_key)
            .fetch_one(&self.read)
            .await
            .map_err(map_err)
    }

    async fn courses_with_stale_grades(&self, limit: i64) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT c.course_key, c.published_version FROM courses c WHERE c.published_version IS NOT NULL AND EXISTS ( \
               SELECT 1 FROM course_grades g JOIN enrollments e ON e.user_id = g.user_id AND e.course_key = g.course_key AND e.is_active \
               WHERE g.course_key = c.course_key AND g.course_version < c.published_version) \
             ORDER BY c.course_key LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("course_key").map_err(map_err)?,
                    r.try_get("published_version").map_err(map_err)?,
                ))
            })
            .collect()
    }
}

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET holder = ?2, expires_at = ?3 \
             WHERE leases.holder = ?2 OR leases.expires_at < ?4",
        )
        .bind(name)
        .bind(holder)
        .bind(to_millis(now + ttl))
        .bind(to_millis(now))
        .execute(&self.write)
        .await
        .map_err(map_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn renew_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND expires_at >= ?",
        )
        .bind(to_millis(now + ttl))
        .bind(name)
        .bind(holder)
        .bind(to_millis(now))
        .execute(&self.write)
        .await
        .map_err(map_err)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM leases WHERE name = ? AND holder = ?")
            .bind(name)
            .bind(holder)
            .execute(&self.write)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
