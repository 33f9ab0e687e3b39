//! Learner state (guarded upserts, see `sql::UPSERT_STATE`), enrolments,
//! the staff enrolment list and site numbers: the queries both backends
//! share (see [`super::db`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{
    Enrollment, GradeRecord, ProblemState, SiteStats, Submission, User, UserId,
};
use lectern_app::roster::EnrollmentQuery;
use lectern_app::store::{
    CourseProgress, EnrollmentStore, HealthStore, LearnerStateStore, StoreResult,
};
use lectern_app::StoreError;
use lectern_content::{CourseKey, UsageKey};
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Row, Transaction, Type,
};

use super::db::{Backend, Db};
use super::db_pages::statement_logged;
use super::errors::map_err;
use super::group_commit::StateWrite;
use super::rows::{
    EnrollmentRow, GradeRow, RosterRow, StateRow, StatsRow, SubmissionRow, SubsectionRow, UserRow,
    ENROLLMENT_COLUMNS, GRADE_COLUMNS, STATE_COLUMNS, SUBMISSION_COLUMNS,
};
use super::sql;
use crate::commit_watch::{commit, Acknowledge};
use crate::sqlite::hot_reads::state_row;
use crate::time::to_millis;

/// Enrols `$1` in `$2` with mode `$3` at `$4`, or re-activates the
/// enrolment; returns it.
pub(super) fn enroll_sql() -> String {
    format!(
        "INSERT INTO enrollments (user_id, course_key, mode, is_active, created_at) VALUES ($1, $2, $3, TRUE, $4) \
         ON CONFLICT (user_id, course_key) DO UPDATE SET is_active = TRUE RETURNING {ENROLLMENT_COLUMNS}"
    )
}

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
    async fn write_grade(tx: &mut Transaction<'_, DB>, g: &GradeRecord) -> StoreResult<()> {
        let r = sql::bind_params(sqlx::query(sql::UPSERT_GRADE), sql::grade_params(g))
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::StaleRevision);
        }
        for (text, params) in sql::subsection_grade_statements(g) {
            sql::bind_params(sqlx::query(&text), params)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        }
        Ok(())
    }

    /// The writes of `save_problem_state`, inside the caller's transaction.
    pub(super) async fn write_state(
        tx: &mut Transaction<'_, DB>,
        s: &ProblemState,
        submission: Option<&Submission>,
        grade: Option<&GradeRecord>,
    ) -> StoreResult<()> {
        let r = sql::bind_params(sqlx::query(sql::UPSERT_STATE), sql::state_params(s))
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::StaleRevision);
        }
        if let Some(sub) = submission {
            sql::bind_params(
                sqlx::query(sql::INSERT_SUBMISSION),
                sql::submission_params(sub),
            )
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        }
        if let Some(g) = grade {
            Self::write_grade(tx, g).await?;
        }
        Ok(())
    }

    /// One learner-state write of a group commit, inside the batch's
    /// transaction: a keyed check's key row first, then the state.
    pub(super) async fn write_state_change(
        tx: &mut Transaction<'_, DB>,
        w: &StateWrite,
    ) -> StoreResult<()> {
        if let Some(response) = &w.response {
            Self::insert_answer_in(tx, response).await?;
        }
        Self::write_state(tx, &w.state, w.submission.as_ref(), w.grade.as_ref()).await
    }

    /// Enrolments of a user: all of them, or the one in `course`.
    async fn enrollments_where(
        &self,
        user: UserId,
        course: Option<&CourseKey>,
    ) -> StoreResult<Vec<Enrollment>> {
        let filter = if course.is_some() {
            " AND course_key = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE user_id = $1{filter} ORDER BY created_at"
        );
        let mut query = sqlx::query_as(&sql).bind(user);
        if let Some(key) = course {
            query = query.bind(key.to_string());
        }
        let rows: Vec<EnrollmentRow> = query.fetch_all(&self.read).await.map_err(map_err)?;
        rows.into_iter()
            .map(EnrollmentRow::into_enrollment)
            .collect()
    }
}

