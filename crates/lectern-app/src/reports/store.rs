//! The storage seam of course reports and regrade progress, in domain
//! terms: report rows with their bytes in chunks, the one consistent read
//! of a course's learners that every report is generated from, and the
//! progress row each course version's regrade keeps up to date.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_content::CourseKey;

use crate::jobs::NewJob;
use crate::model::{Enrollment, ProblemState, User};
use crate::profile::Profile;
use crate::store::StoreResult;

/// Where a report is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportState {
    /// Its job has not finished.
    Pending,
    Ready,
    Failed,
}

impl ReportState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Ready, Self::Failed]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// A report as stored (its bytes are read chunk by chunk).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportInfo {
    pub id: i64,
    pub course_key: String,
    /// `ReportKind::as_str`.
    pub kind: String,
    pub requested_by: i64,
    pub state: ReportState,
    pub file_name: String,
    pub size: u64,
    /// Data rows (the header not counted).
    pub rows: i64,
    pub chunks: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A report to add, with its job.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub course_key: String,
    pub kind: String,
    pub requested_by: i64,
    pub file_name: String,
    pub created_at: DateTime<Utc>,
}

/// Which learners' data a report reads.
#[derive(Debug, Clone)]
pub struct LearnerQuery {
    pub course: CourseKey,
    /// Learners handed to the sink at a time.
    pub page_size: i64,
    /// Read their problem states in this course.
    pub states: bool,
    /// Read their profiles.
    pub profiles: bool,
}

/// One enrolled (or once enrolled) learner with what a report needs.
#[derive(Debug, Clone)]
pub struct LearnerRecord {
    pub user: User,
    pub enrollment: Enrollment,
    /// `None` when not asked for or never set.
    pub profile: Option<Profile>,
    /// Empty when not asked for.
    pub states: Vec<ProblemState>,
}

/// Where a consistent read hands its pages of learners.
#[async_trait]
pub trait LearnerSink: Send {
    async fn page(&mut self, learners: Vec<LearnerRecord>) -> StoreResult<()>;
}

/// The progress of one course version's regrade.
#[derive(Debug, Clone, PartialEq)]
pub struct RegradeRun {
    pub course_key: String,
    pub version: i64,
    /// queued, running, done, superseded or failed.
    pub state: String,
    pub requested_by: Option<i64>,
    pub learners_total: i64,
    pub learners_done: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait ReportStore {
    /// Adds a pending report and its job (`job` gets the new id) in one
    /// transaction. When a report of the same kind is already pending for
    /// the course, adds nothing and returns that one's id with `false`.
    async fn create_report(
        &self,
        report: &NewReport,
        job: fn(i64, DateTime<Utc>) -> NewJob,
    ) -> StoreResult<(i64, bool)>;
    async fn report(&self, id: i64) -> StoreResult<Option<ReportInfo>>;
    /// The course's newest reports first, at most `limit`.
    async fn reports_of_course(&self, course: &str, limit: i64) -> StoreResult<Vec<ReportInfo>>;
    /// Forgets the chunks of a pending report (its job starts over).
    async fn clear_report_chunks(&self, id: i64) -> StoreResult<()>;
    async fn put_report_chunk(&self, id: i64, seq: i64, data: &[u8]) -> StoreResult<()>;
    /// Marks a pending report ready with its size, then deletes the
    /// course's finished reports beyond the newest `keep`, in one transaction.
    async fn finish_report(
        &self,
        id: i64,
        size: u64,
        rows: i64,
        chunks: i64,
        now: DateTime<Utc>,
        keep: i64,
    ) -> StoreResult<()>;
    /// Marks a pending report failed, its chunks deleted.
    async fn fail_report(&self, id: i64, error: &str, now: DateTime<Utc>) -> StoreResult<()>;
    async fn report_chunk(&self, id: i64, seq: i64) -> StoreResult<Option<Vec<u8>>>;
    /// Every learner ever enrolled in the course (active or not), by user
    /// id, a page at a time, all pages read from one snapshot of the
    /// database (PostgreSQL: one `REPEATABLE READ READ ONLY` transaction;
    /// SQLite: one read transaction), so a report never mixes states from
    /// before and after an answer.
    async fn read_learners(
        &self,
        query: &LearnerQuery,
        sink: &mut (dyn LearnerSink + '_),
    ) -> StoreResult<()>;
    /// Creates or replaces the progress row of (course, version).
    async fn save_regrade_run(&self, run: &RegradeRun) -> StoreResult<()>;
    /// Sets the learners done of a running regrade.
    async fn regrade_progress(
        &self,
        course: &str,
        version: i64,
        done: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The course's regrades, the most recently changed first.
    async fn regrade_runs(&self, course: &str, limit: i64) -> StoreResult<Vec<RegradeRun>>;
}
