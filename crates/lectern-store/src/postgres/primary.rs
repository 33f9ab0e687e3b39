//! Finding the primary among the hosts of a multi-host URL, and following
//! it after a failover (Patroni promotes a standby; the old primary comes
//! back read-only, or not at all).
//!
//! - **At open**, [`find`] tries the hosts in the order given, each bounded
//!   by `connect_timeout`, and keeps the first one that answers and (for
//!   `read-write`, the default with several hosts) says
//!   `SHOW transaction_read_only` = `off`, as libpq checks. The pool is
//!   pointed at that host.
//! - **Every new connection** is checked the same way (`after_connect`):
//!   one to a read-only server is refused, so a demoted primary is never
//!   written to, and discovery is asked for.
//! - **Every checkout** of a pooled connection runs the same one-row query
//!   instead of sqlx's ping (`before_acquire`), within `connect_timeout`:
//!   a dead connection (or one on a cut link) fails it and is dropped, a connection to a server that became read-only is
//!   closed and discovery is asked for. Nothing has to restart.
//! - **Discovery** runs on one task per store, one run at a time and at
//!   most one per [`MIN_GAP`]; requests in between are coalesced into one.
//!   A run that finds no usable host (no primary promoted yet) is repeated
//!   every [`RETRY_GAP`] until one is found.
//!   Besides the hooks, any connection-level store error (a refused or
//!   timed-out connect, an I/O error) asks every finder in the process
//!   ([`connection_trouble`]), since a dead primary never reaches the hooks.
//!   A run that finds a new primary swaps the pool's connect options
//!   (`Pool::set_connect_options`); sqlx's connect loop reads them afresh on
//!   each retry, so even a checkout already waiting moves to the new host.
//!
//! The task holds the pool only through the [`Finder`] the store keeps; when
//! the last store handle goes, the finder goes, and the task ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use lectern_app::StoreError;
use sqlx::pool::PoolConnectionMetadata;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, Pool, Postgres, Row};
use tokio::sync::Notify;

use super::url::{PgTargets, SessionAttrs};

/// The shortest time between two discovery runs of one store.
pub(crate) const MIN_GAP: Duration = Duration::from_secs(1);
/// Between runs while no usable host was found.
const RETRY_GAP: Duration = Duration::from_secs(2);

/// Wakes every finder of the process on a connection-level error.
static TROUBLE: Notify = Notify::const_new();

/// A store call failed at the connection level (not a SQL error): look for
/// the primary again. Cheap when nobody listens (SQLite, a single host).
pub(crate) fn connection_trouble() {
    TROUBLE.notify_waiters();
}

/// What the pool hooks and the discovery task share (no pool: the hooks
/// live inside the pool, which must not keep itself alive).
pub(crate) struct Shared {
    targets: PgTargets,
    /// Index into `targets.hosts` of the host the pool connects to.
    current: AtomicUsize,
    wanted: Notify,
    stop: Notify,
}

impl Shared {
    pub(crate) fn new(targets: PgTargets, current: usize) -> Arc<Self> {
        Arc::new(Shared {
            targets,
            current: AtomicUsize::new(current),
            wanted: Notify::new(),
            stop: Notify::new(),
        })
    }

    fn read_write(&self) -> bool {
        self.targets.attrs == SessionAttrs::ReadWrite
    }

    /// [`is_read_only`] within `connect_timeout`: a connection on a dead
    /// link (a partitioned primary) fails the check in that time instead
    /// of holding the checkout until its deadline.
    async fn check(&self, conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
        let limit = self.targets.connect_timeout;
        let answer = match tokio::time::timeout(limit, is_read_only(conn)).await {
            Ok(answer) => answer,
            Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("PostgreSQL did not answer within {}s", limit.as_secs()),
            ))),
        };
        if answer.is_err() {
            // A dead or cut connection: the primary may be gone.
            self.wanted.notify_one();
        }
        answer
    }
}

/// Is the server behind `conn` read-only? (libpq's check for
/// `target_session_attrs=read-write`; a hot standby says `on`.)
fn is_read_only(conn: &mut PgConnection) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        let row = conn.fetch_one("SHOW transaction_read_only").await?;
        Ok(row.try_get::<String, _>(0)? == "on")
    })
}

/// The first usable host in URL order: its index and options.
pub(crate) async fn find(targets: &PgTargets) -> Result<(usize, PgConnectOptions), StoreError> {
    let mut why = Vec::new();
    for (i, options) in targets.hosts.iter().enumerate() {
        match probe(options, targets).await {
            Ok(()) => return Ok((i, options.clone())),
            Err(reason) => why.push(format!("{}: {reason}", targets.label(i))),
        }
    }
    let wanted = match targets.attrs {
        SessionAttrs::ReadWrite => "read-write PostgreSQL server",
        SessionAttrs::Any => "PostgreSQL server",
    };
    Err(StoreError::Unavailable(format!(
        "no {wanted} among {}: {}",
        targets.labels(),
        why.join("; ")
    )))
}

