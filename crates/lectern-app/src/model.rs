//! The records use cases exchange with the store and the web layer.

use chrono::{DateTime, Utc};
use lectern_content::CourseKey;
use serde::Serialize;

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

#[derive(Debug, Clone, PartialEq, Serialize)]
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
