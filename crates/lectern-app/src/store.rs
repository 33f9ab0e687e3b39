//! The storage seam: what the use cases need from a database, in domain
//! terms. `lectern-store` implements these traits for SQLite and
//! PostgreSQL; one conformance suite (`lectern-store`'s `contract` module)
//! runs against every implementation.
//!
//! Rules every implementation keeps: a method either does all of its work or
//! none of it; a method returns only after its write is durable; a unique
//! clash is `StoreError::Conflict` naming the field, never `Internal`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_content::{CourseKey, CourseTree, UsageKey};

pub use crate::backup::BackupStore;
pub use crate::certificates::CertificateStore;
pub use crate::cohorts::CohortStore;
pub use crate::discussions::DiscussionStore;
use crate::error::StoreError;
use crate::idempotency::{Keyed, StoredResponse};
pub use crate::jobs::{JobStore, LeaseStore};
use crate::model::{
    AuthToken, CourseRecord, CourseRole, Enrollment, GradeRecord, NewUser, ProblemState, SiteStats,
    Submission, TokenKind, User, UserId,
};
pub use crate::outbox::MailStore;
use crate::profile::Profile;
use crate::roster::EnrollmentQuery;

/// A password reset link as stored: the SHA-256 of its secret.
#[derive(Debug, Clone)]
pub struct PasswordReset {
    pub token_hash: String,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A course's start and end as the app reads them from its root block
/// (`learning::course_dates`): the store keeps them beside the course for
/// listings and enrolment, and never parses dates itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CourseDates {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// How an admin loses their power: see [`UserStore::remove_admin_power`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminLoss {
    /// `is_admin` cleared.
    RevokeAdmin,
    /// `is_active` cleared and every session and token of the user ended.
    Deactivate,
}

