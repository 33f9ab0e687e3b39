//! The kinds of job Lectern runs, how each is stored (kind name + JSON
//! payload) and the use cases around the queue: enqueueing, running one
//! job, the recovery scan, the admin list.

use chrono::Duration;
use lectern_content::CourseKey;
use serde_json::json;

use super::queue::{Job, JobState, NewJob};
use crate::error::{AppError, AppResult};
use crate::model::User;
use crate::Lectern;

/// Claims a regrade gets before it is left `failed` for an operator.
pub const REGRADE_MAX_ATTEMPTS: i64 = 8;
const CLEANUP_MAX_ATTEMPTS: i64 = 3;
const BACKUP_MAX_ATTEMPTS: i64 = 3;
/// A bulk e-mail's fan-out is safe to rerun (dedupe keys), so it may retry often.
const BULK_EMAIL_MAX_ATTEMPTS: i64 = 10;
/// A report starts over on each claim; a report that keeps failing is marked failed.
const REPORT_MAX_ATTEMPTS: i64 = 3;
/// Issuing certificates is idempotent (one per learner and course).
const CERTIFICATE_MAX_ATTEMPTS: i64 = 8;
/// Done jobs are kept this long for the admin console, then deleted.
const KEEP_DONE_DAYS: i64 = 7;
/// The most courses one recovery scan enqueues.
const RECOVERY_BATCH: i64 = 100;
/// Jobs shown on the admin console.
pub const RECENT_JOBS: i64 = 100;

/// One unit of background work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobKind {
    /// Recompute every enrolled learner's grade for this published version.
    CourseRegrade { course: CourseKey, version: i64 },
    /// Delete expired sessions and tokens, and old done jobs.
    ExpiredTokens,
    /// The scheduled backup of one due time (RFC 3339, UTC).
    Backup { due: String },
    /// Delete the stored answers of keyed writes (`Idempotency-Key`) older
    /// than the keep window.
    IdempotencyCleanup,
    /// Queue every recipient's copy of a bulk e-mail in the outbox.
    BulkEmail { email_id: i64 },
    /// Write one requested course report (`crate::reports`).
    CourseReport { report_id: i64 },
    /// Issue one learner's certificate if their stored grade passes.
    Certificate { user_id: i64, course: CourseKey },
    /// Issue a certificate to every passing learner of a course.
    Certificates { course: CourseKey },
}

