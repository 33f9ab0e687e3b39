//! `IdempotencyStore` for both backends: the stored answers of keyed writes
//! (table `idempotent_requests`, migration 0007; 0008 indexes `created_at`
//! for the cleanup) and the keyed writes
//! (check, enrolment, publish, draft save, import), each of which inserts
//! its key row before anything else in its transaction and its answer last. On
//! PostgreSQL a second insert of the same (user, key) waits for the first
//! transaction and then fails on `idempotent_requests_pkey`; on SQLite the
//! one writer runs them one after the other and the second fails the same
//! way. Either way the loser writes nothing and reads the winner's answer.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::idempotency::{KeyClaim, Keyed, StoredResponse};
use lectern_app::model::{
    CourseRecord, CourseRole, Enrollment, GradeRecord, ProblemState, Submission, UserId,
};
use lectern_app::store::{CourseDates, IdempotencyStore, NewBlob, StoreResult};
use lectern_app::StoreError;
use lectern_content::{CourseKey, CourseTree};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::db::{Backend, Db};
use super::db_learning::enroll_sql;
use super::errors::map_err;
use super::group_commit::StateWrite;
use super::rows::{EnrollmentRow, ENROLLMENT_COLUMNS};
use super::sql::{self, Param};
use super::trees::tree_to_json_off_async;
use crate::commit_watch::commit;
use crate::time::{from_millis, to_millis};

#[derive(sqlx::FromRow)]
struct ResponseRow {
    fingerprint: String,
    status: i64,
    response: String,
    created_at: i64,
}

/// A key's stored answer (or a claim's placeholder row).
pub(crate) const INSERT_ANSWER: &str = "INSERT INTO idempotent_requests \
     (user_id, idempotency_key, fingerprint, status, response, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// [`INSERT_ANSWER`]'s values for a stored answer.
pub(crate) fn answer_params(response: &StoredResponse) -> Vec<Param> {
    vec![
        Param::Int(response.user_id),
        Param::Text(response.key.clone()),
        Param::Text(response.fingerprint.clone()),
        Param::Int(i64::from(response.status)),
        Param::Text(response.body.to_string()),
        Param::Int(to_millis(response.created_at)),
    ]
}

/// The placeholder a claim's row holds until its write answers (inside the
/// same transaction, so nobody else ever reads it).
const PENDING_STATUS: i64 = 0;

