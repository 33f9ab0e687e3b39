//! The scheduled backups of `lectern serve` (`[backup] schedule`): the cron
//! expression (croner; five fields, or six with seconds) read in the
//! configured time zone, and the run each due time's `backup` job makes:
//! create into the configured target, verify it, prune by the `keep_*`
//! settings. Which node runs it is the job queue's business
//! (`lectern_app::backup_schedule`).

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use lectern_app::backup_schedule::{BackupRun, BackupRunner};
use lectern_app::store::Store;
use lectern_backup::ops::{self, Silent};
use lectern_backup::{Encryption, Keys, Target};

use super::backup_target;
use crate::config::Config;

/// A parsed schedule.
#[derive(Clone)]
pub struct Schedule {
    cron: Cron,
    tz: Tz,
}

impl Schedule {
    /// The configured schedule, or `None` when there is none.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let pattern = config.backup.schedule.trim();
        if pattern.is_empty() {
            return Ok(None);
        }
        let cron = Cron::from_str(pattern)
            .with_context(|| format!("[backup] schedule {pattern:?} is not a cron expression"))?;
        let tz = Tz::from_str(config.backup.timezone.trim()).map_err(|_| {
            anyhow::anyhow!(
                "[backup] timezone {:?} is not a time zone name (e.g. \"UTC\", \"Europe/Zurich\")",
                config.backup.timezone
            )
        })?;
        let s = Self { cron, tz };
        anyhow::ensure!(
            s.interval(Utc::now()).is_some(),
            "[backup] schedule {pattern:?} never comes due"
        );
        Ok(Some(s))
    }

    pub fn due_at_or_before(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&now.with_timezone(&self.tz), true)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The time between the next two due times after `now`.
    pub fn interval(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        let local = now.with_timezone(&self.tz);
        let a = self.cron.find_next_occurrence(&local, false).ok()?;
        let b = self.cron.find_next_occurrence(&a, false).ok()?;
        Some(b - a)
    }
}

/// Takes the scheduled backups of one node.
pub struct Scheduled {
    schedule: Schedule,
    config: Config,
    target: Arc<dyn Target>,
    last: Mutex<Option<BackupRun>>,
}

impl Scheduled {
    pub fn new(config: &Config, schedule: Schedule) -> anyhow::Result<Self> {
        Ok(Self {
            schedule,
            target: backup_target::target(config, None)?,
            config: config.clone(),
            last: Mutex::new(None),
        })
    }

    async fn create_verify_prune(&self, store: Arc<dyn Store>) -> anyhow::Result<(String, u64)> {
        let made = ops::create(
            store.as_ref(),
            self.target.clone(),
            &self.config.public_url(),
            Encryption::None,
            Arc::new(Silent),
        )
        .await?;
        let open = backup_target::opener(&self.config, &made.location)?;
        ops::verify(open, Arc::new(Keys::default()), Arc::new(Silent)).await?;
        let policy = self.config.backup.policy();
        if !policy.is_empty() {
            let target = self.target.clone();
            tokio::task::spawn_blocking(move || {
                super::backup_pull::prune(target.as_ref(), &policy)
            })
            .await
            .context("pruning failed")??;
        }
        Ok((made.location, made.size))
    }
}

#[async_trait]
impl BackupRunner for Scheduled {
    fn due_at_or_before(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.due_at_or_before(now)
    }

    async fn run(&self, store: Arc<dyn Store>) -> BackupRun {
        let started = std::time::Instant::now();
        let result = self.create_verify_prune(store).await;
        let run = match result {
            Ok((location, size)) => BackupRun {
                finished_at: Utc::now(),
                ok: true,
                size,
                duration_secs: started.elapsed().as_secs_f64(),
                detail: location,
            },
            Err(e) => BackupRun {
                finished_at: Utc::now(),
                ok: false,
                size: 0,
                duration_secs: started.elapsed().as_secs_f64(),
                detail: format!("{e:#}"),
            },
        };
        if let Ok(mut last) = self.last.lock() {
            *last = Some(run.clone());
        }
        run
    }

    fn last(&self) -> Option<BackupRun> {
        self.last.lock().ok().and_then(|l| l.clone())
    }
}