impl JobKind {
    pub const REGRADE: &'static str = "course_regrade";
    pub const EXPIRED_TOKENS: &'static str = "expired_tokens";
    pub const BACKUP: &'static str = "backup";
    pub const IDEMPOTENCY_CLEANUP: &'static str = "idempotency_cleanup";
    pub const BULK_EMAIL: &'static str = "bulk_email";
    pub const COURSE_REPORT: &'static str = "course_report";
    pub const CERTIFICATE: &'static str = "certificate";
    pub const CERTIFICATES: &'static str = "certificates";
    /// Every kind this binary can run: what its workers claim.
    pub const NAMES: &'static [&'static str] = &[
        Self::REGRADE,
        Self::EXPIRED_TOKENS,
        Self::BACKUP,
        Self::IDEMPOTENCY_CLEANUP,
        Self::BULK_EMAIL,
        Self::COURSE_REPORT,
        Self::CERTIFICATE,
        Self::CERTIFICATES,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Self::CourseRegrade { .. } => Self::REGRADE,
            Self::ExpiredTokens => Self::EXPIRED_TOKENS,
            Self::Backup { .. } => Self::BACKUP,
            Self::IdempotencyCleanup => Self::IDEMPOTENCY_CLEANUP,
            Self::BulkEmail { .. } => Self::BULK_EMAIL,
            Self::CourseReport { .. } => Self::COURSE_REPORT,
            Self::Certificate { .. } => Self::CERTIFICATE,
            Self::Certificates { .. } => Self::CERTIFICATES,
        }
    }

    /// The key that keeps one pending job of this kind and target.
    pub fn dedupe_key(&self) -> String {
        match self {
            Self::CourseRegrade { course, version } => {
                format!("{}:{course}@{version}", Self::REGRADE)
            }
            Self::ExpiredTokens => Self::EXPIRED_TOKENS.to_string(),
            Self::Backup { due } => format!("{}:{due}", Self::BACKUP),
            Self::IdempotencyCleanup => Self::IDEMPOTENCY_CLEANUP.to_string(),
            Self::BulkEmail { email_id } => format!("{}:{email_id}", Self::BULK_EMAIL),
            Self::CourseReport { report_id } => format!("{}:{report_id}", Self::COURSE_REPORT),
            Self::Certificate { user_id, course } => {
                format!("{}:{course}:{user_id}", Self::CERTIFICATE)
            }
            Self::Certificates { course } => format!("{}:{course}", Self::CERTIFICATES),
        }
    }

    pub(crate) fn new_job(&self, run_after: chrono::DateTime<chrono::Utc>) -> NewJob {
        let (payload, max_attempts) = match self {
            Self::CourseRegrade { course, version } => (
                json!({"course_key": course.to_string(), "version": version}),
                REGRADE_MAX_ATTEMPTS,
            ),
            Self::ExpiredTokens => (json!({}), CLEANUP_MAX_ATTEMPTS),
            Self::Backup { due } => (json!({"due": due}), BACKUP_MAX_ATTEMPTS),
            Self::IdempotencyCleanup => (json!({}), CLEANUP_MAX_ATTEMPTS),
            Self::BulkEmail { email_id } => {
                (json!({"email_id": email_id}), BULK_EMAIL_MAX_ATTEMPTS)
            }
            Self::CourseReport { report_id } => {
                (json!({"report_id": report_id}), REPORT_MAX_ATTEMPTS)
            }
            Self::Certificate { .. } | Self::Certificates { .. } => (
                crate::certificates::job_payload(self).unwrap_or_default(),
                CERTIFICATE_MAX_ATTEMPTS,
            ),
        };
        NewJob {
            kind: self.name().to_string(),
            payload,
            dedupe_key: Some(self.dedupe_key()),
            run_after,
            max_attempts,
        }
    }

    /// The kind of a stored job; an error names what is wrong with it.
    pub fn from_job(job: &Job) -> Result<Self, String> {
        match job.kind.as_str() {
            Self::REGRADE => {
                let course = job.payload["course_key"]
                    .as_str()
                    .ok_or("the payload has no course_key")?
                    .parse::<CourseKey>()
                    .map_err(|e| format!("bad course_key: {e}"))?;
                let version = job.payload["version"]
                    .as_i64()
                    .ok_or("the payload has no version")?;
                Ok(Self::CourseRegrade { course, version })
            }
            Self::EXPIRED_TOKENS => Ok(Self::ExpiredTokens),
            Self::IDEMPOTENCY_CLEANUP => Ok(Self::IdempotencyCleanup),
            Self::BULK_EMAIL => Ok(Self::BulkEmail {
                email_id: job.payload["email_id"]
                    .as_i64()
                    .ok_or("the payload has no email_id")?,
            }),
            Self::COURSE_REPORT => Ok(Self::CourseReport {
                report_id: job.payload["report_id"]
                    .as_i64()
                    .ok_or("the payload has no report_id")?,
            }),
            Self::CERTIFICATE => crate::certificates::one_from_payload(&job.payload),
            Self::CERTIFICATES => crate::certificates::all_from_payload(&job.payload),
            Self::BACKUP => Ok(Self::Backup {
                due: job.payload["due"]
                    .as_str()
                    .ok_or("the payload has no due time")?
                    .to_string(),
            }),
            other => Err(format!("this node does not know jobs of kind {other:?}")),
        }
    }
}

impl Lectern {
    /// Adds a job due now and wakes this node's idle workers; `None` when
    /// the same job is already pending.
    pub async fn enqueue_job(&self, kind: &JobKind) -> AppResult<Option<i64>> {
        let id = self
            .store
            .enqueue_job(&kind.new_job(self.now()), self.now())
            .await?;
        if let Some(id) = id {
            tracing::debug!(job = id, kind = kind.name(), "job enqueued");
            self.jobs.wake.notify_waiters();
        }
        Ok(id)
    }

    /// Enqueues the regrade of `course` at published `version`. The publish
    /// is already committed, so a failure here is logged, not returned: the
    /// scheduler's recovery scan finds the stale grades and enqueues it.
    pub(crate) async fn enqueue_regrade(&self, course: &CourseKey, version: i64) {
        let kind = JobKind::CourseRegrade {
            course: course.clone(),
            version,
        };
        if let Err(e) = self.enqueue_job(&kind).await {
            tracing::warn!(course = %course, version, error = %e, "enqueueing the regrade failed; the recovery scan will retry");
        }
    }

