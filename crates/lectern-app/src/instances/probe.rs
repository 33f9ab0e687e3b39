//! What the operator console shows of each instance, and the seam that
//! finds it out. Whether an instance is open on this node, where its
//! database, files and backups are, and which certificate covers its hosts
//! are the binary's facts (it opens instances and reads the configuration),
//! so the binary implements `InstanceProbe` and sets it on the default
//! site's app; the web layer only asks `Lectern::operator_instances`.
//! An instance's own app never gets a probe, which is how its router knows
//! it has no operator console.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// One instance as the operator console shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceStatus {
    pub name: String,
    pub hosts: Vec<String>,
    /// Switched off: its hosts answer the unknown-host page.
    pub disabled: bool,
    /// Opened on this node (serving, or idle and not yet closed).
    pub open: bool,
    /// `None` when its database answered within the probe's time; else why not.
    pub health_problem: Option<String>,
    /// Bytes its database takes (the SQLite file with its WAL, or
    /// `pg_database_size`); `None` when that could not be read.
    pub size_bytes: Option<u64>,
    /// When its newest backup was made; `None` when none was found.
    pub last_backup: Option<DateTime<Utc>>,
    /// What the backup column says besides a time ("no backup target",
    /// "s3", "none yet"); empty when `last_backup` says it all.
    pub backup_note: String,
    /// The earliest expiry among the certificates covering its hosts.
    pub certificate_expiry: Option<DateTime<Utc>>,
    /// What the certificate column says besides an expiry ("no TLS", a
    /// host without a certificate); empty when the expiry says it all.
    pub certificate_note: String,
}

/// Finds out the status of every registered instance (at most
/// `MAX_INSTANCES`), each probe bounded in time.
#[async_trait]
pub trait InstanceProbe: Send + Sync {
    async fn statuses(&self) -> Vec<InstanceStatus>;
}
