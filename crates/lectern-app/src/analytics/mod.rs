//! The instructor dashboard's analytics (`docs/analytics.md`): five charts
//! of a course, each with the table of numbers it is drawn from (the
//! page's text alternative and the CSV download are that table).
//!
//! Everything a chart counts is in the database, so every node of a
//! cluster draws the same chart: enrolments, submissions and stored
//! grades, plus the video engagement and activity days that browser
//! events add through each node's coalescing buffer. Every aggregate is a
//! `GROUP BY` in the database; the rows a chart has are bounded by
//! [`MAX_DAYS`], [`MAX_WEEKS`] and the course's own problems and videos.
//!
//! - `store.rs` — the storage seam (engagement writes, the aggregates).
//! - `engagement.rs` — the per-node buffer the player's events are folded into.
//! - `flush.rs` — writing the buffer every few seconds, validated against the course.
//! - `charts.rs` — each chart's numbers from the aggregates and the course.
//! - `table.rs` — each chart's table (CSV and the page's text alternative).

mod charts;
pub mod engagement;
pub mod flush;
pub mod store;
mod table;

use chrono::NaiveDate;
use lectern_content::CourseKey;

use crate::error::AppResult;
use crate::model::User;
use crate::Lectern;

pub use table::{completed_note, ChartTable};

/// Days the enrolment chart covers at most (the newest).
pub const MAX_DAYS: i64 = 365;
/// Weeks the active learner chart covers at most (the newest).
pub const MAX_WEEKS: i64 = 52;
/// A learner has completed a video once its furthest position reaches
/// this share of the video's length.
pub const COMPLETED_SHARE: f64 = 0.9;

/// The charts of the analytics page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Enrollments,
    ActiveLearners,
    Grades,
    Problems,
    Videos,
}

impl ChartKind {
    pub const ALL: [ChartKind; 5] = [
        Self::Enrollments,
        Self::ActiveLearners,
        Self::Grades,
        Self::Problems,
        Self::Videos,
    ];

    /// The name in its CSV's address (`…/analytics/{name}.csv`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrollments => "enrollments",
            Self::ActiveLearners => "active_learners",
            Self::Grades => "grades",
            Self::Problems => "problems",
            Self::Videos => "videos",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Enrollments => "Enrolments over time",
            Self::ActiveLearners => "Active learners per week",
            Self::Grades => "Grade distribution",
            Self::Problems => "Problem difficulty",
            Self::Videos => "Video engagement",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Enrolments created on a day, and the active enrolments created up to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentPoint {
    pub day: NaiveDate,
    pub new: i64,
    pub total_active: i64,
}

/// Learners active in the week starting on a Monday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekPoint {
    pub week_start: NaiveDate,
    pub learners: i64,
}

/// Learners whose grade is in [from, to) percent ([90, 100] for the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeBin {
    pub from: u32,
    pub to: u32,
    pub learners: i64,
}

/// One graded problem, in course order.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemPoint {
    pub usage_key: String,
    pub name: String,
    pub learners: i64,
    pub first_correct: i64,
}

impl ProblemPoint {
    /// The share of learners right at their first attempt, when any tried.
    pub fn share(&self) -> Option<f64> {
        (self.learners > 0).then(|| self.first_correct as f64 / self.learners as f64)
    }
}

/// One video, in course order.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoPoint {
    pub usage_key: String,
    pub name: String,
    pub learners: i64,
    pub mean_seconds: f64,
    pub median_seconds: f64,
    /// Seconds, when a player reported it.
    pub duration: Option<f64>,
    pub completed: i64,
}

/// One chart's numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum ChartData {
    Enrollments(Vec<EnrollmentPoint>),
    ActiveLearners(Vec<WeekPoint>),
    Grades {
        bins: Vec<GradeBin>,
        /// The lowest grade cutoff (0..1), when the policy has one.
        pass_mark: Option<f64>,
    },
    Problems(Vec<ProblemPoint>),
    Videos(Vec<VideoPoint>),
}

impl ChartData {
    pub fn kind(&self) -> ChartKind {
        match self {
            Self::Enrollments(_) => ChartKind::Enrollments,
            Self::ActiveLearners(_) => ChartKind::ActiveLearners,
            Self::Grades { .. } => ChartKind::Grades,
            Self::Problems(_) => ChartKind::Problems,
            Self::Videos(_) => ChartKind::Videos,
        }
    }
}

impl Lectern {
    /// One chart of a course, for its team and site admins (others: not
    /// found, as the rest of the instructor dashboard).
    pub async fn analytics_chart(
        &self,
        user: &User,
        key: &CourseKey,
        kind: ChartKind,
    ) -> AppResult<ChartData> {
        self.instructor_course(user, key).await?;
        self.chart(key, kind).await
    }
}
