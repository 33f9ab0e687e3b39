//! Rows as both backends return them, and their conversion to domain
//! models. The column lists here are the `SELECT` lists every query uses.

use lectern_app::jobs::{Job, JobState};
use lectern_app::model::{
    AuthToken, CourseRecord, Enrollment, GradeRecord, ProblemState, StoredSubsections, Submission,
    SubsectionGradeRecord, TokenKind, User, UserId,
};
use lectern_app::profile::Profile;
use lectern_app::store::StoreResult;
use lectern_app::StoreError;
use lectern_content::{CourseKey, UsageKey};

use crate::time::from_millis;

fn parse<T: std::str::FromStr>(s: &str, what: &str) -> StoreResult<T> {
    s.parse()
        .map_err(|_| StoreError::Internal(format!("stored {what} does not parse")))
}

fn json(text: &str, what: &str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Internal(format!("stored {what} does not parse: {e}")))
}

fn count(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}

pub(crate) const USER_COLUMNS: &str =
    "id, username, email, name, is_admin, is_course_creator, is_active, created_at";

#[derive(sqlx::FromRow)]
pub struct UserRow {
    id: i64,
    username: String,
    email: String,
    name: String,
    is_admin: bool,
    is_course_creator: bool,
    is_active: bool,
    created_at: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            username: r.username,
            email: r.email,
            name: r.name,
            is_admin: r.is_admin,
            is_course_creator: r.is_course_creator,
            is_active: r.is_active,
            created_at: from_millis(r.created_at),
        }
    }
}

/// A course's team: its users with their roles.
pub(crate) const TEAM_SQL: &str = "SELECT u.id, u.username, u.email, u.name, u.is_admin, u.is_course_creator, u.is_active, u.created_at, r.role \
     FROM course_roles r JOIN users u ON u.id = r.user_id WHERE r.course_key = $1 ORDER BY u.id";

#[derive(sqlx::FromRow)]
pub struct TeamRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub role: String,
}

/// A user with the password hash (sign-in).
#[derive(sqlx::FromRow)]
pub struct LoginRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    token_hash: String,
    user_id: i64,
    kind: String,
    expires_at: i64,
}

impl From<TokenRow> for AuthToken {
    fn from(r: TokenRow) -> Self {
        AuthToken {
            token_hash: r.token_hash,
            user_id: r.user_id,
            kind: match r.kind.as_str() {
                "bearer" => TokenKind::Bearer,
                "setup" => TokenKind::Setup,
                _ => TokenKind::Session,
            },
            expires_at: from_millis(r.expires_at),
        }
    }
}

pub(crate) const COURSE_COLUMNS: &str =
    "course_key, display_name, created_at, draft_revision, published_version, \
     published_revision, published_at, start_at, end_at, \
     (SELECT v.publish_id FROM course_versions v WHERE v.course_key = courses.course_key \
      AND v.version = courses.published_version) AS publish_id";

#[derive(sqlx::FromRow)]
pub struct CourseRow {
    pub(crate) course_key: String,
    pub(crate) display_name: String,
    pub(crate) created_at: i64,
    pub(crate) draft_revision: i64,
    pub(crate) published_version: Option<i64>,
    pub(crate) publish_id: Option<String>,
    pub(crate) published_revision: Option<i64>,
    pub(crate) published_at: Option<i64>,
    pub(crate) start_at: Option<i64>,
    pub(crate) end_at: Option<i64>,
}

impl CourseRow {
    pub(crate) fn into_record(self) -> StoreResult<CourseRecord> {
        Ok(CourseRecord {
            key: parse(&self.course_key, "course key")?,
            display_name: self.display_name,
            created_at: from_millis(self.created_at),
            draft_revision: self.draft_revision,
            published_version: self.published_version,
            publish_id: self.publish_id,
            published_revision: self.published_revision,
            published_at: self.published_at.map(from_millis),
            start: self.start_at.map(from_millis),
            end: self.end_at.map(from_millis),
        })
    }
}