#[async_trait]
impl<DB> LearnerStateStore for Db<DB>
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
    async fn problem_state(
        &self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Option<ProblemState>> {
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM problem_states WHERE user_id = $1 AND usage_key = $2"
        );
        let key = usage_key.to_string();
        // SQLite: an answer check's reads without sqlx's hand-off (`sqlite/hot_reads.rs`).
        if let Some(hot) = &self.hot {
            if let Some(row) = hot.row(&sql, &[&user, &key], state_row) {
                statement_logged(&sql);
                return row.map(StateRow::into_state).transpose();
            }
        }
        let row: Option<StateRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(key)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map(StateRow::into_state).transpose()
    }

    async fn problem_states(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Vec<ProblemState>> {
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM problem_states WHERE user_id = $1 AND course_key = $2"
        );
        let key = course.to_string();
        if let Some(hot) = &self.hot {
            if let Some(rows) = hot.rows(&sql, &[&user, &key], state_row) {
                statement_logged(&sql);
                return rows.into_iter().map(StateRow::into_state).collect();
            }
        }
        let rows: Vec<StateRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(key)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(StateRow::into_state).collect()
    }

    async fn save_problem_state(
        &self,
        s: &ProblemState,
        submission: Option<&Submission>,
        grade: Option<&GradeRecord>,
    ) -> StoreResult<()> {
        self.states
            .write(StateWrite {
                state: s.clone(),
                submission: submission.cloned(),
                grade: grade.cloned(),
                response: None,
            })
            .await
    }

    async fn submissions(
        &self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Vec<Submission>> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE user_id = $1 AND usage_key = $2 ORDER BY id"
        );
        let rows: Vec<SubmissionRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(usage_key.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|r| r.into_submission(user, usage_key))
            .collect()
    }

    async fn course_grade(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Option<GradeRecord>> {
        let key = course.to_string();
        let sql = format!(
            "SELECT {GRADE_COLUMNS} FROM course_grades WHERE user_id = $1 AND course_key = $2"
        );
        let row: Option<GradeRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(key.clone())
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let subs: Vec<SubsectionRow> = sqlx::query_as(
            "SELECT block_id, earned, possible, graded FROM subsection_grades WHERE user_id = $1 AND course_key = $2 ORDER BY block_id",
        )
        .bind(user)
        .bind(key)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        row.into_grade(user, course, subs).map(Some)
    }

    async fn course_grade_revision(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Option<i64>> {
        const SQL: &str =
            "SELECT revision FROM course_grades WHERE user_id = $1 AND course_key = $2";
        let key = course.to_string();
        if let Some(hot) = &self.hot {
            if let Some(revision) = hot.row(SQL, &[&user, &key], |r| r.get(0)) {
                statement_logged(SQL);
                return Ok(revision);
            }
        }
        sqlx::query_scalar(SQL)
            .bind(user)
            .bind(key)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)
    }

    async fn save_course_grade(&self, grade: &GradeRecord) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        Self::write_grade(&mut tx, grade).await?;
        commit(tx).await
    }

    /// One statement on both backends, so the states and the revision come
    /// from one snapshot (and on SQLite's hot path one read where an answer
    /// check took three: issue 18, tenth pass).
    async fn course_progress(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<CourseProgress> {
        let sql = progress_sql();
        let key = course.to_text();
        if let Some(hot) = &self.hot {
            if let Some((rows, grade_revision, subsections_digest)) = hot.progress(sql, user, &key)
            {
                statement_logged(sql);
                return Ok(CourseProgress {
                    states: rows
                        .into_iter()
                        .map(StateRow::into_state)
                        .collect::<StoreResult<_>>()?,
                    grade_revision,
                    subsections_digest,
                });
            }
        }
        let rows = sqlx::query(sql)
            .bind(user)
            .bind(key)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        let mut progress = CourseProgress::default();
        for row in &rows {
            progress.grade_revision = row.try_get(PROGRESS_REVISION).map_err(map_err)?;
            progress.subsections_digest = row.try_get(PROGRESS_DIGEST).map_err(map_err)?;
            // The one row of a learner with no saved state has no state.
            let user_id: Option<i64> = row.try_get("user_id").map_err(map_err)?;
            if user_id.is_some() {
                let state = StateRow::from_row(row).map_err(map_err)?;
                progress.states.push(state.into_state()?);
            }
        }
        Ok(progress)
    }
}