    /// Runs one job to the end (the worker handles leases and retries).
    pub async fn run_job(&self, kind: &JobKind) -> AppResult<()> {
        match kind {
            JobKind::CourseRegrade { course, version } => {
                self.regrade_course_version(course, *version).await?;
            }
            JobKind::ExpiredTokens => {
                let tokens = self.delete_expired_tokens().await?;
                let jobs = self
                    .store
                    .delete_done_jobs(self.now() - Duration::days(KEEP_DONE_DAYS))
                    .await?;
                tracing::info!(tokens, jobs, "expired tokens and old jobs deleted");
            }
            JobKind::Backup { due } => self.run_backup_job(due).await?,
            JobKind::IdempotencyCleanup => {
                let answers = self.delete_old_idempotent_responses().await?;
                tracing::info!(answers, "old stored idempotent answers deleted");
            }
            JobKind::BulkEmail { email_id } => self.fan_out_bulk_email(*email_id).await?,
            JobKind::CourseReport { report_id } => self.run_report_job(*report_id).await?,
            JobKind::Certificate { user_id, course } => {
                self.issue_certificate_job(*user_id, course).await?;
            }
            JobKind::Certificates { course } => {
                self.issue_certificates_job(course).await?;
            }
        }
        Ok(())
    }

    /// Recovery: enqueues the regrade of every course whose learners hold
    /// grades of an older version than its newest and for which no regrade
    /// of that version was ever enqueued (the node died between publish and
    /// enqueue). Returns how many it enqueued.
    pub async fn enqueue_missing_regrades(&self) -> AppResult<usize> {
        let mut n = 0;
        for (course, version) in self.store.courses_with_stale_grades(RECOVERY_BATCH).await? {
            let Ok(course) = course.parse::<CourseKey>() else {
                continue;
            };
            let kind = JobKind::CourseRegrade { course, version };
            if self.store.count_jobs_with_key(&kind.dedupe_key()).await? > 0 {
                continue;
            }
            if self.enqueue_job(&kind).await?.is_some() {
                tracing::warn!(job = ?kind, "a regrade was missing from the queue; enqueued");
                n += 1;
            }
        }
        Ok(n)
    }

    /// The newest jobs, for the admin console (admins only).
    pub async fn admin_jobs(&self, asker: &User) -> AppResult<Vec<Job>> {
        if !asker.is_admin {
            return Err(AppError::Forbidden("Only site admins can see jobs.".into()));
        }
        Ok(self.store.recent_jobs(RECENT_JOBS).await?)
    }

    /// How many jobs are in each state (every state listed), for `/metrics`.
    pub async fn job_counts(&self) -> AppResult<Vec<(JobState, i64)>> {
        let counts = self.store.count_jobs().await?;
        Ok(JobState::ALL
            .into_iter()
            .map(|s| {
                let n = counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
                (s, n)
            })
            .collect())
    }

    /// Runs and failures of jobs on this node since it started, by kind.
    pub fn job_counters(&self) -> Vec<(String, u64, u64)> {
        self.jobs.counters.snapshot()
    }

    /// This node's name in job and lease holders.
    pub fn node_id(&self) -> &str {
        &self.jobs.node_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Workers claim only `NAMES`: a kind missing from it would never run.
    #[test]
    fn every_kind_is_among_the_names_workers_claim() {
        let course: CourseKey = "course-v1:Org+C+R"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let every = [
            JobKind::CourseRegrade {
                course: course.clone(),
                version: 1,
            },
            JobKind::ExpiredTokens,
            JobKind::Backup {
                due: "2026-01-01T00:00:00Z".into(),
            },
            JobKind::IdempotencyCleanup,
            JobKind::BulkEmail { email_id: 1 },
            JobKind::CourseReport { report_id: 1 },
            JobKind::Certificate {
                user_id: 1,
                course: course.clone(),
            },
            JobKind::Certificates { course },
        ];
        for kind in &every {
            assert!(JobKind::NAMES.contains(&kind.name()), "{}", kind.name());
        }
        assert_eq!(JobKind::NAMES.len(), every.len());
    }
}
