//! The store, once for both backends: the storage traits implemented for
//! `db::Db<DB>` over either sqlx driver (`db_*`), row structs decoded by
//! either driver (`sqlx::FromRow` is generic over the row type) and their
//! conversion to domain models, the course-tree JSON helpers, portable SQL
//! text (`$1` placeholders, which sqlx-sqlite accepts too), and the one
//! table that maps unique clashes to field names.
//!
//! SQL that differs (row locks, the job claim's `SKIP LOCKED`, byte
//! slicing) is written twice, side by side, as the hooks of `db::Backend`.

pub(crate) mod chunks;
pub(crate) mod db;
pub(crate) mod db_accounts;
pub(crate) mod db_admins;
pub(crate) mod db_analytics;
pub(crate) mod db_certificates;
pub(crate) mod db_cohorts;
pub(crate) mod db_courses;
pub(crate) mod db_discussions;
pub(crate) mod db_idempotency;
pub(crate) mod db_instances;
pub(crate) mod db_jobs;
pub(crate) mod db_learning;
pub(crate) mod db_mail;
pub(crate) mod db_operators;
pub(crate) mod db_pages;
pub(crate) mod db_reports;
pub(crate) mod db_search_posts;
pub(crate) mod db_tls;
pub(crate) mod db_usage;
pub(crate) mod discussion_sql;
pub(crate) mod errors;
pub(crate) mod group_commit;
pub(crate) mod rows;
pub(crate) mod sql;
pub(crate) mod trees;
