//! [`Db`]: the queries both backends run, written once, generic over the
//! sqlx driver. Each backend's trait impls (`sqlite/`, `postgres/`) hand
//! their pools to it and add what differs (opening, pool layout, legacy
//! rows). What differs in SQL text is a hook of [`Backend`].
//!
//! The `where` clauses on the `impl<DB> Db<DB>` blocks name what the
//! generic code needs of a driver (encoding our value types, decoding our
//! rows); both sqlx drivers meet them, so they are checked when a backend
//! calls in, with its concrete types.

use sqlx::{Database, Pool, Postgres, Sqlite};

/// What differs between the drivers where the SQL is otherwise the same.
pub(crate) trait Backend: Database {
    /// Appended to a `SELECT` whose rows must stay locked until commit.
    /// PostgreSQL (READ COMMITTED, many connections and nodes) needs the
    /// lock; SQLite has one writer, whose transaction already excludes all
    /// others, and no such clause.
    const FOR_UPDATE: &'static str;
    /// `$2` bytes from 1-based `$1` of a blob kept whole in `blobs.data`
    /// (rows from before chunking).
    const SLICE_WHOLE_BLOB: &'static str;
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

impl Backend for Sqlite {
    const FOR_UPDATE: &'static str = "";
    const SLICE_WHOLE_BLOB: &'static str =
        "SELECT substr(data, $1, $2) FROM blobs WHERE sha256 = $3";
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

impl Backend for Postgres {
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const SLICE_WHOLE_BLOB: &'static str = "SELECT substring(data FROM CAST($1 AS INTEGER) FOR CAST($2 AS INTEGER)) FROM blobs WHERE sha256 = $3";
    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

/// The pools a backend reads and writes through (the same pool twice on
/// PostgreSQL; SQLite's read pool and its one-connection writer).
pub(crate) struct Db<DB: Database> {
    pub read: Pool<DB>,
    pub write: Pool<DB>,
}

impl<DB: Database> Clone for Db<DB> {
    fn clone(&self) -> Self {
        Db {
            read: self.read.clone(),
            write: self.write.clone(),
        }
    }
}
