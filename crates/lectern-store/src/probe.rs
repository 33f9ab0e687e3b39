//! A quick look at a site's database without opening the site: does it
//! answer, and how many bytes does it take. The operator console asks this
//! of instances that are not open on the node (opening one would start its
//! workers, apply migrations and create a missing SQLite file). One
//! connection, read-only for SQLite, closed at once; the caller bounds the
//! time.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lectern_app::StoreError;
use sqlx::{ConnectOptions, Connection};

use crate::Backend;

/// Connects to the database `database_url` names (empty: the SQLite file
/// `default_sqlite_path`), runs one query and returns its size in bytes:
/// the SQLite file with its write-ahead log, or `pg_database_size`.
pub async fn probe_database(
    database_url: &str,
    default_sqlite_path: &Path,
) -> Result<u64, StoreError> {
    let url = database_url.trim();
    match Backend::of(url)? {
        Backend::Sqlite => {
            let options = if url.is_empty() {
                sqlx::sqlite::SqliteConnectOptions::new().filename(default_sqlite_path)
            } else {
                sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Unavailable(format!("the SQLite URL: {e}")))?
            };
            let options = options.read_only(true).create_if_missing(false);
            let path: PathBuf = options.get_filename().to_path_buf();
            let mut conn = options
                .connect()
                .await
                .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", path.display())))?;
            let answered = sqlx::query("SELECT 1").execute(&mut conn).await;
            let _ = conn.close().await;
            answered
                .map_err(|e| StoreError::Unavailable(format!("reading {}: {e}", path.display())))?;
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            let bytes = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            Ok(bytes(&path) + bytes(Path::new(&wal)))
        }
        Backend::Postgres => {
            let options = sqlx::postgres::PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Unavailable(format!("the PostgreSQL URL: {e}")))?;
            let mut conn = options
                .connect()
                .await
                .map_err(|e| StoreError::Unavailable(format!("connecting to PostgreSQL: {e}")))?;
            let size: Result<(i64,), _> =
                sqlx::query_as("SELECT pg_database_size(current_database())")
                    .fetch_one(&mut conn)
                    .await;
            let _ = conn.close().await;
            let (size,) =
                size.map_err(|e| StoreError::Unavailable(format!("reading its size: {e}")))?;
            Ok(u64::try_from(size).unwrap_or(0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_sqlite_file_is_not_created_and_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lectern.db");
        assert!(probe_database("", &path).await.is_err());
        assert!(!path.exists());
        let store = crate::open("", &path, 1).await.unwrap();
        store.close().await;
        assert!(probe_database("", &path).await.unwrap() > 0);
    }
}
