//! Issuing, revoking and showing certificates: the jobs that issue them
//! (one learner after a passing answer; every passing learner on the course
//! team's request), the course team's actions, and the public verify page.
//!
//! Issuing reads the learner's *stored* grade (written with every answer
//! and by every regrade), never a grade computed on the spot, so the job
//! and the grade report agree. Issuing is idempotent: the store keeps one
//! certificate per learner and course, and a revoked one stays revoked
//! until the course team re-issues it.

use lectern_content::CourseKey;
use serde_json::json;

use super::{
    is_verify_id, new_verify_id, Certificate, CertificateConfig, CertificateRule, NewCertificate,
};
use crate::error::{AppError, AppResult};
use crate::jobs::JobKind;
use crate::learning::PublishedCourse;
use crate::model::{GradeRecord, User, UserId};
use crate::Lectern;

/// Certificates the course team's page lists (newest first).
pub const CERTIFICATE_LIST_LIMIT: i64 = 500;
/// Learners the generation job reads at a time.
const GENERATION_BATCH: i64 = 200;
/// The longest revocation reason kept.
const MAX_REASON_CHARS: usize = 500;
/// A learner's certificates the API lists at most.
pub(super) const USER_CERTIFICATES_LIMIT: i64 = 1000;

/// The job payload names.
const USER_ID: &str = "user_id";
const COURSE_KEY: &str = "course_key";

/// The course team's view of a course's certificates.
#[derive(Debug, Clone)]
pub struct CourseCertificates {
    pub rule: CertificateRule,
    pub certificates: Vec<Certificate>,
    pub generated: i64,
    pub revoked: i64,
}

/// The job kinds of this module, as stored (see `jobs/kinds.rs`).
pub(crate) fn job_payload(kind: &JobKind) -> Option<serde_json::Value> {
    match kind {
        JobKind::Certificate { user_id, course } => {
            Some(json!({USER_ID: user_id, COURSE_KEY: course.to_string()}))
        }
        JobKind::Certificates { course } => Some(json!({COURSE_KEY: course.to_string()})),
        _ => None,
    }
}

fn course_of(payload: &serde_json::Value) -> Result<CourseKey, String> {
    payload[COURSE_KEY]
        .as_str()
        .ok_or("the payload has no course_key")?
        .parse::<CourseKey>()
        .map_err(|e| format!("bad course_key: {e}"))
}

/// A stored `certificate` job's kind.
pub(crate) fn one_from_payload(payload: &serde_json::Value) -> Result<JobKind, String> {
    Ok(JobKind::Certificate {
        user_id: payload[USER_ID]
            .as_i64()
            .ok_or("the payload has no user_id")?,
        course: course_of(payload)?,
    })
}

/// A stored `certificates` job's kind.
pub(crate) fn all_from_payload(payload: &serde_json::Value) -> Result<JobKind, String> {
    Ok(JobKind::Certificates {
        course: course_of(payload)?,
    })
}

/// The course title printed: the active configuration's `course_title`
/// when it sets one, else the course's name.
fn printed_title(course: &PublishedCourse) -> String {
    CertificateConfig::active(&course.tree)
        .and_then(|c| c.course_title)
        .unwrap_or_else(|| course.tree.display_name())
}

fn printed_name(user: &User) -> String {
    let name = user.name.trim();
    if name.is_empty() {
        user.username.clone()
    } else {
        name.to_string()
    }
}

impl Lectern {
    /// The certificate rule of a course's newest published version.
    pub async fn certificate_rule(&self, key: &CourseKey) -> AppResult<CertificateRule> {
        let course = self.published_course(key).await?;
        Ok(CertificateRule::of(&course.tree))
    }

