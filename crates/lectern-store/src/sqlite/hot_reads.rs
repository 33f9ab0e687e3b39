//! A unit page's two reads (and the catalogue's and dashboard's course
//! lists) on SQLite without sqlx's per-statement thread
//! hand-off (issue 18, third pass).
//!
//! sqlx's SQLite driver runs each statement on a thread of its connection
//! and talks to it through a channel: a send, a wake-up and a reply per
//! statement and per row, which the profile of a unit page put at about a
//! quarter of the server's CPU (`bench/README.md`, "Third pass"), far above
//! SQLite's own work for these primary-key lookups. Here the same statements
//! run on the calling thread through rusqlite, which shares sqlx's
//! `libsqlite3-sys` (one SQLite library in the binary), on a small set of
//! read-only connections of its own.
//!
//! Only a fast path: a connection waits for no lock (`busy_timeout` 0), so
//! a read never blocks the async worker on the writer or a checkpoint, and
//! anything else than an answer (busy, no connection free, an I/O or decode
//! error) returns `None`, after which the caller runs the ordinary sqlx
//! statement, which waits, retries and maps errors as every other read
//! does. Each read is one statement in its own implicit read transaction,
//! as on the sqlx path, so it sees one committed snapshot (WAL).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Row, ToSql};

use crate::shared::rows::{CourseRow, StateRow};

/// At most this many connections of its own (the sqlx read pool has 4);
/// past that a read takes the ordinary path.
const MAX_CONNECTIONS: usize = 8;

/// The read-only connections, opened on first need.
pub(crate) struct HotReads {
    path: PathBuf,
    state: Mutex<Pool>,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Connection>,
    open: usize,
}

impl HotReads {
    /// For the database file at `path`; `None` for a name that is no plain
    /// file (in-memory databases: another connection would see another).
    pub(crate) fn for_file(path: &Path) -> Option<Self> {
        let name = path.to_string_lossy();
        if name.is_empty() || name == ":memory:" || name.starts_with("file:") {
            return None;
        }
        Some(HotReads {
            path: path.to_path_buf(),
            state: Mutex::new(Pool::default()),
        })
    }

    /// Runs `read` on an idle connection (opening one if there is room);
    /// `None` when none is free or the read failed in any way.
    fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let conn = {
            let mut pool = self.state.lock().unwrap_or_else(|p| p.into_inner());
            match pool.idle.pop() {
                Some(c) => Some(c),
                None if pool.open < MAX_CONNECTIONS => {
                    pool.open += 1;
                    None
                }
                None => return None,
            }
        };
        let conn = match conn {
            Some(c) => c,
            None => match self.connect() {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(error = %e, "hot read connection not opened");
                    self.forget_one();
                    return None;
                }
            },
        };
        match read(&conn) {
            Ok(v) => {
                self.give_back(conn);
                Some(v)
            }
            Err(e) => {
                // Busy is expected now and then; the connection stays good.
                let busy = matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                );
                if busy {
                    self.give_back(conn);
                } else {
                    tracing::debug!(error = %e, "hot read failed; the ordinary path answers");
                    drop(conn);
                    self.forget_one();
                }
                None
            }
        }
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Never wait for a lock on the async worker (see the module docs).
        conn.busy_timeout(Duration::ZERO)?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut pool = self.state.lock().unwrap_or_else(|p| p.into_inner());
        pool.idle.push(conn);
    }

    fn forget_one(&self) {
        let mut pool = self.state.lock().unwrap_or_else(|p| p.into_inner());
        pool.open = pool.open.saturating_sub(1);
    }

    /// Any statement with positional parameters `$1`, `$2`, … bound from
    /// `params` in order, each row read by `row`: the rows, or `None` when
    /// the ordinary path must answer (see the module docs).
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        mut row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Vec<T>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            bind_numbered(&mut stmt, params.iter().copied())?;
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(found) = rows.next()? {
                out.push(row(found)?);
            }
            Ok(out)
        })
    }

    /// As [`Self::rows`], for a statement of at most one row.
    pub(crate) fn row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<Option<T>> {
        self.rows(sql, params, row)
            .map(|rows| rows.into_iter().next())
    }

    /// `courseware_access`'s statement (`$1` the course key, `$2` the user):
    /// the course row and the reader's role and enrolment columns.
    pub(crate) fn access(
        &self,
        sql: &str,
        key: &str,
        user: i64,
    ) -> Option<Option<(CourseRow, AccessExtra)>> {
        self.row(sql, &[&key, &user], |row| {
            let course = course_row(row)?;
            let extra = AccessExtra {
                my_role: row.get(10)?,
                e_mode: row.get(11)?,
                e_active: row.get(12)?,
                e_created: row.get(13)?,
            };
            Ok((course, extra))
        })
    }

    /// `problem_states_of`'s statement for one chunk (`$1` the user, `$2`…
    /// the usage keys).
    pub(crate) fn states(&self, sql: &str, user: i64, keys: &[String]) -> Option<Vec<StateRow>> {
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(keys.len() + 1);
        params.push(&user);
        params.extend(keys.iter().map(|k| k as &dyn ToSql));
        self.rows(sql, &params, state_row)
    }

    /// `course_progress`'s statement (`$1` the user, `$2` the course): the
    /// learner's states in the course and the stored grade's revision and
    /// subsection digest.
    pub(crate) fn progress(&self, sql: &str, user: i64, course: &str) -> Option<Progress> {
        let (mut revision, mut digest) = (None, None);
        let rows = self.rows(sql, &[&user, &course], |row| {
            revision = row.get(STATE_COLUMN_COUNT)?;
            digest = row.get(STATE_COLUMN_COUNT + 1)?;
            // The one row of a learner with no saved state has no state.
            match row.get::<_, Option<i64>>(0)? {
                Some(_) => state_row(row).map(Some),
                None => Ok(None),
            }
        })?;
        Some((rows.into_iter().flatten().collect(), revision, digest))
    }

    /// A list of course rows (`COURSE_COLUMNS`): the catalogue's (no
    /// parameter) or a user's courses (`$1` the user).
    pub(crate) fn courses(&self, sql: &str, user: Option<i64>) -> Option<Vec<CourseRow>> {
        match user {
            Some(user) => self.rows(sql, &[&user], course_row),
            None => self.rows(sql, &[], course_row),
        }
    }
}