impl<DB> Db<DB>
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
    /// Inserts `response` under its key in `tx` (the key row goes first in a
    /// keyed write's transaction: a copy racing with it stops here).
    pub(super) async fn insert_answer_in(
        tx: &mut Transaction<'_, DB>,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        sql::bind_params(sqlx::query(INSERT_ANSWER), answer_params(response))
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// Takes the claim's key in `tx`, before the write; its answer is not
    /// known yet (see [`Self::answer_in`]).
    async fn claim_in(tx: &mut Transaction<'_, DB>, claim: &KeyClaim) -> StoreResult<()> {
        sqlx::query(INSERT_ANSWER)
            .bind(claim.user_id)
            .bind(claim.key.clone())
            .bind(claim.fingerprint.clone())
            .bind(PENDING_STATUS)
            .bind("null".to_string())
            .bind(to_millis(claim.created_at))
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// Stores the answer of the write made under `keyed.claim`, from its
    /// result, in the same transaction.
    async fn answer_in<T: Sync>(
        tx: &mut Transaction<'_, DB>,
        keyed: Keyed<'_, T>,
        result: &T,
    ) -> StoreResult<()> {
        let body = (keyed.answer)(result)
            .map_err(|e| StoreError::Internal(format!("the answer of a keyed write: {e}")))?;
        sqlx::query(
            "UPDATE idempotent_requests SET status = $3, response = $4 \
             WHERE user_id = $1 AND idempotency_key = $2",
        )
        .bind(keyed.claim.user_id)
        .bind(keyed.claim.key.clone())
        .bind(200_i64)
        .bind(body.to_string())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }
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
        const SQL: &str =
            "SELECT fingerprint, status, response, created_at FROM idempotent_requests \
             WHERE user_id = $1 AND idempotency_key = $2";
        // SQLite: without sqlx's hand-off (`sqlite/hot_reads.rs`).
        let hot = self.hot.as_ref().and_then(|hot| {
            hot.row(SQL, &[&user, &key], |r| {
                Ok(ResponseRow {
                    fingerprint: r.get(0)?,
                    status: r.get(1)?,
                    response: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })
        });
        let row = match hot {
            Some(row) => {
                super::db_pages::statement_logged(SQL);
                row
            }
            None => sqlx::query_as(SQL)
                .bind(user)
                .bind(key.to_string())
                .fetch_optional(&self.read)
                .await
                .map_err(map_err)?,
        };
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
        self.states
            .write(StateWrite {
                state: state.clone(),
                submission: Some(submission.clone()),
                grade: grade.cloned(),
                response: Some(response.clone()),
            })
            .await
    }

    async fn enroll_keyed(
        &self,
        user: UserId,
        key: &CourseKey,
        mode: &str,
        active: bool,
        now: DateTime<Utc>,
        keyed: Keyed<'_, Enrollment>,
    ) -> StoreResult<Option<Enrollment>> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        Self::claim_in(&mut tx, keyed.claim).await?;
        let row: Option<EnrollmentRow> = if active {
            sqlx::query_as(&enroll_sql())
                .bind(user)
                .bind(key.to_string())
                .bind(mode.to_string())
                .bind(to_millis(now))
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
        } else {
            sqlx::query_as(&format!(
                "UPDATE enrollments SET is_active = FALSE WHERE user_id = $1 AND course_key = $2 \
                 RETURNING {ENROLLMENT_COLUMNS}"
            ))
            .bind(user)
            .bind(key.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
        };
        // No enrolment to end: nothing happened, so nothing is stored (the
        // transaction, key row included, is dropped and rolled back).
        let Some(row) = row else { return Ok(None) };
        let enrollment = row.into_enrollment()?;
        Self::answer_in(&mut tx, keyed, &enrollment).await?;
        commit(tx).await?;
        Ok(Some(enrollment))
    }

    async fn publish_keyed(
        &self,
        key: &CourseKey,
        expected_revision: i64,
        now: DateTime<Utc>,
        keyed: Keyed<'_, i64>,
    ) -> StoreResult<i64> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        Self::claim_in(&mut tx, keyed.claim).await?;
        let version =
            Self::publish_in(&mut tx, &key.to_string(), expected_revision, to_millis(now)).await?;
        Self::answer_in(&mut tx, keyed, &version).await?;
        commit(tx).await?;
        Ok(version)
    }

    async fn save_draft_keyed(
        &self,
        tree: &CourseTree,
        dates: CourseDates,
        expected_revision: i64,
        now: DateTime<Utc>,
        keyed: Keyed<'_, i64>,
    ) -> StoreResult<i64> {
        let json = tree_to_json_off_async(tree).await?;
        let guarded = format!("{} AND draft_revision = $7", sql::UPDATE_DRAFT);
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        Self::claim_in(&mut tx, keyed.claim).await?;
        let r = sql::bind_course(&guarded, tree, dates, json, to_millis(now))
            .bind(expected_revision)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::StaleRevision);
        }
        let revision = expected_revision + 1;
        Self::answer_in(&mut tx, keyed, &revision).await?;
        commit(tx).await?;
        Ok(revision)
    }

    async fn import_course_keyed(
        &self,
        tree: &CourseTree,
        dates: CourseDates,
        blobs: &[NewBlob<'_>],
        grant: Option<(UserId, CourseRole)>,
        now: DateTime<Utc>,
        keyed: Keyed<'_, i64>,
    ) -> StoreResult<(CourseRecord, i64)> {
        let json = tree_to_json_off_async(tree).await?;
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        Self::claim_in(&mut tx, keyed.claim).await?;
        let version =
            Self::import_in(&mut tx, tree, dates, json, blobs, grant, to_millis(now)).await?;
        Self::answer_in(&mut tx, keyed, &version).await?;
        commit(tx).await?;
        Ok((self.course_written(&tree.key).await?, version))
    }

    async fn delete_idempotent_responses(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM idempotent_requests WHERE created_at < $1")
            .bind(to_millis(before))
            .execute(&self.write)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r))
    }
}
