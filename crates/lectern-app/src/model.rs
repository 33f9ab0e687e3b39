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
    pub updated_at: DateTime<Utc>,
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
