//! Learner state: problem states (compare-and-swap on a revision),
//! submission history, persisted grades.

use async_trait::async_trait;
use lectern_app::model::{GradeRecord, ProblemState, Submission, UserId};
use lectern_app::store::{LearnerStateStore, StoreResult};
use lectern_app::StoreError;
use lectern_content::{CourseKey, UsageKey};
use sqlx::{Sqlite, Transaction};

use super::{map_err, SqliteStore};
use crate::shared::rows::{
    GradeRow, StateRow, SubmissionRow, SubsectionRow, GRADE_COLUMNS, STATE_COLUMNS,
    SUBMISSION_COLUMNS,
};
use crate::shared::sql;
use crate::time::to_millis;

async fn write_grade(tx: &mut Transaction<'_, Sqlite>, g: &GradeRecord) -> StoreResult<()> {
    let key = g.course_key.to_string();
    let now = to_millis(g.updated_at);
    let changed = sql::bind_grade(g)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::StaleRevision);
    }
    sqlx::query(sql::DELETE_SUBSECTION_GRADES)
        .bind(g.user_id)
        .bind(&key)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    for s in &g.subsections {
        sqlx::query(sql::INSERT_SUBSECTION_GRADE)
            .bind(g.user_id)
            .bind(&key)
            .bind(&s.block_id)
            .bind(s.earned)
            .bind(s.possible)
            .bind(s.graded)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}

#[async_trait]
impl LearnerStateStore for SqliteStore {
    async fn problem_state(
        &self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Option<ProblemState>> {
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM problem_states WHERE user_id = ? AND usage_key = ?"
        );
        let row: Option<StateRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(usage_key.to_string())
            .fetch_optional(&self.reader)
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
            "SELECT {STATE_COLUMNS} FROM problem_states WHERE user_id = ? AND course_key = ?"
        );
        let rows: Vec<StateRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(course.to_string())
            .fetch_all(&self.reader)
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
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let changed = sql::bind_state(s)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::StaleRevision);
        }
        if let Some(sub) = submission {
            sql::bind_submission(sub)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        if let Some(g) = grade {
            write_grade(&mut tx, g).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn submissions(
        &self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Vec<Submission>> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE user_id = ? AND usage_key = ? ORDER BY id"
        );
        let rows: Vec<SubmissionRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(usage_key.to_string())
            .fetch_all(&self.reader)
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
            "SELECT {GRADE_COLUMNS} FROM course_grades WHERE user_id = ? AND course_key = ?"
        );
        let row: Option<GradeRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(&key)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let subs: Vec<SubsectionRow> = sqlx::query_as("SELECT block_id, earned, possible, graded FROM subsection_grades WHERE user_id = ? AND course_key = ? ORDER BY block_id")
            .bind(user)
            .bind(&key)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        row.into_grade(user, course, subs).map(Some)
    }

    async fn save_course_grade(&self, grade: &GradeRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        write_grade(&mut tx, grade).await?;
        tx.commit().await.map_err(map_err)
    }
}