#[async_trait]
pub trait UserStore {
    async fn create_user(&self, new: &NewUser) -> StoreResult<User>;
    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    /// The user whose username or e-mail (case-insensitively) is `login`, with the password hash.
    async fn user_for_login(&self, login: &str) -> StoreResult<Option<(User, String)>>;
    /// Users whose username, e-mail or name contains `query`, by id.
    async fn search_users(&self, query: &str, limit: i64, offset: i64) -> StoreResult<Vec<User>>;
    async fn set_user_active(&self, id: UserId, active: bool) -> StoreResult<()>;
    async fn set_user_admin(&self, id: UserId, admin: bool) -> StoreResult<()>;
    async fn set_user_course_creator(&self, id: UserId, creator: bool) -> StoreResult<()>;
    async fn count_admins(&self) -> StoreResult<i64>;
    /// Applies `loss` to user `id` unless that would leave the site without
    /// an active admin: then `false` and nothing changes. One guarded write,
    /// safe when two admins remove each other at the same moment from two
    /// nodes: exactly one of them succeeds. (PostgreSQL: lock the active
    /// admin rows `FOR UPDATE`, ordered by id, then count and write in the
    /// same transaction; a plain `UPDATE … WHERE (SELECT count(*) …) > 1`
    /// is not enough at READ COMMITTED, where both statements count the
    /// other admin from their own snapshot and both succeed.)
    async fn remove_admin_power(&self, id: UserId, loss: AdminLoss) -> StoreResult<bool>;
    /// The site's setup link secret while the site has no admin: the stored
    /// one if it has not expired, else `candidate` (stored with
    /// `expires_at`). Every node asking gets the same secret.
    async fn setup_link(
        &self,
        candidate: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<String>;
    /// Whether `secret` is the site's unexpired setup link.
    async fn setup_link_valid(&self, secret: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// In one transaction: uses up the setup link `secret` (if unexpired),
    /// checks the site still has no active admin, and creates `admin`.
    /// `None` (nothing written) when the link is unknown, expired or used,
    /// or an admin exists: of two concurrent completions exactly one wins.
    async fn complete_setup(
        &self,
        secret: &str,
        admin: &NewUser,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>>;
    /// In one transaction: replaces the password hash and ends every session
    /// and bearer token of the user except `keep` (a token hash), and every
    /// pending password reset link.
    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()>;
    /// The optional profile fields (defaults when never set).
    async fn profile(&self, id: UserId) -> StoreResult<Profile>;
    /// Writes the full name and the profile together.
    async fn update_account(&self, id: UserId, name: &str, profile: &Profile) -> StoreResult<()>;
}

#[async_trait]
pub trait TokenStore {
    async fn insert_token(&self, token: &AuthToken) -> StoreResult<()>;
    /// The token with this hash if it has not expired.
    async fn token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<AuthToken>>;
    async fn delete_token(&self, token_hash: &str) -> StoreResult<()>;
    async fn delete_user_tokens(&self, user_id: UserId) -> StoreResult<()>;
    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Ends every token of one kind a user holds; returns how many.
    async fn delete_user_tokens_of_kind(
        &self,
        user_id: UserId,
        kind: TokenKind,
    ) -> StoreResult<u64>;
    async fn insert_password_reset(&self, reset: &PasswordReset) -> StoreResult<()>;
    /// How many unexpired reset links a user has (to refuse mail floods).
    async fn count_password_resets(&self, user_id: UserId, now: DateTime<Utc>) -> StoreResult<i64>;
    /// Deletes the reset link with this hash and returns its user if it had
    /// not expired: a link works once, even under concurrent use.
    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>>;
    /// The user of an unexpired reset link, without using it up.
    async fn peek_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>>;
}

/// A course's static file bytes, to store beside its tree.
pub struct NewBlob<'a> {
    pub sha256: &'a str,
    pub bytes: &'a [u8],
}

#[async_trait]
pub trait CourseStore {
    /// Creates a course with `draft` as its first draft (revision 1) and makes
    /// `owner` its instructor. `Conflict { field: "course_key" }` if it exists.
    async fn create_course(
        &self,
        draft: &CourseTree,
        dates: CourseDates,
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<CourseRecord>;
    async fn course(&self, key: &CourseKey) -> StoreResult<Option<CourseRecord>>;
    async fn list_courses(&self) -> StoreResult<Vec<CourseRecord>>;
    /// The courses `user` is actively enrolled in, in one read (the dashboard).
    async fn enrolled_courses(&self, user: UserId) -> StoreResult<Vec<CourseRecord>>;
    /// The draft and its revision.
    async fn draft(&self, key: &CourseKey) -> StoreResult<Option<(CourseTree, i64)>>;
    /// Replaces the draft if its revision is still `expected_revision`;
    /// returns the new revision, or `StaleRevision`.
    async fn save_draft(
        &self,
        tree: &CourseTree,
        dates: CourseDates,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// Makes the draft at `expected_revision` the next published version and
    /// returns its number (1, 2, …). Published versions never change; each
    /// gets a random `publish_id` that never repeats (see `CourseRecord`).
    async fn publish(
        &self,
        key: &CourseKey,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64>;
    async fn published(&self, key: &CourseKey, version: i64) -> StoreResult<Option<CourseTree>>;
    /// Import: in one transaction, creates the course or replaces its draft,
    /// stores the blobs, writes `grant` (a role the app decided on) if any,
    /// and publishes. Returns the course and the new version.
    async fn import_course(
        &self,
        tree: &CourseTree,
        dates: CourseDates,
        blobs: &[NewBlob<'_>],
        grant: Option<(UserId, CourseRole)>,
        now: DateTime<Utc>,
    ) -> StoreResult<(CourseRecord, i64)>;
    async fn grant_course_role(
        &self,
        key: &CourseKey,
        user: UserId,
        role: CourseRole,
    ) -> StoreResult<()>;
    async fn revoke_course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<()>;
    async fn course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<Option<CourseRole>>;
    /// The courses a user holds a role in.
    async fn courses_with_role(&self, user: UserId) -> StoreResult<Vec<(CourseKey, CourseRole)>>;
    async fn course_team(&self, key: &CourseKey) -> StoreResult<Vec<(User, CourseRole)>>;
}

#[async_trait]
pub trait EnrollmentStore {
    /// Enrols (or re-activates an enrolment); returns the enrolment.
    async fn enroll(
        &self,
        user: UserId,
        key: &CourseKey,
        mode: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Enrollment>;
    async fn unenroll(&self, user: UserId, key: &CourseKey) -> StoreResult<()>;
    async fn enrollment(&self, user: UserId, key: &CourseKey) -> StoreResult<Option<Enrollment>>;
    async fn enrollments_for_user(&self, user: UserId) -> StoreResult<Vec<Enrollment>>;
    async fn count_enrollments(&self, key: &CourseKey) -> StoreResult<i64>;
    /// Users actively enrolled in a course.
    async fn enrolled_users(&self, key: &CourseKey) -> StoreResult<Vec<User>>;
    /// One page of enrolments (active or not) with their usernames, newest
    /// first, keyset-paginated: see [`EnrollmentQuery`].
    async fn list_enrollments(
        &self,
        query: &EnrollmentQuery,
    ) -> StoreResult<Vec<(Enrollment, String)>>;
}

#[async_trait]
pub trait LearnerStateStore {
    async fn problem_state(
        &self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Option<ProblemState>>;
    /// Every problem state of a user in a course.
    async fn problem_states(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Vec<ProblemState>>;
    /// In one transaction: writes `state` if the stored revision is still
    /// `state.revision` (0: no row yet) and bumps it; records `submission`;
    /// and writes `grade` if the stored grade revision is still
    /// `grade.revision`. Any mismatch: `StaleRevision` and nothing written.
    async fn save_problem_state(
        &self,
        state: &ProblemState,
        submission: Option<&Submission>,
        grade: Option<&GradeRecord>,
    ) -> StoreResult<()>;
    async fn submissions(&self, user: UserId, usage_key: &UsageKey)
        -> StoreResult<Vec<Submission>>;
    async fn course_grade(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Option<GradeRecord>>;
    /// The stored grade's revision only (what a new grade is guarded by).
    async fn course_grade_revision(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Option<i64>> {
        Ok(self.course_grade(user, course).await?.map(|g| g.revision))
    }
    /// Writes a grade if its stored revision is still `grade.revision`.
    async fn save_course_grade(&self, grade: &GradeRecord) -> StoreResult<()>;
    /// A learner's saved states in a course with the stored grade's
    /// revision: what an answer check grades from, in one read where the
    /// backend can (issue 18, tenth pass). The revision is never newer than
    /// the states (one snapshot, or the revision read first), so a grade
    /// stored after this read makes a write guarded by it fail rather than
    /// be overwritten by a grade that missed it.
    async fn course_progress(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<CourseProgress> {
        let grade_revision = self.course_grade_revision(user, course).await?;
        let states = self.problem_states(user, course).await?;
        Ok(CourseProgress {
            states,
            grade_revision,
            subsections_digest: None,
        })
    }
}

/// A learner's saved problem states in a course and the revision of their
/// stored grade ([`LearnerStateStore::course_progress`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CourseProgress {
    pub states: Vec<ProblemState>,
    /// `None`: no grade stored yet.
    pub grade_revision: Option<i64>,
    /// The stored grade's [`crate::model::subsections_digest`], read with
    /// its revision; `None` when unknown (no grade, or written without one).
    pub subsections_digest: Option<i64>,
}

impl CourseProgress {
    /// The saved state of one problem, if any.
    pub fn state_of(&self, usage: &UsageKey) -> Option<&ProblemState> {
        self.states.iter().find(|s| &s.usage_key == usage)
    }
}

/// What is known about a stored blob without reading its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub size: u64,
    /// When these bytes were first stored.
    pub created_at: DateTime<Utc>,
}

/// Where the bytes of a blob stored piece by piece come from (an upload
/// spooled to a temporary file).
pub type BlobSource<'a> = &'a mut (dyn tokio::io::AsyncRead + Send + Unpin);

#[async_trait]
pub trait BlobStore {
    /// Stores bytes under their SHA-256 (idempotent).
    async fn put_blob(&self, blob: &NewBlob<'_>) -> StoreResult<()>;
    /// Stores `size` bytes read from `source` under `sha256` (which the
    /// caller computed), holding one chunk in memory at a time; idempotent.
    /// A source that ends early is an error and stores nothing.
    async fn put_blob_stream(
        &self,
        sha256: &str,
        size: u64,
        source: BlobSource<'_>,
    ) -> StoreResult<()>;
    /// The whole blob. Large blobs are better read with `blob_range`.
    async fn blob(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>>;
    async fn blob_info(&self, sha256: &str) -> StoreResult<Option<BlobInfo>>;
    /// Up to `len` bytes from `offset` (fewer at the end, none past it);
    /// the work and memory are proportional to `len`, not to the blob.
    async fn blob_range(&self, sha256: &str, offset: u64, len: u64)
        -> StoreResult<Option<Vec<u8>>>;
}

#[async_trait]
pub trait HealthStore {
    /// Succeeds when the database answers a query.
    async fn ping(&self) -> StoreResult<()>;
    /// Which backend this is, for logs and `doctor` ("sqlite", "postgres").
    fn backend(&self) -> &'static str;
    async fn stats(&self, now: DateTime<Utc>) -> StoreResult<SiteStats>;
    /// Closes the connections, waiting for queries in flight (shutdown).
    async fn close(&self);
}

/// Answers of keyed writes (see [`crate::idempotency`]).
#[async_trait]
pub trait IdempotencyStore {
    /// The stored answer of `user`'s write made with `key`, if one committed.
    async fn idempotent_response(
        &self,
        user: UserId,
        key: &str,
    ) -> StoreResult<Option<StoredResponse>>;
    /// [`LearnerStateStore::save_problem_state`] with a submission and the
    /// answer to store under its key, all in one transaction. The key is
    /// written first: when (user, key) is already taken, by a committed
    /// write or one racing on another node (which it waits for), the answer
    /// is `Conflict { field: "idempotency_key" }` and nothing is written.
    async fn save_keyed_check(
        &self,
        state: &ProblemState,
        submission: &Submission,
        grade: Option<&GradeRecord>,
        response: &StoredResponse,
    ) -> StoreResult<()>;
    /// Each `*_keyed` write is the plain write of the same name with a key:
    /// in one transaction the store inserts `keyed.claim` first, does the
    /// write, and stores `keyed.answer` of its result. A key already taken
    /// (committed, or by a copy racing on another node, which it waits for)
    /// is `Conflict { field: "idempotency_key" }` and nothing is written.
    ///
    /// [`EnrollmentStore::enroll`] (`active`), or the unenrolment of an
    /// existing enrolment (`None`, nothing written, when there is none).
    async fn enroll_keyed(
        &self,
        user: UserId,
        key: &CourseKey,
        mode: &str,
        active: bool,
        now: DateTime<Utc>,
        keyed: Keyed<'_, Enrollment>,
    ) -> StoreResult<Option<Enrollment>>;
    /// [`CourseStore::publish`] with a key.
    async fn publish_keyed(
        &self,
        key: &CourseKey,
        expected_revision: i64,
        now: DateTime<Utc>,
        keyed: Keyed<'_, i64>,
    ) -> StoreResult<i64>;
    /// [`CourseStore::save_draft`] with a key (a static file upload).
    async fn save_draft_keyed(
        &self,
        tree: &CourseTree,
        dates: CourseDates,
        expected_revision: i64,
        now: DateTime<Utc>,
        keyed: Keyed<'_, i64>,
    ) -> StoreResult<i64>;
    /// [`CourseStore::import_course`] with a key; the answer is made from
    /// the new version.
    async fn import_course_keyed(
        &self,
        tree: &CourseTree,
        dates: CourseDates,
        blobs: &[NewBlob<'_>],
        grant: Option<(UserId, CourseRole)>,
        now: DateTime<Utc>,
        keyed: Keyed<'_, i64>,
    ) -> StoreResult<(CourseRecord, i64)>;
    /// Deletes the stored answers made before `before`; returns how many.
    async fn delete_idempotent_responses(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

/// What a courseware page needs to know about one course and one user,
/// read together ([`PageStore::courseware_access`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CoursewareAccess {
    pub record: CourseRecord,
    /// The user's role on the course's team, if any.
    pub role: Option<CourseRole>,
    /// The user's enrolment, active or not.
    pub enrollment: Option<Enrollment>,
}

/// At most this many problem states per statement of
/// [`PageStore::problem_states_of`]; more keys take more statements.
pub const STATES_PER_READ: usize = 200;

/// Reads a page needs together, each one statement instead of several
/// (issue 18: on SQLite a page's cost is mostly per statement).
#[async_trait]
pub trait PageStore {
    /// A course's record with `user`'s team role and enrolment in it, in
    /// one read; `None` when there is no such course.
    async fn courseware_access(
        &self,
        key: &CourseKey,
        user: UserId,
    ) -> StoreResult<Option<CoursewareAccess>>;
    /// `user`'s saved states of these problems (those never saved are
    /// absent), in one read per [`STATES_PER_READ`] keys.
    async fn problem_states_of(
        &self,
        user: UserId,
        usage_keys: &[UsageKey],
    ) -> StoreResult<Vec<ProblemState>>;
}

/// Everything Lectern keeps, behind one object.
pub trait Store:
    UserStore
    + TokenStore
    + CourseStore
    + EnrollmentStore
    + LearnerStateStore
    + PageStore
    + IdempotencyStore
    + DiscussionStore
    + crate::search::PostIndexStore
    + BlobStore
    + HealthStore
    + JobStore
    + LeaseStore
    + MailStore
    + crate::reports::store::ReportStore
    + CertificateStore
    + CohortStore
    + crate::analytics::store::AnalyticsStore
    + crate::tls::TlsStore
    + crate::instances::InstanceStore
    + crate::site_limits::UsageStore
    + crate::operators::OperatorStore
    + BackupStore
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: UserStore
        + TokenStore
        + CourseStore
        + EnrollmentStore
        + LearnerStateStore
        + PageStore
        + IdempotencyStore
        + DiscussionStore
        + crate::search::PostIndexStore
        + BlobStore
        + HealthStore
        + JobStore
        + LeaseStore
        + MailStore
        + crate::reports::store::ReportStore
        + CertificateStore
        + CohortStore
        + crate::analytics::store::AnalyticsStore
        + crate::tls::TlsStore
        + crate::instances::InstanceStore
        + crate::site_limits::UsageStore
        + crate::operators::OperatorStore
        + BackupStore
        + Send
        + Sync
{
}
