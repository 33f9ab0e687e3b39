//! Storage backends for Lectern: implementations of `lectern_app::store`'s
//! traits for SQLite (the zero-configuration default) and PostgreSQL (many
//! nodes, one database); both pass the same [`contract`] suite. [`open`]
//! picks one from `database_url`.
//!
//! This crate holds all SQL and nothing else: no rule about who may do what
//! lives here.

mod backup_schema;
pub mod commit_watch;
pub mod contract;
mod contract_accounts;
pub mod contract_analytics;
pub mod contract_certificates;
pub mod contract_cohorts;
pub mod contract_discussions;
pub mod contract_idempotency;
pub mod contract_instances;
pub mod contract_jobs;
pub mod contract_keyed_writes;
mod contract_learning;
pub mod contract_nodes;
mod contract_pages;
pub mod contract_races;
mod contract_reports;
pub mod contract_tls;
pub mod contract_usage;
#[cfg(test)]
mod migration_rules;
mod open;
pub mod postgres;
mod probe;
#[cfg(test)]
mod schema_parity;
mod shared;
pub mod sqlite;
pub mod testing;
mod time;

pub use commit_watch::{commit_watch_layer, CommitWatchLayer};
pub use open::{create_postgres_database, open, Backend};
pub use postgres::PgStore;
pub use probe::probe_database;
pub use sqlite::SqliteStore;