/// A learner's states in a course, the stored grade's revision and its
/// subsection digest ([`HotReads::progress`]).
pub(crate) type Progress = (Vec<StateRow>, Option<i64>, Option<i64>);

/// The role and enrolment columns `courseware_access` reads beside the course.
pub(crate) struct AccessExtra {
    pub my_role: Option<String>,
    pub e_mode: Option<String>,
    pub e_active: Option<bool>,
    pub e_created: Option<i64>,
}

/// Binds `params` to `$1`, `$2`, …: SQLite numbers parameters in the order
/// they first appear, so `$N` is the N-th unless a statement names them out
/// of order; only then is its index looked up by name (formatting the name
/// and looking it up for every value was 3 % of an answer check's CPU).
/// Shared with SQLite's group-commit writer (`state_writer.rs`).
pub(crate) fn bind_numbered<'p>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl IntoIterator<Item = &'p dyn ToSql>,
) -> rusqlite::Result<()> {
    for (i, value) in params.into_iter().enumerate() {
        let number = i + 1;
        let named_in_order = stmt
            .parameter_name(number)
            .and_then(|name| name.strip_prefix('$'))
            .is_some_and(|digits| digits.parse() == Ok(number));
        let index = if named_in_order {
            number
        } else {
            let name = format!("${number}");
            stmt.parameter_index(&name)?
                .ok_or(rusqlite::Error::InvalidParameterName(name))?
        };
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

/// `COURSE_COLUMNS`, in their order.
fn course_row(row: &Row<'_>) -> rusqlite::Result<CourseRow> {
    Ok(CourseRow {
        course_key: row.get(0)?,
        display_name: row.get(1)?,
        created_at: row.get(2)?,
        draft_revision: row.get(3)?,
        published_version: row.get(4)?,
        published_revision: row.get(5)?,
        published_at: row.get(6)?,
        start_at: row.get(7)?,
        end_at: row.get(8)?,
        publish_id: row.get(9)?,
    })
}

/// How many columns `STATE_COLUMNS` names (what follows them is at this index).
const STATE_COLUMN_COUNT: usize = 15;

/// `STATE_COLUMNS`, in their order.
pub(crate) fn state_row(row: &Row<'_>) -> rusqlite::Result<StateRow> {
    Ok(StateRow {
        user_id: row.get(0)?,
        course_key: row.get(1)?,
        usage_key: row.get(2)?,
        revision: row.get(3)?,
        attempts: row.get(4)?,
        reset_count: row.get(5)?,
        answers: row.get(6)?,
        correct_map: row.get(7)?,
        raw_earned: row.get(8)?,
        raw_possible: row.get(9)?,
        earned: row.get(10)?,
        possible: row.get(11)?,
        is_correct: row.get(12)?,
        ever_attempted: row.get(13)?,
        updated_at: row.get(14)?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use lectern_app::store::{CourseStore, EnrollmentStore, PageStore, UserStore};

    use crate::contract::{dates, new_user, sample_tree};
    use crate::shared::db_pages::{access_sql, states_sql};
    use crate::shared::rows::COURSE_COLUMNS;
    use crate::sqlite::SqliteStore;

    /// `$N` binds the N-th value whether a statement names its parameters
    /// in order (bound by position) or not (looked up by name).
    #[test]
    fn numbered_parameters_bind_their_own_values_in_any_order() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let values: [&dyn rusqlite::ToSql; 3] = [&10, &20, &30];
        for (sql, want) in [
            ("SELECT $1, $2, $3", (10, 20, 30)),
            ("SELECT $2, $1, $3", (20, 10, 30)),
            ("SELECT $1, $3, $2 + $1", (10, 30, 30)),
        ] {
            let mut stmt = conn.prepare_cached(sql).unwrap();
            super::bind_numbered(&mut stmt, values).unwrap();
            let mut rows = stmt.raw_query();
            let row = rows.next().unwrap().unwrap();
            let got: (i64, i64, i64) = (
                row.get(0).unwrap(),
                row.get(1).unwrap(),
                row.get(2).unwrap(),
            );
            assert_eq!(got, want, "{sql}");
        }
    }

    /// The hot path answers itself (the contract suite checks that its
    /// answers equal the sqlx path's; this, that it is not always falling
    /// back to it).
    #[tokio::test]
    async fn a_file_database_answers_page_reads_on_the_hot_path() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("lectern.db"))
            .await
            .unwrap();
        let user = store.create_user(&new_user("Hot")).await.unwrap();
        let tree = sample_tree("Hot");
        let key = tree.key.clone();
        store
            .create_course(&tree, dates(), None, Utc::now())
            .await
            .unwrap();
        store
            .enroll(user.id, &key, "audit", Utc::now())
            .await
            .unwrap();
        let hot = store
            .hot
            .as_ref()
            .expect("a file database has the hot path");
        let (course, extra) = hot
            .access(access_sql(), &key.to_string(), user.id)
            .expect("answered on the hot path")
            .expect("the course");
        assert_eq!(course.course_key, key.to_string());
        assert_eq!(
            (extra.e_mode.as_deref(), extra.e_active, extra.my_role),
            (Some("audit"), Some(true), None)
        );
        let none = hot
            .access(access_sql(), "course-v1:No+Such+Course", user.id)
            .expect("answered on the hot path");
        assert!(none.is_none());
        let states = hot
            .states(
                &states_sql(1),
                user.id,
                &["block-v1:x+y+z+type@problem+block@p".into()],
            )
            .expect("answered on the hot path");
        assert!(states.is_empty());
        let all = format!("SELECT {COURSE_COLUMNS} FROM courses ORDER BY course_key");
        let listed = hot.courses(&all, None).expect("answered on the hot path");
        assert_eq!(listed.len(), 1);
        let mine = format!(
            "SELECT {COURSE_COLUMNS} FROM courses WHERE course_key IN \
             (SELECT course_key FROM enrollments WHERE user_id = $1)"
        );
        let listed = hot
            .courses(&mine, Some(user.id + 1))
            .expect("answered on the hot path");
        assert!(listed.is_empty(), "another user's list");
        // Through the trait, the same answer as the sqlx path gives.
        let access = store.courseware_access(&key, user.id).await.unwrap();
        assert_eq!(access.map(|a| a.record), store.course(&key).await.unwrap());
    }

    #[tokio::test]
    async fn an_in_memory_database_has_no_hot_path() {
        let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
        assert!(store.hot.is_none());
    }
}
