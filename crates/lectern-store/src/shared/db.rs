//! [`Db`]: the store both backends are, written once, generic over the
//! sqlx driver (`SqliteStore` is `Db<Sqlite>`, `PgStore` is `Db<Postgres>`;
//! `sqlite/` and `postgres/` only open them). What differs in SQL text is a
//! hook of [`Backend`].
//!
//! The storage traits are implemented for `Db<DB>` in `db_accounts`,
//! `db_courses`, `db_learning` and `db_jobs`. Their `where` clauses (one
//! per impl block: Rust does not carry such bounds from a trait to its
//! users, and STYLE.md keeps macros out of it) name
//! what the code needs of a driver: encoding and decoding our value types;
//! both sqlx drivers meet them.

use lectern_app::store::StoreResult;
use sqlx::query::Query;
use sqlx::{Database, Executor, IntoArguments, Pool, Postgres, Sqlite};

use crate::commit_watch::acknowledged;

/// What differs between the drivers where the SQL is otherwise the same.
pub trait Backend: Database {
    /// For logs and `doctor`.
    const NAME: &'static str;
    /// Appended to a `SELECT` whose rows must stay locked until commit.
    /// PostgreSQL (READ COMMITTED, many connections and nodes) needs the
    /// lock; SQLite has one writer, whose transaction already excludes all
    /// others, and no such clause.
    const FOR_UPDATE: &'static str;
    /// Appended to the `SELECT` inside a job claim's `UPDATE`: PostgreSQL
    /// locks the row it picks and passes over rows other claimers hold, so
    /// concurrent claimers each take a different job without waiting;
    /// SQLite's claim runs on its one writer, which no other claim can
    /// interleave with.
    const SKIP_LOCKED: &'static str;
    /// `$2` bytes from 1-based `$1` of a blob kept whole in `blobs.data`
    /// (rows from before chunking).
    const SLICE_WHOLE_BLOB: &'static str;
    /// The first statement of a read transaction whose reads must all see
    /// one snapshot (a report): PostgreSQL's default READ COMMITTED takes a
    /// new snapshot per statement; a SQLite read transaction already keeps
    /// the one its first read took.
    const SNAPSHOT_READ: &'static str;
    /// The first statement of a write transaction. SQLite's `BEGIN
    /// IMMEDIATE` takes the write lock at once, waiting for it up to the busy
    /// timeout: a deferred transaction that reads first and then writes
    /// would instead fail at once (`SQLITE_BUSY_SNAPSHOT`) whenever another
    /// connection — a CLI command, another node on the file, the
    /// group-commit writer — committed in between.
    const BEGIN_WRITE: &'static str;
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

impl Backend for Sqlite {
    const NAME: &'static str = "sqlite";
    const FOR_UPDATE: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const SLICE_WHOLE_BLOB: &'static str =
        "SELECT substr(data, $1, $2) FROM blobs WHERE sha256 = $3";
    const SNAPSHOT_READ: &'static str = "";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

impl Backend for Postgres {
    const NAME: &'static str = "postgres";
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const SLICE_WHOLE_BLOB: &'static str = "SELECT substring(data FROM CAST($1 AS INTEGER) FOR CAST($2 AS INTEGER)) FROM blobs WHERE sha256 = $3";
    const SNAPSHOT_READ: &'static str =
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    const BEGIN_WRITE: &'static str = "BEGIN";
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

/// A store: the pools it reads and writes through (the same pool twice on
/// PostgreSQL; SQLite's read pool and its one-connection writer). Public
/// as `SqliteStore` and `PgStore`.
pub struct Db<DB: Database> {
    pub(crate) read: Pool<DB>,
    pub(crate) write: Pool<DB>,
    /// What lives as long as the store's last handle (PostgreSQL: the
    /// primary finder, `postgres/primary.rs`); `None` on SQLite.
    pub(crate) companion: Option<std::sync::Arc<dyn std::any::Any + Send + Sync>>,
    /// Learner-state writes (answer checks), grouped into shared commits
    /// on the write pool (`group_commit.rs`).
    pub(crate) states: super::group_commit::GroupCommit<DB>,
    /// SQLite only: a page's hot reads without sqlx's thread hand-off
    /// (`sqlite/hot_reads.rs`); `None` on PostgreSQL.
    pub(crate) hot: Option<std::sync::Arc<crate::sqlite::hot_reads::HotReads>>,
}

impl<DB: Database> Db<DB> {
    /// Closes the pools, waiting for in-flight queries.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

impl<DB> Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
{
    /// Runs one statement on the writer, outside any transaction, and
    /// says how many rows it changed (a guarded write changed one or none).
    pub(crate) async fn execute_write<'q>(
        &self,
        query: Query<'q, DB, <DB as Database>::Arguments<'q>>,
    ) -> StoreResult<u64> {
        let result = acknowledged(query.execute(&self.write)).await?;
        Ok(DB::rows_affected(&result))
    }
}

impl<DB: Database> Clone for Db<DB> {
    fn clone(&self) -> Self {
        Db {
            read: self.read.clone(),
            write: self.write.clone(),
            companion: self.companion.clone(),
            states: self.states.clone(),
            hot: self.hot.clone(),
        }
    }
}