    /// After a graded answer is stored: a learner whose grade now passes in
    /// a course with certificates, and who has none, gets an issuing job.
    /// The answer is committed, so a failure here is logged, not returned
    /// (the course team's "generate" catches anyone missed).
    pub(crate) async fn certificate_after_grade(
        &self,
        course: &PublishedCourse,
        grade: &GradeRecord,
    ) {
        if !grade.passed || !CertificateRule::of(&course.tree).enabled() {
            return;
        }
        let key = &course.record.key;
        let result = async {
            if self
                .store
                .certificate_of(grade.user_id, &key.to_string())
                .await?
                .is_some()
            {
                return Ok(None);
            }
            self.enqueue_job(&JobKind::Certificate {
                user_id: grade.user_id,
                course: key.clone(),
            })
            .await
        };
        if let Err(e) = result.await {
            tracing::warn!(course = %key, user = grade.user_id, error = %e, "enqueueing a certificate failed");
        }
    }

    /// The `certificate` job: issues `user_id`'s certificate in `key` if the
    /// course issues them, the learner is enrolled and their stored grade
    /// passes. Returns the certificate when there is one.
    pub(crate) async fn issue_certificate_job(
        &self,
        user_id: UserId,
        key: &CourseKey,
    ) -> AppResult<Option<Certificate>> {
        let course = match self.published_course(key).await {
            Ok(c) => c,
            Err(AppError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !CertificateRule::of(&course.tree).enabled() {
            return Ok(None);
        }
        let Some(user) = self.store.user_by_id(user_id).await? else {
            return Ok(None);
        };
        if !user.is_active || self.enrollment(&user, key).await?.is_none() {
            return Ok(None);
        }
        match self.store.course_grade(user_id, key).await? {
            Some(g) if g.passed => self.issue(&user, &course, g.percent, g.letter_grade).await,
            _ => Ok(None),
        }
    }

    async fn issue(
        &self,
        user: &User,
        course: &PublishedCourse,
        percent: f64,
        letter_grade: Option<String>,
    ) -> AppResult<Option<Certificate>> {
        let new = NewCertificate {
            verify_id: new_verify_id(),
            user_id: user.id,
            course_key: course.record.key.to_string(),
            grade: percent,
            letter_grade,
            name: printed_name(user),
            course_title: printed_title(course),
            created_at: self.now(),
        };
        let (cert, created) = self.store.issue_certificate(&new).await?;
        if created {
            tracing::info!(user = %user.username, course = %course.record.key, "certificate issued");
        }
        Ok(Some(cert))
    }

    /// The `certificates` job: every passing learner of `key` without a
    /// certificate gets one. Safe to rerun from the start.
    pub(crate) async fn issue_certificates_job(&self, key: &CourseKey) -> AppResult<usize> {
        let course = match self.published_course(key).await {
            Ok(c) => c,
            Err(AppError::NotFound(_)) => return Ok(0),
            Err(e) => return Err(e),
        };
        if !CertificateRule::of(&course.tree).enabled() {
            return Ok(0);
        }
        let (mut after, mut issued) = (0, 0);
        loop {
            let batch = self
                .store
                .passing_learners(&key.to_string(), after, GENERATION_BATCH)
                .await?;
            let Some(last) = batch.last() else { break };
            after = last.user_id;
            for learner in batch {
                if self
                    .store
                    .certificate_of(learner.user_id, &key.to_string())
                    .await?
                    .is_some()
                {
                    continue;
                }
                let Some(user) = self.store.user_by_id(learner.user_id).await? else {
                    continue;
                };
                self.issue(&user, &course, learner.percent, learner.letter_grade)
                    .await?;
                issued += 1;
            }
        }
        tracing::info!(course = %key, issued, "certificates generated");
        Ok(issued)
    }

    async fn require_course_team(&self, asker: &User, key: &CourseKey) -> AppResult<()> {
        if self.store.course(key).await?.is_none() || !self.is_course_author(asker, key).await? {
            return Err(AppError::not_found(format!("course {key}")));
        }
        Ok(())
    }

    /// The course team's list (newest first, bounded) and counts.
    pub async fn course_certificates(
        &self,
        asker: &User,
        key: &CourseKey,
    ) -> AppResult<CourseCertificates> {
        self.require_course_team(asker, key).await?;
        let rule = self.certificate_rule(key).await.unwrap_or_default();
        let certificates = self
            .store
            .certificates_of_course(&key.to_string(), CERTIFICATE_LIST_LIMIT)
            .await?;
        let (generated, revoked) = self.store.count_certificates(&key.to_string()).await?;
        Ok(CourseCertificates {
            rule,
            certificates,
            generated,
            revoked,
        })
    }

    /// The course team's "generate certificates": one job for every passing
    /// learner. Returns its id (`None`: one is already pending).
    pub async fn start_certificate_generation(
        &self,
        asker: &User,
        key: &CourseKey,
    ) -> AppResult<Option<i64>> {
        self.require_course_team(asker, key).await?;
        if !self.certificate_rule(key).await?.enabled() {
            return Err(AppError::invalid(
                "This course does not issue certificates: it needs cert_html_view_enabled and an active certificate in its certificates setting.",
            ));
        }
        self.enqueue_job(&JobKind::Certificates {
            course: key.clone(),
        })
        .await
    }

    /// A job's state for the progress line of the course team's page.
    pub async fn certificate_job_state(
        &self,
        asker: &User,
        key: &CourseKey,
        job_id: i64,
    ) -> AppResult<Option<crate::jobs::JobState>> {
        self.require_course_team(asker, key).await?;
        let job = self.store.job(job_id).await?;
        Ok(job
            .filter(|j| {
                j.kind == JobKind::CERTIFICATES
                    && j.payload[COURSE_KEY].as_str() == Some(key.to_string().as_str())
            })
            .map(|j| j.state))
    }

    async fn team_certificate(
        &self,
        asker: &User,
        key: &CourseKey,
        verify_id: &str,
    ) -> AppResult<Certificate> {
        self.require_course_team(asker, key).await?;
        let found = if is_verify_id(verify_id) {
            self.store.certificate_by_verify_id(verify_id).await?
        } else {
            None
        };
        found
            .filter(|c| c.course_key == key.to_string())
            .ok_or_else(|| AppError::not_found(format!("certificate {verify_id}")))
    }

    /// Revokes a certificate (course team), with a reason.
    pub async fn revoke_certificate(
        &self,
        asker: &User,
        key: &CourseKey,
        verify_id: &str,
        reason: &str,
    ) -> AppResult<()> {
        let cert = self.team_certificate(asker, key, verify_id).await?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::field(
                "reason",
                "Say why the certificate is revoked.",
            ));
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(AppError::field(
                "reason",
                format!("The reason is longer than {MAX_REASON_CHARS} characters."),
            ));
        }
        if !self
            .store
            .revoke_certificate(cert.id, asker.id, reason, self.now())
            .await?
        {
            return Err(AppError::Conflict(
                "This certificate is already revoked.".into(),
            ));
        }
        tracing::info!(course = %key, certificate = cert.id, by = %asker.username, "certificate revoked");
        Ok(())
    }

    /// Re-issues a revoked certificate (course team) with the learner's
    /// current stored grade, which must still pass.
    pub async fn reissue_certificate(
        &self,
        asker: &User,
        key: &CourseKey,
        verify_id: &str,
    ) -> AppResult<()> {
        let cert = self.team_certificate(asker, key, verify_id).await?;
        let grade = self.store.course_grade(cert.user_id, key).await?;
        let Some(grade) = grade.filter(|g| g.passed) else {
            return Err(AppError::invalid(
                "This learner's grade does not pass the course now; the certificate stays revoked.",
            ));
        };
        let user = self
            .store
            .user_by_id(cert.user_id)
            .await?
            .ok_or_else(|| AppError::not_found("the learner"))?;
        let course = self.published_course(key).await?;
        if !self
            .store
            .reissue_certificate(
                cert.id,
                grade.percent,
                grade.letter_grade.as_deref(),
                &printed_name(&user),
                &printed_title(&course),
                self.now(),
            )
            .await?
        {
            return Err(AppError::Conflict(
                "This certificate is not revoked.".into(),
            ));
        }
        tracing::info!(course = %key, certificate = cert.id, by = %asker.username, "certificate re-issued");
        Ok(())
    }
}
