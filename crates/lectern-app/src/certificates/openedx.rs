//! Open edX's certificate API (`/api/certificates/v0/…`): who may read
//! whose certificates, and each certificate in that API's field names.
//!
//! The learner themself and site staff (admins) may read a learner's
//! certificates; the course team may read any learner's certificate in
//! their course; anyone else is refused (403). `status` uses Open edX's
//! values: `downloadable` for an issued certificate, `unavailable` for a
//! revoked one (what Open edX's invalidation sets); `certificate_type` is
//! `honor`, Open edX's free-certificate mode.
//!
//! The list leaves out what Open edX's leaves out: revoked certificates,
//! and those of a course that does not show them yet
//! (`certificates_display_behavior`, `display.rs`) or has no active
//! configuration; the detail answers before the display date as Open
//! edX's does (its `download_url` is the verify page, which stays not
//! found until then), and is not found without an active configuration.

use lectern_content::CourseKey;
use serde::Serialize;

use super::issue::USER_CERTIFICATES_LIMIT;
use super::{Certificate, CertificateStatus};
use crate::error::{AppError, AppResult};
use crate::model::User;
use crate::Lectern;

/// One certificate as Open edX's certificate API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OpenEdxCertificate {
    pub username: String,
    pub course_id: String,
    pub course_display_name: String,
    pub course_organization: String,
    pub certificate_type: &'static str,
    pub created_date: String,
    pub modified_date: String,
    pub status: &'static str,
    pub is_passing: bool,
    pub download_url: String,
    /// The grade as Open edX writes it: a fraction as text (`"0.85"`).
    pub grade: String,
    pub uuid: String,
}

impl OpenEdxCertificate {
    fn of(cert: &Certificate, username: &str, site_url: &str) -> Self {
        let generated = cert.status == CertificateStatus::Generated;
        let org = cert
            .course_key
            .parse::<CourseKey>()
            .map(|k| k.org.clone())
            .unwrap_or_default();
        Self {
            username: username.to_string(),
            course_id: cert.course_key.clone(),
            course_display_name: cert.course_title.clone(),
            course_organization: org,
            certificate_type: "honor",
            created_date: cert.created_at.to_rfc3339(),
            modified_date: cert.updated_at.to_rfc3339(),
            status: if generated {
                "downloadable"
            } else {
                "unavailable"
            },
            is_passing: generated,
            download_url: if generated {
                format!("{site_url}/certificates/{}", cert.verify_id)
            } else {
                String::new()
            },
            grade: python_float_text((cert.grade * 100.0).round() / 100.0),
            uuid: cert.verify_id.clone(),
        }
    }
}

/// A float as Python's `str()` writes it (`1.0`, `0.85`), as Open edX
/// stores the grade.
fn python_float_text(x: f64) -> String {
    let text = format!("{x}");
    if text.contains('.') || !x.is_finite() {
        text
    } else {
        format!("{text}.0")
    }
}

impl Lectern {
    /// The learner named `username`, if `asker` may read their certificates
    /// (themself or an admin; `course`: also that course's team).
    async fn certificate_owner(
        &self,
        asker: &User,
        username: &str,
        course: Option<&CourseKey>,
    ) -> AppResult<User> {
        let owner = asker.username.eq_ignore_ascii_case(username) || asker.is_admin;
        let team = match course {
            Some(key) if !owner => self.is_course_author(asker, key).await?,
            _ => false,
        };
        if !owner && !team {
            return Err(AppError::Forbidden(
                "You can only see your own certificates.".into(),
            ));
        }
        self.user_by_username(username).await
    }

    /// `GET /api/certificates/v0/certificates/{username}/courses/{course_id}/`.
    pub async fn openedx_certificate(
        &self,
        asker: &User,
        username: &str,
        key: &CourseKey,
    ) -> AppResult<OpenEdxCertificate> {
        let learner = self.certificate_owner(asker, username, Some(key)).await?;
        let missing = || AppError::not_found(format!("a certificate of {username} in {key}"));
        let cert = self
            .store
            .certificate_of(learner.id, &key.to_string())
            .await?
            .ok_or_else(missing)?;
        // As Open edX: not found once the course has no active
        // configuration; the display date is not asked here.
        match self.rule_if_published(&cert.course_key, false).await? {
            Some((rule, _)) if !rule.has_active_config => return Err(missing()),
            _ => {}
        }
        Ok(OpenEdxCertificate::of(
            &cert,
            &learner.username,
            &self.settings.site_url,
        ))
    }

    /// `GET /api/certificates/v0/certificates/{username}/`: as Open edX,
    /// only issued (not revoked) certificates of courses that have an
    /// active configuration and show their certificates now, oldest first.
    pub async fn openedx_certificates(
        &self,
        asker: &User,
        username: &str,
    ) -> AppResult<Vec<OpenEdxCertificate>> {
        let learner = self.certificate_owner(asker, username, None).await?;
        let certs = self
            .store
            .certificates_of_user(learner.id, USER_CERTIFICATES_LIMIT)
            .await?;
        let now = self.now();
        let mut shown = Vec::new();
        for cert in certs.iter().rev() {
            if cert.status != CertificateStatus::Generated {
                continue;
            }
            let Some((rule, _)) = self.rule_if_published(&cert.course_key, false).await? else {
                continue;
            };
            if rule.has_active_config && rule.display.visible_at(now) {
                shown.push(OpenEdxCertificate::of(
                    cert,
                    &learner.username,
                    &self.settings.site_url,
                ));
            }
        }
        Ok(shown)
    }
}
