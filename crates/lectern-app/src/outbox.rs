//! The mail outbox: every message Lectern sends is first a row in
//! `mail_outbox`, written in the same transaction as what causes it (a
//! reset link, a bulk e-mail's fan-out), and only then delivered by the
//! outbox delivery loop (`outbox_delivery.rs`) of whichever node claims it.
//! So no mail is lost while the relay is away or a node restarts: a row is
//! retried with exponential backoff until the relay accepts it, and left
//! `failed` for the admin console after a bounded number of attempts.
//!
//! Each row has a unique dedupe key (the same logical message is never
//! queued twice) and a stable `Message-ID`, so the one duplicate SMTP
//! cannot rule out (a crash between the relay's "250 OK" and the commit of
//! "sent") is recognisable as a copy (`docs/mail.md`).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::{AppError, AppResult};
use crate::jobs::NewJob;
use crate::model::{User, UserId};
use crate::store::{PasswordReset, StoreResult};
use crate::Lectern;

/// Failed messages the admin console lists.
pub const RECENT_FAILURES: i64 = 50;

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MailState {
    /// Waiting for `next_attempt_at`, then for a node to claim and send it.
    Queued,
    /// The relay accepted it.
    Sent,
    /// Gave up after `max_attempts`; an admin may queue it again.
    Failed,
}

impl MailState {
    pub const ALL: [MailState; 3] = [Self::Queued, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// How the outbox delivers, and how bulk e-mail fans out (`[mail]`).
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// Sending attempts before a message is left `failed`.
    pub max_attempts: i64,
    /// The first retry's delay; each further failure doubles it (max 1 h).
    pub retry_base: std::time::Duration,
    /// Messages one claim takes.
    pub delivery_batch: i64,
    /// Messages of a claimed batch sent at once.
    pub send_concurrency: usize,
    /// Most messages a node hands the relay per second (0: no limit).
    pub max_per_second: u32,
    /// How long a claim holds its messages; a node that died leaves them
    /// to others after this.
    pub claim_lease: std::time::Duration,
    /// Recipients one step of a bulk e-mail's fan-out queues together.
    pub fanout_batch: i64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            retry_base: std::time::Duration::from_secs(5),
            delivery_batch: 50,
            send_concurrency: 4,
            max_per_second: 0,
            claim_lease: std::time::Duration::from_secs(60),
            fanout_batch: 200,
        }
    }
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMail {
    /// Unique per logical message: queueing the same key again does nothing.
    pub dedupe_key: String,
    /// `password_reset` or `bulk_email`.
    pub origin: String,
    pub bulk_email_id: Option<i64>,
    pub user_id: Option<UserId>,
    pub course_key: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// `<…@…>`, stable for the row's life.
    pub message_id: String,
    pub unsubscribe_token: Option<String>,
    pub max_attempts: i64,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: i64,
    pub dedupe_key: String,
    pub origin: String,
    pub bulk_email_id: Option<i64>,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub message_id: String,
    pub unsubscribe_token: Option<String>,
    pub state: MailState,
    pub attempts: i64,
    pub max_attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A bulk e-mail as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkEmail {
    pub id: i64,
    pub course_key: String,
    pub sender_id: UserId,
    /// Target names, comma-separated (`crate::bulk_email::EmailTarget`).
    pub targets: String,
    pub subject: String,
    pub body_html: String,
    pub body_text: String,
    pub created_at: DateTime<Utc>,
    /// When every recipient's message was in the outbox.
    pub fanned_out_at: Option<DateTime<Utc>>,
}

/// Who a bulk e-mail goes to, one page of them.
#[derive(Debug, Clone)]
pub struct RecipientQuery {
    pub course_key: String,
    pub sender: UserId,
    pub myself: bool,
    pub staff: bool,
    pub learners: bool,
    /// Cohorts (ids) whose actively enrolled members, the course team
    /// left out, are recipients.
    pub cohorts: Vec<i64>,
    /// Users with a larger id than this (keyset paging).
    pub after: UserId,
    pub limit: i64,
}

/// One recipient of a bulk e-mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
}

