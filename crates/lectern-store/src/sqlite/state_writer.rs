//! SQLite's group-commit writer: a batch of learner-state writes
//! (`shared/group_commit.rs`) written through rusqlite on a blocking
//! thread, instead of through sqlx (issue 18, sixth pass).
//!
//! sqlx runs each statement on its connection's own thread and talks to it
//! over a channel, so a batch of N checks cost about 5·N round trips
//! between threads, and the profile of answer checks put those hand-offs
//! and the task switches beneath them first (`bench/README.md`, "sixth
//! pass"). Here the whole batch is one trip to a blocking thread, which
//! runs every statement itself.
//!
//! What stays as it was:
//! - **One writer at a time in the process.** The lane holds the sqlx
//!   writer pool's one connection while this connection writes, so no sqlx
//!   write transaction of this process ever runs beside a batch (and none
//!   finds its snapshot gone stale by one). Other processes on the file (a
//!   CLI command) meet SQLite's lock, waited for up to `busy_timeout`, as
//!   every write does.
//! - **Durable before answered.** The connection runs with
//!   `synchronous = FULL` in WAL mode, as the sqlx connections do, and the
//!   batch is one `BEGIN IMMEDIATE … COMMIT`.
//! - **The same SQL and values** as the sqlx path (`shared/sql.rs`'s
//!   statements and their `Param` lists), and the same error mapping.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use lectern_app::StoreError;
use rusqlite::{Connection, OpenFlags};

use crate::shared::db_idempotency::{answer_params, INSERT_ANSWER};
use crate::shared::errors::map_sqlite;
use crate::shared::group_commit::{Run, StateWrite};
use crate::shared::sql::{self, Param};

/// How long a batch waits for SQLite's write lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The writer's connection, opened on first use (and again after a failure).
pub(crate) struct StateWriter {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
}

impl StateWriter {
    /// For the database file at `path` (the hot reads' rule: a plain file).
    pub(crate) fn for_file(path: &Path) -> Self {
        StateWriter {
            path: path.to_path_buf(),
            conn: Mutex::new(None),
        }
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        // Never creates the file: the store made it, and one that has gone
        // (a deleted instance) must stay gone rather than come back empty.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A checkpoint every 2,000 log pages (8 MiB) rather than SQLite's
        // 1,000: the pages a burst of checks keeps rewriting (a learner's
        // state, grade and subsection rows) are copied to the database once
        // per checkpoint, so fewer checkpoints copy fewer pages in all. It
        // gave 6–12 % more checks/s at 64 learners, p99 unchanged
        // (`bench/README.md`, "eighth pass"). Other connections keep 1,000.
        conn.pragma_update(None, "wal_autocheckpoint", 2000)?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(conn)
    }

    /// Writes `batch` (leaving out the writes `failed` names) in one
    /// transaction, as `GroupCommit::run_once` does through sqlx. Blocking:
    /// call it on a blocking thread.
    pub(crate) fn run_once(&self, batch: &[&StateWrite], failed: &[Option<StoreError>]) -> Run {
        let mut slot = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            match self.connect() {
                Ok(c) => *slot = Some(c),
                Err(e) => return Run::Broken(unavailable(e)),
            }
        }
        let Some(conn) = slot.as_mut() else {
            return Run::Broken(StoreError::Unavailable("no SQLite connection".into()));
        };
        let run = Self::write_batch(conn, batch, failed);
        if let Run::Broken(_) = run {
            // Start from a fresh connection next time.
            *slot = None;
        }
        run
    }

    fn write_batch(
        conn: &mut Connection,
        batch: &[&StateWrite],
        failed: &[Option<StoreError>],
    ) -> Run {
        let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return Run::Broken(map_sqlite(e)),
        };
        for (i, write) in batch.iter().enumerate() {
            if failed[i].is_some() {
                continue;
            }
            match write_one(&tx, write) {
                Ok(()) => {}
                Err(StoreError::Unavailable(m)) => return Run::Broken(StoreError::Unavailable(m)),
                Err(e) => {
                    return match tx.rollback() {
                        Ok(()) => Run::WriteFailed(i, e),
                        Err(r) => Run::Broken(map_sqlite(r)),
                    }
                }
            }
        }
        match tx.commit() {
            Ok(()) => Run::Committed,
            Err(e) => Run::Broken(map_sqlite(e)),
        }
    }
}

