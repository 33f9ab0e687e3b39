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
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::Postgres;

use crate::shared::db::Db;
use crate::shared::errors::migration_error;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL store: one pool for reads and writes.
pub type PgStore = Db<Postgres>;

impl PgStore {
    /// Connects to a `postgres://…` URL and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with_pool_size(url, 16).await
    }

    /// [`PgStore::open`] with at most `max_connections` connections.
    pub async fn open_with_pool_size(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?
            // Server notices ("relation … already exists, skipping") are not news.
            .options([("client_min_messages", "warning")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("connecting to PostgreSQL: {e}")))?;
        MIGRATOR.run(&pool).await.map_err(migration_error)?;
        Ok(Db {
            read: pool.clone(),
            write: pool,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_passes_the_contract() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = PgStore::open(&url).await.unwrap();
        crate::contract::run(&store).await;
        crate::contract_races::run(std::sync::Arc::new(store.clone())).await;
        store.close().await;
    }

    /// Two stores on one database are two nodes, each with its own pool:
    /// one first admin, one last admin, whatever the interleaving.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_nodes_on_one_database_pass_the_race_checks() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let a = PgStore::open(&url).await.unwrap();
        let b = PgStore::open(&url).await.unwrap();
        crate::contract_nodes::races(&a, &b).await;
        crate::contract_idempotency::run(&a, &b).await;
        a.close().await;
        b.close().await;
    }

    #[tokio::test]
    async fn opens_a_fresh_database_and_applies_migrations() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = PgStore::open(&url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(&store.write)
            .await
            .unwrap();
        assert!(n >= 4, "{n}");
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_passes_the_jobs_contract() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = PgStore::open(&url).await.unwrap();
        crate::contract_jobs::run(&store).await;
        crate::contract_jobs::grades_never_go_back_a_version(&store).await;
        store.close().await;
    }
}
