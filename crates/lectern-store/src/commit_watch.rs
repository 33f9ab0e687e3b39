//! A PostgreSQL commit that "succeeded" without reaching the synchronous
//! standby is not acknowledged.
//!
//! With synchronous replication a COMMIT waits for a standby. If that wait
//! is cancelled (a cancel request, `pg_cancel_backend`, a driver's query
//! timeout) the server answers the COMMIT with *success* plus
//! `WARNING: canceling wait for synchronous replication due to user
//! request` (detail: "The transaction has already committed locally, but
//! might not have been replicated to the standby"). On an isolated primary
//! that write is lost at the failover (see `/work/shared/CLUSTER-NOTES.md`).
//! Lectern must not tell a client it was saved: the store turns such a
//! commit into `StoreError::Unavailable` (503 + `Retry-After`); the client
//! retries, with its `Idempotency-Key` where it has one.
//!
//! sqlx 0.8 does not hand notices to the caller: it logs each as a `tracing`
//! event (target `sqlx::postgres::notice`, WARN for warnings, message only,
//! no detail or SQLSTATE), synchronously, while the future that reads the
//! COMMIT's answer is being polled. So:
//! - [`CommitWatchLayer`] (a `tracing_subscriber::Layer` the binary adds,
//!   with its own filter so it sees these events whatever the log level)
//!   raises a thread-local flag for such a warning, but only while a
//!   watched future is being polled on that thread;
//! - [`acknowledged`] wraps a commit (or an auto-committed write): around
//!   each poll of the inner future it sets the "watching" marker and reads
//!   the flag back; an `Ok` with the flag raised becomes the error.
//!
//! Limits, said plainly: the match is on the English message text (run
//! PostgreSQL with `lc_messages` = C/English, as Debian and Patroni do by
//! default); without the layer installed nothing is detected, so
//! `PgStore::open` warns when it is missing. Lectern itself never cancels:
//! sqlx never sends cancel requests, and a dropped future (a request
//! timeout) closes its connection instead, which the server sees as a
//! client gone, so no success ever reaches a client for that write.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use lectern_app::store::StoreResult;
use lectern_app::StoreError;
use sqlx::{Database, Transaction};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::layer::{Context as LayerContext, Layer};

use crate::shared::errors::map_err;

/// The target sqlx logs server notices under.
pub const NOTICE_TARGET: &str = "sqlx::postgres::notice";

/// What the server's warning says when a commit stopped waiting for its
/// standby ("canceling wait for …" on a cancel, "canceling the wait for …"
/// when the session is being terminated).
const SYNC_REP_CANCELED: &str = "wait for synchronous replication";

thread_local! {
    /// `None`: no watched future is being polled on this thread;
    /// `Some(seen)`: one is, and `seen` says whether the warning came.
    static WATCH: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Set once a [`CommitWatchLayer`] has been added to a subscriber.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Has a [`CommitWatchLayer`] been installed in this process?
pub fn layer_installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// The layer that notices the "committed locally" warning. Add it to the
/// process's subscriber with [`commit_watch_layer`] (which carries its own
/// filter).
#[derive(Debug, Default, Clone, Copy)]
pub struct CommitWatchLayer;

/// [`CommitWatchLayer`] with the filter it needs (WARN and above of
/// [`NOTICE_TARGET`]) as a per-layer filter, so it works whatever other
/// layers' filters (`RUST_LOG`, `log_level`) say.
pub fn commit_watch_layer<S>() -> Filtered<CommitWatchLayer, Targets, S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    CommitWatchLayer.with_filter(Targets::new().with_target(NOTICE_TARGET, Level::WARN))
}

struct MessageHas(bool);

impl Visit for MessageHas {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" && value.contains(SYNC_REP_CANCELED) {
            self.0 = true;
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && format!("{value:?}").contains(SYNC_REP_CANCELED) {
            self.0 = true;
        }
    }
}

impl<S: Subscriber> Layer<S> for CommitWatchLayer {
    fn on_layer(&mut self, _subscriber: &mut S) {
        INSTALLED.store(true, Ordering::Relaxed);
    }

