//! Accounts and authentication tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{AuthToken, NewUser, TokenKind, User, UserId};
use lectern_app::profile::Profile;
use lectern_app::store::{PasswordReset, StoreResult, TokenStore, UserStore};

use super::{map_err, SqliteStore};
use crate::shared::rows::{LoginRow, TokenRow, UserRow, USER_COLUMNS};
use crate::shared::sql;
use crate::time::to_millis;

impl SqliteStore {
    async fn user_where(&self, clause: &str, arg: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {clause}");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(arg)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(row.map(User::from))
    }

    async fn set_flag(&self, column: &str, id: UserId, value: bool) -> StoreResult<()> {
        let sql = format!("UPDATE users SET {column} = ? WHERE id = ?");
        sqlx::query(&sql)
            .bind(value)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        let now = to_millis(Utc::now());
        let sql = format!(
            "INSERT INTO users (username, email, name, password_hash, is_admin, is_course_creator, is_active, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, TRUE, ?) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = sqlx::query_as(&sql)
            .bind(&new.username)
            .bind(&new.email)
            .bind(&new.name)
            .bind(&new.password_hash)
            .bind(new.is_admin)
            .bind(new.is_course_creator)
            .bind(now)
            .fetch_one(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(row.into())
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(row.map(User::from))
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.user_where("lower(username) = lower(?)", username)
            .await
    }

    async fn user_for_login(&self, login: &str) -> StoreResult<Option<(User, String)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower(?1) OR email = lower(?1)"
        );
        let row: Option<LoginRow> = sqlx::query_as(&sql)
            .bind(login)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(row.map(|r| (r.user.into(), r.password_hash)))
    }

    async fn search_users(&self, query: &str, limit: i64, offset: i64) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(&sql::search_users_sql())
            .bind(sql::contains_pattern(query))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn set_user_active(&self, id: UserId, active: bool) -> StoreResult<()> {
        self.set_flag("is_active", id, active).await
    }

    async fn set_user_admin(&self, id: UserId, admin: bool) -> StoreResult<()> {
        self.set_flag("is_admin", id, admin).await
    }

    async fn set_user_course_creator(&self, id: UserId, creator: bool) -> StoreResult<()> {
        self.set_flag("is_course_creator", id, creator).await
    }

    async fn count_admins(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin AND is_active")
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        self.set_password_now(id, password_hash, keep).await
    }

    async fn profile(&self, id: UserId) -> StoreResult<Profile> {
        self.read_profile(id).await
    }

    async fn update_account(&self, id: UserId, name: &str, profile: &Profile) -> StoreResult<()> {
        self.write_account(id, name, profile).await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, token: &AuthToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO auth_tokens (token_hash, user_id, kind, expires_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&token.token_hash)
        .bind(token.user_id)
        .bind(token.kind.as_str())
        .bind(to_millis(token.expires_at))
        .execute(&self.writer)
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
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(row.map(AuthToken::from))
    }

    async fn delete_token(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM auth_tokens WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_user_tokens(&self, user_id: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM auth_tokens WHERE user_id = ?")
            .bind(user_id)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM auth_tokens WHERE expires_at <= ?")
            .bind(to_millis(now))
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected())
    }

    async fn delete_user_tokens_of_kind(
        &self,
        user_id: UserId,
        kind: TokenKind,
    ) -> StoreResult<u64> {
        self.delete_tokens_of_kind(user_id, kind).await
    }

    async fn insert_password_reset(&self, reset: &PasswordReset) -> StoreResult<()> {
        self.add_password_reset(reset).await
    }

    async fn count_password_resets(&self, user_id: UserId, now: DateTime<Utc>) -> StoreResult<i64> {
        self.pending_resets(user_id, now).await
    }

    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        self.use_password_reset(token_hash, now).await
    }

    async fn peek_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        self.find_password_reset(token_hash, now).await
    }
}