pub(crate) const ENROLLMENT_COLUMNS: &str = "user_id, course_key, mode, is_active, created_at";

#[derive(sqlx::FromRow)]
pub struct EnrollmentRow {
    user_id: i64,
    course_key: String,
    mode: String,
    is_active: bool,
    created_at: i64,
}

impl EnrollmentRow {
    pub(crate) fn into_enrollment(self) -> StoreResult<Enrollment> {
        Ok(Enrollment {
            user_id: self.user_id,
            course_key: parse(&self.course_key, "course key")?,
            mode: self.mode,
            is_active: self.is_active,
            created_at: from_millis(self.created_at),
        })
    }
}

/// An enrolment with its username (the staff enrolment list).
#[derive(sqlx::FromRow)]
pub struct RosterRow {
    #[sqlx(flatten)]
    pub enrollment: EnrollmentRow,
    pub username: String,
}

pub(crate) const STATE_COLUMNS: &str =
    "user_id, course_key, usage_key, revision, attempts, reset_count, answers, correct_map, \
     raw_earned, raw_possible, earned, possible, is_correct, ever_attempted, updated_at";

#[derive(sqlx::FromRow)]
pub struct StateRow {
    pub(crate) user_id: i64,
    pub(crate) course_key: String,
    pub(crate) usage_key: String,
    pub(crate) revision: i64,
    pub(crate) attempts: i64,
    pub(crate) reset_count: i64,
    pub(crate) answers: String,
    pub(crate) correct_map: String,
    pub(crate) raw_earned: f64,
    pub(crate) raw_possible: f64,
    pub(crate) earned: f64,
    pub(crate) possible: f64,
    pub(crate) is_correct: bool,
    pub(crate) ever_attempted: bool,
    pub(crate) updated_at: i64,
}

impl StateRow {
    pub(crate) fn into_state(self) -> StoreResult<ProblemState> {
        Ok(ProblemState {
            user_id: self.user_id,
            course_key: parse(&self.course_key, "course key")?,
            usage_key: parse(&self.usage_key, "usage key")?,
            revision: self.revision,
            attempts: count(self.attempts),
            reset_count: count(self.reset_count),
            answers: json(&self.answers, "answers")?,
            correct_map: json(&self.correct_map, "correct_map")?,
            raw_earned: self.raw_earned,
            raw_possible: self.raw_possible,
            earned: self.earned,
            possible: self.possible,
            is_correct: self.is_correct,
            ever_attempted: self.ever_attempted,
            updated_at: from_millis(self.updated_at),
        })
    }
}

pub(crate) const SUBMISSION_COLUMNS: &str =
    "attempt, answers, correct_map, earned, possible, created_at, idempotency_key";

#[derive(sqlx::FromRow)]
pub struct SubmissionRow {
    attempt: i64,
    answers: String,
    correct_map: String,
    earned: f64,
    possible: f64,
    created_at: i64,
    idempotency_key: Option<String>,
}

