//! Learner state: problem states (compare-and-swap on a revision),
//! submission history, persisted grades.

use async_trait::async_trait;
use lectern_app::model::{GradeRecord, ProblemState, Submission, SubsectionGradeRecord, UserId};
use lectern_app::store::{LearnerStateStore, StoreResult};
use lectern_app::StoreError;
use lectern_content::{CourseKey, UsageKey};
use sqlx::{Row, Sqlite, Transaction};

use super::{map_err, SqliteStore};
use crate::time::{from_millis, to_millis};

const STATE_COLUMNS: &str =
    "user_id, course_key, usage_key, revision, attempts, reset_count, answers, correct_map, \
     raw_earned, raw_possible, earned, possible, is_correct, ever_attempted, updated_at";

fn json_col(row: &sqlx::sqlite::SqliteRow, col: &str) -> StoreResult<serde_json::Value> {
    let text: String = row.try_get(col).map_err(map_err)?;
    serde_json::from_str(&text)
        .map_err(|e| StoreError::Internal(format!("stored {col} does not parse: {e}")))
}

fn parse<T: std::str::FromStr>(s: &str, what: &str) -> StoreResult<T> {
    s.parse()
        .map_err(|_| StoreError::Internal(format!("stored {what} does not parse")))
}

fn state_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<ProblemState> {
    let course: String = row.try_get("course_key").map_err(map_err)?;
    let usage: String = row.try_get("usage_key").map_err(map_err)?;
    Ok(ProblemState {
        user_id: row.try_get("user_id").map_err(map_err)?,
        course_key: parse(&course, "course key")?,
        usage_key: parse(&usage, "usage key")?,
        revision: row.try_get("revision").map_err(map_err)?,
        attempts: row
            .try_get::<i64, _>("attempts")
            .map_err(map_err)?
            .clamp(0, u32::MAX as i64) as u32,
        reset_count: row
            .try_get::<i64, _>("reset_count")
            .map_err(map_err)?
            .clamp(0, u32::MAX as i64) as u32,
        answers: json_col(row, "answers")?,
        correct_map: json_col(row, "correct_map")?,
        raw_earned: row.try_get("raw_earned").map_err(map_err)?,
        raw_possible: row.try_get("raw_possible").map_err(map_err)?,
        earned: row.try_get("earned").map_err(map_err)?,
        possible: row.try_get("possible").map_err(map_err)?,
        is_correct: row.try_get("is_correct").map_err(map_err)?,
        ever_attempted: row.try_get("ever_attempted").map_err(map_err)?,
        updated_at: from_millis(row.try_get("updated_at").map_err(map_err)?),
    })
}

