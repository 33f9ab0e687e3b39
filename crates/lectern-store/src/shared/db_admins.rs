//! The site's administrators: the one setup link that creates the first
//! admin, and the guard that keeps at least one. Both hold when several
//! nodes share the database, not just within one process: PostgreSQL locks
//! the admin rows (READ COMMITTED would otherwise let two demotions each
//! count the other admin from their own snapshot); SQLite's one guarded
//! statement runs under its database-wide write lock.

use chrono::{DateTime, Utc};
use lectern_app::model::{NewUser, User, UserId};
use lectern_app::store::{AdminLoss, StoreResult};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use super::rows::{UserRow, USER_COLUMNS};
use crate::commit_watch::commit;
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
    pub(crate) async fn guarded_admin_loss(
        &self,
        id: UserId,
        loss: AdminLoss,
    ) -> StoreResult<bool> {
        let column = match loss {
            AdminLoss::RevokeAdmin => "is_admin",
            AdminLoss::Deactivate => "is_active",
        };
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        if !DB::FOR_UPDATE.is_empty() {
            // Concurrent removals queue here; the one that waited then
            // counts (in the UPDATE's fresh snapshot) what the first left.
            let lock = format!(
                "SELECT id FROM users WHERE is_admin AND is_active ORDER BY id{}",
                DB::FOR_UPDATE
            );
            sqlx::query(&lock)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        let sql = format!(
            "UPDATE users SET {column} = FALSE WHERE id = $1 AND (NOT (is_admin AND is_active) \
             OR (SELECT COUNT(*) FROM users WHERE is_admin AND is_active AND id <> $1) >= 1)"
        );
        let changed = DB::rows_affected(
            &sqlx::query(&sql)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?,
        );
        if changed == 0 {
            return Ok(false);
        }
        if loss == AdminLoss::Deactivate {
            sqlx::query("DELETE FROM auth_tokens WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        commit(tx).await?;
        Ok(true)
    }

    pub(crate) async fn site_setup_link(
        &self,
        candidate: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<String> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        // Keeps the stored link while it works; replaces it once expired.
        sqlx::query(
            "INSERT INTO site_setup (id, secret, expires_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, expires_at = excluded.expires_at \
             WHERE site_setup.expires_at <= $3",
        )
        .bind(candidate.to_string())
        .bind(to_millis(expires_at))
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let (secret,): (String,) = sqlx::query_as("SELECT secret FROM site_setup WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await?;
        Ok(secret)
    }

    pub(crate) async fn site_setup_link_valid(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM site_setup WHERE id = 1 AND secret = $1 AND expires_at > $2",
        )
        .bind(secret.to_string())
        .bind(to_millis(now))
        .fetch_one(&self.read)
        .await
        .map_err(map_err)?;
        Ok(n > 0)
    }

    pub(crate) async fn complete_site_setup(
        &self,
        secret: &str,
        admin: &NewUser,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        let mut tx = self
            .write
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(map_err)?;
        // Using the link up first takes the row's (PostgreSQL) or the
        // database's (SQLite) write lock: a second completion waits, then
        // finds no link. Dropping `tx` rolls everything back.
        let used = DB::rows_affected(
            &sqlx::query("DELETE FROM site_setup WHERE id = 1 AND secret = $1 AND expires_at > $2")
                .bind(secret.to_string())
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?,
        );
        if used == 0 {
            return Ok(None);
        }
        let (admins,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM users WHERE is_admin AND is_active")
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        if admins > 0 {
            return Ok(None);
        }
        let sql = format!(
            "INSERT INTO users (username, email, name, password_hash, is_admin, is_course_creator, is_active, created_at) \
             VALUES ($1, $2, $3, $4, TRUE, TRUE, TRUE, $5) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = sqlx::query_as(&sql)
            .bind(admin.username.clone())
            .bind(admin.email.clone())
            .bind(admin.name.clone())
            .bind(admin.password_hash.clone())
            .bind(to_millis(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        commit(tx).await?;
        Ok(Some(row.into()))
    }
}
