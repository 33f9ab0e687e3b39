//! Whether this node can reach its database right now, as a small circuit
//! breaker, so that an outage costs one slow request rather than every one.
//!
//! While the database answers, nothing here changes what a request does.
//! The first read that the store reports as [`StoreError::Unavailable`] (a
//! refused or broken connection, a pool that timed out) marks the database
//! as down. From then on the reads routed through [`Lectern::guarded`] fail
//! at once with `Unavailable` instead of waiting for the pool, and the
//! callers answer from what the node saw recently (`recall.rs`) or with a
//! 503. At most once a [`PROBE_EVERY`] one caller pings the database (for at
//! most [`PROBE_WAIT`]); the first ping that succeeds, or any guarded read
//! that succeeds, ends the outage, so service resumes by itself and the
//! remembered answers are never used for longer than about a second after
//! the database is back.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::Lectern;

/// How often, during an outage, the database is tried again.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
/// How long a probe waits for the database to answer.
pub const PROBE_WAIT: Duration = Duration::from_secs(2);

/// What is known about an outage in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutageReport {
    /// When this node first saw the database fail.
    pub since: DateTime<Utc>,
    /// The driver's words for the last failure (for logs, not for clients).
    pub reason: String,
}

#[derive(Debug)]
struct Down {
    report: OutageReport,
    next_probe: Instant,
    /// When the probe in flight started. A probe whose request was dropped
    /// (the client went away) never reports back: after twice its wait it
    /// counts as failed, so the outage can always end.
    probing: Option<Instant>,
}

/// The breaker: `None` while the database answers.
#[derive(Debug, Default)]
pub struct Outage {
    down: Mutex<Option<Down>>,
    /// Whether `down` is `Some`, read without the lock on every request.
    is_down: AtomicBool,
}

/// What a caller should do about the database now.
enum Gate {
    /// Ask it (no outage).
    Open,
    /// This caller probes it on behalf of everyone.
    Probe,
    /// Do not ask; the outage goes on.
    Closed,
}

impl Outage {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Down>> {
        self.down.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The outage in progress, if any.
    pub fn report(&self) -> Option<OutageReport> {
        self.lock().as_ref().map(|d| d.report.clone())
    }

    /// Records a failure seen at `now`: starts an outage, or keeps one going.
    fn failed(&self, reason: &str, now: DateTime<Utc>) {
        let mut down = self.lock();
        let next_probe = Instant::now() + PROBE_EVERY;
        match down.as_mut() {
            Some(d) => {
                d.report.reason = reason.to_string();
                d.next_probe = next_probe;
                d.probing = None;
            }
            None => {
                tracing::warn!(error = %reason, "the database cannot be reached; serving from memory what this node saw recently");
                self.is_down.store(true, Ordering::SeqCst);
                *down = Some(Down {
                    report: OutageReport {
                        since: now,
                        reason: reason.to_string(),
                    },
                    next_probe,
                    probing: None,
                });
            }
        }
    }

    /// Records a success: the outage, if any, is over.
    fn answered(&self) {
        if !self.is_down.load(Ordering::SeqCst) {
            return;
        }
        let mut down = self.lock();
        self.is_down.store(false, Ordering::SeqCst);
        if let Some(d) = down.take() {
            tracing::info!(since = %d.report.since, "the database answers again");
        }
    }

    fn gate(&self) -> Gate {
        if !self.is_down.load(Ordering::SeqCst) {
            return Gate::Open;
        }
        let mut down = self.lock();
        match down.as_mut() {
            None => Gate::Open,
            Some(d) if probe_free(d.probing) && Instant::now() >= d.next_probe => {
                d.probing = Some(Instant::now());
                Gate::Probe
            }
            Some(_) => Gate::Closed,
        }
    }

    /// A probe that did not get an answer: wait a while before the next.
    fn probe_failed(&self) {
        let mut down = self.lock();
        if let Some(d) = down.as_mut() {
            d.probing = None;
            d.next_probe = Instant::now() + PROBE_EVERY;
        }
    }
}

/// Whether no probe is in flight (or the one in flight was abandoned).
fn probe_free(probing: Option<Instant>) -> bool {
    probing.is_none_or(|started| started.elapsed() > 2 * PROBE_WAIT)
}

/// The `Unavailable` error a skipped read answers with.
fn still_down(reason: &str) -> StoreError {
    StoreError::Unavailable(format!("the database is unreachable ({reason})"))
}

impl Lectern {
    /// Runs a store read unless the database is known to be unreachable;
    /// keeps the breaker up to date with what the read found.
    pub(crate) async fn guarded<T>(
        &self,
        read: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if !self.database_reachable().await {
            let reason = self.outage.report().map(|r| r.reason).unwrap_or_default();
            return Err(still_down(&reason));
        }
        let result = read.await;
        match &result {
            Ok(_) => self.outage.answered(),
            Err(StoreError::Unavailable(reason)) => self.outage.failed(reason, self.now()),
            Err(_) => {}
        }
        result
    }

    /// Whether requests should go to the database now: true unless an
    /// outage is in progress and the probe (made here when one is due)
    /// did not get an answer. Writes are refused while this is false.
    pub async fn database_reachable(&self) -> bool {
        match self.outage.gate() {
            Gate::Open => true,
            Gate::Closed => false,
            Gate::Probe => match tokio::time::timeout(PROBE_WAIT, self.store.ping()).await {
                Ok(Ok(())) => {
                    self.outage.answered();
                    true
                }
                Ok(Err(e)) => {
                    self.outage.failed(&e.to_string(), self.now());
                    false
                }
                Err(_) => {
                    self.outage.probe_failed();
                    false
                }
            },
        }
    }

    /// The outage in progress, if this node is in one.
    pub fn outage(&self) -> Option<OutageReport> {
        self.outage.report()
    }

    /// Checks the database for readiness: pings it (through the breaker, so
    /// an outage is answered without waiting) and says what is wrong.
    pub async fn check_database(&self) -> Result<(), StoreError> {
        self.guarded(self.store.ping()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failure_closes_the_gate_until_a_probe_is_due() {
        let o = Outage::default();
        assert!(matches!(o.gate(), Gate::Open));
        let now = Utc::now();
        o.failed("connection refused", now);
        assert!(matches!(o.gate(), Gate::Closed), "no probe yet");
        assert_eq!(o.report().map(|r| r.since), Some(now));
        // A later failure keeps the first moment.
        o.failed("still refused", now + chrono::Duration::seconds(5));
        assert_eq!(o.report().map(|r| r.since), Some(now));
        assert_eq!(
            o.report().map(|r| r.reason).as_deref(),
            Some("still refused")
        );
        // Once a probe is due, exactly one caller gets it.
        o.lock().as_mut().unwrap().next_probe = Instant::now();
        assert!(matches!(o.gate(), Gate::Probe));
        assert!(matches!(o.gate(), Gate::Closed));
        o.probe_failed();
        assert!(matches!(o.gate(), Gate::Closed));
        // A probe that never reports back (its request was dropped) does
        // not keep the outage going for ever.
        o.lock().as_mut().unwrap().next_probe = Instant::now();
        assert!(matches!(o.gate(), Gate::Probe));
        o.lock().as_mut().unwrap().probing = Some(Instant::now() - 3 * PROBE_WAIT);
        assert!(matches!(o.gate(), Gate::Probe), "abandoned probe");
        o.answered();
        assert!(matches!(o.gate(), Gate::Open));
        assert!(o.report().is_none());
    }
}
