//! Accounts and authentication tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{AuthToken, NewUser, TokenKind, User, UserId};
use lectern_app::profile::Profile;
use lectern_app::store::{AdminLoss, PasswordReset, StoreResult, TokenStore, UserStore};
use sqlx::Row;

use super::{map_err, SqliteStore};
use crate::time::{from_millis, to_millis};

pub(super) const USER_COLUMNS: &str =
    "id, username, email, name, is_admin, is_course_creator, is_active, created_at";

pub(super) fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        is_admin: row.try_get("is_admin")?,
        is_course_creator: row.try_get("is_course_creator")?,
        is_active: row.try_get("is_active")?,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

impl SqliteStore {
    async fn user_where(&self, clause: &str, arg: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {clause}");
        let row = sqlx::query(&sql)
            .bind(arg)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map(|r| user_from_row(&r)).transpose().map_err(map_err)
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
        let row = sqlx::query(&sql)
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
        user_from_row(&row).map_err(map_err)
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map(|r| user_from_row(&r)).transpose().map_err(map_err)
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.user_where("lower(username) = lower(?)", username)
            .await
    }

    async fn user_for_login(&self, login: &str) -> StoreResult<Option<(User, String)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower(?1) OR email = lower(?1)"
        );
        let row = sqlx::query(&sql)
            .bind(login)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        match row {
            Some(r) => {
                let user = user_from_row(&r).map_err(map_err)?;
                let hash: String = r.try_get("password_hash").map_err(map_err)?;
                Ok(Some((user, hash)))
            }
            None => Ok(None),
        }
    }

    async fn search_users(&self, query: &str, limit: i64, offset: i64) -> StoreResult<Vec<User>> {
        let pattern = format!(
            "%{}%",
            query
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\' \
             OR name LIKE ?1 ESCAPE '\\' ORDER BY id LIMIT ?2 OFFSET ?3"
        );
        let rows = sqlx::query(&sql)
            .bind(pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(user_from_row)
            .collect::<Result<_, _>>()
            .map_err(map_err)
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

fn kind_from_str(s: &str) -> TokenKind {
    match s {
        "bearer" => TokenKind::Bearer,
        "setup" => TokenKind::Setup,
        _ => TokenKind::Session,
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
        let row = sqlx::query("SELECT token_hash, user_id, kind, expires_at FROM auth_tokens WHERE token_hash = ? AND expires_at > ?")
            .bind(token_hash)
            .bind(to_millis(now))
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        let Some(r) = row else { return Ok(None) };
        let kind: String = r.try_get("kind").map_err(map_err)?;
        Ok(Some(AuthToken {
            token_hash: r.try_get("token_hash").map_err(map_err)?,
            user_id: r.try_get("user_id").map_err(map_err)?,
            kind: kind_from_str(&kind),
            expires_at: from_millis(r.try_get("expires_at").map_err(map_err)?),
        }))
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