/// A failure to open the connection: the database cannot be reached.
fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Runs `text` with `params` bound to `$1`, `$2`, …; the rows it changed.
///
/// Every statement the writer runs names its parameters in order (the test
/// `every_statement_numbers_its_parameters_in_order` holds them to it), so
/// the N-th value is bound at position N with no look-up by name: SQLite
/// finds a parameter's name by walking its list, and asking for each one's
/// name cost 2.3 % of an answer check's CPU with a 119-value upsert of
/// subsection rows (issue 18, eighth pass).
/// Runs one statement of a batch. Logged at debug level under
/// `lectern_store::group_write` (as sqlx logs PostgreSQL's), so a test can
/// count what a check writes.
fn execute(conn: &Connection, text: &str, params: Vec<Param>) -> Result<usize, StoreError> {
    tracing::debug!(target: "lectern_store::group_write", summary = %text.get(..40).unwrap_or(text), "group write");
    let mut stmt = conn.prepare_cached(text).map_err(map_sqlite)?;
    debug_assert!(
        numbered_in_order(&stmt),
        "parameters out of order in {text}"
    );
    for (i, value) in params.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, value).map_err(map_sqlite)?;
    }
    stmt.raw_execute().map_err(map_sqlite)
}

/// Whether `stmt`'s N-th parameter is named `$N`, for every N.
fn numbered_in_order(stmt: &rusqlite::Statement<'_>) -> bool {
    (1..=stmt.parameter_count()).all(|n| stmt.parameter_name(n) == Some(format!("${n}").as_str()))
}

