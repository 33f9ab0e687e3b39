//! Password changes, reset links, profiles and the staff enrolment list:
//! the queries behind `lectern_app::credentials`, `profile` and `roster`.
//! The trait impls in `users.rs` and `misc.rs` delegate here.

use super::{map_err, SqliteStore};
use crate::shared::rows::{ProfileRow, RosterRow, PROFILE_COLUMNS};
use crate::shared::sql;
use crate::time::to_millis;
use chrono::{DateTime, Utc};
use lectern_app::model::{Enrollment, TokenKind, UserId};
use lectern_app::profile::Profile;
use lectern_app::roster::EnrollmentQuery;
use lectern_app::store::{PasswordReset, StoreResult};
use lectern_app::StoreError;

impl SqliteStore {
    pub(super) async fn set_password_now(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("DELETE FROM auth_tokens WHERE user_id = ? AND token_hash IS DISTINCT FROM ?")
            .bind(id)
            .bind(keep)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    pub(super) async fn read_profile(&self, id: UserId) -> StoreResult<Profile> {
        let sql = format!("SELECT {PROFILE_COLUMNS} FROM user_profiles WHERE user_id = ?");
        let row: Option<ProfileRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map_or_else(|| Ok(Profile::default()), ProfileRow::into_profile)
    }

    pub(super) async fn write_account(
        &self,
        id: UserId,
        name: &str,
        p: &Profile,
    ) -> StoreResult<()> {
        let langs = serde_json::to_string(&p.language_proficiencies)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        sqlx::query("UPDATE users SET name = ? WHERE id = ?")
            .bind(name)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sql::bind_profile(id, p, langs, to_millis(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    pub(super) async fn delete_tokens_of_kind(
        &self,
        user_id: UserId,
        kind: TokenKind,
    ) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM auth_tokens WHERE user_id = ? AND kind = ?")
            .bind(user_id)
            .bind(kind.as_str())
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    pub(super) async fn add_password_reset(&self, reset: &PasswordReset) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&reset.token_hash)
        .bind(reset.user_id)
        .bind(to_millis(reset.expires_at))
        .bind(to_millis(reset.created_at))
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    pub(super) async fn pending_resets(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM password_resets WHERE user_id = ? AND expires_at > ?",
        )
        .bind(user_id)
        .bind(to_millis(now))
        .fetch_one(&self.reader)
        .await
        .map_err(map_err)
    }

    pub(super) async fn use_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "DELETE FROM password_resets WHERE token_hash = ? RETURNING user_id, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(row
            .filter(|(_, expires)| *expires > to_millis(now))
            .map(|(user, _)| user))
    }

    pub(super) async fn find_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        sqlx::query_scalar(
            "SELECT user_id FROM password_resets WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)
    }

    pub(super) async fn enrollment_page(
        &self,
        q: &EnrollmentQuery,
    ) -> StoreResult<Vec<(Enrollment, String)>> {
        let sql = sql::enrollment_page_sql(q);
        let rows: Vec<RosterRow> = sql::bind_enrollment_page(&sql, q)
            .try_map(|row| <RosterRow as sqlx::FromRow<_>>::from_row(&row))
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.into_iter()
            .map(|r| Ok((r.enrollment.into_enrollment()?, r.username)))
            .collect()
    }
}
