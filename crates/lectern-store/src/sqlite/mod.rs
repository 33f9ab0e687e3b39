//! The SQLite backend: one file in the data folder, WAL mode, full fsync on
//! commit (an acknowledged write survives a power cut).
//!
//! SQLite allows one writer at a time, so writes go through a pool of one
//! connection and never fight over the lock; reads use a separate pool and
//! run concurrently with the writer thanks to WAL.

mod backup;
mod blobs;
mod courses;
mod learner;
mod misc;
mod profiles;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use lectern_app::StoreError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite implementation of every storage trait.
#[derive(Clone)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open_with(options).await
    }

    /// Opens a `sqlite://…` URL.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
            .create_if_missing(true);
        Self::open_with(options).await
    }

    async fn open_with(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(unavailable)?;
        migrate(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await
            .map_err(unavailable)?;
        Ok(Self { reader, writer })
    }

    /// Closes both pools, waiting for in-flight queries.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::VersionMissing(v) => StoreError::Unavailable(format!(
            "this database was written by a newer Lectern (it has migration {v}, which this binary does not know); run the newer binary or restore a backup"
        )),
        other => StoreError::Unavailable(format!("applying database migrations failed: {other}")),
    })
}

/// The number of the newest migration this binary knows.
pub fn latest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Maps a driver error: unique violations name the clashing field.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let msg = db.message();
            let field = if msg.contains("username") {
                "username"
            } else if msg.contains("email") {
                "email"
            } else if msg.contains("course_key") || msg.contains("courses") {
                "course_key"
            } else {
                "value"
            };
            StoreError::Conflict {
                field: field.to_string(),
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_passes_the_contract() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("lectern.db"))
            .await
            .unwrap();
        crate::contract::run(&store).await;
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

    #[tokio::test]
    async fn a_newer_database_refuses_an_older_binary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        let store = SqliteStore::open(&path).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, x'00', 0)")
            .execute(&store.writer)
            .await
            .unwrap();
        store.close().await;
        let err = SqliteStore::open(&path).await.err().expect("refused");
        assert!(err.to_string().contains("newer Lectern"), "{err}");
    }
}
