//! The workers that run queued jobs, and the scheduler of periodic work.
//!
//! A worker claims one job at a time under a lease, extends the lease every
//! third of its length while the job runs, and records the result: done, or
//! a retry after [`backoff`]. When told to stop it claims nothing more; a
//! running job gets `shutdown_deadline` to finish and is otherwise dropped
//! and released back to the queue, so another node picks it up at once.
//!
//! The scheduler runs on whichever node holds the [`SCHEDULER_LEASE`]: it
//! enqueues the expired-token and idempotency cleanups periodically and the regrades that a
//! crash between publish and enqueue left out.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::kinds::JobKind;
use super::queue::{bounded_error, Job, JobState};
use crate::Lectern;

/// The lease whose holder schedules periodic jobs.
pub const SCHEDULER_LEASE: &str = "scheduler";

/// How the workers of one node run.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Workers (jobs run at once on this node); 0 runs none.
    pub workers: usize,
    /// How long a claim holds a job without being extended.
    pub lease: Duration,
    /// How long a running job may take to finish once shutdown begins.
    pub shutdown_deadline: Duration,
    /// Longest sleep of an idle worker (enqueues on this node wake it sooner).
    pub poll: Duration,
    /// The first retry's delay; each further failure doubles it (max 1 h).
    pub retry_base: Duration,
    /// How often the scheduler wakes.
    pub schedule_every: Duration,
    /// How often expired tokens are cleaned up.
    pub cleanup_every: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            lease: Duration::from_secs(60),
            shutdown_deadline: Duration::from_secs(10),
            poll: Duration::from_secs(5),
            retry_base: Duration::from_secs(10),
            schedule_every: Duration::from_secs(60),
            cleanup_every: Duration::from_secs(3600),
        }
    }
}

/// The delay before retrying a job that failed its `attempts`-th claim:
/// `base`, then doubled each time, at most an hour.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let doublings = attempts.clamp(1, 20) - 1;
    base.saturating_mul(1u32 << doublings)
        .min(Duration::from_secs(3600))
}

/// Runs and failures per job kind on this node, for `/metrics`.
#[derive(Default)]
pub struct JobCounters {
    by_kind: Mutex<BTreeMap<String, (u64, u64)>>,
}

impl JobCounters {
    fn record(&self, kind: &str, failed: bool) {
        if let Ok(mut map) = self.by_kind.lock() {
            let entry = map.entry(kind.to_string()).or_default();
            entry.0 += 1;
            if failed {
                entry.1 += 1;
            }
        }
    }

    /// (kind, runs, failures) by kind.
    pub fn snapshot(&self) -> Vec<(String, u64, u64)> {
        self.by_kind
            .lock()
            .map(|m| m.iter().map(|(k, (r, f))| (k.clone(), *r, *f)).collect())
            .unwrap_or_default()
    }
}

/// The per-node job state the application object carries.
pub(crate) struct JobRuntime {
    pub node_id: String,
    pub wake: Notify,
    pub counters: JobCounters,
}

impl JobRuntime {
    pub fn new() -> Self {
        let mut bytes = [0u8; 6];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
        Self {
            node_id: format!("node-{}-{}", std::process::id(), hex::encode(bytes)),
            wake: Notify::new(),
            counters: JobCounters::default(),
        }
    }
}

/// Tells a node's workers to stop claiming jobs.
#[derive(Clone)]
pub struct Stopper(Arc<watch::Sender<bool>>);

impl Stopper {
    pub fn stop_claiming(&self) {
        self.0.send_replace(true);
    }
}

/// The running workers and scheduler of one node; dropping it stops them
/// as [`Workers::stop_claiming`] does.
pub struct Workers {
    stop: Arc<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `config.workers` workers, the scheduler, the engagement
    /// flush (`analytics/flush.rs`) and (with any workers) the mail
    /// outbox's delivery loop.
    pub fn start(app: &Lectern, config: WorkerConfig) -> Self {
        let (stop, _) = watch::channel(false);
        let mut tasks = Vec::new();
        for i in 0..config.workers {
            let holder = format!("{}/w{i}", app.node_id());
            tasks.push(tokio::spawn(
                work(app.clone(), config.clone(), holder, stop.subscribe()).in_current_span(),
            ));
        }
        tasks.push(tokio::spawn(
            schedule(app.clone(), config.clone(), stop.subscribe()).in_current_span(),
        ));
        // Video engagement from browser events (`analytics/flush.rs`).
        tasks.push(tokio::spawn(
            crate::analytics::flush::flush_loop(app.clone(), stop.subscribe()).in_current_span(),
        ));
        if config.workers > 0 {
            // The mail outbox's delivery loop (`outbox_delivery.rs`).
            tasks.push(tokio::spawn(
                crate::outbox_delivery::deliver(app.clone(), config.poll, stop.subscribe())
                    .in_current_span(),
            ));
        }
        Self {
            stop: Arc::new(stop),
            tasks,
        }
    }

