//! The operator marks (`OperatorStore`) for `Db<DB>`, once for both
//! backends (migration 0018): one row per operator, granted with an insert
//! that does nothing when the row exists and revoked with a delete, so each
//! answers whether it changed anything however many commands run at once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::UserId;
use lectern_app::operators::OperatorStore;
use lectern_app::store::StoreResult;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::time::to_millis;

#[async_trait]
impl<DB> OperatorStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn is_operator(&self, user: UserId) -> StoreResult<bool> {
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT user_id FROM operators WHERE user_id = $1")
                .bind(user)
                .fetch_optional(&self.read)
                .await
                .map_err(map_err)?;
        Ok(found.is_some())
    }

    async fn set_operator(
        &self,
        user: UserId,
        granted: Option<DateTime<Utc>>,
    ) -> StoreResult<bool> {
        let changed = match granted {
            Some(at) => {
                self.execute_write(
                    sqlx::query(
                        "INSERT INTO operators (user_id, granted_at) VALUES ($1, $2) \
                         ON CONFLICT (user_id) DO NOTHING",
                    )
                    .bind(user)
                    .bind(to_millis(at)),
                )
                .await?
            }
            None => {
                self.execute_write(
                    sqlx::query("DELETE FROM operators WHERE user_id = $1").bind(user),
                )
                .await?
            }
        };
        Ok(changed == 1)
    }

    async fn operator_usernames(&self, limit: i64) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT u.username FROM operators o JOIN users u ON u.id = o.user_id \
             ORDER BY u.username LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }
}
