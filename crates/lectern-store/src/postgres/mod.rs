//! The PostgreSQL backend: one connection pool for reads and writes, every
//! read-then-write in one transaction with a row lock (`FOR UPDATE`) or a
//! guarded update, so any number of nodes can share one database.
//!
//! Commits are durable as PostgreSQL is configured (`synchronous_commit`
//! stays at its default, `on`).

mod backup;

use std::str::FromStr;
use std::time::Duration;

use lectern_app::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL implementation of every storage trait.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    /// Connects to a `postgres://…` URL and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("connecting to PostgreSQL: {e}")))?;
        migrate(&pool).await?;
        Ok(Self { pool })
    }

    /// Closes the pool, waiting for in-flight queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    MIGRATOR.run(pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::VersionMissing(v) => StoreError::Unavailable(format!(
            "this database was written by a newer Lectern (it has migration {v}, which this binary does not know); run the newer binary or restore a backup"
        )),
        other => StoreError::Unavailable(format!("applying database migrations failed: {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_a_fresh_database_and_applies_migrations() {
        let Some(admin) = crate::testing::postgres_admin_url() else {
            return;
        };
        let url = crate::testing::fresh_postgres_database(&admin)
            .await
            .unwrap();
        let store = PgStore::open(&url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(n >= 4, "{n}");
        store.close().await;
    }
}