    /// What tells the workers to stop claiming (from a shutdown handler).
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// Stops claiming now (readiness is already off).
    pub fn stop_claiming(&self) {
        self.stop.send_replace(true);
    }

    /// Stops claiming and waits for the workers: each running job finishes
    /// within the shutdown deadline or goes back to the queue.
    pub async fn shutdown(self) {
        self.stop_claiming();
        for t in self.tasks {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "a job worker panicked");
            }
        }
    }
}

/// One worker: claim, run, record, until told to stop.
async fn work(app: Lectern, config: WorkerConfig, holder: String, mut stop: watch::Receiver<bool>) {
    let lease = chrono_duration(config.lease);
    loop {
        if stopped(&stop) {
            return;
        }
        // Registered before the claim, so an enqueue in between still wakes us.
        let woken = app.jobs.wake.notified();
        match app
            .store
            .claim_job(&holder, app.now(), lease, JobKind::NAMES)
            .await
        {
            Ok(Some(job)) => run_claimed(&app, &config, &holder, job, &mut stop).await,
            Ok(None) => {
                tokio::select! {
                    _ = woken => {}
                    _ = tokio::time::sleep(config.poll) => {}
                    _ = stop.changed() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming a job failed");
                tokio::select! {
                    _ = tokio::time::sleep(config.poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

/// Runs one claimed job, keeping its lease alive, honouring shutdown.
async fn run_claimed(
    app: &Lectern,
    config: &WorkerConfig,
    holder: &str,
    job: Job,
    stop: &mut watch::Receiver<bool>,
) {
    let lease = chrono_duration(config.lease);
    let kind = match JobKind::from_job(&job) {
        Ok(k) => k,
        Err(e) => {
            finish(app, config, holder, &job, Err(e)).await;
            return;
        }
    };
    tracing::info!(
        job = job.id,
        kind = job.kind,
        attempt = job.attempts,
        "job started"
    );
    // The job and its heartbeat are polled together by this task, never one
    // awaited inside the other: each may hold a database connection, and
    // the other must go on while it waits for one.
    let mut run = Box::pin(app.run_job(&kind));
    let mut heartbeat = Box::pin(async {
        let mut beat = tokio::time::interval((config.lease / 3).max(Duration::from_millis(100)));
        beat.tick().await;
        loop {
            beat.tick().await;
            match app.store.extend_job(job.id, holder, app.now(), lease).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(job = job.id, error = %e, "extending the job's lease failed")
                }
            }
        }
    });
    let deadline = tokio::time::sleep(Duration::MAX / 4);
    tokio::pin!(deadline);
    let mut stopping = stopped(stop);
    if stopping {
        deadline
            .as_mut()
            .reset(tokio::time::Instant::now() + config.shutdown_deadline);
    }
    let ending = loop {
        tokio::select! {
            result = &mut run => break Ending::Finished(result.map_err(|e| error_text(&e))),
            () = &mut heartbeat => break Ending::LostLease,
            _ = stop.changed(), if !stopping => {
                stopping = true;
                deadline.as_mut().reset(tokio::time::Instant::now() + config.shutdown_deadline);
            }
            _ = &mut deadline, if stopping => break Ending::Deadline,
        }
    };
    // Cancelled here (a transaction in flight rolls back), before the
    // outcome is written.
    drop(run);
    drop(heartbeat);
    match ending {
        Ending::Finished(result) => finish(app, config, holder, &job, result).await,
        Ending::LostLease => {
            tracing::warn!(job = job.id, "lost the job's lease; abandoned this run");
        }
        Ending::Deadline => release(app, job.id, holder).await,
    }
}

/// Tries to put a job back in the queue this many times before leaving it
/// to its lease's expiry.
const RELEASE_ATTEMPTS: u32 = 4;

/// Puts a job whose run the shutdown deadline cut short back in the queue,
/// its attempt given back. The cancelled run may still hold the database
/// (its transaction rolling back), so a failure is retried a few times,
/// briefly; a job not released is taken up again when its lease expires.
async fn release(app: &Lectern, id: i64, holder: &str) {
    for attempt in 1..=RELEASE_ATTEMPTS {
        match app.store.release_job(id, holder, app.now()).await {
            Ok(true) => {
                tracing::info!(
                    job = id,
                    "shutdown deadline passed; job released to the queue"
                );
                return;
            }
            Ok(false) => {
                tracing::warn!(
                    job = id,
                    "shutdown deadline passed; the job was no longer this worker's to release"
                );
                return;
            }
            Err(e) if attempt < RELEASE_ATTEMPTS => {
                tracing::warn!(job = id, attempt, error = %e, "releasing the job failed; retrying");
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
            }
            Err(e) => {
                tracing::warn!(job = id, error = %e, "releasing the job failed; its lease will expire");
            }
        }
    }
}

/// How a run ended.
enum Ending {
    Finished(Result<(), String>),
    LostLease,
    Deadline,
}

async fn finish(
    app: &Lectern,
    config: &WorkerConfig,
    holder: &str,
    job: &Job,
    result: Result<(), String>,
) {
    app.jobs.counters.record(&job.kind, result.is_err());
    let now = app.now();
    match result {
        Ok(()) => match app.store.complete_job(job.id, holder, now).await {
            Ok(true) => tracing::info!(job = job.id, kind = job.kind, "job done"),
            Ok(false) => tracing::warn!(job = job.id, "job finished after its lease was lost"),
            Err(e) => tracing::warn!(job = job.id, error = %e, "recording a done job failed"),
        },
        Err(error) => {
            let retry_at = now + chrono_duration(backoff(config.retry_base, job.attempts));
            match app
                .store
                .fail_job(job.id, holder, bounded_error(&error), retry_at, now)
                .await
            {
                Ok(Some(JobState::Failed)) => {
                    tracing::error!(job = job.id, kind = job.kind, %error, "job failed for good")
                }
                Ok(_) => {
                    tracing::warn!(job = job.id, kind = job.kind, %error, %retry_at, "job failed; will retry")
                }
                Err(e) => tracing::warn!(job = job.id, error = %e, "recording a failed job failed"),
            }
        }
    }
}

/// The scheduler: periodic jobs and recovery, on the lease holder only.
async fn schedule(app: Lectern, config: WorkerConfig, mut stop: watch::Receiver<bool>) {
    let holder = app.node_id().to_string();
    let ttl = chrono_duration(config.schedule_every.saturating_mul(3));
    let mut next_cleanup = None;
    let mut tick = tokio::time::interval(config.schedule_every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => {}
        }
        if stopped(&stop) {
            if let Err(e) = app.store.release_lease(SCHEDULER_LEASE, &holder).await {
                tracing::warn!(error = %e, "releasing the scheduler lease failed");
            }
            return;
        }
        match app
            .store
            .try_acquire_lease(SCHEDULER_LEASE, &holder, app.now(), ttl)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                next_cleanup = None;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "taking the scheduler lease failed");
                continue;
            }
        }
        if let Err(e) = app.enqueue_missing_regrades().await {
            tracing::warn!(error = %e, "the regrade recovery scan failed");
        }
        if let Err(e) = app.enqueue_due_backup().await {
            tracing::warn!(error = %e, "enqueueing the scheduled backup failed");
        }
        let now = tokio::time::Instant::now();
        if next_cleanup.is_none_or(|t| now >= t) {
            let tokens = app.enqueue_job(&JobKind::ExpiredTokens).await;
            let answers = app.enqueue_job(&JobKind::IdempotencyCleanup).await;
            match tokens.and(answers) {
                Ok(_) => next_cleanup = Some(now + config.cleanup_every),
                Err(e) => tracing::warn!(error = %e, "enqueueing the periodic cleanups failed"),
            }
        }
    }
}

/// Whether the node told its workers to stop (or dropped their [`Workers`]).
fn stopped(stop: &watch::Receiver<bool>) -> bool {
    stop.has_changed().is_err() || *stop.borrow()
}

/// An error as the admin console shows it: with the detail that a page
/// shown to users would hide.
fn error_text(e: &crate::AppError) -> String {
    match e {
        crate::AppError::Internal(m) | crate::AppError::Unavailable(m) => format!("{e} ({m})"),
        other => other.to_string(),
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_an_hour() {
        let base = Duration::from_secs(10);
        let got: Vec<u64> = [1, 2, 3, 4, 9, 10, 50]
            .into_iter()
            .map(|a| backoff(base, a).as_secs())
            .collect();
        assert_eq!(got, [10, 20, 40, 80, 2560, 3600, 3600]);
        assert_eq!(backoff(base, 0).as_secs(), 10);
    }
}