/// Connects to one host within `connect_timeout` and, for `read-write`,
/// checks it within another.
async fn probe(options: &PgConnectOptions, targets: &PgTargets) -> Result<(), String> {
    let limit = targets.connect_timeout;
    let mut conn = tokio::time::timeout(limit, options.connect())
        .await
        .map_err(|_| format!("no answer within {}s", limit.as_secs()))?
        .map_err(|e| e.to_string())?;
    let verdict = if targets.attrs == SessionAttrs::ReadWrite {
        match tokio::time::timeout(limit, is_read_only(&mut conn)).await {
            Ok(Ok(false)) => Ok(()),
            Ok(Ok(true)) => Err("read-only".to_string()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {}s", limit.as_secs())),
        }
    } else {
        Ok(())
    };
    // A probe connection is not kept; closing it cleanly is a courtesy.
    let _ = tokio::time::timeout(limit, conn.close()).await;
    verdict
}

/// Adds the hooks to the pool options: with `read-write`, a new connection
/// to a read-only server is refused and every checkout re-checks; with
/// `any`, sqlx's own ping before checkout.
pub(crate) fn with_hooks(pool: PgPoolOptions, shared: &Arc<Shared>) -> PgPoolOptions {
    if !shared.read_write() {
        return pool.test_before_acquire(true);
    }
    let on_connect = Arc::clone(shared);
    let on_acquire = Arc::clone(shared);
    pool.test_before_acquire(false)
        .after_connect(move |conn, _meta: PoolConnectionMetadata| {
            let shared = Arc::clone(&on_connect);
            async move {
                if shared.check(conn).await? {
                    shared.wanted.notify_one();
                    return Err(sqlx::Error::Protocol(
                        "refused a connection to a read-only PostgreSQL server (not the primary); looking for the primary".into(),
                    ));
                }
                Ok(())
            }
            .boxed()
        })
        .before_acquire(move |conn, _meta| -> BoxFuture<'_, Result<bool, sqlx::Error>> {
            let shared = Arc::clone(&on_acquire);
            async move {
                if shared.check(conn).await? {
                    shared.wanted.notify_one();
                    return Ok(false);
                }
                Ok(true)
            }
            .boxed()
        })
}

/// Kept by the store for as long as it lives: owns the pool handle the
/// discovery task uses, and stops the task when dropped.
pub(crate) struct Finder {
    shared: Arc<Shared>,
    pool: Pool<Postgres>,
}

impl Drop for Finder {
    fn drop(&mut self) {
        self.shared.stop.notify_one();
    }
}

impl Finder {
    /// Starts the discovery task for `pool`, which now connects to host
    /// `shared.current`.
    pub(crate) fn start(shared: Arc<Shared>, pool: Pool<Postgres>) -> Arc<Finder> {
        let finder = Arc::new(Finder {
            shared: Arc::clone(&shared),
            pool,
        });
        tokio::spawn(run(shared, Arc::downgrade(&finder)));
        finder
    }

    /// One discovery run: point the pool at the first usable host. False
    /// when none was found.
    async fn discover(&self) -> bool {
        let targets = &self.shared.targets;
        match find(targets).await {
            Ok((i, options)) => {
                let before = self.shared.current.swap(i, Ordering::SeqCst);
                if before != i {
                    self.pool.set_connect_options(options);
                    tracing::warn!(
                        from = %targets.label(before),
                        to = %targets.label(i),
                        "PostgreSQL primary moved; new connections go to the new one"
                    );
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "looking for the PostgreSQL primary");
                false
            }
        }
    }
}

async fn run(shared: Arc<Shared>, finder: Weak<Finder>) {
    let mut found = true;
    loop {
        // While no primary is known (Patroni has not promoted one yet), keep
        // looking every RETRY_GAP; otherwise wait to be asked.
        if found {
            tokio::select! {
                _ = shared.stop.notified() => return,
                _ = shared.wanted.notified() => {}
                _ = TROUBLE.notified() => {}
            }
        }
        let Some(finder) = finder.upgrade() else {
            return;
        };
        if finder.pool.is_closed() {
            return;
        }
        found = finder.discover().await;
        drop(finder);
        let gap = if found { MIN_GAP } else { RETRY_GAP };
        tokio::select! {
            _ = shared.stop.notified() => return,
            _ = tokio::time::sleep(gap) => {}
        }
    }
}
