//! Bulk e-mail from a course's instructor page, as Open edX's instructor
//! dashboard sends it: to myself, the course staff, all learners, and the
//! learners of chosen cohorts (`cohorts/`).
//!
//! Sending stores the e-mail and enqueues one `bulk_email` job in one
//! transaction; the job fans the recipients out into the outbox in
//! batches of `MailSettings::fanout_batch`, each batch one transaction,
//! with dedupe key (e-mail, user), so a job run again after a crash
//! never queues anyone twice. Every copy carries its own unsubscribe link
//! (a random token, no sign-in needed); as Open edX's sending code does,
//! anyone who opted out of the course's e-mail is left out whatever the
//! target, and "all learners" leaves out the course team and inactive
//! accounts. A cohort target is stored by the cohort's id (`cohort:ID`),
//! so renaming a cohort does not change where a queued e-mail goes; its
//! members are read when the job fans out, with the same rules as "all
//! learners" (actively enrolled, not on the course team, not opted out).
//! Recipients are one query over users, so someone in two chosen groups
//! gets one copy.

use std::collections::BTreeMap;

use lectern_content::sanitize::clean_html;
use lectern_content::CourseKey;

use crate::error::{AppError, AppResult};
use crate::jobs::{JobKind, NewJob};
use crate::model::{CourseRecord, User};
use crate::outbox::{new_message_id, BulkEmail, MailState, NewMail, RecipientQuery};
use crate::passwords::new_secret;
use crate::Lectern;

/// Longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest message body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Bulk e-mails a course's page lists.
pub const RECENT_EMAILS: i64 = 20;

/// Who a bulk e-mail goes to. Stored by key (`myself`, `staff`,
/// `learners`, `cohort:ID`), comma-separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EmailTarget {
    /// The sender only, to review the message.
    Myself,
    /// The course team (instructors and staff).
    Staff,
    /// Every actively enrolled learner who is not on the course team.
    Learners,
    /// The actively enrolled learners of one cohort of the course (by id),
    /// the course team left out.
    Cohort(i64),
}

impl EmailTarget {
    /// The groups every course has (cohorts come from the course).
    pub const ALL: [EmailTarget; 3] = [Self::Myself, Self::Staff, Self::Learners];

    /// The stored form, also the form field's suffix (`target_KEY`).
    pub fn key(self) -> String {
        match self {
            Self::Myself => "myself".into(),
            Self::Staff => "staff".into(),
            Self::Learners => "learners".into(),
            Self::Cohort(id) => format!("cohort:{id}"),
        }
    }

