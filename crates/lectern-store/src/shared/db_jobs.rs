//! The durable job queue and named leases, once for both backends (see
//! [`super::db`]). Every change to a running job is guarded by its holder
//! (`state = 'running' AND locked_by = $n`), so a node whose lease expired
//! and was taken over cannot complete or fail the job it lost.
//!
//! The one difference is how a claim picks its row: a single
//! `UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING …`, whose `SELECT`
//! carries `Backend::SKIP_LOCKED` — on PostgreSQL `FOR UPDATE SKIP LOCKED`,
//! so concurrent claimers on many connections and nodes each lock a
//! different job (or none) without waiting on one another; on SQLite
//! nothing, as the statement runs on the one writer and no other claim can
//! come between its `SELECT` and its update.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use lectern_app::jobs::{bounded_error, Job, JobState, JobStore, LeaseStore, NewJob};
use lectern_app::store::StoreResult;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use super::rows::{JobRow, JOB_COLUMNS};
use crate::commit_watch::{commit, Acknowledge};
use crate::time::to_millis;

/// Marks running jobs whose lease ran out on their last allowed attempt
/// as failed (their node stopped mid-attempt); a claim runs it first so it
/// never hands out a job with no attempts left.
const FAIL_EXHAUSTED: &str =
    "UPDATE jobs SET state = 'failed', locked_until = NULL, updated_at = $1, \
     last_error = 'its node stopped during the last attempt (lease expired)' \
     WHERE state = 'running' AND locked_until < $1 AND attempts >= max_attempts";

