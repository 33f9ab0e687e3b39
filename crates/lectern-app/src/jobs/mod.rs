//! Background work that must not vanish: a durable job queue in the
//! database and the workers that run it.
//!
//! Work that used to be a `tokio::spawn` nobody awaited (the regrade after a
//! publish, the expired-token cleanup) is a row in `jobs`; a [`Worker`]
//! claims it under a lease it extends while it works, retries failures with
//! exponential backoff, and at shutdown stops claiming, gives running jobs a
//! deadline and puts back what did not finish. A node that dies mid-job
//! leaves a lease that runs out, and another node (or the same one,
//! restarted) claims the job again, so every job must be safe to run twice.
//!
//! - `queue.rs` — the storage traits (`JobStore`, `LeaseStore`) and types.
//! - `kinds.rs` — what each kind of job does, and the enqueue helpers.
//! - `regrade.rs` — the course regrade job for one published version.
//! - `worker.rs` — the workers and the scheduler of periodic work.

mod kinds;
mod queue;
mod regrade;
mod worker;

pub use kinds::{JobKind, REGRADE_MAX_ATTEMPTS};
pub use queue::{bounded_error, Job, JobState, JobStore, LeaseStore, NewJob, MAX_ERROR_BYTES};
pub use regrade::RegradeOutcome;
pub(crate) use worker::JobRuntime;
pub use worker::{backoff, JobCounters, Stopper, WorkerConfig, Workers, SCHEDULER_LEASE};