#[async_trait]
pub trait MailStore {
    /// Queues messages in one transaction, due at `now`; a message whose
    /// dedupe key is already in the outbox is left out. How many were new.
    async fn queue_mail(&self, mails: &[NewMail], now: DateTime<Utc>) -> StoreResult<u64>;
    /// Stores a password reset link and queues its mail in one transaction.
    async fn insert_password_reset_with_mail(
        &self,
        reset: &PasswordReset,
        mail: &NewMail,
    ) -> StoreResult<()>;
    /// Claims up to `limit` due queued messages (oldest first) for `holder`
    /// until `now + lease`: queued with `next_attempt_at <= now` and no
    /// live claim. Concurrent claimers never get the same message.
    async fn claim_mail(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// Marks a message `holder` claimed as sent (one commit per message,
    /// right after the relay accepted it); false if it lost the claim.
    async fn mark_mail_sent(&self, id: i64, holder: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Records a failed attempt: queued again from `retry_at` while
    /// attempts remain, else `failed`. `None` if `holder` lost the claim.
    async fn mark_mail_failed(
        &self,
        id: i64,
        holder: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<MailState>>;
    /// Gives back claimed messages not tried, due from `retry_at`, without
    /// counting an attempt (the relay went away mid-batch).
    async fn release_mail(
        &self,
        ids: &[i64],
        holder: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<u64>;
    /// How many messages are in each state (states with none left out).
    async fn count_mail(&self) -> StoreResult<Vec<(MailState, i64)>>;
    /// The newest failed messages first.
    async fn recent_mail_failures(&self, limit: i64) -> StoreResult<Vec<OutboxMessage>>;
    /// Queues every failed message again with fresh attempts; how many.
    async fn retry_failed_mail(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// The message carrying this unsubscribe token: (user, course).
    async fn unsubscribe_target(&self, token: &str) -> StoreResult<Option<(UserId, String)>>;

    /// Stores a bulk e-mail and enqueues its fan-out job (`job(id)`) in
    /// one transaction; its id.
    async fn create_bulk_email(
        &self,
        email: &BulkEmail,
        job: fn(i64, DateTime<Utc>) -> NewJob,
    ) -> StoreResult<i64>;
    async fn bulk_email(&self, id: i64) -> StoreResult<Option<BulkEmail>>;
    /// A course's newest bulk e-mails first.
    async fn bulk_emails_of_course(
        &self,
        course_key: &str,
        limit: i64,
    ) -> StoreResult<Vec<BulkEmail>>;
    /// A bulk e-mail's messages by state.
    async fn bulk_email_progress(&self, id: i64) -> StoreResult<Vec<(MailState, i64)>>;
    /// One page of recipients by user id: active accounts in any asked
    /// group, without anyone who opted out of the course's e-mail.
    async fn bulk_recipients(&self, query: &RecipientQuery) -> StoreResult<Vec<Recipient>>;
    async fn mark_bulk_email_fanned_out(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()>;
    /// Opts `user` out of `course_key`'s e-mail (again is fine).
    async fn opt_out_of_course_email(
        &self,
        user: UserId,
        course_key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn is_opted_out(&self, user: UserId, course_key: &str) -> StoreResult<bool>;
}

/// A fresh `Message-ID` for a row: random, on the site's host.
pub fn new_message_id(site_url: &str) -> String {
    let host = site_url
        .split("://")
        .nth(1)
        .unwrap_or(site_url)
        .split(['/', ':'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("lectern.invalid");
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    format!("<{}@{host}>", hex::encode(bytes))
}

impl Lectern {
    /// How many messages are in each state (every state listed), for the
    /// admin console and `/metrics`.
    pub async fn mail_counts(&self) -> AppResult<Vec<(MailState, i64)>> {
        let counts = self.store.count_mail().await?;
        Ok(MailState::ALL
            .into_iter()
            .map(|s| {
                let n = counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
                (s, n)
            })
            .collect())
    }

    /// The outbox as the admin console shows it: counts and the newest
    /// failures (admins only).
    pub async fn admin_mail(
        &self,
        asker: &User,
    ) -> AppResult<(Vec<(MailState, i64)>, Vec<OutboxMessage>)> {
        require_admin(asker)?;
        let counts = self.mail_counts().await?;
        let failures = self.store.recent_mail_failures(RECENT_FAILURES).await?;
        Ok((counts, failures))
    }

    /// Queues every failed message again (admins only); how many.
    pub async fn retry_failed_mail(&self, asker: &User) -> AppResult<u64> {
        require_admin(asker)?;
        let n = self.store.retry_failed_mail(self.now()).await?;
        tracing::info!(admin = %asker.username, messages = n, "failed mail queued again");
        self.jobs.wake.notify_waiters();
        Ok(n)
    }

    /// The outbox settings of this node.
    pub fn mail_settings(&self) -> &MailSettings {
        &self.settings.mail
    }
}

fn require_admin(asker: &User) -> AppResult<()> {
    if asker.is_admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only site admins can see the mail outbox.".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_on_the_site_host_and_differ() {
        let a = new_message_id("https://learn.example.org:8443/x");
        let b = new_message_id("https://learn.example.org");
        assert!(a.ends_with("@learn.example.org>"), "{a}");
        assert!(a.starts_with('<'));
        assert_ne!(a, b);
        assert!(new_message_id("").ends_with("@lectern.invalid>"));
    }
}
