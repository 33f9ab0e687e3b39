//! The `[backup]` section of the configuration: where scheduled backups go,
//! when they run, what they keep, and how to reach S3-compatible storage.
//! Its variables are `LECTERN_BACKUP_<KEY>`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Every `[backup]` setting, with its default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BackupSettings {
    /// A folder or `s3://bucket/prefix`; empty: `DATA/backups`.
    pub target: String,
    /// Cron expression of scheduled backups (`lectern serve`); empty: none.
    pub schedule: String,
    /// Time zone the schedule is read in (IANA name).
    pub timezone: String,
    pub keep_last: u32,
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
    pub keep_yearly: u32,
    /// S3 endpoint (`https://…`, `http://…` for a server on a trusted network); empty: AWS.
    pub s3_endpoint: String,
    pub s3_region: String,
    /// Empty: the `AWS_ACCESS_KEY_ID` variable.
    pub s3_access_key_id: String,
    /// File whose first line is the secret key; empty: `AWS_SECRET_ACCESS_KEY`.
    pub s3_secret_access_key_file: PathBuf,
    /// Longest wait for one S3 request, in seconds.
    pub s3_timeout_secs: u64,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            target: String::new(),
            schedule: String::new(),
            timezone: "UTC".into(),
            keep_last: 0,
            keep_daily: 7,
            keep_weekly: 4,
            keep_monthly: 12,
            keep_yearly: 0,
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
            s3_access_key_id: String::new(),
            s3_secret_access_key_file: PathBuf::new(),
            s3_timeout_secs: 30,
        }
    }
}

/// (key, description) in file order, for the example file and the variables.
pub const BACKUP_KEYS: &[(&str, &str)] = &[
    (
        "target",
        "Where backups go: a folder, or s3://BUCKET/PREFIX; empty: DATA_DIR/backups.",
    ),
    (
        "schedule",
        "When lectern serve takes a backup, in cron syntax (\"4 5 * * *\": 05:04 daily); empty: never.\n\
         # With several nodes on one database, one of them runs each backup.",
    ),
    ("timezone", "Time zone the schedule is read in (IANA name, e.g. \"Europe/Zurich\")."),
    ("keep_last", "After each scheduled backup, keep the newest N backups…"),
    ("keep_daily", "…and the newest of each of the last N days…"),
    ("keep_weekly", "…of the last N ISO weeks…"),
    ("keep_monthly", "…of the last N months…"),
    ("keep_yearly", "…and of the last N years; the rest are deleted."),
    (
        "s3_endpoint",
        "S3-compatible endpoint, e.g. \"https://s3.example.org\" (http:// only on a trusted network); empty: AWS.",
    ),
    ("s3_region", "S3 region."),
    (
        "s3_access_key_id",
        "S3 access key; empty: the AWS_ACCESS_KEY_ID environment variable.",
    ),
    (
        "s3_secret_access_key_file",
        "File holding the S3 secret key (first line); empty: AWS_SECRET_ACCESS_KEY.",
    ),
    ("s3_timeout_secs", "Longest wait for one S3 request, in seconds."),
];

/// Whether `key` (without the `backup_` prefix) takes a number.
pub fn is_numeric(key: &str) -> bool {
    key.starts_with("keep_") || key == "s3_timeout_secs"
}

impl BackupSettings {
    /// The S3 connection settings, reading the secret key file if one is named.
    pub fn s3(&self) -> anyhow::Result<lectern_backup::S3Settings> {
        let secret = if self.s3_secret_access_key_file.as_os_str().is_empty() {
            String::new()
        } else {
            let path: &Path = &self.s3_secret_access_key_file;
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading s3_secret_access_key_file {}", path.display()))?;
            text.lines().next().unwrap_or("").trim().to_string()
        };
        anyhow::ensure!(
            self.s3_access_key_id.is_empty() == secret.is_empty(),
            "set both s3_access_key_id and s3_secret_access_key_file, or neither"
        );
        Ok(lectern_backup::S3Settings {
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: secret,
            timeout: std::time::Duration::from_secs(self.s3_timeout_secs.max(1)),
            max_retries: 3,
        })
    }

    /// The retention policy of scheduled backups.
    pub fn policy(&self) -> lectern_backup::retention::Policy {
        lectern_backup::retention::Policy {
            last: self.keep_last,
            daily: self.keep_daily,
            weekly: self.keep_weekly,
            monthly: self.keep_monthly,
            yearly: self.keep_yearly,
        }
    }
}
