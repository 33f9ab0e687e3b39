//! The PostgreSQL backend: one connection pool for reads and writes, every
//! read-then-write in one transaction with a row lock (`FOR UPDATE`) or a
//! guarded update, so any number of nodes can share one database.
//!
//! Commits are durable as PostgreSQL is configured (`synchronous_commit`
//! stays at its default, `on`); a commit the server says was only
//! "committed locally" is reported as failed (`commit_watch.rs`).
//!
//! **Surviving a failover** (Patroni): `database_url` may list several
//! hosts, libpq style (`url.rs`); the pool follows the primary among them
//! (`primary.rs`). A single host (HAProxy in front) works as before.
//!
//! **Timeouts.** sqlx 0.8 cannot set client socket options (no keepalive,
//! no `TCP_USER_TIMEOUT`) and never sends cancel requests. What is done:
//! - the server is asked, through the startup `options`, to probe its
//!   clients (`tcp_keepalives_idle/interval/count`) and to give up on
//!   unacknowledged data (`tcp_user_timeout`), so a server whose client
//!   vanished ends that session and releases its locks within about
//!   [`SERVER_GIVES_UP_SECS`] seconds instead of holding them for hours;
//! - checkouts wait at most [`ACQUIRE_TIMEOUT`] (connects included);
//! - a whole request has a deadline in lectern-web (`request_timeout_secs`,
//!   a 503 with `Retry-After` when it passes). Reaching it drops the
//!   request's future; dropping a sqlx future closes that connection (it
//!   never sends a cancel, so a COMMIT is never cancelled: the server
//!   sees a client gone, and the client never saw a success).
//!
//! What is not possible with sqlx 0.8: a client-side keepalive or
//! user timeout, so a connection stuck on a partitioned primary is only
//! ended by those deadlines, not by the kernel; a server-side
//! `statement_timeout` is left to the operator (it does not apply to the
//! commit's wait for the standby anyway).

mod backup;
mod primary;
mod url;

#[cfg(test)]
mod failover_tests;

use std::sync::Arc;
use std::time::Duration;

use lectern_app::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::Postgres;

use crate::shared::db::Db;
use crate::shared::errors::migration_error;
use crate::shared::group_commit::GroupCommit;

pub(crate) use primary::connection_trouble;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a checkout (connects included) may wait.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Server-side keepalive and user timeout settings sent at connect.
const SERVER_TCP_SETTINGS: [(&str, &str); 4] = [
    ("tcp_keepalives_idle", "10"),
    ("tcp_keepalives_interval", "5"),
    ("tcp_keepalives_count", "3"),
    ("tcp_user_timeout", "20000"),
];

/// About how long the server keeps a session whose client vanished (idle:
/// 10 s + 3 × 5 s of probes; with unacknowledged data: 20 s).
pub const SERVER_GIVES_UP_SECS: u64 = 25;

/// The PostgreSQL store: one pool for reads and writes.
pub type PgStore = Db<Postgres>;

/// The options every connection is opened with, on top of the URL's.
fn session_options(options: PgConnectOptions) -> PgConnectOptions {
    // Server notices ("relation … already exists, skipping") are not news.
    options
        .options([("client_min_messages", "warning")])
        .options(SERVER_TCP_SETTINGS)
}

impl PgStore {
    /// Connects to a `postgres://…` URL (one host, or libpq's host list)
    /// and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with_pool_size(url, 16).await
    }

    /// [`PgStore::open`] with at most `max_connections` connections.
    pub async fn open_with_pool_size(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let mut targets = url::parse(url)?;
        targets.hosts = targets.hosts.into_iter().map(session_options).collect();
        let follows = targets.hosts.len() > 1 || targets.attrs == url::SessionAttrs::ReadWrite;
        let (current, options) = if follows {
            primary::find(&targets).await?
        } else {
            (0, targets.hosts[0].clone())
        };
        if !crate::commit_watch::layer_installed() {
            tracing::warn!("lectern_store::commit_watch_layer is not installed: a commit PostgreSQL reports as 'committed locally' cannot be refused");
        }
        let shared = primary::Shared::new(targets, current);
        let pool = primary::with_hooks(PgPoolOptions::new(), &shared)
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("connecting to PostgreSQL: {e}")))?;
        MIGRATOR.run(&pool).await.map_err(migration_error)?;
        let companion: Option<Arc<dyn std::any::Any + Send + Sync>> = if follows {
            Some(primary::Finder::start(shared, pool.clone()))
        } else {
            None
        };
        Ok(Db {
            read: pool.clone(),
            // A few lanes, so batches of different learners commit in
            // parallel, each on its own connection; never most of the pool.
            states: GroupCommit::start(
                pool.clone(),
                (max_connections as usize / 4).clamp(1, 4),
                None,
            ),
            write: pool,
            companion,
            hot: None,
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
    async fn postgres_passes_the_discussions_contract() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = PgStore::open(&url).await.unwrap();
        crate::contract_discussions::run(std::sync::Arc::new(store.clone())).await;
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_passes_the_certificates_contract() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = PgStore::open(&url).await.unwrap();
        crate::contract_certificates::run(std::sync::Arc::new(store.clone())).await;
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_passes_the_cohorts_contract() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = PgStore::open(&url).await.unwrap();
        crate::contract_cohorts::run(std::sync::Arc::new(store.clone())).await;
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_passes_the_analytics_contract() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = PgStore::open(&url).await.unwrap();
        crate::contract_analytics::run(std::sync::Arc::new(store.clone())).await;
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_passes_the_tls_contract() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = PgStore::open(&url).await.unwrap();
        crate::contract_tls::run(&store).await;
        crate::contract_instances::run(&store).await;
        store.close().await;
    }

    #[tokio::test]
    async fn postgres_passes_the_usage_contract() {
        let Some(url) = crate::testing::fresh_postgres_url().await else {
            return;
        };
        let store = PgStore::open(&url).await.unwrap();
        crate::contract_usage::run(&store).await;
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
