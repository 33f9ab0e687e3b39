//! The one place CPU-heavy work runs: grading, problem parsing, course
//! (de)serialisation, OLX import and export.
//!
//! Why: the async runtime has one worker thread per core. A request that
//! computes for a while on one of them (a learner's check of an expensive
//! formula problem, parsing a large stored course) stops every other request
//! scheduled there, `/health/live` included; a handful of such requests at
//! once took the whole site down. So such work goes to tokio's blocking
//! threads through [`run`], and a semaphore keeps at most one job per core
//! running there ([`workers`]): the blocking pool itself would otherwise grow
//! to 512 threads, each with its own memory. Grading learners' answers has a
//! pool of its own ([`run_grading`]), since its cost is chosen by whoever
//! submits: a flood of expensive checks then delays other checks, but never
//! the parsing and grade sums that pages need. (A choice, checkbox or
//! dropdown problem is graded in place instead: its work is a comparison
//! per choice, less than the trip to the pool; `Problem::grades_cheaply`.)
//!
//! Jobs past the running ones wait in a queue of bounded length
//! ([`queue_limit`]); when it is full the caller gets
//! [`AppError::Unavailable`] at once (503 with `Retry-After`), rather than
//! an ever-growing backlog. A panic inside a job becomes
//! [`AppError::Internal`] for that request; the server carries on.
//!
//! Rules for callers: pass owned data (or `Arc`s) into the closure; never
//! call [`run`] from inside a job (a job waiting for a permit that only jobs
//! hold would stall); keep I/O and database calls out of jobs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult};

/// Jobs allowed to wait per running job before new ones are refused.
const QUEUE_PER_WORKER: usize = 32;

struct Pool {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    workers: usize,
    queue_limit: usize,
}

/// Which pool a job goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// Parsing, (de)serialisation, grade sums: work whose size the site's
    /// authors and operators control.
    General,
    /// Grading a learner's answers: its cost is chosen by whoever submits.
    Grading,
}

fn pool(lane: Lane) -> &'static Pool {
    static GENERAL: OnceLock<Pool> = OnceLock::new();
    static GRADING: OnceLock<Pool> = OnceLock::new();
    let cell = match lane {
        Lane::General => &GENERAL,
        Lane::Grading => &GRADING,
    };
    cell.get_or_init(|| {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .max(1);
        Pool::new(workers, workers * QUEUE_PER_WORKER)
    })
}

/// How many jobs of one lane run at once: the number of cores.
pub fn workers() -> usize {
    pool(Lane::General).workers
}

/// How many jobs of one lane may wait for a worker before new ones get a 503.
pub fn queue_limit() -> usize {
    pool(Lane::General).queue_limit
}

/// Runs `work` on a blocking thread of the bounded pool and gives back its
/// result. The permit is held until `work` returns, even if the caller stops
/// waiting, so the bound is on work actually running.
pub async fn run<T, F>(work: F) -> AppResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pool(Lane::General).run(work).await
}

/// [`run`] for grading learners' answers, in a pool of its own: however
/// expensive the answers some learners send, they only queue behind each
/// other, and pages, parsing and grade sums keep their workers.
pub async fn run_grading<T, F>(work: F) -> AppResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pool(Lane::Grading).run(work).await
}

/// [`run`] for work that borrows from the caller (serialising a course the
/// caller holds by reference): it waits for a worker of the same pool, then
/// runs on the current thread after telling a multi-threaded runtime to move
/// its other tasks elsewhere (`block_in_place`). On a single-threaded runtime
/// (unit tests) it simply runs.
pub async fn run_borrowed<T>(work: impl FnOnce() -> T) -> AppResult<T> {
    let pool = pool(Lane::General);
    let _permit = pool.permit().await?;
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    // The caller's data is only borrowed, so a panic leaves nothing half-changed
    // that anyone else sees: report it like a panic in a pooled job.
    let guarded = || std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    let outcome = if multi_thread {
        tokio::task::block_in_place(guarded)
    } else {
        guarded()
    };
    outcome.map_err(|_| {
        tracing::error!("a CPU job panicked");
        AppError::Internal("a background computation failed (it panicked)".into())
    })
}

/// Counts a job as waiting for as long as it waits, even if the caller
/// gives up (its request is cancelled) meanwhile.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Pool {
    fn new(workers: usize, queue_limit: usize) -> Self {
        Pool {
            permits: Arc::new(Semaphore::new(workers)),
            waiting: AtomicUsize::new(0),
            workers,
            queue_limit,
        }
    }

    /// Waits for a free worker, or refuses at once when the queue is full.
    async fn permit(&self) -> AppResult<OwnedSemaphorePermit> {
        let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&self.waiting);
        if queued >= self.queue_limit {
            tracing::warn!(queued, "CPU work queue full; refusing a request");
            return Err(AppError::Unavailable(
                "the server is busy with other work (CPU queue full)".into(),
            ));
        }
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(format!("CPU pool closed: {e}")))
    }

    async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self.permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| {
            if e.is_panic() {
                tracing::error!(error = %e, "a CPU job panicked");
                AppError::Internal("a background computation failed (it panicked)".into())
            } else {
                AppError::Internal(format!("a background computation was cancelled: {e}"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn gives_back_the_result() {
        assert_eq!(run(|| 6 * 7).await.unwrap(), 42);
    }

    #[tokio::test]
    async fn a_panic_is_an_internal_error_and_the_pool_carries_on() {
        let pool = Pool::new(2, 8);
        let r: AppResult<()> = pool.run(|| panic!("boom")).await;
        assert!(matches!(r, Err(AppError::Internal(_))), "{r:?}");
        assert_eq!(pool.permits.available_permits(), 2, "the permit came back");
        assert_eq!(pool.run(|| 1).await.unwrap(), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn work_runs_off_the_async_thread() {
        let here = std::thread::current().id();
        let there = run(|| std::thread::current().id()).await.unwrap();
        assert_ne!(here, there);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn borrowed_work_runs_with_a_permit_on_either_runtime() {
        let text = String::from("borrowed");
        assert_eq!(run_borrowed(|| text.len()).await.unwrap(), 8);
        let r: AppResult<()> = run_borrowed(|| panic!("boom")).await;
        assert!(matches!(r, Err(AppError::Internal(_))), "{r:?}");
    }

    #[tokio::test]
    async fn borrowed_work_runs_inline_on_a_single_thread() {
        let text = String::from("borrowed");
        assert_eq!(run_borrowed(|| text.len()).await.unwrap(), 8);
    }

    #[tokio::test]
    async fn at_most_workers_jobs_run_at_once_and_a_full_queue_is_refused() {
        let pool = Arc::new(Pool::new(2, 3));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let job = |pool: Arc<Pool>| {
            let (running, most) = (running.clone(), most.clone());
            tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(300));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        };
        // 2 run, 3 wait: the pool is at its bound.
        let accepted: Vec<_> = (0..5).map(|_| job(pool.clone())).collect();
        while running.load(Ordering::SeqCst) < 2 || pool.waiting.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refused = pool.run(|| ()).await;
        assert!(
            matches!(refused, Err(AppError::Unavailable(_))),
            "{refused:?}"
        );
        for h in accepted {
            h.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(pool.waiting.load(Ordering::SeqCst), 0);
        assert_eq!(pool.run(|| 7).await.unwrap(), 7, "room again once drained");
    }
}
