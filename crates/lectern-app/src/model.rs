//! The records use cases exchange with the store and the web layer.

use chrono::{DateTime, Utc};
use lectern_content::CourseKey;
use serde::{Deserialize, Serialize};

pub type UserId = i64;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    /// May create courses in Studio (site admins always may).
    pub is_course_creator: bool,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

/// What the store needs to create an account (the password is already hashed).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub is_course_creator: bool,
}

/// A login session or a bearer token; only the SHA-256 of the secret is stored.
#[derive(Debug, Clone)]
pub struct AuthToken {
    pub token_hash: String,
    pub user_id: UserId,
    pub kind: TokenKind,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    Bearer,
    /// The one-time link that creates the first admin.
    Setup,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Bearer => "bearer",
            TokenKind::Setup => "setup",
        }
    }
}

/// A role a user holds in one course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CourseRole {
    /// Can author the course and manage its team.
    Instructor,
    /// Can author the course.
    Staff,
}

impl CourseRole {
    pub fn as_str(self) -> &'static str {
        match self {
            CourseRole::Instructor => "instructor",
            CourseRole::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "instructor" => Some(CourseRole::Instructor),
            "staff" => Some(CourseRole::Staff),
            _ => None,
        }
    }
}

/// A course as listed: its key, name and publication state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CourseRecord {
    pub key: CourseKey,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    /// The newest published version, if any.
    pub published_version: Option<i64>,
    /// The identity of that version: random, stored with it, never reused
    /// even when a restore or a re-created course repeats a version number.
    /// Caches of published content are keyed by it.
    pub publish_id: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    /// The draft's revision, bumped by every edit.
    pub draft_revision: i64,
    /// The draft revision that was last published (equal to draft_revision when nothing changed since).
    pub published_revision: Option<i64>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl CourseRecord {
    pub fn has_unpublished_changes(&self) -> bool {
        self.published_revision != Some(self.draft_revision)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrollment {
    pub user_id: UserId,
    pub course_key: CourseKey,
    pub mode: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

/// Numbers an operator wants at a glance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SiteStats {
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

/// A learner's state on one problem. `revision` is 0 for a problem never
/// touched; every write bumps it (the store's compare-and-swap guard).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProblemState {
    pub user_id: UserId,
    pub course_key: CourseKey,
    pub usage_key: lectern_content::UsageKey,
    pub revision: i64,
    pub attempts: u32,
    pub reset_count: u32,
    /// The last submitted or saved answers (input id → answer), as JSON.
    pub answers: serde_json::Value,
    /// The last grading's per-input results, as JSON (`{}` when none).
    pub correct_map: serde_json::Value,
    pub raw_earned: f64,
    pub raw_possible: f64,
    /// Weighted score.
    pub earned: f64,
    pub possible: f64,
    pub is_correct: bool,
    pub ever_attempted: bool,
    pub updated_at: DateTime<Utc>,
}

impl ProblemState {
    pub fn fresh(user_id: UserId, usage_key: &lectern_content::UsageKey) -> Self {
        Self {
            user_id,
            course_key: usage_key.course.clone(),
            usage_key: usage_key.clone(),
            revision: 0,
            attempts: 0,
            reset_count: 0,
            answers: serde_json::Value::Object(Default::default()),
            correct_map: serde_json::Value::Object(Default::default()),
            raw_earned: 0.0,
            raw_possible: 0.0,
            earned: 0.0,
            possible: 0.0,
            is_correct: false,
            ever_attempted: false,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

/// One graded submission, kept forever.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submission {
    pub user_id: UserId,
    pub usage_key: lectern_content::UsageKey,
    pub attempt: u32,
    pub answers: serde_json::Value,
    pub correct_map: serde_json::Value,
    pub earned: f64,
    pub possible: f64,
    pub created_at: DateTime<Utc>,
    /// The `Idempotency-Key` the check was sent with, if any.
    pub idempotency_key: Option<String>,
}

/// A persisted course grade. `revision` guards concurrent recomputation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradeRecord {
    pub user_id: UserId,
    pub course_key: CourseKey,
    pub revision: i64,
    pub course_version: i64,
    pub percent: f64,
    pub letter_grade: Option<String>,
    pub passed: bool,
    /// The whole `CourseGrade` as JSON, for the progress page and reports.
    pub detail: JsonText,
    /// One per subsection of the course at `course_version` (a version has
    /// one set of subsections, which the store relies on: it deletes the
    /// stored rows of other versions, not of other blocks).
    pub subsections: Vec<SubsectionGradeRecord>,
    /// What is known of the subsection rows stored beside the grade this
    /// one replaces: lets an answer check write only the rows it changed.
    #[serde(skip)]
    pub stored_subsections: StoredSubsections,
    pub updated_at: DateTime<Utc>,
}

/// What a grade write knows of the learner's subsection rows already
/// stored, those of the grade at the record's `revision`.
///
/// A check changes one problem and so at most the figures of the
/// subsections holding it; upserting every subsection's row (each an index
/// seek and a compare, unchanged rows not written) was a fifth of an answer
/// check's instructions in the demo course's 17 subsections (issue 18,
/// twelfth pass). The check knows which rows it changes, but the stored
/// rows can also be stale in others (written before a release date passed,
/// by another version, or by a previous release during a rolling update),
/// so it says only what it can prove: see [`subsections_digest`].
#[derive(Debug, Clone, Default, PartialEq)]
pub enum StoredSubsections {
    /// Nothing known: every row is written and the rows of other course
    /// versions deleted.
    #[default]
    Unknown,
    /// The stored rows are the record's `subsections`, with the same course
    /// version, except at these positions: only those rows are written.
    DifferAt(Vec<usize>),
}

/// A fingerprint of a learner's subsection rows as one grade write leaves
/// them: the course version, the grade revision the write makes (the read
/// revision + 1) and each row's block and exact figures, in order. Kept
/// with the stored grade (`course_grades.subsections_digest`, migration
/// 0022) and read back with the learner's progress: a check that computes
/// the rows as they were before its own answer, hashes them with the
/// revision it read and finds the stored digest knows every row but its
/// own subsection's is stored as it is. A write that does not set the
/// digest (the previous release during a rolling update) still bumps the
/// revision, so the digest it leaves behind no longer matches.
pub fn subsections_digest(
    course_version: i64,
    written_revision: i64,
    rows: impl IntoIterator<Item = (impl AsRef<str>, f64, f64, bool)>,
) -> i64 {
    use std::hash::Hasher;
    // FNV-1a: the same on every node and in every release (a cluster's
    // nodes and a rolling update's two releases must agree), cheap on rows
    // of a few dozen bytes, and telling apart rows nobody chooses to make
    // collide. A collision would keep one stale row until the grade is
    // next written whole (the regrade of the course's next publish).
    let mut hash = fnv::FnvHasher::default();
    hash.write(&course_version.to_le_bytes());
    hash.write(&written_revision.to_le_bytes());
    for (block, earned, possible, graded) in rows {
        let block = block.as_ref();
        hash.write(&(block.len() as u64).to_le_bytes());
        hash.write(block.as_bytes());
        hash.write(&earned.to_bits().to_le_bytes());
        hash.write(&possible.to_bits().to_le_bytes());
        hash.write(&[u8::from(graded)]);
    }
    i64::from_le_bytes(hash.finish().to_le_bytes())
}

impl GradeRecord {
    /// [`subsections_digest`] of this record's rows as its write leaves them.
    pub fn written_subsections_digest(&self) -> i64 {
        subsections_digest(
            self.course_version,
            self.revision + 1,
            self.subsections
                .iter()
                .map(|s| (s.block_id.as_str(), s.earned, s.possible, s.graded)),
        )
    }
}

/// JSON kept as its text: made once from the value it describes, stored
/// and serialized as it is, and parsed only by whoever reads it.
///
/// A grade's detail was a `serde_json::Value` tree built on every answer
/// check, written out as text on the writer's thread and freed there, all
/// for a column that is only stored: about 5 % of a check's CPU (issue 18,
/// eighth pass).
#[derive(Debug, Clone)]
pub struct JsonText(Box<serde_json::value::RawValue>);

impl JsonText {
    /// `value` written as JSON.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Self> {
        serde_json::value::to_raw_value(value).map(JsonText)
    }

    /// Text that must be one JSON value (it is checked, not parsed into a tree).
    pub fn parse(text: String) -> serde_json::Result<Self> {
        serde_json::value::RawValue::from_string(text).map(JsonText)
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The value, parsed.
    pub fn to_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(self.as_str())
    }
}

/// Equal when they hold the same value, however it was spaced or ordered.
impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        match (self.to_value(), other.to_value()) {
            (Ok(a), Ok(b)) => a == b,
            _ => self.as_str() == other.as_str(),
        }
    }
}