/// The names of [`progress_sql`]'s columns from the stored grade (after
/// the state's columns, in this order).
const PROGRESS_REVISION: &str = "grade_revision";
const PROGRESS_DIGEST: &str = "subsections_digest";

/// A learner's states in a course (`$1` the user, `$2` the course), each
/// row with the stored grade's revision and subsection digest; exactly one
/// row with no state (every state column NULL) when none is saved.
pub(crate) fn progress_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT {STATE_COLUMNS}, g.{PROGRESS_REVISION}, g.{PROGRESS_DIGEST} \
             FROM (SELECT 1 AS one) AS always \
             LEFT JOIN (SELECT revision AS {PROGRESS_REVISION}, subsections_digest AS {PROGRESS_DIGEST} \
             FROM course_grades WHERE user_id = $1 AND course_key = $2) AS g ON TRUE \
             LEFT JOIN problem_states ON problem_states.user_id = $1 AND problem_states.course_key = $2"
        )
    })
}

#[async_trait]
impl<DB> EnrollmentStore for Db<DB>
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
    async fn enroll(
        &self,
        user: UserId,
        key: &CourseKey,
        mode: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Enrollment> {
        let row: EnrollmentRow = sqlx::query_as(&enroll_sql())
            .bind(user)
            .bind(key.to_string())
            .bind(mode.to_string())
            .bind(to_millis(now))
            .fetch_one(&self.write)
            .acknowledged()
            .await?;
        row.into_enrollment()
    }

    async fn unenroll(&self, user: UserId, key: &CourseKey) -> StoreResult<()> {
        sqlx::query(
            "UPDATE enrollments SET is_active = FALSE WHERE user_id = $1 AND course_key = $2",
        )
        .bind(user)
        .bind(key.to_string())
        .execute(&self.write)
        .acknowledged()
        .await?;
        Ok(())
    }

    async fn enrollment(&self, user: UserId, key: &CourseKey) -> StoreResult<Option<Enrollment>> {
        Ok(self.enrollments_where(user, Some(key)).await?.pop())
    }

    async fn enrollments_for_user(&self, user: UserId) -> StoreResult<Vec<Enrollment>> {
        self.enrollments_where(user, None).await
    }

    async fn count_enrollments(&self, key: &CourseKey) -> StoreResult<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM enrollments WHERE course_key = $1 AND is_active")
                .bind(key.to_string())
                .fetch_one(&self.read)
                .await
                .map_err(map_err)?;
        Ok(n)
    }

    async fn enrolled_users(&self, key: &CourseKey) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(sql::ENROLLED_USERS)
            .bind(key.to_string())
            .fetch_all(&self.read)
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
            .try_map(|row| RosterRow::from_row(&row))
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|r| Ok((r.enrollment.into_enrollment()?, r.username)))
            .collect()
    }
}

#[async_trait]
impl<DB> HealthStore for Db<DB>
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
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(())
    }

    async fn stats(&self, now: DateTime<Utc>) -> StoreResult<SiteStats> {
        let row: StatsRow = sqlx::query_as(sql::STATS)
            .bind(to_millis(now))
            .fetch_one(&self.read)
            .await
            .map_err(map_err)?;
        Ok(row.into())
    }

    fn backend(&self) -> &'static str {
        <DB as Backend>::NAME
    }

    async fn close(&self) {
        Db::close(self).await;
    }
}
