//! Whole-course regrade from the instructor dashboard: the button enqueues
//! the existing `course_regrade` job (`jobs/regrade.rs`) for the newest
//! published version, and every regrade, whoever started it (the button
//! or a publish, which is also when a grading-policy change takes effect),
//! keeps its progress row (learners done of total, outcome) up to date for
//! the page to show.

use chrono::{DateTime, Utc};
use lectern_content::CourseKey;

use super::store::RegradeRun;
use crate::error::{AppError, AppResult};
use crate::jobs::JobKind;
use crate::model::User;
use crate::Lectern;

/// Regrades the page lists.
pub const RECENT_REGRADES: i64 = 10;
/// Learners graded between two progress writes.
pub const PROGRESS_EVERY: usize = 25;

/// What the regrade page shows.
#[derive(Debug, Clone)]
pub struct RegradeStatus {
    pub course_name: String,
    pub published_version: Option<i64>,
    /// The most recently changed first.
    pub runs: Vec<RegradeRun>,
}

fn run(course: &CourseKey, version: i64, state: &str, now: DateTime<Utc>) -> RegradeRun {
    RegradeRun {
        course_key: course.to_string(),
        version,
        state: state.to_string(),
        requested_by: None,
        learners_total: 0,
        learners_done: 0,
        created_at: now,
        updated_at: now,
    }
}

impl Lectern {
    /// Enqueues the regrade of the newest published version; that version.
    /// A regrade of it already queued or running is left to finish.
    pub async fn request_course_regrade(&self, user: &User, key: &CourseKey) -> AppResult<i64> {
        let course = self.instructor_course(user, key).await?;
        let Some(version) = course.published_version else {
            return Err(AppError::invalid(
                "The course has no published version to regrade; publish it first.",
            ));
        };
        let current = self
            .store
            .regrade_runs(&key.to_string(), RECENT_REGRADES)
            .await?;
        let pending = current
            .iter()
            .any(|r| r.version == version && matches!(r.state.as_str(), "queued" | "running"));
        let kind = JobKind::CourseRegrade {
            course: key.clone(),
            version,
        };
        if !pending {
            let mut row = run(key, version, "queued", self.now());
            row.requested_by = Some(user.id);
            self.store.save_regrade_run(&row).await?;
        }
        self.enqueue_job(&kind).await?;
        tracing::info!(course = %key, version, by = %user.username, "whole-course regrade requested");
        Ok(version)
    }

    /// The course's regrades with their progress.
    pub async fn regrade_status(&self, user: &User, key: &CourseKey) -> AppResult<RegradeStatus> {
        let course = self.instructor_course(user, key).await?;
        Ok(RegradeStatus {
            course_name: course.display_name,
            published_version: course.published_version,
            runs: self
                .store
                .regrade_runs(&key.to_string(), RECENT_REGRADES)
                .await?,
        })
    }

    /// A regrade job starts on `total` learners. Progress rows are for
    /// people to read: a failure to write one is logged, never fails the regrade.
    pub(crate) async fn regrade_started(&self, key: &CourseKey, version: i64, total: usize) {
        let mut row = run(key, version, "running", self.now());
        if let Ok(runs) = self
            .store
            .regrade_runs(&key.to_string(), RECENT_REGRADES)
            .await
        {
            if let Some(old) = runs.iter().find(|r| r.version == version) {
                row.requested_by = old.requested_by;
                row.created_at = old.created_at;
            }
        }
        row.learners_total = total as i64;
        if let Err(e) = self.store.save_regrade_run(&row).await {
            tracing::warn!(course = %key, version, error = %e, "recording a regrade's start failed");
        }
    }

    pub(crate) async fn regrade_advanced(&self, key: &CourseKey, version: i64, done: usize) {
        if let Err(e) = self
            .store
            .regrade_progress(&key.to_string(), version, done as i64, self.now())
            .await
        {
            tracing::warn!(course = %key, version, error = %e, "recording a regrade's progress failed");
        }
    }

    /// The regrade ended in `state` (done, superseded, failed).
    pub(crate) async fn regrade_ended(
        &self,
        key: &CourseKey,
        version: i64,
        state: &str,
        done: usize,
        total: usize,
    ) {
        let mut row = run(key, version, state, self.now());
        if let Ok(runs) = self
            .store
            .regrade_runs(&key.to_string(), RECENT_REGRADES)
            .await
        {
            if let Some(old) = runs.iter().find(|r| r.version == version) {
                row.requested_by = old.requested_by;
                row.created_at = old.created_at;
            }
        }
        row.learners_done = done as i64;
        row.learners_total = total as i64;
        if let Err(e) = self.store.save_regrade_run(&row).await {
            tracing::warn!(course = %key, version, error = %e, "recording a regrade's end failed");
        }
    }
}
