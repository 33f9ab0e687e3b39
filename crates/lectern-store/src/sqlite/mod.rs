//! The SQLite backend: one file in the data folder, WAL mode, full fsync on
//! commit (an acknowledged write survives a power cut).
//!
//! SQLite allows one writer at a time, so writes go through a pool of one
//! connection and never fight over the lock; reads use a separate pool and
//! run concurrently with the writer thanks to WAL.

mod backup;
pub(crate) mod hot_reads;
pub(crate) mod state_writer;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use lectern_app::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Sqlite;

use crate::shared::db::Db;
use crate::shared::errors::migration_error;
use crate::shared::group_commit::GroupCommit;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite store: reads through a pool of readers, writes through one
/// connection (see the module docs).
pub type SqliteStore = Db<Sqlite>;

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open_with(options, true).await
    }

    /// Opens a `sqlite://…` URL.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true);
        Self::open_with(options, !is_in_memory(url)).await
    }

    /// `on_disk`: the database is a file other connections can open too
    /// (not `sqlite::memory:`), so a page's reads may take the hot path.
    async fn open_with(options: SqliteConnectOptions, on_disk: bool) -> Result<Self, StoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let hot = on_disk
            .then(|| hot_reads::HotReads::for_file(options.get_filename()))
            .flatten()
            .map(std::sync::Arc::new);
        // A connection to a file does not go stale between uses: no ping
        // (one more hand-off to its thread) before each acquire.
        // A file's learner-state batches are written through rusqlite
        // (`state_writer.rs`); an in-memory database only has its own
        // connections, so they go through sqlx.
        let direct = hot.as_ref().map(|_| {
            std::sync::Arc::new(state_writer::StateWriter::for_file(options.get_filename()))
        });
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        MIGRATOR.run(&writer).await.map_err(migration_error)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(Db {
            read: reader,
            states: GroupCommit::start(writer.clone(), 1, direct),
            write: writer,
            companion: None,
            hot,
        })
    }
}

