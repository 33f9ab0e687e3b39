//! Cohorts (`CohortStore`, migration 0015) for `Db<DB>`, once for both
//! backends. A learner's one cohort per course is the primary key of
//! `cohort_memberships` (course, user): placing a learner is an upsert of
//! that row, so a move is one row changing in one transaction and no
//! interleaving can leave a learner in two cohorts. Changes to a course's
//! set of cohorts (create, rename, assignment type, the "Default Group"
//! random assignment creates) lock the course row first (`FOR UPDATE` on
//! PostgreSQL; SQLite's one writer runs them alone), so the cap on cohorts
//! and the "one random cohort stays" rule hold across nodes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::cohorts::{
    AssignmentType, Cohort, CohortMember, CohortStore, CreateOutcome, Placement, UpdateOutcome,
    DEFAULT_COHORT_NAME,
};
use lectern_app::model::UserId;
use lectern_app::store::StoreResult;
use lectern_app::StoreError;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Transaction, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::commit_watch::commit;
use crate::time::to_millis;

/// Identifiers placed per transaction, so a large upload never holds the
/// write lock for long.
const PLACE_CHUNK: usize = 500;

const COHORT_SELECT: &str = "SELECT c.id, c.course_key, c.name, c.assignment_type, \
     (SELECT COUNT(*) FROM cohort_memberships m JOIN enrollments e ON e.user_id = m.user_id AND e.course_key = m.course_key \
      WHERE m.cohort_id = c.id AND e.is_active) AS user_count FROM cohorts c";

#[derive(sqlx::FromRow)]
struct CohortRow {
    id: i64,
    course_key: String,
    name: String,
    assignment_type: String,
    user_count: i64,
}

impl CohortRow {
    fn into_cohort(self) -> StoreResult<Cohort> {
        Ok(Cohort {
            id: self.id,
            assignment_type: AssignmentType::parse(&self.assignment_type).ok_or_else(|| {
                StoreError::Internal(format!(
                    "stored cohort assignment type {:?}",
                    self.assignment_type
                ))
            })?,
            course_key: self.course_key,
            name: self.name,
            user_count: self.user_count,
        })
    }
}

