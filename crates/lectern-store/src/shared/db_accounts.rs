//! Accounts, profiles, sessions and reset links: the queries both backends
//! share (see [`super::db`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{AuthToken, NewUser, TokenKind, User, UserId};
use lectern_app::profile::Profile;
use lectern_app::store::{AdminLoss, PasswordReset, StoreResult, TokenStore, UserStore};
use lectern_app::StoreError;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use super::rows::{LoginRow, ProfileRow, TokenRow, UserRow, PROFILE_COLUMNS, USER_COLUMNS};
use super::sql;
use crate::commit_watch::{commit, Acknowledge};
use crate::time::to_millis;

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
    async fn user_where(&self, clause: &str, arg: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {clause}");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(arg.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        Ok(row.map(User::from))
    }

    pub(crate) async fn set_user_flag(
        &self,
        column: &str,
        id: UserId,
        value: bool,
    ) -> StoreResult<()> {
        let sql = format!("UPDATE users SET {column} = $1 WHERE id = $2");
        sqlx::query(&sql)
            .bind(value)
            .bind(id)
            .execute(&self.write)
            .acknowledged()
            .await?;
        Ok(())
    }
}

#[async_trait]
impl<DB> UserStore for Db<DB>
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
    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        let sql = format!(
            "INSERT INTO users (username, email, name, password_hash, is_admin, is_course_creator, is_active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = sqlx::query_as(&sql)
            .bind(new.username.clone())
            .bind(new.email.clone())
            .bind(new.name.clone())
            .bind(new.password_hash.clone())
            .bind(new.is_admin)
            .bind(new.is_course_creator)
            .bind(to_millis(Utc::now()))
            .fetch_one(&self.write)
            .acknowledged()
            .await?;
        Ok(row.into())
    }

    async fn remove_admin_power(&self, id: UserId, loss: AdminLoss) -> StoreResult<bool> {
        self.guarded_admin_loss(id, loss).await
    }

    async fn setup_link(
        &self,
        candidate: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<String> {
        self.site_setup_link(candidate, expires_at, now).await
    }

    async fn setup_link_valid(&self, secret: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        self.site_setup_link_valid(secret, now).await
    }

    async fn complete_setup(
        &self,
        secret: &str,
        admin: &NewUser,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        self.complete_site_setup(secret, admin, now).await
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        Ok(row.map(User::from))
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.user_where("lower(username) = lower($1)", username)
            .await
    }

    async fn user_for_login(&self, login: &str) -> StoreResult<Option<(User, String)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower($1) OR email = lower($1)"
        );
        let row: Option<LoginRow> = sqlx::query_as(&sql)
            .bind(login.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        Ok(row.map(|r| (r.user.into(), r.password_hash)))
    }

    async fn search_users(&self, query: &str, limit: i64, offset: i64) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(&sql::search_users_sql())
            .bind(sql::contains_pattern(query))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    async fn count_admins(&self) -> StoreResult<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM users WHERE is_admin AND is_active")
                .fetch_one(&self.read)
                .await
                .map_err(map_err)?;
        Ok(n)
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "DELETE FROM auth_tokens WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2",
        )
        .bind(id)
        .bind(keep.map(str::to_string))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await
    }

    async fn profile(&self, id: UserId) -> StoreResult<Profile> {
        let sql = format!("SELECT {PROFILE_COLUMNS} FROM user_profiles WHERE user_id = $1");
        let row: Option<ProfileRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.map_or_else(|| Ok(Profile::default()), ProfileRow::into_profile)
    }

    async fn update_account(&self, id: UserId, name: &str, profile: &Profile) -> StoreResult<()> {
        let langs = serde_json::to_string(&profile.language_proficiencies)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
            .bind(name.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sql::bind_profile(id, profile, langs, to_millis(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await
    }

    async fn set_user_active(&self, id: UserId, active: bool) -> StoreResult<()> {
        self.set_user_flag("is_active", id, active).await
    }

    async fn set_user_admin(&self, id: UserId, admin: bool) -> StoreResult<()> {
        self.set_user_flag("is_admin", id, admin).await
    }

    async fn set_user_course_creator(&self, id: UserId, creator: bool) -> StoreResult<()> {
        self.set_user_flag("is_course_creator", id, creator).await
    }
}

#[async_trait]
impl<DB> TokenStore for Db<DB>
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
    async fn insert_token(&self, token: &AuthToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO auth_tokens (token_hash, user_id, kind, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token.token_hash.clone())
        .bind(token.user_id)
        .bind(token.kind.as_str().to_string())
        .bind(to_millis(token.expires_at))
        .execute(&self.write)
        .acknowledged()
        .await?;
        Ok(())
    }

    async fn token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<AuthToken>> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT token_hash, user_id, kind, expires_at FROM auth_tokens WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash.to_string())
        .bind(to_millis(now))
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        Ok(row.map(AuthToken::from))
    }

    async fn delete_token(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
            .bind(token_hash.to_string())
            .execute(&self.write)
            .acknowledged()
            .await?;
        Ok(())
    }

    async fn delete_user_tokens(&self, user_id: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM auth_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.write)
            .acknowledged()
            .await?;
        Ok(())
    }

    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.execute_write(
            sqlx::query("DELETE FROM auth_tokens WHERE expires_at <= $1").bind(to_millis(now)),
        )
        .await
    }

    async fn delete_user_tokens_of_kind(
        &self,
        user_id: UserId,
        kind: TokenKind,
    ) -> StoreResult<u64> {
        self.execute_write(
            sqlx::query("DELETE FROM auth_tokens WHERE user_id = $1 AND kind = $2")
                .bind(user_id)
                .bind(kind.as_str().to_string()),
        )
        .await
    }

    async fn insert_password_reset(&self, reset: &PasswordReset) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(reset.token_hash.clone())
        .bind(reset.user_id)
        .bind(to_millis(reset.expires_at))
        .bind(to_millis(reset.created_at))
        .execute(&self.write)
        .acknowledged()
        .await?;
        Ok(())
    }

    async fn count_password_resets(&self, user_id: UserId, now: DateTime<Utc>) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user_id)
        .bind(to_millis(now))
        .fetch_one(&self.read)
        .await
        .map_err(map_err)?;
        Ok(n)
    }

    /// One statement: of two concurrent uses of a link, only one gets the row.
    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires_at",
        )
        .bind(token_hash.to_string())
        .fetch_optional(&self.write)
        .acknowledged()
        .await?;
        Ok(row
            .filter(|(_, expires)| *expires > to_millis(now))
            .map(|(user, _)| user))
    }

    async fn peek_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT user_id FROM password_resets WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash.to_string())
        .bind(to_millis(now))
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        Ok(row.map(|(id,)| id))
    }
}
