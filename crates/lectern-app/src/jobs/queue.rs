//! The storage seam of the job queue and of named leases, in domain terms.
//!
//! A job is a row: queued → running (claimed by one node under a lease that
//! the node extends while it works) → done, or back to queued with a later
//! `run_after` when it fails (until `max_attempts`, then `failed`, kept for
//! inspection). A node that dies leaves its job `running` with a lease that
//! runs out; any node may then claim it again. Every transition names the
//! holder, so a node that lost its lease cannot complete someone else's run.
//!
//! A lease is a named lock with an expiry, for work that must run on one
//! node at a time (the scheduler of periodic jobs, backups).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::store::StoreResult;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobState {
    /// Waiting for `run_after`, then for a worker.
    Queued,
    /// Claimed by a node whose lease runs until `locked_until`.
    Running,
    Done,
    /// Gave up after `max_attempts`; kept for the admin console.
    Failed,
}

impl JobState {
    pub const ALL: [JobState; 4] = [Self::Queued, Self::Running, Self::Done, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// A job to add to the queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Which code runs it (`crate::jobs::JobKind` names).
    pub kind: String,
    pub payload: serde_json::Value,
    /// While a queued or running job has this key, enqueueing another with
    /// the same key does nothing (one pending regrade per course version).
    pub dedupe_key: Option<String>,
    /// Not claimable before this time.
    pub run_after: DateTime<Utc>,
    /// Claims allowed before the job is `failed` (at least 1).
    pub max_attempts: i64,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub dedupe_key: Option<String>,
    pub state: JobState,
    /// Claims so far (a release at shutdown gives one back).
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_after: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    /// The node holding (or that last held) the job.
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Longest `last_error` kept, in bytes (a job's error can be a long chain).
pub const MAX_ERROR_BYTES: usize = 2000;

/// `text` cut to at most `MAX_ERROR_BYTES` on a character boundary.
pub fn bounded_error(text: &str) -> &str {
    if text.len() <= MAX_ERROR_BYTES {
        return text;
    }
    let mut end = MAX_ERROR_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[async_trait]
pub trait JobStore {
    /// Adds a job; returns its id, or `None` when a queued or running job
    /// already has the same `dedupe_key`.
    async fn enqueue_job(&self, job: &NewJob, now: DateTime<Utc>) -> StoreResult<Option<i64>>;
    /// Atomically takes the oldest due job — queued with `run_after <= now`,
    /// or running with a lease that ran out before `now` — marks it running
    /// for `holder` until `now + lease` and counts an attempt. Concurrent
    /// claimers never get the same job. A job whose lease ran out on its
    /// last attempt is marked failed instead of claimed. Only jobs whose
    /// kind is one of `kinds` are taken (none when it is empty): a node
    /// leaves kinds it does not know, such as a newer binary's during a
    /// rolling update, queued for the nodes that do.
    async fn claim_job(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
        kinds: &[&str],
    ) -> StoreResult<Option<Job>>;
    /// Extends the lease of a job `holder` still holds; false if it lost it.
    async fn extend_job(
        &self,
        id: i64,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> StoreResult<bool>;
    /// Marks a job `holder` holds done; false if it lost it.
    async fn complete_job(&self, id: i64, holder: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Records a failed run of a job `holder` holds: queued again from
    /// `retry_at` while attempts remain, else `failed`. The new state, or
    /// `None` if `holder` lost the job.
    async fn fail_job(
        &self,
        id: i64,
        holder: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<JobState>>;
    /// Puts a job `holder` holds back in the queue, due now, without
    /// counting the attempt (a node shutting down); false if it lost it.
    async fn release_job(&self, id: i64, holder: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// The newest jobs first, at most `limit`.
    async fn recent_jobs(&self, limit: i64) -> StoreResult<Vec<Job>>;
    async fn job(&self, id: i64) -> StoreResult<Option<Job>>;
    /// How many jobs are in each state (states with none are left out).
    async fn count_jobs(&self) -> StoreResult<Vec<(JobState, i64)>>;
    /// Deletes done jobs last changed before `before`; returns how many.
    async fn delete_done_jobs(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// How many jobs (in any state) have this dedupe key.
    async fn count_jobs_with_key(&self, dedupe_key: &str) -> StoreResult<i64>;
    /// Published courses with a stored grade of an actively enrolled learner computed for an older version
    /// than the newest published one, with that version (a regrade that was
    /// never enqueued or never finished); at most `limit`.
    async fn courses_with_stale_grades(&self, limit: i64) -> StoreResult<Vec<(String, i64)>>;
}

#[async_trait]
pub trait LeaseStore {
    /// Takes the lease `name` for `holder` until `now + ttl` if it is free,
    /// expired, or already `holder`'s; true when `holder` now holds it.
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> StoreResult<bool>;
    /// Extends a lease `holder` holds and has not let expire; false otherwise.
    async fn renew_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> StoreResult<bool>;
    /// Gives the lease up if `holder` holds it.
    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()>;
}