    /// What people read; a cohort by its name in `cohorts` (id → name).
    pub fn label(self, cohorts: &BTreeMap<i64, String>) -> String {
        match self {
            Self::Myself => "Myself".into(),
            Self::Staff => "Staff and instructors".into(),
            Self::Learners => "All learners".into(),
            Self::Cohort(id) => match cohorts.get(&id) {
                Some(name) => format!("Cohort: {name}"),
                None => format!("Cohort {id} (no longer exists)"),
            },
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        if let Some(id) = s.strip_prefix("cohort:") {
            return match id.parse::<i64>() {
                // Digits only, no leading zero: one key per cohort.
                Ok(n) if n > 0 && n.to_string() == id => Some(Self::Cohort(n)),
                _ => None,
            };
        }
        Self::ALL.into_iter().find(|t| t.key() == s)
    }

    /// Targets from their stored form (`myself,learners`); unknown names are skipped.
    pub fn parse_list(s: &str) -> Vec<Self> {
        let mut v: Vec<Self> = s.split(',').filter_map(|t| Self::parse(t.trim())).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// What the instructor typed.
#[derive(Debug, Clone, Default)]
pub struct EmailDraft {
    pub targets: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// A checked draft: what the preview shows and sending stores.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedEmail {
    pub targets: Vec<EmailTarget>,
    pub subject: String,
    /// Through `sanitize::clean_html`.
    pub body_html: String,
    pub body_text: String,
}

/// A bulk e-mail with its progress, for the instructor page.
#[derive(Debug, Clone)]
pub struct EmailProgress {
    pub email: BulkEmail,
    /// Its targets as people read them.
    pub target_labels: Vec<String>,
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
}

/// `html` as plain text: tags dropped, block ends as line breaks, the
/// common entities decoded. Bounded by the input's length.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if matches!(
            name,
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
        ) && (name == "br" || tag.starts_with('/'))
        {
            out.push('\n');
        }
        if name == "li" && !tag.starts_with('/') {
            out.push_str("- ");
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let mut text = String::new();
    let mut blank = 0;
    for line in decoded.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 || text.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        text.push_str(line.trim_start());
        text.push('\n');
    }
    text.trim_end().to_string()
}

/// Checks a draft: one or more known targets, a one-line subject, a body,
/// within their bounds. Field errors name the form's fields.
pub fn check_draft(draft: &EmailDraft) -> AppResult<CheckedEmail> {
    let mut errors = std::collections::BTreeMap::new();
    let mut targets = Vec::new();
    let most = EmailTarget::ALL.len() + crate::cohorts::MAX_COHORTS as usize;
    if draft.targets.len() > most {
        errors.insert(
            "targets".to_string(),
            format!("Choose at most {most} groups."),
        );
    }
    for t in draft.targets.iter().take(most) {
        match EmailTarget::parse(t.trim()) {
            Some(t) => targets.push(t),
            None => {
                errors.insert(
                    "targets".to_string(),
                    format!("Unknown recipient group {t:?}."),
                );
            }
        }
    }
    targets.sort();
    targets.dedup();
    if targets.is_empty() && !errors.contains_key("targets") {
        errors.insert("targets".into(), "Choose who receives the e-mail.".into());
    }
    let subject = draft.subject.trim();
    if subject.is_empty() {
        errors.insert("subject".into(), "The subject is required.".into());
    } else if subject.chars().count() > MAX_SUBJECT_CHARS {
        errors.insert(
            "subject".into(),
            format!("The subject is longer than {MAX_SUBJECT_CHARS} characters."),
        );
    } else if subject.chars().any(char::is_control) {
        errors.insert(
            "subject".into(),
            "The subject must be one line of text.".into(),
        );
    }
    let body_html = clean_html(draft.body.trim());
    if draft.body.len() > MAX_BODY_BYTES {
        errors.insert(
            "body".into(),
            format!("The message is longer than {} KiB.", MAX_BODY_BYTES / 1024),
        );
    } else if html_to_text(&body_html).trim().is_empty() {
        errors.insert("body".into(), "The message is empty.".into());
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid {
            message: "Please correct the marked fields.".into(),
            field_errors: errors,
        });
    }
    Ok(CheckedEmail {
        targets,
        subject: subject.to_string(),
        body_text: html_to_text(&body_html),
        body_html,
    })
}

fn fanout_job(email_id: i64, now: chrono::DateTime<chrono::Utc>) -> NewJob {
    JobKind::BulkEmail { email_id }.new_job(now)
}

impl Lectern {
    /// The course, when `user` may e-mail its participants (its team and
    /// site admins); the same "not found" otherwise, so keys don't leak.
    pub async fn email_course(&self, user: &User, key: &CourseKey) -> AppResult<CourseRecord> {
        match self.store.course(key).await? {
            Some(r) if self.is_course_author(user, key).await? => Ok(r),
            _ => Err(AppError::not_found(format!("course {key}"))),
        }
    }

    /// Checks a draft for the preview (nothing is stored).
    pub async fn preview_bulk_email(
        &self,
        user: &User,
        key: &CourseKey,
        draft: &EmailDraft,
    ) -> AppResult<CheckedEmail> {
        self.email_course(user, key).await?;
        let checked = check_draft(draft)?;
        self.check_cohort_targets(key, &checked).await?;
        Ok(checked)
    }

