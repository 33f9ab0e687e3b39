//! The storage seam of the instructor analytics: coalesced engagement
//! writes, and the aggregates each chart is drawn from, every one a
//! `GROUP BY` in the database (a course of any size answers with a few
//! hundred rows at most).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::store::StoreResult;

/// What one flush adds to a learner's row for one video.
#[derive(Debug, Clone, PartialEq)]
pub struct EngagementDelta {
    pub course_key: String,
    /// The video's usage key.
    pub usage_key: String,
    pub user_id: i64,
    /// Plays to add.
    pub plays: i64,
    /// Seconds watched to add.
    pub seconds: f64,
    /// The furthest position seen (kept when larger than the stored one).
    pub furthest: f64,
    /// The length the player reported, 0 when it did not.
    pub duration: f64,
    /// What this delta's values are clamped to (the length, or the
    /// longest believable one when unknown); the stored row is kept within
    /// the longest length ever reported for it, else this.
    pub cap: f64,
    pub last_seen: DateTime<Utc>,
}

/// A day a learner was active in a course.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActivityDay {
    pub course_key: String,
    pub user_id: i64,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
}

/// Enrolments created on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentDay {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// Every enrolment created that day.
    pub created: i64,
    /// Those of them active now.
    pub active: i64,
}

/// Each learner's first submission of one problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstAttempts {
    pub usage_key: String,
    /// Learners who submitted it at least once.
    pub learners: i64,
    /// Of them, those whose first submission earned full marks.
    pub correct: i64,
}

/// One video's engagement over its learners.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSummary {
    pub usage_key: String,
    /// Learners with a row (who played it at least once).
    pub learners: i64,
    pub mean_seconds: f64,
    pub median_seconds: f64,
    /// The longest length any player reported, 0 when none did.
    pub duration: f64,
    /// Learners whose furthest position is at least 90 % of `duration`.
    pub completed: i64,
}

#[async_trait]
pub trait AnalyticsStore {
    /// Adds a flush's deltas and activity days in one transaction. A row
    /// is written only for a learner actively enrolled in its course;
    /// others are skipped. Activity days already stored are left alone.
    async fn save_engagement(
        &self,
        deltas: &[EngagementDelta],
        days: &[ActivityDay],
    ) -> StoreResult<()>;
    /// The course's enrolments created on or after `since_day`, by day,
    /// and how many enrolments created before it are active now.
    async fn enrollment_days(
        &self,
        course: &str,
        since_day: i64,
    ) -> StoreResult<(i64, Vec<EnrollmentDay>)>;
    /// The first day any enrolment of the course was created.
    async fn first_enrollment_day(&self, course: &str) -> StoreResult<Option<i64>>;
    /// Distinct learners (enrolled, active or not) who submitted an answer
    /// or were reported active, per week from `since_day` (weeks start on
    /// Mondays: the week of day `d` is `(d + 3) / 7`), as (week, learners).
    async fn active_learner_weeks(
        &self,
        course: &str,
        since_day: i64,
    ) -> StoreResult<Vec<(i64, i64)>>;
    /// Actively enrolled learners by stored course grade, in ten bins
    /// ([0, 10 %), …, [90 %, 100 %]); a learner without a stored grade
    /// counts as 0 %.
    async fn grade_bins(&self, course: &str) -> StoreResult<[i64; 10]>;
    /// Per problem of the course with submissions from enrolled learners.
    async fn first_attempts(&self, course: &str) -> StoreResult<Vec<FirstAttempts>>;
    /// Per video of the course with engagement rows.
    async fn video_summaries(&self, course: &str) -> StoreResult<Vec<VideoSummary>>;
}
