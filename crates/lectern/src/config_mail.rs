//! The `[mail]` section: how the mail outbox delivers (attempts, backoff,
//! batches, pace, claims) and how bulk e-mail fans out (docs/mail.md). The
//! relay itself is `[smtp]`. Its variables are `LECTERN_MAIL_<KEY>`.

use serde::{Deserialize, Serialize};

/// Every `[mail]` setting, with its default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// Sending attempts before a message is left failed.
    pub max_attempts: i64,
    /// Seconds before the first retry; doubled for each further failure.
    pub retry_base_secs: u64,
    /// Messages one claim of a node takes.
    pub delivery_batch: i64,
    /// Messages a node sends at once.
    pub send_concurrency: usize,
    /// Most messages a node hands the relay per second (0: no limit).
    pub max_per_second: u32,
    /// Seconds a claim holds its messages.
    pub claim_lease_secs: u64,
    /// Recipients a bulk e-mail's fan-out queues per transaction.
    pub fanout_batch: i64,
}

impl Default for MailConfig {
    fn default() -> Self {
        let d = lectern_app::outbox::MailSettings::default();
        Self {
            max_attempts: d.max_attempts,
            retry_base_secs: d.retry_base.as_secs(),
            delivery_batch: d.delivery_batch,
            send_concurrency: d.send_concurrency,
            max_per_second: d.max_per_second,
            claim_lease_secs: d.claim_lease.as_secs(),
            fanout_batch: d.fanout_batch,
        }
    }
}

/// (key, description) in file order, for the example file and the variables.
pub const MAIL_KEYS: &[(&str, &str)] = &[
    (
        "max_attempts",
        "Sending attempts of one message before it is left failed (1 to 100); the admin\n\
         # console's mail page lists failures and queues them again.",
    ),
    (
        "retry_base_secs",
        "Seconds before a failed message is tried again (1 to 3600), doubled after each\n\
         # further failure, at most an hour.",
    ),
    (
        "delivery_batch",
        "Messages one claim takes (1 to 1000); each is marked sent as soon as the relay accepts it.",
    ),
    ("send_concurrency", "Messages a node sends at once (1 to 64)."),
    (
        "max_per_second",
        "Most messages one node hands the relay per second (0: no limit), for relays with a rate limit.",
    ),
    (
        "claim_lease_secs",
        "Seconds a node's claim holds its messages (5 to 3600); the messages of a node that\n\
         # died are sent by another after this.",
    ),
    (
        "fanout_batch",
        "Recipients of a bulk e-mail queued per transaction (1 to 10000).",
    ),
];

impl MailConfig {
    /// Refuses settings outside their ranges, naming the key.
    pub fn check(&self) -> anyhow::Result<()> {
        for (key, value, low, high) in [
            ("max_attempts", self.max_attempts, 1, 100),
            ("retry_base_secs", self.retry_base_secs as i64, 1, 3600),
            ("delivery_batch", self.delivery_batch, 1, 1000),
            ("send_concurrency", self.send_concurrency as i64, 1, 64),
            ("max_per_second", i64::from(self.max_per_second), 0, 100_000),
            ("claim_lease_secs", self.claim_lease_secs as i64, 5, 3600),
            ("fanout_batch", self.fanout_batch, 1, 10_000),
        ] {
            anyhow::ensure!(
                (low..=high).contains(&value),
                "[mail] {key} must be {low} to {high}, not {value}"
            );
        }
        Ok(())
    }

    /// The application's outbox settings.
    pub fn settings(&self) -> lectern_app::outbox::MailSettings {
        use std::time::Duration;
        lectern_app::outbox::MailSettings {
            max_attempts: self.max_attempts,
            retry_base: Duration::from_secs(self.retry_base_secs),
            delivery_batch: self.delivery_batch,
            send_concurrency: self.send_concurrency,
            max_per_second: self.max_per_second,
            claim_lease: Duration::from_secs(self.claim_lease_secs),
            fanout_batch: self.fanout_batch,
        }
    }
}
