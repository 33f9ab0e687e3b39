//! Choosing the backend from `database_url`: the one place that knows which
//! URL means which store, so the binary holds an `Arc<dyn Store>` and never
//! names a backend.

use std::path::Path;
use std::sync::Arc;

use lectern_app::store::Store;
use lectern_app::StoreError;

use crate::{PgStore, SqliteStore};

/// Which backend a `database_url` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://`/`postgresql://` → PostgreSQL; `sqlite:` or empty →
    /// SQLite; anything else is refused with the forms that work.
    pub fn of(database_url: &str) -> Result<Self, StoreError> {
        let url = database_url.trim();
        if url.is_empty() || url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Unavailable(format!(
                "database_url {:?} is not supported: use sqlite://PATH, postgres://USER@HOST/DB, or leave it empty for DATA_DIR/lectern.db",
                redact(url)
            )))
        }
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Opens the store `database_url` names (empty: SQLite at
/// `default_sqlite_path`) and applies its migrations. `max_connections`
/// bounds the PostgreSQL pool per node (SQLite keeps its one writer).
pub async fn open(
    database_url: &str,
    default_sqlite_path: &Path,
    max_connections: u32,
) -> Result<Arc<dyn Store>, StoreError> {
    let url = database_url.trim();
    Ok(match Backend::of(url)? {
        Backend::Sqlite if url.is_empty() => {
            Arc::new(SqliteStore::open(default_sqlite_path).await?)
        }
        Backend::Sqlite => Arc::new(SqliteStore::open_url(url).await?),
        Backend::Postgres => Arc::new(PgStore::open_with_pool_size(url, max_connections).await?),
    })
}

/// Creates the PostgreSQL database `name` on the server `server_url`
/// reaches (connecting to the database that URL names) and returns the
/// URL of the new one: an instance's own database beside the
/// deployment's. `name` must be a plain identifier (`[a-z0-9_]`); a
/// database of that name that already exists is refused, never reused.
pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String, StoreError> {
    use sqlx::ConnectOptions;
    use std::str::FromStr;
    if name.is_empty()
        || name.len() > 63
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(StoreError::Internal(format!(
            "{name:?} cannot name a database"
        )));
    }
    let options = sqlx::postgres::PgConnectOptions::from_str(server_url.trim())
        .map_err(|e| StoreError::Unavailable(format!("the PostgreSQL URL: {e}")))?;
    let mut admin = options
        .connect()
        .await
        .map_err(|e| StoreError::Unavailable(format!("connecting to PostgreSQL: {e}")))?;
    let created = sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await;
    let _ = sqlx::Connection::close(admin).await;
    match created {
        Ok(_) => Ok(crate::testing::with_database(server_url.trim(), name)),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42P04") => {
            Err(StoreError::Conflict {
                field: "database".into(),
            })
        }
        Err(e) => Err(StoreError::Internal(format!(
            "creating database {name}: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_their_backend() {
        assert_eq!(Backend::of("").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::of("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::of("postgres://u@h/d").unwrap(), Backend::Postgres);
        assert_eq!(
            Backend::of("postgresql://u@h/d").unwrap(),
            Backend::Postgres
        );
        let err = Backend::of("mysql://root:hunter2@h/d")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not supported") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn open_gives_the_named_backend() {
        let dir = tempfile::tempdir().unwrap();
        let store = open("", &dir.path().join("l.db"), 4).await.unwrap();
        assert_eq!(store.backend(), "sqlite");
        store.close().await;
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = open(&url, &dir.path().join("unused.db"), 4).await.unwrap();
        assert_eq!(store.backend(), "postgres");
        store.ping().await.unwrap();
        store.close().await;
    }
}
