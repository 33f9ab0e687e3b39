//! Scheduled backups as jobs: the scheduler (on the `scheduler` lease
//! holder) enqueues one `backup` job per due time, with that time in its
//! dedupe key, so with any number of nodes each due time gives one backup,
//! and a node that is down does not stop it. What a backup run does
//! (archive, target, retention) is the binary's `BackupRunner`, since the
//! archive format lives in a crate above this one.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::AppResult;
use crate::jobs::JobKind;
use crate::store::Store;
use crate::Lectern;

/// A due time missed by more than this (every node down) is skipped; the
/// next one runs.
pub const CATCH_UP: Duration = Duration::hours(1);

/// The outcome of one scheduled backup on this node.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRun {
    pub finished_at: DateTime<Utc>,
    pub ok: bool,
    /// Archive size in bytes (0 when it failed).
    pub size: u64,
    pub duration_secs: f64,
    /// Where it went, or why it failed.
    pub detail: String,
}

/// Takes the scheduled backups; plugged in by the binary.
#[async_trait]
pub trait BackupRunner: Send + Sync {
    /// The newest due time at or before `now`.
    fn due_at_or_before(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>>;
    /// Creates, verifies and prunes; the outcome is also kept for `last`.
    async fn run(&self, store: Arc<dyn Store>) -> BackupRun;
    /// The last run on this node since it started.
    fn last(&self) -> Option<BackupRun>;
}

impl Lectern {
    /// Takes scheduled backups with `runner`.
    pub fn with_backups(mut self, runner: Arc<dyn BackupRunner>) -> Self {
        self.backups = Some(runner);
        self
    }

    /// Enqueues the backup of the newest due time unless one was already
    /// enqueued for it (by any node). Returns the job id when it enqueued.
    pub async fn enqueue_due_backup(&self) -> AppResult<Option<i64>> {
        let Some(runner) = &self.backups else {
            return Ok(None);
        };
        let now = self.now();
        let Some(due) = runner.due_at_or_before(now) else {
            return Ok(None);
        };
        if now - due > CATCH_UP {
            return Ok(None);
        }
        let kind = JobKind::Backup {
            due: due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        if self.store.count_jobs_with_key(&kind.dedupe_key()).await? > 0 {
            return Ok(None);
        }
        self.enqueue_job(&kind).await
    }

    /// Runs one scheduled backup (the `backup` job).
    pub(crate) async fn run_backup_job(&self, due: &str) -> AppResult<()> {
        let Some(runner) = &self.backups else {
            return Err(crate::AppError::Unavailable(
                "this node takes no scheduled backups".into(),
            ));
        };
        let run = runner.run(self.store.clone()).await;
        if run.ok {
            tracing::info!(
                due,
                size = run.size,
                location = run.detail,
                "scheduled backup done"
            );
            Ok(())
        } else {
            Err(crate::AppError::Internal(format!(
                "the backup due {due} failed: {}",
                run.detail
            )))
        }
    }

    /// The last scheduled backup on this node, for `/metrics` and the admin console.
    pub fn last_backup(&self) -> Option<BackupRun> {
        self.backups.as_ref().and_then(|r| r.last())
    }
}
