//! Sessions, bearer tokens and password reset links on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{AuthToken, TokenKind, UserId};
use lectern_app::store::{PasswordReset, StoreResult, TokenStore};

use super::PgStore;
use crate::shared::errors::map_err;
use crate::shared::rows::TokenRow;
use crate::time::to_millis;

#[async_trait]
impl TokenStore for PgStore {
    async fn insert_token(&self, token: &AuthToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO auth_tokens (token_hash, user_id, kind, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&token.token_hash)
        .bind(token.user_id)
        .bind(token.kind.as_str())
        .bind(to_millis(token.expires_at))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<AuthToken>> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT token_hash, user_id, kind, expires_at FROM auth_tokens WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(row.map(AuthToken::from))
    }

    async fn delete_token(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_user_tokens(&self, user_id: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM auth_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM auth_tokens WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn delete_user_tokens_of_kind(
        &self,
        user_id: UserId,
        kind: TokenKind,
    ) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM auth_tokens WHERE user_id = $1 AND kind = $2")
            .bind(user_id)
            .bind(kind.as_str())
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn insert_password_reset(&self, reset: &PasswordReset) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&reset.token_hash)
        .bind(reset.user_id)
        .bind(to_millis(reset.expires_at))
        .bind(to_millis(reset.created_at))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn count_password_resets(&self, user_id: UserId, now: DateTime<Utc>) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user_id)
        .bind(to_millis(now))
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)
    }

    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        // One statement: of two concurrent uses, only one gets the row.
        let row: Option<(i64, i64)> = sqlx::query_as(
            "DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(row
            .filter(|(_, expires)| *expires > to_millis(now))
            .map(|(user, _)| user))
    }

    async fn peek_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        sqlx::query_scalar(
            "SELECT user_id FROM password_resets WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)
    }
}
