//! `PageStore`: what a courseware page reads, each in one statement (the
//! course with the reader's team role and enrolment; the states of a unit's
//! problems), because on SQLite a page's cost is mostly per statement
//! (bench/README.md, issue 18). Both backends share the SQL.

use async_trait::async_trait;
use lectern_app::model::{CourseRole, Enrollment, ProblemState, UserId};
use lectern_app::store::{CoursewareAccess, PageStore, StoreResult, STATES_PER_READ};
use lectern_content::{CourseKey, UsageKey};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use super::rows::{CourseRow, StateRow, COURSE_COLUMNS, STATE_COLUMNS};
use crate::time::from_millis;

/// The course row with the reader's role and enrolment beside it. The
/// joined tables' columns are renamed in their derived tables, so the
/// course's own (unqualified) columns stay unambiguous. Built once.
pub(crate) fn access_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT {COURSE_COLUMNS}, r.my_role, e.e_mode, e.e_active, e.e_created \
         FROM courses \
         LEFT JOIN (SELECT course_key AS r_course, role AS my_role FROM course_roles \
                    WHERE user_id = $2) r ON r.r_course = courses.course_key \
         LEFT JOIN (SELECT course_key AS e_course, mode AS e_mode, is_active AS e_active, \
                    created_at AS e_created FROM enrollments WHERE user_id = $2) e \
                ON e.e_course = courses.course_key \
         WHERE course_key = $1"
        )
    })
}

#[derive(FromRow)]
struct AccessRow {
    #[sqlx(flatten)]
    course: CourseRow,
    my_role: Option<String>,
    e_mode: Option<String>,
    e_active: Option<bool>,
    e_created: Option<i64>,
}

impl AccessRow {
    fn from_parts(course: CourseRow, extra: crate::sqlite::hot_reads::AccessExtra) -> Self {
        AccessRow {
            course,
            my_role: extra.my_role,
            e_mode: extra.e_mode,
            e_active: extra.e_active,
            e_created: extra.e_created,
        }
    }

    fn into_access(self, user: UserId) -> StoreResult<CoursewareAccess> {
        let record = self.course.into_record()?;
        let enrollment = match (self.e_mode, self.e_active, self.e_created) {
            (Some(mode), Some(is_active), Some(created)) => Some(Enrollment {
                user_id: user,
                course_key: record.key.clone(),
                mode,
                is_active,
                created_at: from_millis(created),
            }),
            _ => None,
        };
        Ok(CoursewareAccess {
            role: self.my_role.as_deref().and_then(CourseRole::parse),
            enrollment,
            record,
        })
    }
}

/// A statement the hot path ran, logged as sqlx logs its own (at debug,
/// under `lectern_store::hot_read`), so statement counts stay countable.
pub(crate) fn statement_logged(sql: &str) {
    tracing::debug!(target: "lectern_store::hot_read", summary = %sql.get(..40).unwrap_or(sql), "hot read");
}

/// `SELECT … WHERE user_id = $1 AND usage_key IN ($2, …)` for `n` keys.
pub(crate) fn states_sql(n: usize) -> String {
    let marks: Vec<String> = (2..n + 2).map(|i| format!("${i}")).collect();
    format!(
        "SELECT {STATE_COLUMNS} FROM problem_states WHERE user_id = $1 AND usage_key IN ({})",
        marks.join(", ")
    )
}

#[async_trait]
impl<DB> PageStore for Db<DB>
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
    for<'q> Option<bool>: Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn courseware_access(
        &self,
        key: &CourseKey,
        user: UserId,
    ) -> StoreResult<Option<CoursewareAccess>> {
        let sql = access_sql();
        if let Some(hot) = &self.hot {
            if let Some(found) = hot.access(sql, &key.to_text(), user) {
                statement_logged(sql);
                return found
                    .map(|(course, extra)| AccessRow::from_parts(course, extra).into_access(user))
                    .transpose();
            }
        }
        let row: Option<AccessRow> = sqlx::query_as(sql)
            .bind(key.to_string())
            .bind(user)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map(|r| r.into_access(user)).transpose()
    }

    async fn problem_states_of(
        &self,
        user: UserId,
        usage_keys: &[UsageKey],
    ) -> StoreResult<Vec<ProblemState>> {
        let mut out = Vec::new();
        for chunk in usage_keys.chunks(STATES_PER_READ) {
            let sql = states_sql(chunk.len());
            if let Some(hot) = &self.hot {
                let keys: Vec<String> = chunk.iter().map(|k| k.to_string()).collect();
                if let Some(rows) = hot.states(&sql, user, &keys) {
                    statement_logged(&sql);
                    for row in rows {
                        out.push(row.into_state()?);
                    }
                    continue;
                }
            }
            let mut query = sqlx::query_as(&sql).bind(user);
            for key in chunk {
                query = query.bind(key.to_string());
            }
            let rows: Vec<StateRow> = query.fetch_all(&self.read).await.map_err(map_err)?;
            for row in rows {
                out.push(row.into_state()?);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_states_statement_has_one_placeholder_per_key() {
        assert!(states_sql(3).ends_with("usage_key IN ($2, $3, $4)"));
    }
}
