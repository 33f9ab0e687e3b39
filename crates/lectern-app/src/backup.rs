//! The seam between backups and the database: a backend-neutral view of
//! every table as typed rows, read from one consistent snapshot and written
//! back in one transaction.
//!
//! Backups must cover tables that other features add later without code
//! changes, so the store discovers tables and columns from the schema
//! instead of naming them. The archive format, targets and retention live in
//! the `lectern-backup` crate; this module is only what a store implements.

use async_trait::async_trait;

use crate::StoreError;

/// One value of one column, in the few types every backend shares.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A table as a backup sees it: its name and its columns in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<String>,
}

/// Where a snapshot's rows go, table by table, in foreign-key order
/// (a table comes after every table it refers to).
#[async_trait]
pub trait SnapshotSink: Send {
    async fn begin_table(&mut self, table: &TableSchema) -> Result<(), StoreError>;
    async fn row(&mut self, values: Vec<Value>) -> Result<(), StoreError>;
    async fn end_table(&mut self) -> Result<(), StoreError>;
}

/// What a restore reads: tables in the order they were written, each
/// followed by its rows.
#[async_trait]
pub trait RestoreSource: Send {
    /// The next table, or `None` when every table has been read.
    async fn next_table(&mut self) -> Result<Option<TableSchema>, StoreError>;
    /// The next row of the current table, or `None` at its end.
    async fn next_row(&mut self) -> Result<Option<Vec<Value>>, StoreError>;
}

/// Row counts of a database, table by table.
pub type RowCounts = Vec<(String, u64)>;

/// What a store offers backups.
#[async_trait]
pub trait BackupStore: crate::store::HealthStore + Send + Sync {
    /// The newest migration applied to this database.
    async fn schema_version(&self) -> Result<i64, StoreError>;
    /// The tables a backup covers (every table but the migration ledger),
    /// in foreign-key order.
    async fn backup_tables(&self) -> Result<Vec<TableSchema>, StoreError>;
    /// Row counts of every table, for dry runs and emptiness checks.
    async fn row_counts(&self) -> Result<RowCounts, StoreError>;
    /// Streams every row of every table from one read snapshot taken while
    /// the site keeps serving: a write committed before the call is in it.
    async fn snapshot(&self, sink: &mut dyn SnapshotSink) -> Result<(), StoreError>;
    /// Replaces the whole content of the database with `source`, in one
    /// transaction: every table is emptied, the rows are inserted, counters
    /// (identity sequences) are moved past the restored ids. Any error rolls
    /// everything back.
    async fn restore(&self, source: &mut dyn RestoreSource) -> Result<u64, StoreError>;
}

impl crate::Lectern {
    /// The database to back up, for a user who holds the backup role. The
    /// role is the site administrator's: a backup holds every account's
    /// data, so only someone who could already read and change all of it
    /// may take one (a backup host gets its own administrator account).
    pub fn backup_source(
        &self,
        user: &crate::model::User,
    ) -> Result<std::sync::Arc<dyn crate::store::Store>, crate::AppError> {
        if !user.is_admin || !user.is_active {
            return Err(crate::AppError::Forbidden(
                "taking a backup needs the backup role (a site administrator's account)".into(),
            ));
        }
        Ok(self.store.clone())
    }
}
