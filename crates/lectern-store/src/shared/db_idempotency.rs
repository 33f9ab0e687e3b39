//! `IdempotencyStore` for both backends: the stored answers of keyed writes
//! (table `idempotent_requests`, migration 0007) and the keyed check, whose
//! key row is inserted before anything else in its transaction. On
//! PostgreSQL a second insert of the same (user, key) waits for the first
//! transaction and then fails on `idempotent_requests_pkey`; on SQLite the
//! one writer runs them one after the other and the second fails the same
//! way. Either way the loser writes nothing and reads the winner's answer.

use async_trait::async_trait;
use lectern_app::idempotency::StoredResponse;
use lectern_app::model::{GradeRecord, ProblemState, Submission, UserId};
use lectern_app::store::{IdempotencyStore, StoreResult};
use lectern_app::StoreError;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::commit_watch::commit;
use crate::time::{from_millis, to_millis};

#[derive(sqlx::FromRow)]
struct ResponseRow {
    fingerprint: String,
    status: i64,
    response: String,
    created_at: i64,
}

#[async_trait]
impl<DB> IdempotencyStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn idempotent_response(
        &self,
        user: UserId,
        key: &str,
    ) -> StoreResult<Option<StoredResponse>> {
        // A loser that just clashed on the key reads after the winner's
        // commit, and each query here starts a fresh snapshot: it sees it.
        let row: Option<ResponseRow> = sqlx::query_as(
            "SELECT fingerprint, status, response, created_at FROM idempotent_requests \
             WHERE user_id = $1 AND idempotency_key = $2",
        )
        .bind(user)
        .bind(key.to_string())
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let body = serde_json::from_str(&row.response).map_err(|e| {
            StoreError::Internal(format!("stored idempotent response does not parse: {e}"))
        })?;
        Ok(Some(StoredResponse {
            user_id: user,
            key: key.to_string(),
            fingerprint: row.fingerprint,
            status: u16::try_from(row.status).unwrap_or(200),
            body,
            created_at: from_millis(row.created_at),
        }))
    }

    async fn save_keyed_check(
        &self,
        state: &ProblemState,
        submission: &Submission,
        grade: Option<&GradeRecord>,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await.map_err(map_err)?;
        sqlx::query(
            "INSERT INTO idempotent_requests (user_id, idempotency_key, fingerprint, status, response, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(response.user_id)
        .bind(response.key.clone())
        .bind(response.fingerprint.clone())
        .bind(i64::from(response.status))
        .bind(response.body.to_string())
        .bind(to_millis(response.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        Self::write_state(&mut tx, state, Some(submission), grade).await?;
        commit(tx).await
    }
}
