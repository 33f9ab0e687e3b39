//! Course certificates (issue 21, `docs/certificates.md`): the record, the
//! storage trait, and the rule deciding whether a course issues them.
//!
//! A certificate is issued by a job (`issue.rs`) once a learner's stored
//! grade passes, at most one per learner and course; the course team may
//! revoke it with a reason and re-issue it in place. Its verify URL is
//! public, so its id is 128 random bits, never derived from the learner.
//! The name and course title are copied in when it is issued: what was
//! printed stays what the verify page shows.

mod config;
mod display;
mod issue;
mod openedx;
mod rule;
mod show;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use config::{
    asset_name, CertificateConfig, CertificateImage, ImageKind, Signatory, MAX_IMAGE_BYTES,
    MAX_SIGNATORIES,
};
pub use display::{CertificateDisplay, DisplayBehavior};
pub(crate) use issue::{all_from_payload, job_payload, one_from_payload};
pub use issue::{CourseCertificates, CERTIFICATE_LIST_LIMIT};
pub use openedx::OpenEdxCertificate;
pub use rule::CertificateRule;
pub use show::{CertificateVerification, LearnerCertificate, Preview};

use crate::model::UserId;
use crate::store::StoreResult;

/// Where a certificate is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateStatus {
    Generated,
    Revoked,
}

impl CertificateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "generated" => Some(Self::Generated),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// A stored certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    pub id: i64,
    /// The public id of `/certificates/{verify_id}`: 32 lowercase hex digits.
    pub verify_id: String,
    pub user_id: UserId,
    pub course_key: String,
    /// The course grade (0..=1) when it was (re-)issued.
    pub grade: f64,
    pub letter_grade: Option<String>,
    pub status: CertificateStatus,
    /// The learner's full name as printed (the username when they gave none).
    pub name: String,
    pub course_title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<UserId>,
    pub revoke_reason: Option<String>,
}

/// What the issuing job hands the store.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub verify_id: String,
    pub user_id: UserId,
    pub course_key: String,
    pub grade: f64,
    pub letter_grade: Option<String>,
    pub name: String,
    pub course_title: String,
    pub created_at: DateTime<Utc>,
}

/// A learner whose stored grade passes, as the generation job reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct PassingLearner {
    pub user_id: UserId,
    pub percent: f64,
    pub letter_grade: Option<String>,
}

#[async_trait]
pub trait CertificateStore {
    /// Stores `new` unless the learner already has a certificate in the
    /// course; returns the learner's certificate and whether it is new.
    /// Safe when two nodes issue the same one at once: one row, both get it.
    async fn issue_certificate(&self, new: &NewCertificate) -> StoreResult<(Certificate, bool)>;
    async fn certificate_by_verify_id(&self, verify_id: &str) -> StoreResult<Option<Certificate>>;
    async fn certificate_of(
        &self,
        user: UserId,
        course_key: &str,
    ) -> StoreResult<Option<Certificate>>;
    /// A learner's certificates, newest first, at most `limit`.
    async fn certificates_of_user(&self, user: UserId, limit: i64)
        -> StoreResult<Vec<Certificate>>;
    /// A course's certificates, newest first, at most `limit`.
    async fn certificates_of_course(
        &self,
        course_key: &str,
        limit: i64,
    ) -> StoreResult<Vec<Certificate>>;
    /// How many of a course's certificates are generated and revoked.
    async fn count_certificates(&self, course_key: &str) -> StoreResult<(i64, i64)>;
    /// Active enrolled learners whose stored grade passes, by user id after
    /// `after`, at most `limit`.
    async fn passing_learners(
        &self,
        course_key: &str,
        after: UserId,
        limit: i64,
    ) -> StoreResult<Vec<PassingLearner>>;
    /// Revokes a generated certificate; false when it is not (or no longer)
    /// generated.
    async fn revoke_certificate(
        &self,
        id: i64,
        by: UserId,
        reason: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Makes a revoked certificate generated again with the grade, name and
    /// title of now (the verify id stays); false when it is not revoked.
    async fn reissue_certificate(
        &self,
        id: i64,
        grade: f64,
        letter_grade: Option<&str>,
        name: &str,
        course_title: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

/// A fresh verify id: 128 random bits as 32 lowercase hex digits.
pub fn new_verify_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

/// Whether `s` can be a verify id at all (checked before any lookup).
pub fn is_verify_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
