//! The site's usage as its limits count it (`UsageStore`, see
//! `lectern_app::site_limits`) for `Db<DB>`, once for both backends: one
//! statement of three aggregates, read from the read pool.

use async_trait::async_trait;
use lectern_app::site_limits::{SiteUsage, UsageStore};
use lectern_app::store::StoreResult;
use sqlx::{ColumnIndex, Database, Decode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;

const USAGE: &str = "SELECT \
       (SELECT COUNT(*) FROM courses) AS courses, \
       (SELECT COUNT(*) FROM users) AS accounts, \
       (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs) AS storage_bytes";

#[derive(sqlx::FromRow)]
struct UsageRow {
    courses: i64,
    accounts: i64,
    storage_bytes: i64,
}

#[async_trait]
impl<DB> UsageStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
{
    async fn site_usage(&self) -> StoreResult<SiteUsage> {
        let row: UsageRow = sqlx::query_as(USAGE)
            .fetch_one(&self.read)
            .await
            .map_err(map_err)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(SiteUsage {
            courses: count(row.courses),
            accounts: count(row.accounts),
            storage_bytes: count(row.storage_bytes),
        })
    }
}
