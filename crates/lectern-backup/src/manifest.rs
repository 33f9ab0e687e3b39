//! The manifest: what an archive holds and the hash of every member. It is
//! the last record of the archive, written once every member's hash is known.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The archive layout this binary writes; it reads this one and older.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// The newest migration of the database it came from.
    pub schema_version: i64,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The site's public address.
    pub site: String,
    pub created_at: DateTime<Utc>,
    /// The Lectern version that wrote it.
    pub lectern_version: String,
    /// One member per table, in the order written (foreign-key order).
    pub tables: Vec<TableEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: u64,
    /// SHA-256 of the member's encoded bytes (its header and every row).
    pub sha256: String,
}

impl Manifest {
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}