/// One write, as `Db::write_state_change` does it: the key's row first, the
/// state (guarded by its revision), the submission, the grade (guarded by
/// its revision) and its subsection rows.
fn write_one(conn: &Connection, w: &StateWrite) -> Result<(), StoreError> {
    if let Some(response) = &w.response {
        execute(conn, INSERT_ANSWER, answer_params(response))?;
    }
    if execute(conn, sql::UPSERT_STATE, sql::state_params(&w.state))? == 0 {
        return Err(StoreError::StaleRevision);
    }
    if let Some(sub) = &w.submission {
        execute(conn, sql::INSERT_SUBMISSION, sql::submission_params(sub))?;
    }
    if let Some(g) = &w.grade {
        if execute(conn, sql::UPSERT_GRADE, sql::grade_params(g))? == 0 {
            return Err(StoreError::StaleRevision);
        }
        for (text, params) in sql::subsection_grade_statements(g) {
            execute(conn, &text, params)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A check rewrites only the subsection rows whose figures changed:
    /// the others keep their row and their time (a check's log writes and
    /// checkpoints grew with the course's subsections before).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_grade_write_leaves_unchanged_subsection_rows_alone() {
        use chrono::{Duration, Utc};
        use lectern_app::model::{ProblemState, SubsectionGradeRecord};
        use lectern_app::store::{LearnerStateStore, UserStore};
        use lectern_content::keys::CourseKey;

        let (dir, store) = crate::sqlite::tests::fresh_store().await;
        let user = store
            .create_user(&crate::contract::new_user("Rows"))
            .await
            .unwrap();
        let course = CourseKey::new("Org", "R1", "2026").unwrap();
        let mut state = ProblemState::fresh(user.id, &course.usage_key("problem", "p"));
        let sub = |id: &str, earned: f64| SubsectionGradeRecord {
            block_id: id.into(),
            earned,
            possible: 1.0,
            graded: true,
        };
        let first = Utc::now() - Duration::hours(1);
        let mut grade = crate::contract_learning::first_grade(
            user.id,
            &course,
            vec![sub("a", 0.0), sub("b", 0.0)],
            first,
        );
        store
            .save_problem_state(&state, None, Some(&grade))
            .await
            .unwrap();
        state.revision += 1;
        grade.revision += 1;
        grade.subsections[1].earned = 1.0;
        grade.updated_at = Utc::now();
        store
            .save_problem_state(&state, None, Some(&grade))
            .await
            .unwrap();

        let db = Connection::open(dir.path().join("lectern.db")).unwrap();
        let rows: Vec<(String, i64)> = db
            .prepare("SELECT block_id, updated_at FROM subsection_grades ORDER BY block_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].1,
            first.timestamp_millis(),
            "the unchanged row was not written again"
        );
        assert_eq!(
            rows[1].1,
            grade.updated_at.timestamp_millis(),
            "the changed row was"
        );
    }

    /// Rows the previous release wrote (no course version: 0) are taken over
    /// by the next grade: a current subsection's row is kept, even with the
    /// same figures, and marked with the grade's version; a subsection the
    /// course no longer has loses its row (migration 0021).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_of_the_previous_release_are_taken_over_or_pruned() {
        use chrono::Utc;
        use lectern_app::model::{ProblemState, SubsectionGradeRecord};
        use lectern_app::store::{LearnerStateStore, UserStore};
        use lectern_content::keys::CourseKey;

        let (dir, store) = crate::sqlite::tests::fresh_store().await;
        let user = store
            .create_user(&crate::contract::new_user("Old"))
            .await
            .unwrap();
        let course = CourseKey::new("Org", "V1", "2026").unwrap();
        let db = Connection::open(dir.path().join("lectern.db")).unwrap();
        for block in ["kept", "gone"] {
            db.execute(
                "INSERT INTO subsection_grades (user_id, course_key, block_id, earned, possible, \
                 graded, updated_at) VALUES (?1, ?2, ?3, 1, 2, 1, 9)",
                rusqlite::params![user.id, course.to_string(), block],
            )
            .unwrap();
        }
        let mut grade = crate::contract_learning::first_grade(
            user.id,
            &course,
            vec![SubsectionGradeRecord {
                block_id: "kept".into(),
                earned: 1.0,
                possible: 2.0,
                graded: true,
            }],
            Utc::now(),
        );
        grade.course_version = 3;
        let state = ProblemState::fresh(user.id, &course.usage_key("problem", "p"));
        store
            .save_problem_state(&state, None, Some(&grade))
            .await
            .unwrap();
        let rows: Vec<(String, i64)> = db
            .prepare("SELECT block_id, course_version FROM subsection_grades ORDER BY block_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, vec![("kept".to_string(), 3)]);
    }

    /// The writer binds by position, so every statement it can run must
    /// name `$1`, `$2`, … in the order they first appear (SQLite numbers
    /// named parameters that way); one that did not would write values
    /// into the wrong columns.
    #[tokio::test]
    async fn every_statement_numbers_its_parameters_in_order() {
        use lectern_content::keys::CourseKey;

        let (dir, _store) = crate::sqlite::tests::fresh_store().await;
        let db = Connection::open(dir.path().join("lectern.db")).unwrap();
        let course = CourseKey::new("Org", "P1", "2026").unwrap();
        let mut texts = vec![
            INSERT_ANSWER.to_string(),
            sql::UPSERT_STATE.to_string(),
            sql::INSERT_SUBMISSION.to_string(),
            sql::UPSERT_GRADE.to_string(),
        ];
        for count in [
            0,
            1,
            17,
            sql::SUBSECTION_ROWS_PER_INSERT,
            sql::SUBSECTION_ROWS_PER_INSERT + 1,
        ] {
            let subsections = (0..count)
                .map(|i| lectern_app::model::SubsectionGradeRecord {
                    block_id: format!("s{i}"),
                    earned: 0.0,
                    possible: 1.0,
                    graded: true,
                })
                .collect();
            let grade =
                crate::contract_learning::first_grade(1, &course, subsections, chrono::Utc::now());
            for (text, params) in sql::subsection_grade_statements(&grade) {
                let stmt = db.prepare(&text).unwrap();
                assert_eq!(stmt.parameter_count(), params.len(), "{text}");
                texts.push(text.into_owned());
            }
        }
        for text in texts {
            let stmt = db.prepare(&text).unwrap();
            assert!(numbered_in_order(&stmt), "{text}");
        }
    }

    /// A database file that has gone (a deleted instance's) is not made
    /// again, empty, by a late batch: the batch fails as unreachable.
    #[test]
    fn a_missing_database_file_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.db");
        let writer = StateWriter::for_file(&path);
        let run = writer.run_once(&[], &[]);
        assert!(
            matches!(run, Run::Broken(StoreError::Unavailable(_))),
            "the batch fails as unreachable"
        );
        assert!(!path.exists(), "no file was created");
    }
}