/// The JSON text, as stored.
impl std::fmt::Display for JsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubsectionGradeRecord {
    pub block_id: String,
    pub earned: f64,
    pub possible: f64,
    pub graded: bool,
}

#[cfg(test)]
mod json_text_tests {
    use super::JsonText;

    /// Kept text serializes as the value it holds (not as a string), equals
    /// the same value however spaced, and text that is not JSON is refused.
    #[test]
    fn json_text_is_written_as_its_value_and_compared_by_value() {
        let made = JsonText::of(&serde_json::json!({"percent": 0.5, "by_type": [1, 2]})).unwrap();
        let stored = JsonText::parse(r#"{ "by_type": [1,2], "percent": 0.5 }"#.into()).unwrap();
        assert_eq!(made, stored);
        assert_ne!(made, JsonText::parse(r#"{"percent": 0.6}"#.into()).unwrap());
        let outer = serde_json::to_string(
            &serde_json::json!({ "detail": serde_json::to_value(&made).unwrap() }),
        )
        .unwrap();
        assert_eq!(outer, r#"{"detail":{"by_type":[1,2],"percent":0.5}}"#);
        assert_eq!(serde_json::to_string(&made).unwrap(), made.as_str());
        assert!(JsonText::parse("{not json".into()).is_err());
        assert!(JsonText::parse("{} trailing".into()).is_err());
    }
}

#[cfg(test)]
mod digest_tests {
    use super::subsections_digest;

    /// The digest is a fixed function of its inputs: nodes and releases
    /// that compute it apart must agree, so a change to it is a change of
    /// the stored format (migration 0022), not an implementation detail.
    #[test]
    fn the_subsection_digest_is_stable_and_sees_every_figure() {
        let rows = |earned: f64| [("hw1", 1.0, 2.0, true), ("hw2", earned, 3.0, false)];
        let digest = subsections_digest(4, 7, rows(0.5));
        // FNV-1a over the bytes the doc names, worked out apart (in Python).
        assert_eq!(digest, -833_323_077_362_023_026);
        assert_ne!(subsections_digest(4, 7, rows(0.25)), digest);
        assert_ne!(subsections_digest(5, 7, rows(0.5)), digest);
        assert_ne!(subsections_digest(4, 8, rows(0.5)), digest);
        assert_ne!(
            subsections_digest(4, 7, [("hw1", 1.0, 2.0, true), ("hw2", 0.5, 3.0, true)]),
            digest
        );
        // A block's name cannot run into the next row's.
        assert_ne!(
            subsections_digest(1, 1, [("ab", 0.0, 0.0, true), ("c", 0.0, 0.0, true)]),
            subsections_digest(1, 1, [("a", 0.0, 0.0, true), ("bc", 0.0, 0.0, true)])
        );
    }
}