#[async_trait]
impl<DB> CohortStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn stored_cohorted(&self, course_key: &str) -> StoreResult<Option<bool>> {
        sqlx::query_scalar("SELECT is_cohorted FROM course_cohort_settings WHERE course_key = $1")
            .bind(course_key.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)
    }

    async fn set_cohorted(
        &self,
        course_key: &str,
        cohorted: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO course_cohort_settings (course_key, is_cohorted, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (course_key) DO UPDATE SET is_cohorted = excluded.is_cohorted, updated_at = excluded.updated_at",
            )
            .bind(course_key.to_string())
            .bind(cohorted)
            .bind(to_millis(now)),
        )
        .await?;
        Ok(())
    }

    async fn cohorts_of(&self, course_key: &str) -> StoreResult<Vec<Cohort>> {
        let sql = format!("{COHORT_SELECT} WHERE c.course_key = $1 ORDER BY c.id");
        let rows: Vec<CohortRow> = sqlx::query_as(&sql)
            .bind(course_key.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(CohortRow::into_cohort).collect()
    }

    async fn cohort(&self, course_key: &str, id: i64) -> StoreResult<Option<Cohort>> {
        let sql = format!("{COHORT_SELECT} WHERE c.course_key = $1 AND c.id = $2");
        let row: Option<CohortRow> = sqlx::query_as(&sql)
            .bind(course_key.to_string())
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map(CohortRow::into_cohort).transpose()
    }

    async fn create_cohort(
        &self,
        course_key: &str,
        name: &str,
        assignment_type: AssignmentType,
        max: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<CreateOutcome> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        lock_course::<DB>(&mut tx, course_key).await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cohorts WHERE course_key = $1")
            .bind(course_key.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if count >= max {
            return Ok(CreateOutcome::TooMany);
        }
        let Some(id) = insert_cohort::<DB>(&mut tx, course_key, name, assignment_type, now).await?
        else {
            return Ok(CreateOutcome::NameTaken);
        };
        commit(tx).await?;
        Ok(CreateOutcome::Created(Cohort {
            id,
            course_key: course_key.to_string(),
            name: name.to_string(),
            assignment_type,
            user_count: 0,
        }))
    }

    async fn update_cohort(
        &self,
        course_key: &str,
        id: i64,
        name: Option<&str>,
        assignment_type: Option<AssignmentType>,
    ) -> StoreResult<UpdateOutcome> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        lock_course::<DB>(&mut tx, course_key).await?;
        let current: Option<(String, String)> = sqlx::query_as(
            "SELECT name, assignment_type FROM cohorts WHERE course_key = $1 AND id = $2",
        )
        .bind(course_key.to_string())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some((old_name, old_type)) = current else {
            return Ok(UpdateOutcome::NotFound);
        };
        if let Some(new) = name.filter(|n| *n != old_name) {
            let taken: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM cohorts WHERE course_key = $1 AND name = $2",
            )
            .bind(course_key.to_string())
            .bind(new.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
            if taken > 0 {
                return Ok(UpdateOutcome::NameTaken);
            }
            sqlx::query("UPDATE cohorts SET name = $1 WHERE id = $2")
                .bind(new.to_string())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        if let Some(t) = assignment_type.filter(|t| t.as_str() != old_type) {
            if old_type == AssignmentType::Random.as_str() {
                let randoms: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM cohorts WHERE course_key = $1 AND assignment_type = 'random'",
                )
                .bind(course_key.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
                if randoms <= 1 {
                    return Ok(UpdateOutcome::LastRandom);
                }
            }
            sqlx::query("UPDATE cohorts SET assignment_type = $1 WHERE id = $2")
                .bind(t.as_str().to_string())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        commit(tx).await?;
        match self.cohort(course_key, id).await? {
            Some(c) => Ok(UpdateOutcome::Updated(c)),
            None => Ok(UpdateOutcome::NotFound),
        }
    }

    async fn place_in_cohort(
        &self,
        course_key: &str,
        id: i64,
        identifiers: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Placement>> {
        let mut out = Vec::with_capacity(identifiers.len());
        for chunk in identifiers.chunks(PLACE_CHUNK) {
            let mut tx = self
                .write
                .begin_with(DB::BEGIN_WRITE)
                .await
                .map_err(map_err)?;
            for ident in chunk {
                out.push(place_one::<DB>(&mut tx, course_key, id, ident, now).await?);
            }
            commit(tx).await?;
        }
        Ok(out)
    }

    async fn remove_from_cohort(
        &self,
        course_key: &str,
        id: i64,
        user: UserId,
    ) -> StoreResult<bool> {
        let n = self
            .execute_write(
                sqlx::query(
                    "DELETE FROM cohort_memberships WHERE course_key = $1 AND user_id = $2 AND cohort_id = $3",
                )
                .bind(course_key.to_string())
                .bind(user)
                .bind(id),
            )
            .await?;
        Ok(n == 1)
    }

    async fn cohort_members(
        &self,
        course_key: &str,
        id: i64,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<CohortMember>, i64)> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT u.id, u.username, u.email, u.name FROM cohort_memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.course_key = $1 AND m.cohort_id = $2 ORDER BY u.username, u.id LIMIT $3 OFFSET $4",
        )
        .bind(course_key.to_string())
        .bind(id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cohort_memberships WHERE course_key = $1 AND cohort_id = $2",
        )
        .bind(course_key.to_string())
        .bind(id)
        .fetch_one(&self.read)
        .await
        .map_err(map_err)?;
        let members = rows
            .into_iter()
            .map(|(user_id, username, email, name)| CohortMember {
                user_id,
                username,
                email,
                name,
            })
            .collect();
        Ok((members, total))
    }

    async fn learners_without_cohort(&self, course_key: &str) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM enrollments e WHERE e.course_key = $1 AND e.is_active \
             AND NOT EXISTS (SELECT 1 FROM course_roles r WHERE r.course_key = e.course_key AND r.user_id = e.user_id) \
             AND NOT EXISTS (SELECT 1 FROM cohort_memberships m WHERE m.course_key = e.course_key AND m.user_id = e.user_id)",
        )
        .bind(course_key.to_string())
        .fetch_one(&self.read)
        .await
        .map_err(map_err)
    }

    async fn assign_random_cohort(
        &self,
        course_key: &str,
        user: UserId,
        pick: u64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Cohort>> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        lock_course::<DB>(&mut tx, course_key).await?;
        let has: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cohort_memberships WHERE course_key = $1 AND user_id = $2",
        )
        .bind(course_key.to_string())
        .bind(user)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        if has > 0 {
            return Ok(None);
        }
        let mut ids = random_cohorts::<DB>(&mut tx, course_key).await?;
        if ids.is_empty() {
            insert_cohort::<DB>(
                &mut tx,
                course_key,
                DEFAULT_COHORT_NAME,
                AssignmentType::Random,
                now,
            )
            .await?;
            ids = random_cohorts::<DB>(&mut tx, course_key).await?;
        }
        let Some(&chosen) = ids.get((pick % ids.len().max(1) as u64) as usize) else {
            // A manual cohort already holds the default name: nothing to draw from.
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO cohort_memberships (course_key, user_id, cohort_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (course_key, user_id) DO NOTHING",
        )
        .bind(course_key.to_string())
        .bind(user)
        .bind(chosen)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        commit(tx).await?;
        self.cohort(course_key, chosen).await
    }
}