    fn on_event(&self, event: &Event<'_>, _ctx: LayerContext<'_, S>) {
        let meta = event.metadata();
        if meta.target() != NOTICE_TARGET || *meta.level() > Level::WARN {
            return;
        }
        if WATCH.with(|w| w.get().is_none()) {
            return;
        }
        let mut has = MessageHas(false);
        event.record(&mut has);
        if has.0 {
            WATCH.with(|w| w.set(Some(true)));
        }
    }
}

/// Polls `inner` with the watching marker set; remembers a warning seen
/// during any poll.
struct Watched<F> {
    inner: Pin<Box<F>>,
    seen: bool,
}

impl<F: Future> Future for Watched<F> {
    type Output = (F::Output, bool);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outer = WATCH.with(|w| w.replace(Some(false)));
        let result = self.inner.as_mut().poll(cx);
        let seen = WATCH.with(|w| w.replace(outer)) == Some(true);
        if seen {
            self.seen = true;
            // A watcher around this one must fail too.
            if outer.is_some() {
                WATCH.with(|w| w.set(Some(true)));
            }
        }
        match result {
            Poll::Ready(out) => Poll::Ready((out, self.seen)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Runs a commit or an auto-committed write: its driver error mapped as
/// usual, and a success that came with the "committed locally" warning
/// turned into `StoreError::Unavailable` (not acknowledged).
pub(crate) async fn acknowledged<T, F>(write: F) -> StoreResult<T>
where
    F: Future<Output = Result<T, sqlx::Error>>,
{
    let (result, seen) = Watched {
        inner: Box::pin(write),
        seen: false,
    }
    .await;
    let value = result.map_err(map_err)?;
    if seen {
        tracing::error!(
            "a commit came back 'committed locally' without its synchronous standby; it is reported as failed (not acknowledged)"
        );
        return Err(StoreError::Unavailable(
            "the write was not confirmed by the database's standby (committed locally only); try again".into(),
        ));
    }
    Ok(value)
}

/// [`acknowledged`] as a method, for a write run straight on the pool
/// (auto-committed): `.execute(&self.write).acknowledged().await`.
pub(crate) trait Acknowledge<T>: Future<Output = Result<T, sqlx::Error>> + Sized {
    fn acknowledged(self) -> impl Future<Output = StoreResult<T>> {
        acknowledged(self)
    }
}

impl<T, F: Future<Output = Result<T, sqlx::Error>>> Acknowledge<T> for F {}

/// Commits `tx` through [`acknowledged`]: every write transaction of the
/// store ends here.
pub(crate) async fn commit<DB: Database>(tx: Transaction<'_, DB>) -> StoreResult<()> {
    acknowledged(tx.commit()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    fn notice(message: &str) {
        tracing::warn!(target: "sqlx::postgres::notice", message = message);
    }

    #[tokio::test]
    async fn only_the_warning_inside_a_watched_write_fails_it() {
        let subscriber = tracing_subscriber::registry().with(commit_watch_layer());
        let _guard = tracing::subscriber::set_default(subscriber);
        assert!(layer_installed());
        // Outside any watched write: ignored, and it does not leak into the next.
        notice("canceling wait for synchronous replication due to user request");
        assert!(acknowledged(async { Ok::<_, sqlx::Error>(1) })
            .await
            .is_ok());
        let r = acknowledged(async {
            tokio::task::yield_now().await;
            notice("canceling wait for synchronous replication due to user request");
            Ok::<_, sqlx::Error>(())
        })
        .await;
        assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
        // Other warnings are not this.
        let r = acknowledged(async {
            notice("there is no transaction in progress");
            Ok::<_, sqlx::Error>(())
        })
        .await;
        assert!(r.is_ok());
        // Nested: the outer one fails too.
        let r = acknowledged(async {
            let inner = acknowledged(async {
                notice("canceling the wait for synchronous replication and terminating connection due to administrator command");
                Ok::<_, sqlx::Error>(())
            })
            .await;
            assert!(inner.is_err());
            Ok::<_, sqlx::Error>(())
        })
        .await;
        assert!(r.is_err());
    }
}