#[async_trait]
impl<DB> JobStore for Db<DB>
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
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
        // The partial unique index refuses a second pending job with the key.
        sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, dedupe_key, state, attempts, max_attempts, run_after, created_at, updated_at) \
             VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(job.kind.clone())
        .bind(job.payload.to_string())
        .bind(job.dedupe_key.clone())
        .bind(job.max_attempts.max(1))
        .bind(to_millis(job.run_after))
        .bind(to_millis(now))
        .fetch_optional(&self.write)
        .acknowledged()
        .await
    }

    async fn claim_job(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
        kinds: &[&str],
    ) -> StoreResult<Option<Job>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let now_ms = to_millis(now);
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        sqlx::query(FAIL_EXHAUSTED)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        // Only kinds this binary knows: during a rolling update an older
        // node must leave a newer node's jobs queued, not fail them.
        let kind_params = (0..kinds.len())
            .map(|i| format!("${}", i + 4))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = $2, locked_by = $3, updated_at = $1 \
             WHERE id = (SELECT id FROM jobs WHERE ((state = 'queued' AND run_after <= $1) OR (state = 'running' AND locked_until < $1)) \
             AND kind IN ({kind_params}) ORDER BY run_after, id LIMIT 1{}) RETURNING {JOB_COLUMNS}",
            DB::SKIP_LOCKED
        );
        let mut query = sqlx::query_as::<_, JobRow>(&sql)
            .bind(now_ms)
            .bind(to_millis(now + lease))
            .bind(holder.to_string());
        for kind in kinds {
            query = query.bind(kind.to_string());
        }
        let row: Option<JobRow> = query.fetch_optional(&mut *tx).await.map_err(map_err)?;
        commit(tx).await?;
        row.map(JobRow::into_job).transpose()
    }

    async fn extend_job(
        &self,
        id: i64,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<bool> {
        let changed = self.execute_write(
            sqlx::query(
                "UPDATE jobs SET locked_until = $1, updated_at = $2 WHERE id = $3 AND state = 'running' AND locked_by = $4",
            )
            .bind(to_millis(now + lease))
            .bind(to_millis(now))
            .bind(id)
            .bind(holder.to_string()),
        )
        .await?;
        Ok(changed == 1)
    }

    async fn complete_job(&self, id: i64, holder: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let changed = self.execute_write(
            sqlx::query(
                "UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = $1 WHERE id = $2 AND state = 'running' AND locked_by = $3",
            )
            .bind(to_millis(now))
            .bind(id)
            .bind(holder.to_string()),
        )
        .await?;
        Ok(changed == 1)
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
             run_after = $1, last_error = $2, locked_until = NULL, updated_at = $3 \
             WHERE id = $4 AND state = 'running' AND locked_by = $5 RETURNING state",
        )
        .bind(to_millis(retry_at))
        .bind(bounded_error(error).to_string())
        .bind(to_millis(now))
        .bind(id)
        .bind(holder.to_string())
        .fetch_optional(&self.write)
        .acknowledged()
        .await?;
        Ok(state.as_deref().and_then(JobState::parse))
    }

    async fn release_job(&self, id: i64, holder: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        // The attempt is given back: the job did not fail, its node stopped.
        let changed = self.execute_write(
            sqlx::query(
                "UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, \
                 run_after = $1, locked_until = NULL, updated_at = $1 \
                 WHERE id = $2 AND state = 'running' AND locked_by = $3",
            )
            .bind(to_millis(now))
            .bind(id)
            .bind(holder.to_string()),
        )
        .await?;
        Ok(changed == 1)
    }

    async fn recent_jobs(&self, limit: i64) -> StoreResult<Vec<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1");
        let rows: Vec<JobRow> = sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(JobRow::into_job).collect()
    }

    async fn job(&self, id: i64) -> StoreResult<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row: Option<JobRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map(JobRow::into_job).transpose()
    }

    async fn count_jobs(&self) -> StoreResult<Vec<(JobState, i64)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
                .fetch_all(&self.read)
                .await
                .map_err(map_err)?;
        let mut out: Vec<(JobState, i64)> = rows
            .into_iter()
            .filter_map(|(state, n)| JobState::parse(&state).map(|s| (s, n)))
            .collect();
        out.sort();
        Ok(out)
    }

    async fn delete_done_jobs(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.execute_write(
            sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < $1")
                .bind(to_millis(before)),
        )
        .await
    }

    async fn count_jobs_with_key(&self, dedupe_key: &str) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE dedupe_key = $1")
            .bind(dedupe_key.to_string())
            .fetch_one(&self.read)
            .await
            .map_err(map_err)
    }

    async fn courses_with_stale_grades(&self, limit: i64) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT c.course_key, c.published_version FROM courses c WHERE c.published_version IS NOT NULL AND EXISTS ( \
               SELECT 1 FROM course_grades g JOIN enrollments e ON e.user_id = g.user_id AND e.course_key = g.course_key AND e.is_active \
               WHERE g.course_key = c.course_key AND g.course_version < c.published_version) \
             ORDER BY c.course_key LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)
    }
}

#[async_trait]
impl<DB> LeaseStore for Db<DB>
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
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> StoreResult<bool> {
        // Taken when free, expired, or already ours (then it is renewed).
        let changed = self
            .execute_write(
                sqlx::query(
                    "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET holder = $2, expires_at = $3 \
                 WHERE leases.holder = $2 OR leases.expires_at < $4",
                )
                .bind(name.to_string())
                .bind(holder.to_string())
                .bind(to_millis(now + ttl))
                .bind(to_millis(now)),
            )
            .await?;
        Ok(changed == 1)
    }

    async fn renew_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> StoreResult<bool> {
        let changed = self.execute_write(
            sqlx::query(
                "UPDATE leases SET expires_at = $1 WHERE name = $2 AND holder = $3 AND expires_at >= $4",
            )
            .bind(to_millis(now + ttl))
            .bind(name.to_string())
            .bind(holder.to_string())
            .bind(to_millis(now)),
        )
        .await?;
        Ok(changed == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        self.execute_write(
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                .bind(name.to_string())
                .bind(holder.to_string()),
        )
        .await?;
        Ok(())
    }
}