    /// Refuses cohort targets that are not cohorts of the course.
    async fn check_cohort_targets(&self, key: &CourseKey, checked: &CheckedEmail) -> AppResult<()> {
        let names = self.cohort_names(&key.to_string()).await?;
        for t in &checked.targets {
            if let EmailTarget::Cohort(id) = t {
                if !names.contains_key(id) {
                    return Err(AppError::field(
                        "targets",
                        format!("There is no cohort {id} in this course."),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The groups the compose page offers, with their labels: the fixed
    /// ones, then one per cohort when the course uses cohorts.
    pub async fn email_targets(
        &self,
        user: &User,
        key: &CourseKey,
    ) -> AppResult<Vec<(EmailTarget, String)>> {
        self.email_course(user, key).await?;
        let names = if self.cohorts_enabled(key).await? {
            self.cohort_names(&key.to_string()).await?
        } else {
            BTreeMap::new()
        };
        Ok(EmailTarget::ALL
            .into_iter()
            .chain(names.keys().map(|id| EmailTarget::Cohort(*id)))
            .map(|t| (t, t.label(&names)))
            .collect())
    }

    /// Labels of checked targets (cohorts by their names).
    pub async fn email_target_labels(
        &self,
        key: &CourseKey,
        targets: &[EmailTarget],
    ) -> AppResult<Vec<String>> {
        let names = self.cohort_names(&key.to_string()).await?;
        Ok(targets.iter().map(|t| t.label(&names)).collect())
    }

    /// Stores the e-mail and enqueues its fan-out job, together; its id.
    pub async fn send_bulk_email(
        &self,
        user: &User,
        key: &CourseKey,
        draft: &EmailDraft,
    ) -> AppResult<i64> {
        self.email_course(user, key).await?;
        let checked = check_draft(draft)?;
        self.check_cohort_targets(key, &checked).await?;
        let email = BulkEmail {
            id: 0,
            course_key: key.to_string(),
            sender_id: user.id,
            targets: checked
                .targets
                .iter()
                .map(|t| t.key())
                .collect::<Vec<_>>()
                .join(","),
            subject: checked.subject,
            body_html: checked.body_html,
            body_text: checked.body_text,
            created_at: self.now(),
            fanned_out_at: None,
        };
        let id = self.store.create_bulk_email(&email, fanout_job).await?;
        tracing::info!(course = %key, sender = %user.username, email = id, targets = email.targets, "bulk e-mail queued for fan-out");
        self.jobs.wake.notify_waiters();
        Ok(id)
    }

    /// The course's newest bulk e-mails with their progress.
    pub async fn bulk_emails(&self, user: &User, key: &CourseKey) -> AppResult<Vec<EmailProgress>> {
        self.email_course(user, key).await?;
        let emails = self
            .store
            .bulk_emails_of_course(&key.to_string(), RECENT_EMAILS)
            .await?;
        let names = self.cohort_names(&key.to_string()).await?;
        let mut out = Vec::with_capacity(emails.len());
        for email in emails {
            let counts = self.store.bulk_email_progress(email.id).await?;
            let n = |s: MailState| counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
            out.push(EmailProgress {
                target_labels: EmailTarget::parse_list(&email.targets)
                    .into_iter()
                    .map(|t| t.label(&names))
                    .collect(),
                queued: n(MailState::Queued),
                sent: n(MailState::Sent),
                failed: n(MailState::Failed),
                email,
            });
        }
        Ok(out)
    }

    /// The `bulk_email` job: queues every recipient's copy, a batch per
    /// transaction; copies already queued (an earlier run) are left as
    /// they are.
    pub(crate) async fn fan_out_bulk_email(&self, email_id: i64) -> AppResult<()> {
        let Some(email) = self.store.bulk_email(email_id).await? else {
            tracing::warn!(email = email_id, "the bulk e-mail is gone; nothing to send");
            return Ok(());
        };
        let course_name = match email.course_key.parse::<CourseKey>() {
            Ok(key) => self
                .store
                .course(&key)
                .await?
                .map_or_else(|| email.course_key.clone(), |c| c.display_name),
            Err(_) => email.course_key.clone(),
        };
        let targets = EmailTarget::parse_list(&email.targets);
        let site = self.settings.site_url.trim_end_matches('/').to_string();
        let batch = self.settings.mail.fanout_batch.clamp(1, 10_000);
        let mut query = RecipientQuery {
            course_key: email.course_key.clone(),
            sender: email.sender_id,
            myself: targets.contains(&EmailTarget::Myself),
            staff: targets.contains(&EmailTarget::Staff),
            learners: targets.contains(&EmailTarget::Learners),
            cohorts: targets
                .iter()
                .filter_map(|t| match t {
                    EmailTarget::Cohort(id) => Some(*id),
                    _ => None,
                })
                .collect(),
            after: 0,
            limit: batch,
        };
        let (mut queued, mut seen) = (0u64, 0usize);
        loop {
            let recipients = self.store.bulk_recipients(&query).await?;
            let Some(last) = recipients.last() else { break };
            query.after = last.user_id;
            seen += recipients.len();
            let mut mails = Vec::with_capacity(recipients.len());
            for r in &recipients {
                let token = new_secret();
                let unsubscribe_url = format!("{site}/email/unsubscribe/{token}");
                let (text, html) = crate::mail_templates::bulk_email(
                    &email.body_text,
                    &email.body_html,
                    &course_name,
                    &site,
                    &unsubscribe_url,
                )?;
                mails.push(NewMail {
                    dedupe_key: format!("bulk_email:{}:{}", email.id, r.user_id),
                    origin: "bulk_email".into(),
                    bulk_email_id: Some(email.id),
                    user_id: Some(r.user_id),
                    course_key: Some(email.course_key.clone()),
                    recipient: r.email.clone(),
                    subject: email.subject.clone(),
                    body_text: text,
                    body_html: Some(html),
                    message_id: new_message_id(&site),
                    unsubscribe_token: Some(token),
                    max_attempts: self.settings.mail.max_attempts,
                });
            }
            queued += self.store.queue_mail(&mails, self.now()).await?;
            self.jobs.wake.notify_waiters();
            if (recipients.len() as i64) < batch {
                break;
            }
        }
        self.store
            .mark_bulk_email_fanned_out(email.id, self.now())
            .await?;
        tracing::info!(
            email = email.id,
            recipients = seen,
            queued,
            "bulk e-mail fanned out"
        );
        Ok(())
    }

    /// The course an unsubscribe link opts out of, with its name; `None`
    /// for a link that is not one. No sign-in needed: the token is the key.
    pub async fn unsubscribe_course(&self, token: &str) -> AppResult<Option<(String, String)>> {
        if token.is_empty() || token.len() > 128 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some((_, course)) = self.store.unsubscribe_target(token).await? else {
            return Ok(None);
        };
        let name = match course.parse::<CourseKey>() {
            Ok(key) => self
                .store
                .course(&key)
                .await?
                .map_or_else(|| course.clone(), |c| c.display_name),
            Err(_) => course.clone(),
        };
        Ok(Some((course, name)))
    }

    /// Opts the link's owner out of the course's e-mail; the course name,
    /// or `None` for a link that is not one.
    pub async fn unsubscribe(&self, token: &str) -> AppResult<Option<String>> {
        let Some((course, name)) = self.unsubscribe_course(token).await? else {
            return Ok(None);
        };
        let Some((user, _)) = self.store.unsubscribe_target(token).await? else {
            return Ok(None);
        };
        self.store
            .opt_out_of_course_email(user, &course, self.now())
            .await?;
        tracing::info!(user, course, "opted out of a course's e-mail");
        Ok(Some(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let t = html_to_text(
            "<p>Hello &amp; welcome</p><ul><li>one</li><li>two</li></ul><p>a<br>b</p>",
        );
        assert_eq!(t, "Hello & welcome\n- one\n- two\na\nb");
        assert_eq!(html_to_text("plain < text"), "plain < text");
    }

    #[test]
    fn cohort_targets_are_keyed_by_id() {
        assert_eq!(
            EmailTarget::parse("cohort:12"),
            Some(EmailTarget::Cohort(12))
        );
        for bad in [
            "cohort:",
            "cohort:0",
            "cohort:012",
            "cohort:-1",
            "cohort:x",
            "cohort:1 ",
        ] {
            assert_eq!(EmailTarget::parse(bad), None, "{bad}");
        }
        assert_eq!(EmailTarget::Cohort(7).key(), "cohort:7");
        assert_eq!(
            EmailTarget::parse_list("cohort:3,learners,cohort:3,myself"),
            [
                EmailTarget::Myself,
                EmailTarget::Learners,
                EmailTarget::Cohort(3)
            ]
        );
        let names = BTreeMap::from([(3, "Blue".to_string())]);
        assert_eq!(EmailTarget::Cohort(3).label(&names), "Cohort: Blue");
        assert!(EmailTarget::Cohort(4)
            .label(&names)
            .contains("no longer exists"));
    }

    #[test]
    fn drafts_are_checked_field_by_field() {
        let bad = check_draft(&EmailDraft {
            targets: vec!["everyone".into()],
            subject: "two\nlines".into(),
            body: "<script>x</script>".into(),
        });
        let Err(AppError::Invalid { field_errors, .. }) = bad else {
            panic!("{bad:?}")
        };
        assert_eq!(
            field_errors.keys().collect::<Vec<_>>(),
            ["body", "subject", "targets"]
        );
        let ok = check_draft(&EmailDraft {
            targets: vec!["learners".into(), "myself".into(), "learners".into()],
            subject: " Week 2 ".into(),
            body: "<p onclick=\"x()\">Read <b>this</b></p>".into(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.targets, [EmailTarget::Myself, EmailTarget::Learners]);
        assert_eq!(ok.subject, "Week 2");
        assert!(!ok.body_html.contains("onclick"));
        assert_eq!(ok.body_text, "Read this");
    }
}
