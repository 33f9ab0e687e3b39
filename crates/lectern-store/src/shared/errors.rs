//! Driver errors to `StoreError`, for both backends. A unique clash is
//! named by its constraint or index: PostgreSQL reports the name
//! (`DatabaseError::constraint`), SQLite's message names the index
//! (`index 'users_username_key'`) or the column (`users.email`). One table
//! maps both to the field a person can act on.

use lectern_app::StoreError;

/// (PostgreSQL constraint or index, what SQLite's message names, field).
const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    (
        "users_username_key",
        "index 'users_username_key'",
        "username",
    ),
    ("users_email_key", "users.email", "email"),
    ("courses_pkey", "courses.course_key", "course_key"),
    ("instances_pkey", "instances.name", "name"),
    ("instance_hosts_pkey", "instance_hosts.host", "host"),
    (
        "idempotent_requests_pkey",
        "idempotent_requests.user_id, idempotent_requests.idempotency_key",
        "idempotency_key",
    ),
];

/// The field of a unique clash, by PostgreSQL constraint name.
fn field_for_constraint(name: &str) -> &'static str {
    UNIQUE_FIELDS
        .iter()
        .find(|(pg, _, _)| *pg == name)
        .map_or("value", |(_, _, field)| field)
}

/// The field of a unique clash, from SQLite's
/// `UNIQUE constraint failed: <target>[, <target>…]` message.
fn field_for_sqlite_message(message: &str) -> &'static str {
    let target = message
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or_default();
    UNIQUE_FIELDS
        .iter()
        .find(|(_, lite, _)| *lite == target)
        .map_or("value", |(_, _, field)| field)
}

/// PostgreSQL SQLSTATEs that say "this server cannot serve you now" rather
/// than "your SQL is wrong": connection exceptions (class 08), operator
/// intervention (57P01 terminated by an administrator or Patroni, 57P02
/// crash, 57P03 cannot connect now) and a write sent to a read-only server
/// (25006, a demoted primary). A failover causes them; the client may retry.
fn server_went_away(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57P") || code == "25006"
}

/// SQLite's `BUSY` (5) and `LOCKED` (6) with their extended codes (the
/// primary code is the low byte: 517 is `BUSY_SNAPSHOT`, a deferred
/// transaction that read an old snapshot and then tried to write): another
/// connection (another node on the same file) is writing; retry.
fn sqlite_busy(code: &str) -> bool {
    code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

/// Maps a driver error from either backend.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let field = match db.constraint() {
                Some(name) => field_for_constraint(name),
                None => field_for_sqlite_message(db.message()),
            };
            StoreError::Conflict {
                field: field.to_string(),
            }
        }
        sqlx::Error::Database(db) if db.code().is_some_and(|c| server_went_away(&c)) => {
            crate::postgres::connection_trouble();
            StoreError::Unavailable(e.to_string())
        }
        // PostgreSQL's SQLSTATEs are five characters, never all digits of
        // this form, so only SQLite's numeric codes can match.
        sqlx::Error::Database(db) if db.code().is_some_and(|c| c.len() <= 4 && sqlite_busy(&c)) => {
            StoreError::Busy(e.to_string())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            crate::postgres::connection_trouble();
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

/// Maps an error of a rusqlite connection (SQLite's group-commit writer,
/// `sqlite/state_writer.rs`) as [`map_err`] maps sqlx's: a unique clash
/// names its field, busy or locked is `Busy`, a file or disk that fails is
/// `Unavailable`.
pub(crate) fn map_sqlite(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, message) => match f.code {
            ErrorCode::ConstraintViolation
                if matches!(
                    f.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
            {
                StoreError::Conflict {
                    field: field_for_sqlite_message(message.as_deref().unwrap_or_default())
                        .to_string(),
                }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy(e.to_string()),
            ErrorCode::SystemIoFailure
            | ErrorCode::CannotOpen
            | ErrorCode::DiskFull
            | ErrorCode::ReadOnly
            | ErrorCode::NotADatabase
            | ErrorCode::DatabaseCorrupt => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Internal(e.to_string()),
        },
        _ => StoreError::Internal(e.to_string()),
    }
}

/// Maps a failed migration run on either backend; a database that has a
/// migration this binary lacks was written by a newer binary.
pub(crate) fn migration_error(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::VersionMissing(v) => StoreError::Unavailable(format!(
            "this database was written by a newer Lectern (it has migration {v}, which this binary does not know); run the newer binary or restore a backup"
        )),
        other => StoreError::Unavailable(format!("applying database migrations failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stale_snapshot_on_sqlite_is_busy_not_internal() {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
        use sqlx::{ConnectOptions, Connection};
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let mut a = options.connect().await.unwrap();
        let mut b = options.connect().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut a)
            .await
            .unwrap();
        // `a` reads (taking a snapshot), `b` commits a write, then `a`'s
        // write finds its snapshot stale: SQLITE_BUSY_SNAPSHOT, at once.
        let mut tx = a.begin().await.unwrap();
        sqlx::query("SELECT count(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut b)
            .await
            .unwrap();
        let e = sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut *tx)
            .await
            .unwrap_err();
        assert!(matches!(map_err(e), StoreError::Busy(_)));
        assert!(sqlite_busy("5") && sqlite_busy("517") && sqlite_busy("6"));
        assert!(!sqlite_busy("2067") && !sqlite_busy("19"));
    }

    /// The store's write transactions on SQLite begin with
    /// `Backend::BEGIN_WRITE` (`BEGIN IMMEDIATE`): one that reads before it
    /// writes holds the write lock from the start, so another connection's
    /// write waits for it instead of making it fail as above.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_store_write_transaction_outlives_another_connections_write() {
        use super::super::db::Backend;
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(10));
        let a = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .unwrap();
        let b = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&a)
            .await
            .unwrap();
        let mut tx = a
            .begin_with(<sqlx::Sqlite as Backend>::BEGIN_WRITE)
            .await
            .unwrap();
        sqlx::query("SELECT count(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let other =
            tokio::spawn(async move { sqlx::query("INSERT INTO t VALUES (1)").execute(&b).await });
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!other.is_finished(), "the other write waits for the lock");
        sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut *tx)
            .await
            .expect("no stale snapshot");
        tx.commit().await.unwrap();
        other
            .await
            .unwrap()
            .expect("the other write went in after it");
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&a)
            .await
            .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn clashes_map_by_name_on_both_backends() {
        assert_eq!(field_for_constraint("users_email_key"), "email");
        assert_eq!(field_for_constraint("courses_pkey"), "course_key");
        assert_eq!(
            field_for_constraint("idempotent_requests_pkey"),
            "idempotency_key"
        );
        assert_eq!(
            field_for_sqlite_message(
                "UNIQUE constraint failed: idempotent_requests.user_id, idempotent_requests.idempotency_key"
            ),
            "idempotency_key"
        );
        assert_eq!(field_for_constraint("something_else"), "value");
        assert_eq!(
            field_for_sqlite_message("UNIQUE constraint failed: index 'users_username_key'"),
            "username"
        );
        assert_eq!(
            field_for_sqlite_message("UNIQUE constraint failed: users.email"),
            "email"
        );
        // A message that only mentions a name in passing is not a match.
        assert_eq!(
            field_for_sqlite_message("UNIQUE constraint failed: blobs.sha256 (email)"),
            "value"
        );
    }
}
