//! Accounts and profiles on PostgreSQL.

use async_trait::async_trait;
use chrono::Utc;
use lectern_app::model::{NewUser, User, UserId};
use lectern_app::profile::Profile;
use lectern_app::store::{StoreResult, UserStore};
use lectern_app::StoreError;

use super::PgStore;
use crate::shared::errors::map_err;
use crate::shared::rows::{LoginRow, ProfileRow, UserRow, PROFILE_COLUMNS, USER_COLUMNS};
use crate::shared::sql;
use crate::time::to_millis;

impl PgStore {
    async fn user_where(&self, clause: &str, arg: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {clause}");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(arg)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.map(User::from))
    }

    async fn set_flag(&self, column: &str, id: UserId, value: bool) -> StoreResult<()> {
        let sql = format!("UPDATE users SET {column} = $1 WHERE id = $2");
        sqlx::query(&sql)
            .bind(value)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        let sql = format!(
            "INSERT INTO users (username, email, name, password_hash, is_admin, is_course_creator, is_active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = sqlx::query_as(&sql)
            .bind(&new.username)
            .bind(&new.email)
            .bind(&new.name)
            .bind(&new.password_hash)
            .bind(new.is_admin)
            .bind(new.is_course_creator)
            .bind(to_millis(Utc::now()))
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.into())
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
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
            .bind(login)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(row.map(|r| (r.user.into(), r.password_hash)))
    }

    async fn search_users(&self, query: &str, limit: i64, offset: i64) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(&sql::search_users_sql())
            .bind(sql::contains_pattern(query))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
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
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "DELETE FROM auth_tokens WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2",
        )
        .bind(id)
        .bind(keep)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn profile(&self, id: UserId) -> StoreResult<Profile> {
        let sql = format!("SELECT {PROFILE_COLUMNS} FROM user_profiles WHERE user_id = $1");
        let row: Option<ProfileRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.map_or_else(|| Ok(Profile::default()), ProfileRow::into_profile)
    }

    async fn update_account(&self, id: UserId, name: &str, profile: &Profile) -> StoreResult<()> {
        let langs = serde_json::to_string(&profile.language_proficiencies)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sql::bind_profile(id, profile, langs, to_millis(Utc::now()))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }
}