async fn write_grade(tx: &mut Transaction<'_, Sqlite>, g: &GradeRecord) -> StoreResult<()> {
    let key = g.course_key.to_string();
    let now = to_millis(g.updated_at);
    let detail = g.detail.to_string();
    // One statement for "insert the first grade" and "replace the grade read
    // at this revision": the upsert's WHERE makes a stale writer change
    // nothing, and so does a grade of an older course version than the one
    // stored (a late regrade never undoes a newer one).
    let changed = sqlx::query(
        "INSERT INTO course_grades (user_id, course_key, revision, course_version, percent, letter_grade, passed, detail, updated_at) \
         VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (user_id, course_key) DO UPDATE SET revision = course_grades.revision + 1, course_version = ?3, \
         percent = ?4, letter_grade = ?5, passed = ?6, detail = ?7, updated_at = ?8 WHERE course_grades.revision = ?9 AND course_grades.course_version <= ?3",
    )
    .bind(g.user_id)
    .bind(&key)
    .bind(g.course_version)
    .bind(g.percent)
    .bind(&g.letter_grade)
    .bind(g.passed)
    .bind(&detail)
    .bind(now)
    .bind(g.revision)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::StaleRevision);
    }
    sqlx::query("DELETE FROM subsection_grades WHERE user_id = ? AND course_key = ?")
        .bind(g.user_id)
        .bind(&key)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    for s in &g.subsections {
        sqlx::query(
            "INSERT INTO subsection_grades (user_id, course_key, block_id, earned, possible, graded, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
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
        let row = sqlx::query(&sql)
            .bind(user)
            .bind(usage_key.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map(|r| state_from_row(&r)).transpose()
    }

    async fn problem_states(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Vec<ProblemState>> {
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM problem_states WHERE user_id = ? AND course_key = ?"
        );
        let rows = sqlx::query(&sql)
            .bind(user)
            .bind(course.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(state_from_row).collect()
    }

    async fn save_problem_state(
        &self,
        s: &ProblemState,
        submission: Option<&Submission>,
        grade: Option<&GradeRecord>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let now = to_millis(s.updated_at);
        let usage = s.usage_key.to_string();
        // Insert the first state or replace the one read at `s.revision`; a
        // stale writer's upsert matches its WHERE nowhere and changes nothing.
        let changed = sqlx::query(&format!(
            "INSERT INTO problem_states ({STATE_COLUMNS}) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             ON CONFLICT (user_id, usage_key) DO UPDATE SET revision = problem_states.revision + 1, attempts = ?4, \
             reset_count = ?5, answers = ?6, correct_map = ?7, raw_earned = ?8, raw_possible = ?9, earned = ?10, \
             possible = ?11, is_correct = ?12, ever_attempted = ?13, updated_at = ?14 WHERE problem_states.revision = ?15"
        ))
        .bind(s.user_id)
        .bind(s.course_key.to_string())
        .bind(&usage)
        .bind(i64::from(s.attempts))
        .bind(i64::from(s.reset_count))
        .bind(s.answers.to_string())
        .bind(s.correct_map.to_string())
        .bind(s.raw_earned)
        .bind(s.raw_possible)
        .bind(s.earned)
        .bind(s.possible)
        .bind(s.is_correct)
        .bind(s.ever_attempted)
        .bind(now)
        .bind(s.revision)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::StaleRevision);
        }
        if let Some(sub) = submission {
            sqlx::query(
                "INSERT INTO submissions (user_id, course_key, usage_key, attempt, answers, correct_map, earned, possible, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(sub.user_id)
            .bind(sub.usage_key.course.to_string())
            .bind(sub.usage_key.to_string())
            .bind(i64::from(sub.attempt))
            .bind(sub.answers.to_string())
            .bind(sub.correct_map.to_string())
            .bind(sub.earned)
            .bind(sub.possible)
            .bind(to_millis(sub.created_at))
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
        let rows = sqlx::query(
            "SELECT attempt, answers, correct_map, earned, possible, created_at FROM submissions WHERE user_id = ? AND usage_key = ? ORDER BY id",
        )
        .bind(user)
        .bind(usage_key.to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                Ok(Submission {
                    user_id: user,
                    usage_key: usage_key.clone(),
                    attempt: r
                        .try_get::<i64, _>("attempt")
                        .map_err(map_err)?
                        .clamp(0, u32::MAX as i64) as u32,
                    answers: json_col(r, "answers")?,
                    correct_map: json_col(r, "correct_map")?,
                    earned: r.try_get("earned").map_err(map_err)?,
                    possible: r.try_get("possible").map_err(map_err)?,
                    created_at: from_millis(r.try_get("created_at").map_err(map_err)?),
                })
            })
            .collect()
    }

    async fn course_grade(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Option<GradeRecord>> {
        let key = course.to_string();
        let row = sqlx::query(
            "SELECT revision, course_version, percent, letter_grade, passed, detail, updated_at FROM course_grades WHERE user_id = ? AND course_key = ?",
        )
        .bind(user)
        .bind(&key)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        let Some(r) = row else { return Ok(None) };
        let subs = sqlx::query("SELECT block_id, earned, possible, graded FROM subsection_grades WHERE user_id = ? AND course_key = ? ORDER BY block_id")
            .bind(user)
            .bind(&key)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        let subsections = subs
            .iter()
            .map(|s| {
                Ok(SubsectionGradeRecord {
                    block_id: s.try_get("block_id").map_err(map_err)?,
                    earned: s.try_get("earned").map_err(map_err)?,
                    possible: s.try_get("possible").map_err(map_err)?,
                    graded: s.try_get("graded").map_err(map_err)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(GradeRecord {
            user_id: user,
            course_key: course.clone(),
            revision: r.try_get("revision").map_err(map_err)?,
            course_version: r.try_get("course_version").map_err(map_err)?,
            percent: r.try_get("percent").map_err(map_err)?,
            letter_grade: r.try_get("letter_grade").map_err(map_err)?,
            passed: r.try_get("passed").map_err(map_err)?,
            detail: json_col(&r, "detail")?,
            subsections,
            updated_at: from_millis(r.try_get("updated_at").map_err(map_err)?),
        }))
    }

    async fn save_course_grade(&self, grade: &GradeRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        write_grade(&mut tx, grade).await?;
        tx.commit().await.map_err(map_err)
    }
}