/// Locks the course row for the rest of the transaction (PostgreSQL; on
/// SQLite the transaction already excludes every other writer).
async fn lock_course<DB>(tx: &mut Transaction<'_, DB>, course_key: &str) -> StoreResult<()>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    let sql = format!(
        "SELECT course_key FROM courses WHERE course_key = $1{}",
        DB::FOR_UPDATE
    );
    let _: Option<String> = sqlx::query_scalar(&sql)
        .bind(course_key.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Inserts a cohort; `None` when the course has one of that name.
async fn insert_cohort<DB>(
    tx: &mut Transaction<'_, DB>,
    course_key: &str,
    name: &str,
    assignment_type: AssignmentType,
    now: DateTime<Utc>,
) -> StoreResult<Option<i64>>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    sqlx::query_scalar(
        "INSERT INTO cohorts (course_key, name, assignment_type, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (course_key, name) DO NOTHING RETURNING id",
    )
    .bind(course_key.to_string())
    .bind(name.to_string())
    .bind(assignment_type.as_str().to_string())
    .bind(to_millis(now))
    .fetch_optional(&mut **tx)
    .await
    .map_err(map_err)
}

/// The course's random cohorts by id.
async fn random_cohorts<DB>(tx: &mut Transaction<'_, DB>, course_key: &str) -> StoreResult<Vec<i64>>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    sqlx::query_scalar(
        "SELECT id FROM cohorts WHERE course_key = $1 AND assignment_type = 'random' ORDER BY id",
    )
    .bind(course_key.to_string())
    .fetch_all(&mut **tx)
    .await
    .map_err(map_err)
}

/// Places one username or e-mail in cohort `id` (see
/// `CohortStore::place_in_cohort`).
async fn place_one<DB>(
    tx: &mut Transaction<'_, DB>,
    course_key: &str,
    id: i64,
    ident: &str,
    now: DateTime<Utc>,
) -> StoreResult<Placement>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    // An entry with `@` is an e-mail address (stored in lower case), else a
    // username (unique regardless of case), as Open edX looks them up.
    let lookup = if ident.contains('@') {
        "SELECT id, username, email FROM users WHERE email = lower($1)"
    } else {
        "SELECT id, username, email FROM users WHERE lower(username) = lower($1)"
    };
    let user: Option<(i64, String, String)> = sqlx::query_as(lookup)
        .bind(ident.to_string())
        .fetch_optional(&mut **tx)
        .await
        .map_err(map_err)?;
    let Some((user_id, username, email)) = user else {
        return Ok(Placement::Unknown);
    };
    let enrolled: Option<bool> = sqlx::query_scalar(
        "SELECT is_active FROM enrollments WHERE user_id = $1 AND course_key = $2",
    )
    .bind(user_id)
    .bind(course_key.to_string())
    .fetch_optional(&mut **tx)
    .await
    .map_err(map_err)?;
    if enrolled != Some(true) {
        return Ok(Placement::NotEnrolled);
    }
    let current: Option<(i64, String)> = sqlx::query_as(
        "SELECT m.cohort_id, c.name FROM cohort_memberships m JOIN cohorts c ON c.id = m.cohort_id \
         WHERE m.course_key = $1 AND m.user_id = $2",
    )
    .bind(course_key.to_string())
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(map_err)?;
    if current.as_ref().is_some_and(|(c, _)| *c == id) {
        return Ok(Placement::Present);
    }
    sqlx::query(
        "INSERT INTO cohort_memberships (course_key, user_id, cohort_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (course_key, user_id) DO UPDATE SET cohort_id = excluded.cohort_id",
    )
    .bind(course_key.to_string())
    .bind(user_id)
    .bind(id)
    .bind(to_millis(now))
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(match current {
        Some((_, from)) => Placement::Moved {
            username,
            email,
            from,
        },
        None => Placement::Added { username, email },
    })
}
