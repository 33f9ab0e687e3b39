//! Course reports and regrade progress (`ReportStore`) for `Db<DB>`, once
//! for both backends: report rows and their chunks, the consistent read
//! of a course's learners a report is written from (one read transaction
//! whose first statement is `Backend::SNAPSHOT_READ`), and the regrade
//! progress rows.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::jobs::NewJob;
use lectern_app::model::{Enrollment, ProblemState, User};
use lectern_app::profile::Profile;
use lectern_app::reports::store::{
    LearnerQuery, LearnerRecord, LearnerSink, NewReport, RegradeRun, ReportInfo, ReportState,
    ReportStore,
};
use lectern_app::store::StoreResult;
use lectern_app::StoreError;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use super::rows::{ProfileRow, StateRow, PROFILE_COLUMNS, STATE_COLUMNS};
use crate::commit_watch::commit;
use crate::time::{from_millis, to_millis};

const REPORT_COLUMNS: &str = "id, course_key, kind, requested_by, state, file_name, size, row_count, chunk_count, error, created_at, finished_at";
const RUN_COLUMNS: &str = "course_key, version, state, requested_by, learners_total, learners_done, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    course_key: String,
    kind: String,
    requested_by: i64,
    state: String,
    file_name: String,
    size: i64,
    row_count: i64,
    chunk_count: i64,
    error: Option<String>,
    created_at: i64,
    finished_at: Option<i64>,
}

impl ReportRow {
    fn into_info(self) -> StoreResult<ReportInfo> {
        Ok(ReportInfo {
            id: self.id,
            course_key: self.course_key,
            kind: self.kind,
            requested_by: self.requested_by,
            state: ReportState::parse(&self.state).ok_or_else(|| {
                StoreError::Internal(format!("stored report state {:?}", self.state))
            })?,
            file_name: self.file_name,
            size: self.size.max(0) as u64,
            rows: self.row_count,
            chunks: self.chunk_count,
            error: self.error,
            created_at: from_millis(self.created_at),
            finished_at: self.finished_at.map(from_millis),
        })
    }
}

#[derive(sqlx::FromRow)]
struct RunRow {
    course_key: String,
    version: i64,
    state: String,
    requested_by: Option<i64>,
    learners_total: i64,
    learners_done: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<RunRow> for RegradeRun {
    fn from(r: RunRow) -> Self {
        RegradeRun {
            course_key: r.course_key,
            version: r.version,
            state: r.state,
            requested_by: r.requested_by,
            learners_total: r.learners_total,
            learners_done: r.learners_done,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        }
    }
}

/// A learner with their enrolment (columns renamed where users and
/// enrollments share names).
#[derive(sqlx::FromRow)]
struct LearnerRow {
    id: i64,
    username: String,
    email: String,
    name: String,
    is_admin: bool,
    is_course_creator: bool,
    is_active: bool,
    created_at: i64,
    mode: String,
    enrolled: bool,
    enrolled_at: i64,
}

#[derive(sqlx::FromRow)]
struct UserProfileRow {
    user_id: i64,
    #[sqlx(flatten)]
    profile: ProfileRow,
}

const LEARNERS_SQL: &str = "SELECT u.id, u.username, u.email, u.name, u.is_admin, u.is_course_creator, u.is_active, u.created_at, \
     e.mode, e.is_active AS enrolled, e.created_at AS enrolled_at \
     FROM enrollments e JOIN users u ON u.id = e.user_id \
     WHERE e.course_key = $1 AND e.user_id > $2 ORDER BY e.user_id LIMIT $3";

#[async_trait]
impl<DB> ReportStore for Db<DB>
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
    async fn create_report(
        &self,
        report: &NewReport,
        job: fn(i64, DateTime<Utc>) -> NewJob,
    ) -> StoreResult<(i64, bool)> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let created: Option<i64> = sqlx::query_scalar(
            "INSERT INTO course_reports (course_key, kind, requested_by, state, file_name, created_at) \
             VALUES ($1, $2, $3, 'pending', $4, $5) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(report.course_key.clone())
        .bind(report.kind.clone())
        .bind(report.requested_by)
        .bind(report.file_name.clone())
        .bind(to_millis(report.created_at))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(id) = created else {
            let pending: i64 = sqlx::query_scalar(
                "SELECT id FROM course_reports WHERE course_key = $1 AND kind = $2 AND state = 'pending'",
            )
            .bind(report.course_key.clone())
            .bind(report.kind.clone())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            return Ok((pending, false));
        };
        let job = job(id, report.created_at);
        sqlx::query(
            "INSERT INTO jobs (kind, payload, dedupe_key, state, attempts, max_attempts, run_after, created_at, updated_at) \
             VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
        )
        .bind(job.kind.clone())
        .bind(job.payload.to_string())
        .bind(job.dedupe_key.clone())
        .bind(job.max_attempts.max(1))
        .bind(to_millis(job.run_after))
        .bind(to_millis(report.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        commit(tx).await?;
        Ok((id, true))
    }

    async fn report(&self, id: i64) -> StoreResult<Option<ReportInfo>> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM course_reports WHERE id = $1");
        let row: Option<ReportRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map(ReportRow::into_info).transpose()
    }

    async fn reports_of_course(&self, course: &str, limit: i64) -> StoreResult<Vec<ReportInfo>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM course_reports WHERE course_key = $1 ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<ReportRow> = sqlx::query_as(&sql)
            .bind(course.to_string())
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(ReportRow::into_info).collect()
    }