impl SubmissionRow {
    pub(crate) fn into_submission(
        self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Submission> {
        Ok(Submission {
            user_id: user,
            usage_key: usage_key.clone(),
            attempt: count(self.attempt),
            answers: json(&self.answers, "answers")?,
            correct_map: json(&self.correct_map, "correct_map")?,
            earned: self.earned,
            possible: self.possible,
            created_at: from_millis(self.created_at),
            idempotency_key: self.idempotency_key,
        })
    }
}

pub(crate) const GRADE_COLUMNS: &str =
    "revision, course_version, percent, letter_grade, passed, detail, updated_at";

#[derive(sqlx::FromRow)]
pub struct GradeRow {
    revision: i64,
    course_version: i64,
    percent: f64,
    letter_grade: Option<String>,
    passed: bool,
    detail: String,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
pub struct SubsectionRow {
    block_id: String,
    earned: f64,
    possible: f64,
    graded: bool,
}

impl GradeRow {
    pub(crate) fn into_grade(
        self,
        user: UserId,
        course: &CourseKey,
        subsections: Vec<SubsectionRow>,
    ) -> StoreResult<GradeRecord> {
        Ok(GradeRecord {
            user_id: user,
            course_key: course.clone(),
            revision: self.revision,
            course_version: self.course_version,
            percent: self.percent,
            letter_grade: self.letter_grade,
            passed: self.passed,
            detail: lectern_app::model::JsonText::parse(self.detail)
                .map_err(|e| StoreError::Internal(format!("stored detail does not parse: {e}")))?,
            subsections: subsections
                .into_iter()
                .map(|s| SubsectionGradeRecord {
                    block_id: s.block_id,
                    earned: s.earned,
                    possible: s.possible,
                    graded: s.graded,
                })
                .collect(),
            stored_subsections: StoredSubsections::Unknown,
            updated_at: from_millis(self.updated_at),
        })
    }
}

pub(crate) const PROFILE_COLUMNS: &str =
    "bio, country, state, language, level_of_education, gender, goals, \
     mailing_address, year_of_birth, language_proficiencies";

#[derive(sqlx::FromRow)]
pub struct ProfileRow {
    bio: Option<String>,
    country: Option<String>,
    state: Option<String>,
    language: Option<String>,
    level_of_education: Option<String>,
    gender: Option<String>,
    goals: Option<String>,
    mailing_address: Option<String>,
    year_of_birth: Option<i64>,
    language_proficiencies: String,
}

impl ProfileRow {
    pub(crate) fn into_profile(self) -> StoreResult<Profile> {
        Ok(Profile {
            bio: self.bio,
            country: self.country,
            state: self.state,
            language: self.language,
            level_of_education: self.level_of_education,
            gender: self.gender,
            goals: self.goals,
            mailing_address: self.mailing_address,
            year_of_birth: self.year_of_birth.and_then(|y| i32::try_from(y).ok()),
            language_proficiencies: serde_json::from_str(&self.language_proficiencies)
                .map_err(|e| StoreError::Internal(format!("stored languages: {e}")))?,
        })
    }
}

/// Site numbers (`HealthStore::stats`).
#[derive(sqlx::FromRow)]
pub struct StatsRow {
    pub users: i64,
    pub active_users: i64,
    pub admins: i64,
    pub courses: i64,
    pub published_courses: i64,
    pub enrollments: i64,
    pub active_sessions: i64,
    pub blobs: i64,
    pub blob_bytes: i64,
}

impl From<StatsRow> for lectern_app::model::SiteStats {
    fn from(r: StatsRow) -> Self {
        lectern_app::model::SiteStats {
            users: r.users,
            active_users: r.active_users,
            admins: r.admins,
            courses: r.courses,
            published_courses: r.published_courses,
            enrollments: r.enrollments,
            active_sessions: r.active_sessions,
            blobs: r.blobs,
            blob_bytes: r.blob_bytes,
        }
    }
}

pub(crate) const JOB_COLUMNS: &str = "id, kind, payload, dedupe_key, state, attempts, max_attempts, run_after, locked_until, locked_by, last_error, created_at, updated_at";

#[derive(sqlx::FromRow)]
pub struct JobRow {
    id: i64,
    kind: String,
    payload: String,
    dedupe_key: Option<String>,
    state: String,
    attempts: i64,
    max_attempts: i64,
    run_after: i64,
    locked_until: Option<i64>,
    locked_by: Option<String>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl JobRow {
    pub(crate) fn into_job(self) -> StoreResult<Job> {
        Ok(Job {
            id: self.id,
            kind: self.kind,
            payload: json(&self.payload, "job payload")?,
            dedupe_key: self.dedupe_key,
            state: JobState::parse(&self.state).ok_or_else(|| {
                StoreError::Internal(format!("stored job state {:?}", self.state))
            })?,
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            run_after: from_millis(self.run_after),
            locked_until: self.locked_until.map(from_millis),
            locked_by: self.locked_by,
            last_error: self.last_error,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
        })
    }
}