/// The number of the newest migration this binary knows.
pub fn latest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Whether a URL names an in-memory database (`sqlite::memory:`,
/// `mode=memory`), which only its own connections share.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_app::store::BlobStore;

    /// A store on a new file in a folder that lives as long as the handle.
    pub(super) async fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("lectern.db"))
            .await
            .unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn blobs_stored_whole_before_chunking_are_still_read() {
        let (_dir, store) = fresh_store().await;
        // A row as the first schema wrote it: the bytes in `data`, chunk_size 0.
        sqlx::query("INSERT INTO blobs (sha256, size, data, created_at) VALUES ('old', 6, X'616263646566', 0)")
            .execute(&store.write)
            .await
            .unwrap();
        assert_eq!(
            store.blob("old").await.unwrap().as_deref(),
            Some(&b"abcdef"[..])
        );
        assert_eq!(
            store.blob_range("old", 2, 3).await.unwrap().as_deref(),
            Some(&b"cde"[..])
        );
        assert_eq!(
            store.blob_range("old", 4, 100).await.unwrap().as_deref(),
            Some(&b"ef"[..])
        );
        assert_eq!(
            store.blob_info("old").await.unwrap().map(|i| i.size),
            Some(6)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_passes_the_contract() {
        let (_dir, store) = fresh_store().await;
        crate::contract::run(&store).await;
        crate::contract_races::run(std::sync::Arc::new(store)).await;
    }

    /// Two stores on one file are two nodes: each has its own writer
    /// connection, so their writes meet in SQLite's lock, in parallel.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_nodes_on_one_file_pass_the_race_checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        let a = SqliteStore::open(&path).await.unwrap();
        let b = SqliteStore::open(&path).await.unwrap();
        crate::contract_nodes::races(&a, &b).await;
        crate::contract_idempotency::run(&a, &b).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_passes_the_discussions_contract() {
        let (_dir, store) = fresh_store().await;
        crate::contract_discussions::run(std::sync::Arc::new(store)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_passes_the_certificates_contract() {
        let (_dir, store) = fresh_store().await;
        crate::contract_certificates::run(std::sync::Arc::new(store)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_passes_the_cohorts_contract() {
        let (_dir, store) = fresh_store().await;
        crate::contract_cohorts::run(std::sync::Arc::new(store)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_passes_the_analytics_contract() {
        let (_dir, store) = fresh_store().await;
        crate::contract_analytics::run(std::sync::Arc::new(store)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_passes_the_tls_contract() {
        let (_dir, store) = fresh_store().await;
        crate::contract_tls::run(&store).await;
        crate::contract_instances::run(&store).await;
    }

    #[tokio::test]
    async fn sqlite_passes_the_usage_contract() {
        let (_dir, store) = fresh_store().await;
        crate::contract_usage::run(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_passes_the_jobs_contract() {
        let (_dir, store) = fresh_store().await;
        crate::contract_jobs::run(&store).await;
        crate::contract_jobs::grades_never_go_back_a_version(&store).await;
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_migrations_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        {
            let store = SqliteStore::open(&path).await.unwrap();
            let user = lectern_app::model::NewUser {
                username: "keep".into(),
                email: "keep@example.org".into(),
                name: "K".into(),
                password_hash: "h".into(),
                is_admin: false,
                is_course_creator: false,
            };
            lectern_app::store::UserStore::create_user(&store, &user)
                .await
                .unwrap();
            store.close().await;
        }
        let store = SqliteStore::open(&path).await.unwrap();
        assert!(
            lectern_app::store::UserStore::user_by_username(&store, "keep")
                .await
                .unwrap()
                .is_some()
        );
    }

    /// Migration 0019 moves the course trees to the end of their rows
    /// (drop and re-add, since `courses` cannot be rebuilt without its
    /// children's foreign key actions): a database written before it keeps
    /// every course, version, tree and child row, and the small columns no
    /// longer sit behind a tree.
    #[tokio::test]
    async fn moving_the_trees_last_keeps_every_course_and_its_children() {
        use lectern_app::store::{CourseStore, EnrollmentStore, PageStore};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        let tree = "x".repeat(200_000);
        {
            let pool = migrated_before(&path, 19).await;
            for sql in [
                "INSERT INTO users (id, username, email, name, password_hash, created_at) \
                 VALUES (7, 'old', 'old@example.org', 'Old', 'h', 0)",
                "INSERT INTO courses (course_key, display_name, created_at, draft_revision, \
                 draft_tree, draft_updated_at, published_version, published_revision, \
                 published_at, start_at, end_at) VALUES ('course-v1:O+M+R', 'Old course', 1, 3, \
                 $1, 2, 1, 3, 4, 5, 6)",
                "INSERT INTO course_versions (course_key, version, draft_revision, tree, \
                 created_at, publish_id) VALUES ('course-v1:O+M+R', 1, 3, $1, 4, 'pub-one')",
                "INSERT INTO enrollments (user_id, course_key, mode, is_active, created_at) \
                 VALUES (7, 'course-v1:O+M+R', 'audit', TRUE, 8)",
                "INSERT INTO course_roles (course_key, user_id, role) \
                 VALUES ('course-v1:O+M+R', 7, 'staff')",
            ] {
                sqlx::query(sql).bind(&tree).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
        let store = SqliteStore::open(&path).await.unwrap();
        let key: lectern_content::CourseKey = "course-v1:O+M+R".parse().unwrap();
        let access = store
            .courseware_access(&key, 7)
            .await
            .unwrap()
            .expect("the course is still there");
        assert_eq!(access.record.display_name, "Old course");
        assert_eq!(access.record.published_version, Some(1));
        assert_eq!(access.record.publish_id.as_deref(), Some("pub-one"));
        assert!(access.enrollment.is_some(), "the enrolment survived");
        assert!(access.role.is_some(), "the course role survived");
        assert!(store.enrollment(7, &key).await.unwrap().is_some());
        assert!(store.course(&key).await.unwrap().is_some());
        let trees: (String, String) = sqlx::query_as(
            "SELECT c.draft_tree, v.tree FROM courses c JOIN course_versions v USING (course_key)",
        )
        .fetch_one(&store.read)
        .await
        .unwrap();
        assert_eq!((trees.0.len(), trees.1.len()), (tree.len(), tree.len()));
        for table in ["courses", "course_versions"] {
            let last: String = sqlx::query_scalar(
                "SELECT name FROM pragma_table_info(?) ORDER BY cid DESC LIMIT 1",
            )
            .bind(table)
            .fetch_one(&store.read)
            .await
            .unwrap();
            assert!(last.ends_with("tree"), "{table} ends with {last}");
        }
        assert_foreign_keys_hold(&store).await;
    }

    /// No row refers to one that is not there.
    async fn assert_foreign_keys_hold(store: &SqliteStore) {
        let problems: Vec<(String, String, i64)> = sqlx::query_as("PRAGMA foreign_key_check")
            .fetch_all(&store.read)
            .await
            .unwrap();
        assert!(problems.is_empty(), "{problems:?}");
    }

    /// A database at `path` with the migrations before `version` only, as
    /// an older release left it.
    async fn migrated_before(path: &Path, version: i64) -> sqlx::SqlitePool {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .foreign_keys(true),
            )
            .await
            .unwrap();
        let before = sqlx::migrate::Migrator {
            migrations: MIGRATOR
                .iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        before.run(&pool).await.unwrap();
        pool
    }

    /// Migration 0020 rebuilds the problem states and subsection grades as
    /// WITHOUT ROWID tables and swaps a submissions index for a partial
    /// one: every row written before it reads back the same, and the
    /// first-submission analytics (which now reads first attempts only)
    /// gives the same answer, through the new index.
    #[tokio::test]
    async fn fewer_pages_per_check_keeps_every_state_grade_and_first_attempt() {
        use lectern_app::analytics::store::AnalyticsStore;
        use lectern_app::store::LearnerStateStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        let course = "course-v1:O+F+R";
        let p1 = "block-v1:O+F+R+type@problem+block@p1";
        {
            let pool = migrated_before(&path, 20).await;
            let mut statements = vec![
                "INSERT INTO courses (course_key, display_name, created_at, draft_revision, \
                 draft_tree, draft_updated_at) VALUES ($1, 'Old', 1, 1, '{}', 1)"
                    .to_string(),
            ];
            for user in [7, 8] {
                statements.push(format!(
                    "INSERT INTO users (id, username, email, name, password_hash, created_at) \
                     VALUES ({user}, 'u{user}', 'u{user}@example.org', 'U', 'h', 0)"
                ));
                statements.push(format!(
                    "INSERT INTO enrollments (user_id, course_key, mode, is_active, created_at) \
                     VALUES ({user}, $1, 'audit', TRUE, 8)"
                ));
            }
            statements.push(
                "INSERT INTO problem_states (user_id, course_key, usage_key, revision, attempts, \
                 reset_count, answers, correct_map, raw_earned, raw_possible, earned, possible, \
                 is_correct, ever_attempted, updated_at) \
                 VALUES (7, $1, $2, 4, 1, 1, '{}', '{}', 1, 1, 1, 1, TRUE, TRUE, 9)"
                    .into(),
            );
            statements.push(
                "INSERT INTO course_grades (user_id, course_key, revision, course_version, \
                 percent, letter_grade, passed, detail, updated_at) \
                 VALUES (7, $1, 4, 1, 0.5, NULL, FALSE, '{}', 9)"
                    .into(),
            );
            statements.push(
                "INSERT INTO subsection_grades (user_id, course_key, block_id, earned, possible, \
                 graded, updated_at) VALUES (7, $1, 'seq', 1, 2, TRUE, 9)"
                    .into(),
            );
            // Learner 7: wrong, right, then (after a reset) right again;
            // learner 8: right at once. First attempts: 2 learners, 1 right.
            for (user, attempt, earned) in [(7, 1, 0), (7, 2, 1), (7, 1, 1), (8, 1, 1)] {
                statements.push(format!(
                    "INSERT INTO submissions (user_id, course_key, usage_key, attempt, answers, \
                     correct_map, earned, possible, created_at) \
                     VALUES ({user}, $1, $2, {attempt}, '{{}}', '{{}}', {earned}, 1, 10)"
                ));
            }
            for sql in &statements {
                sqlx::query(sql)
                    .bind(course)
                    .bind(p1)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            pool.close().await;
        }
        let store = SqliteStore::open(&path).await.unwrap();
        let usage: lectern_content::UsageKey = p1.parse().unwrap();
        let key: lectern_content::CourseKey = course.parse().unwrap();
        let state = store.problem_state(7, &usage).await.unwrap().unwrap();
        assert_eq!(
            (state.revision, state.attempts, state.reset_count),
            (4, 1, 1)
        );
        let grade = store.course_grade(7, &key).await.unwrap().unwrap();
        assert_eq!(grade.revision, 4);
        assert_eq!(grade.subsections.len(), 1, "{:?}", grade.subsections);
        assert_eq!(grade.subsections[0].block_id, "seq");
        let first = store.first_attempts(course).await.unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!((first[0].learners, first[0].correct), (2, 1));

        for table in ["problem_states", "subsection_grades"] {
            let sql: String = sqlx::query_scalar(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
            )
            .bind(table)
            .fetch_one(&store.read)
            .await
            .unwrap();
            assert!(sql.ends_with("WITHOUT ROWID"), "{sql}");
        }
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!(
            "EXPLAIN QUERY PLAN {}",
            crate::shared::db_analytics::FIRST_ATTEMPTS
        ))
        .bind(course)
        .fetch_all(&store.read)
        .await
        .unwrap();
        assert!(
            plan.iter()
                .any(|p| p.3.contains("submissions_first_attempts")),
            "{plan:?}"
        );
        assert_foreign_keys_hold(&store).await;
    }

    #[tokio::test]
    async fn a_newer_database_refuses_an_older_binary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        let store = SqliteStore::open(&path).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, x'00', 0)")
            .execute(&store.write)
            .await
            .unwrap();
        store.close().await;
        let err = SqliteStore::open(&path).await.err().expect("refused");
        assert!(err.to_string().contains("newer Lectern"), "{err}");
    }
}

#[cfg(test)]
mod node_tests;
