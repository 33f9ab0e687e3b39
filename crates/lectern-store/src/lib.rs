//! Storage backends for Lectern: implementations of `lectern_app::store`'s
//! traits. SQLite now (the zero-configuration default); PostgreSQL follows
//! the same traits and must pass the same [`contract`] suite.
//!
//! This crate holds all SQL and nothing else: no rule about who may do what
//! lives here.

mod backup_schema;
pub mod contract;
mod contract_accounts;
pub mod postgres;
pub mod sqlite;
pub mod testing;
mod time;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
