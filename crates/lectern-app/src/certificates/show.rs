//! Showing certificates: the public verify page (and the course team's
//! preview of a certificate not yet shown), and a learner's own
//! certificates on their progress page and dashboard. Each asks the
//! course's display rule (`display.rs`) at the time of the request, so a
//! certificate appears by itself once its date has passed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lectern_content::CourseKey;

use super::issue::USER_CERTIFICATES_LIMIT;
use super::{
    is_verify_id, Certificate, CertificateConfig, CertificateImage, CertificateRule,
    CertificateStatus, MAX_IMAGE_BYTES,
};
use crate::error::{AppError, AppResult};
use crate::model::User;
use crate::Lectern;

/// What the public verify page shows.
#[derive(Debug, Clone)]
pub struct CertificateVerification {
    pub certificate: Certificate,
    /// The course lets the page show the grade.
    pub show_grade: bool,
    /// The signatories and logo of the course's active configuration now
    /// (empty when it has none).
    pub config: CertificateConfig,
    /// The date printed (`CertificateDisplay::printed_date`).
    pub printed_date: DateTime<Utc>,
    /// `Some` when the certificate is not shown to the learner and the
    /// public yet and the viewer is the course team: a preview.
    pub preview: Option<Preview>,
}

/// A certificate the course team sees before it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preview {
    /// When it will be shown, if a date says so.
    pub shown_from: Option<DateTime<Utc>>,
}

/// A learner's own certificate in a course, as their pages show it.
#[derive(Debug, Clone, PartialEq)]
pub enum LearnerCertificate {
    /// Issued and shown: link to it.
    Available(Box<Certificate>),
    /// Issued, not shown yet (`shown_from`: when, if a date says so).
    Later { shown_from: Option<DateTime<Utc>> },
}

impl Lectern {
    /// The certificate rule of a course's newest published version, `None`
    /// when the course is gone or unpublished (its certificates are then
    /// shown as they were issued); with the active configuration when
    /// `with_config` (only the verify page prints it).
    pub(super) async fn rule_if_published(
        &self,
        course_key: &str,
        with_config: bool,
    ) -> AppResult<Option<(CertificateRule, CertificateConfig)>> {
        let Ok(key) = course_key.parse::<CourseKey>() else {
            return Ok(None);
        };
        match self.published_course(&key).await {
            Ok(c) => Ok(Some((
                CertificateRule::of(&c.tree),
                with_config
                    .then(|| CertificateConfig::active(&c.tree))
                    .flatten()
                    .unwrap_or_default(),
            ))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The public verify page: anyone may open it once the course shows its
    /// certificates; before that only the course team (a preview), and
    /// everyone else finds nothing, as for an id that is not a
    /// certificate's.
    pub async fn verify_certificate(
        &self,
        verify_id: &str,
        viewer: Option<&User>,
    ) -> AppResult<CertificateVerification> {
        let not_found = || AppError::not_found("this certificate");
        let found = if is_verify_id(verify_id) {
            self.store.certificate_by_verify_id(verify_id).await?
        } else {
            None
        };
        let certificate = found.ok_or_else(not_found)?;
        let now = self.now();
        let Some((rule, config)) = self
            .rule_if_published(&certificate.course_key, true)
            .await?
        else {
            return Ok(CertificateVerification {
                printed_date: certificate.created_at,
                certificate,
                show_grade: false,
                config: CertificateConfig::default(),
                preview: None,
            });
        };
        let mut preview = None;
        if !rule.display.visible_at(now) {
            let team = match (viewer, certificate.course_key.parse::<CourseKey>()) {
                (Some(user), Ok(key)) => self.is_course_author(user, &key).await?,
                _ => false,
            };
            if !team {
                return Err(not_found());
            }
            preview = Some(Preview {
                shown_from: rule.display.shown_from(),
            });
        }
        Ok(CertificateVerification {
            printed_date: rule.display.printed_date(certificate.created_at, now),
            certificate,
            show_grade: rule.show_grade,
            config,
            preview,
        })
    }

    fn learner_view(
        &self,
        certificate: Certificate,
        rule: Option<&CertificateRule>,
    ) -> LearnerCertificate {
        match rule {
            Some(r) if !r.display.visible_at(self.now()) => LearnerCertificate::Later {
                shown_from: r.display.shown_from(),
            },
            _ => LearnerCertificate::Available(Box::new(certificate)),
        }
    }

    /// A certificate image's bytes (`None` when the store no longer has
    /// them, or they are not the size the course recorded).
    pub async fn certificate_image_bytes(
        &self,
        image: &CertificateImage,
    ) -> AppResult<Option<Vec<u8>>> {
        if image.asset.size > MAX_IMAGE_BYTES {
            return Ok(None);
        }
        let bytes = self.store.blob(&image.asset.sha256).await?;
        Ok(bytes.filter(|b| b.len() as u64 == image.asset.size))
    }

    /// `user`'s issued certificate in a course, for their progress page.
    pub async fn my_certificate(
        &self,
        user: &User,
        key: &CourseKey,
    ) -> AppResult<Option<LearnerCertificate>> {
        let Some(cert) = self
            .store
            .certificate_of(user.id, &key.to_string())
            .await?
            .filter(|c| c.status == CertificateStatus::Generated)
        else {
            return Ok(None);
        };
        let rule = self.rule_if_published(&cert.course_key, false).await?;
        Ok(Some(self.learner_view(cert, rule.as_ref().map(|(r, _)| r))))
    }

    /// `user`'s issued certificates by course key, for their dashboard.
    pub async fn my_certificates(
        &self,
        user: &User,
    ) -> AppResult<HashMap<String, LearnerCertificate>> {
        let certs = self
            .store
            .certificates_of_user(user.id, USER_CERTIFICATES_LIMIT)
            .await?;
        let mut out = HashMap::new();
        for cert in certs {
            if cert.status != CertificateStatus::Generated {
                continue;
            }
            let rule = self.rule_if_published(&cert.course_key, false).await?;
            let key = cert.course_key.clone();
            out.insert(key, self.learner_view(cert, rule.as_ref().map(|(r, _)| r)));
        }
        Ok(out)
    }
}