    async fn clear_report_chunks(&self, id: i64) -> StoreResult<()> {
        self.execute_write(
            sqlx::query("DELETE FROM course_report_chunks WHERE report_id = $1").bind(id),
        )
        .await?;
        Ok(())
    }

    async fn put_report_chunk(&self, id: i64, seq: i64, data: &[u8]) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO course_report_chunks (report_id, seq, data) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(seq)
            .bind(data.to_vec()),
        )
        .await?;
        Ok(())
    }

    async fn finish_report(
        &self,
        id: i64,
        size: u64,
        rows: i64,
        chunks: i64,
        now: DateTime<Utc>,
        keep: i64,
    ) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        let course: Option<String> = sqlx::query_scalar(
            "UPDATE course_reports SET state = 'ready', size = $2, row_count = $3, chunk_count = $4, finished_at = $5 \
             WHERE id = $1 AND state = 'pending' RETURNING course_key",
        )
        .bind(id)
        .bind(size as i64)
        .bind(rows)
        .bind(chunks)
        .bind(to_millis(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        if let Some(course) = course {
            let finished: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM course_reports WHERE course_key = $1 AND state <> 'pending' ORDER BY id DESC",
            )
            .bind(course)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            for old in finished.into_iter().skip(keep.max(0) as usize) {
                sqlx::query("DELETE FROM course_report_chunks WHERE report_id = $1")
                    .bind(old)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query("DELETE FROM course_reports WHERE id = $1")
                    .bind(old)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
            }
        }
        commit(tx).await
    }

    async fn fail_report(&self, id: i64, error: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        sqlx::query("DELETE FROM course_report_chunks WHERE report_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "UPDATE course_reports SET state = 'failed', error = $2, finished_at = $3 WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(lectern_app::jobs::bounded_error(error).to_string())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        commit(tx).await
    }

    async fn report_chunk(&self, id: i64, seq: i64) -> StoreResult<Option<Vec<u8>>> {
        sqlx::query_scalar(
            "SELECT data FROM course_report_chunks WHERE report_id = $1 AND seq = $2",
        )
        .bind(id)
        .bind(seq)
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)
    }

    async fn read_learners(
        &self,
        query: &LearnerQuery,
        sink: &mut (dyn LearnerSink + '_),
    ) -> StoreResult<()> {
        let course = query.course.to_string();
        let mut tx = self.read.begin().await.map_err(map_err)?;
        if !DB::SNAPSHOT_READ.is_empty() {
            sqlx::query(DB::SNAPSHOT_READ)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let mut after = 0i64;
        loop {
            let rows: Vec<LearnerRow> = sqlx::query_as(LEARNERS_SQL)
                .bind(course.clone())
                .bind(after)
                .bind(query.page_size.max(1))
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            let (Some(first), Some(last)) = (rows.first().map(|r| r.id), rows.last().map(|r| r.id))
            else {
                break;
            };
            after = last;
            let full = rows.len() as i64 >= query.page_size.max(1);
            let mut states: HashMap<i64, Vec<ProblemState>> = HashMap::new();
            if query.states {
                let sql = format!(
                    "SELECT {STATE_COLUMNS} FROM problem_states WHERE course_key = $1 AND user_id >= $2 AND user_id <= $3"
                );
                let found: Vec<StateRow> = sqlx::query_as(&sql)
                    .bind(course.clone())
                    .bind(first)
                    .bind(last)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                for row in found {
                    let state = row.into_state()?;
                    states.entry(state.user_id).or_default().push(state);
                }
            }
            let mut profiles: HashMap<i64, Profile> = HashMap::new();
            if query.profiles {
                let sql = format!(
                    "SELECT user_id, {PROFILE_COLUMNS} FROM user_profiles WHERE user_id >= $1 AND user_id <= $2"
                );
                let found: Vec<UserProfileRow> = sqlx::query_as(&sql)
                    .bind(first)
                    .bind(last)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                for row in found {
                    profiles.insert(row.user_id, row.profile.into_profile()?);
                }
            }
            let page = rows
                .into_iter()
                .map(|r| LearnerRecord {
                    states: states.remove(&r.id).unwrap_or_default(),
                    profile: profiles.remove(&r.id),
                    enrollment: Enrollment {
                        user_id: r.id,
                        course_key: query.course.clone(),
                        mode: r.mode,
                        is_active: r.enrolled,
                        created_at: from_millis(r.enrolled_at),
                    },
                    user: User {
                        id: r.id,
                        username: r.username,
                        email: r.email,
                        name: r.name,
                        is_admin: r.is_admin,
                        is_course_creator: r.is_course_creator,
                        is_active: r.is_active,
                        created_at: from_millis(r.created_at),
                    },
                })
                .collect();
            sink.page(page).await?;
            if !full {
                break;
            }
        }
        tx.rollback().await.map_err(map_err)?;
        Ok(())
    }

    async fn save_regrade_run(&self, run: &RegradeRun) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO course_regrade_runs ({RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (course_key, version) DO UPDATE SET state = excluded.state, requested_by = excluded.requested_by, \
             learners_total = excluded.learners_total, learners_done = excluded.learners_done, \
             created_at = excluded.created_at, updated_at = excluded.updated_at"
        );
        self.execute_write(
            sqlx::query(&sql)
                .bind(run.course_key.clone())
                .bind(run.version)
                .bind(run.state.clone())
                .bind(run.requested_by)
                .bind(run.learners_total)
                .bind(run.learners_done)
                .bind(to_millis(run.created_at))
                .bind(to_millis(run.updated_at)),
        )
        .await?;
        Ok(())
    }

    async fn regrade_progress(
        &self,
        course: &str,
        version: i64,
        done: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "UPDATE course_regrade_runs SET learners_done = $3, updated_at = $4 \
                 WHERE course_key = $1 AND version = $2 AND state = 'running'",
            )
            .bind(course.to_string())
            .bind(version)
            .bind(done)
            .bind(to_millis(now)),
        )
        .await?;
        Ok(())
    }

    async fn regrade_runs(&self, course: &str, limit: i64) -> StoreResult<Vec<RegradeRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM course_regrade_runs WHERE course_key = $1 ORDER BY updated_at DESC, version DESC LIMIT $2"
        );
        let rows: Vec<RunRow> = sqlx::query_as(&sql)
            .bind(course.to_string())
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(RegradeRun::from).collect())
    }
}
