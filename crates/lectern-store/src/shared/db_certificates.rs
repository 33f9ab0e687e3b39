//! Course certificates (`CertificateStore`) for `Db<DB>`, once for both
//! backends. One certificate per learner and course is the unique index
//! `certificates_learner`: issuing is `INSERT … ON CONFLICT DO NOTHING`
//! followed by reading the learner's row, so two nodes issuing the same
//! certificate at once both end with the one row. Revoking and re-issuing
//! are guarded by the status they change from.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::certificates::{
    Certificate, CertificateStatus, CertificateStore, NewCertificate, PassingLearner,
};
use lectern_app::model::UserId;
use lectern_app::store::StoreResult;
use lectern_app::StoreError;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::commit_watch::Acknowledge;
use crate::time::{from_millis, to_millis};

const COLUMNS: &str = "id, verify_id, user_id, course_key, grade, letter_grade, status, name, course_title, created_at, updated_at, revoked_at, revoked_by, revoke_reason";

#[derive(sqlx::FromRow)]
struct CertificateRow {
    id: i64,
    verify_id: String,
    user_id: i64,
    course_key: String,
    grade: f64,
    letter_grade: Option<String>,
    status: String,
    name: String,
    course_title: String,
    created_at: i64,
    updated_at: i64,
    revoked_at: Option<i64>,
    revoked_by: Option<i64>,
    revoke_reason: Option<String>,
}

impl CertificateRow {
    fn into_certificate(self) -> StoreResult<Certificate> {
        Ok(Certificate {
            id: self.id,
            verify_id: self.verify_id,
            user_id: self.user_id,
            course_key: self.course_key,
            grade: self.grade,
            letter_grade: self.letter_grade,
            status: CertificateStatus::parse(&self.status).ok_or_else(|| {
                StoreError::Internal(format!("stored certificate status {:?}", self.status))
            })?,
            name: self.name,
            course_title: self.course_title,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            revoked_at: self.revoked_at.map(from_millis),
            revoked_by: self.revoked_by,
            revoke_reason: self.revoke_reason,
        })
    }
}

#[async_trait]
impl<DB> CertificateStore for Db<DB>
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
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn issue_certificate(&self, new: &NewCertificate) -> StoreResult<(Certificate, bool)> {
        let added = self
            .execute_write(
                sqlx::query(
                    "INSERT INTO certificates (verify_id, user_id, course_key, grade, letter_grade, status, name, course_title, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, 'generated', $6, $7, $8, $8) ON CONFLICT (user_id, course_key) DO NOTHING",
                )
                .bind(new.verify_id.clone())
                .bind(new.user_id)
                .bind(new.course_key.clone())
                .bind(new.grade)
                .bind(new.letter_grade.clone())
                .bind(new.name.clone())
                .bind(new.course_title.clone())
                .bind(to_millis(new.created_at)),
            )
            .await?;
        // Read on the write pool: the row just written (or the one that won).
        let sql =
            format!("SELECT {COLUMNS} FROM certificates WHERE user_id = $1 AND course_key = $2");
        let row: Option<CertificateRow> = sqlx::query_as(&sql)
            .bind(new.user_id)
            .bind(new.course_key.clone())
            .fetch_optional(&self.write)
            .await
            .map_err(map_err)?;
        let row = row.ok_or_else(|| {
            StoreError::Internal("an issued certificate could not be read back".into())
        })?;
        Ok((row.into_certificate()?, added == 1))
    }

    async fn certificate_by_verify_id(&self, verify_id: &str) -> StoreResult<Option<Certificate>> {
        let sql = format!("SELECT {COLUMNS} FROM certificates WHERE verify_id = $1");
        let row: Option<CertificateRow> = sqlx::query_as(&sql)
            .bind(verify_id.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map(CertificateRow::into_certificate).transpose()
    }

    async fn certificate_of(
        &self,
        user: UserId,
        course_key: &str,
    ) -> StoreResult<Option<Certificate>> {
        let sql =
            format!("SELECT {COLUMNS} FROM certificates WHERE user_id = $1 AND course_key = $2");
        let row: Option<CertificateRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(course_key.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map(CertificateRow::into_certificate).transpose()
    }

    async fn certificates_of_user(
        &self,
        user: UserId,
        limit: i64,
    ) -> StoreResult<Vec<Certificate>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM certificates WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows: Vec<CertificateRow> = sqlx::query_as(&sql)
            .bind(user)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(CertificateRow::into_certificate)
            .collect()
    }

    async fn certificates_of_course(
        &self,
        course_key: &str,
        limit: i64,
    ) -> StoreResult<Vec<Certificate>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM certificates WHERE course_key = $1 ORDER BY id DESC LIMIT $2"
        );
        let rows: Vec<CertificateRow> = sqlx::query_as(&sql)
            .bind(course_key.to_string())
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(CertificateRow::into_certificate)
            .collect()
    }

    async fn count_certificates(&self, course_key: &str) -> StoreResult<(i64, i64)> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) AS n FROM certificates WHERE course_key = $1 GROUP BY status",
        )
        .bind(course_key.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let count = |s: CertificateStatus| {
            rows.iter()
                .find(|(st, _)| st == s.as_str())
                .map_or(0, |(_, n)| *n)
        };
        Ok((
            count(CertificateStatus::Generated),
            count(CertificateStatus::Revoked),
        ))
    }

    async fn passing_learners(
        &self,
        course_key: &str,
        after: UserId,
        limit: i64,
    ) -> StoreResult<Vec<PassingLearner>> {
        let rows: Vec<(i64, f64, Option<String>)> = sqlx::query_as(
            "SELECT g.user_id, g.percent, g.letter_grade FROM course_grades g \
             JOIN enrollments e ON e.user_id = g.user_id AND e.course_key = g.course_key AND e.is_active \
             JOIN users u ON u.id = g.user_id AND u.is_active \
             WHERE g.course_key = $1 AND g.passed AND g.user_id > $2 ORDER BY g.user_id LIMIT $3",
        )
        .bind(course_key.to_string())
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(|(user_id, percent, letter_grade)| PassingLearner {
                user_id,
                percent,
                letter_grade,
            })
            .collect())
    }

    async fn revoke_certificate(
        &self,
        id: i64,
        by: UserId,
        reason: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed = self
            .execute_write(
                sqlx::query(
                    "UPDATE certificates SET status = 'revoked', revoked_at = $1, revoked_by = $2, revoke_reason = $3, updated_at = $1 \
                     WHERE id = $4 AND status = 'generated'",
                )
                .bind(to_millis(at))
                .bind(by)
                .bind(reason.to_string())
                .bind(id),
            )
            .await?;
        Ok(changed == 1)
    }

    async fn reissue_certificate(
        &self,
        id: i64,
        grade: f64,
        letter_grade: Option<&str>,
        name: &str,
        course_title: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let changed: Option<i64> = sqlx::query_scalar(
            "UPDATE certificates SET status = 'generated', grade = $1, letter_grade = $2, name = $3, course_title = $4, \
             created_at = $5, updated_at = $5, revoked_at = NULL, revoked_by = NULL, revoke_reason = NULL \
             WHERE id = $6 AND status = 'revoked' RETURNING id",
        )
        .bind(grade)
        .bind(letter_grade.map(str::to_string))
        .bind(name.to_string())
        .bind(course_title.to_string())
        .bind(to_millis(at))
        .bind(id)
        .fetch_optional(&self.write)
        .acknowledged()
        .await?;
        Ok(changed.is_some())
    }
}
