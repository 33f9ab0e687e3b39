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
