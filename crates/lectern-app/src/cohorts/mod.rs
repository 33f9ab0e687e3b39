//! Cohorts (issue 21, `docs/cohorts.md`): Open edX's course groups. A
//! course that uses cohorts splits its learners into named groups, each
//! filled by hand (`manual`) or at random as learners enrol (`random`);
//! a learner is in at most one cohort of a course, so adding a learner to
//! another cohort moves them. The course team manages them from the
//! instructor dashboard and the cohort API, and bulk e-mail can go to one
//! or more cohorts (`bulk_email.rs`).
//!
//! Whether a course uses cohorts is the course team's switch once set; until
//! then the course policy's `cohort_config.cohorted` (as imported, or as
//! edited on the course block) decides, as Open edX reads it before moving
//! the setting into its database.

mod csv_upload;
mod manage;
mod random;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use csv_upload::{parse_cohort_csv, CsvCohortResult, CsvRow, MAX_CSV_BYTES, MAX_CSV_ROWS};
pub use manage::{split_identifiers, AddReport, CohortsOverview, Moved};

use crate::model::UserId;
use crate::store::StoreResult;

/// Most cohorts a course may have.
pub const MAX_COHORTS: i64 = 100;
/// Longest cohort name, in characters (Open edX's column is 255).
pub const MAX_NAME_CHARS: usize = 255;
/// Most usernames or e-mails one "add learners" request may name.
pub const MAX_IDENTIFIERS: usize = 1_000;
/// Longest username or e-mail address accepted in a list.
pub const MAX_IDENTIFIER_CHARS: usize = 254;
/// Members one page of a cohort lists at most (the API's `page_size` cap).
pub const MAX_PAGE_SIZE: i64 = 100;
/// The cohort random assignment creates when a course has none of its own,
/// as Open edX names it.
pub const DEFAULT_COHORT_NAME: &str = "Default Group";

/// How learners get into a cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentType {
    /// Only by the course team.
    Manual,
    /// Learners enrolling are spread at random over the random cohorts.
    Random,
}

impl AssignmentType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Random => "random",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(Self::Manual),
            "random" => Some(Self::Random),
            _ => None,
        }
    }
}

/// A cohort with its member count.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub id: i64,
    pub course_key: String,
    pub name: String,
    pub assignment_type: AssignmentType,
    /// Members who are actively enrolled (Open edX's `user_count`).
    pub user_count: i64,
}

/// A member as the cohort lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortMember {
    pub user_id: UserId,
    pub username: String,
    pub email: String,
    pub name: String,
}

/// What happened to one username or e-mail placed in a cohort.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// No such user.
    Unknown,
    /// The user is not actively enrolled in the course: nothing stored.
    NotEnrolled,
    /// Already in this cohort.
    Present,
    /// Put in the cohort (they had none).
    Added { username: String, email: String },
    /// Moved here from another cohort of the course.
    Moved {
        username: String,
        email: String,
        from: String,
    },
}

/// The outcome of creating a cohort.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    Created(Cohort),
    NameTaken,
    TooMany,
}

/// The outcome of renaming a cohort or changing its assignment type.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    Updated(Cohort),
    NotFound,
    NameTaken,
    /// The change would leave the course without a random cohort while
    /// it has one (Open edX keeps one for automatic assignment).
    LastRandom,
}

#[async_trait]
pub trait CohortStore {
    /// The course team's switch, when they have set it.
    async fn stored_cohorted(&self, course_key: &str) -> StoreResult<Option<bool>>;
    async fn set_cohorted(
        &self,
        course_key: &str,
        cohorted: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A course's cohorts by id, with member counts.
    async fn cohorts_of(&self, course_key: &str) -> StoreResult<Vec<Cohort>>;
    async fn cohort(&self, course_key: &str, id: i64) -> StoreResult<Option<Cohort>>;
    /// Creates a cohort unless the name is taken or the course already has
    /// `max` cohorts (checked under the course row's lock).
    async fn create_cohort(
        &self,
        course_key: &str,
        name: &str,
        assignment_type: AssignmentType,
        max: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<CreateOutcome>;
    /// Renames a cohort and/or changes its assignment type, in one
    /// transaction under the course row's lock.
    async fn update_cohort(
        &self,
        course_key: &str,
        id: i64,
        name: Option<&str>,
        assignment_type: Option<AssignmentType>,
    ) -> StoreResult<UpdateOutcome>;
    /// Places each of `identifiers` (a username, or an e-mail address when
    /// it holds `@`) in cohort `id` of the course, in one transaction: a
    /// learner in another cohort of the course is moved (their one
    /// membership row changes). One placement per identifier, in order.
    async fn place_in_cohort(
        &self,
        course_key: &str,
        id: i64,
        identifiers: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Placement>>;
    /// Takes `user` out of cohort `id`; false when they were not in it.
    async fn remove_from_cohort(
        &self,
        course_key: &str,
        id: i64,
        user: UserId,
    ) -> StoreResult<bool>;
    /// Every member of a cohort (enrolled or not) by username, a page at a
    /// time, with the total.
    async fn cohort_members(
        &self,
        course_key: &str,
        id: i64,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<CohortMember>, i64)>;
    /// Actively enrolled learners (not on the course team) in no cohort.
    async fn learners_without_cohort(&self, course_key: &str) -> StoreResult<i64>;
    /// Puts `user` in one of the course's random cohorts (the `pick`-th
    /// modulo their number, by id), creating [`DEFAULT_COHORT_NAME`] as a
    /// random cohort when the course has none; nothing when the user is
    /// already in a cohort. The cohort they were put in.
    async fn assign_random_cohort(
        &self,
        course_key: &str,
        user: UserId,
        pick: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Cohort>>;
}
