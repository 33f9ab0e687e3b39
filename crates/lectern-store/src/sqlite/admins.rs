//! The site's administrators: the one setup link that creates the first
//! admin, and the guard that keeps at least one. Both hold when several
//! nodes (processes) share the database file, not just within one process.

use chrono::{DateTime, Utc};
use lectern_app::model::{NewUser, User, UserId};
use lectern_app::store::{AdminLoss, StoreResult};

use super::users::{user_from_row, USER_COLUMNS};
use super::{map_err, SqliteStore};
use crate::time::to_millis;

impl SqliteStore {
    pub(super) async fn guarded_admin_loss(
        &self,
        id: UserId,
        loss: AdminLoss,
    ) -> StoreResult<bool> {
        let column = match loss {
            AdminLoss::RevokeAdmin => "is_admin",
            AdminLoss::Deactivate => "is_active",
        };
        // One statement: SQLite holds the database's write lock from before
        // the count to after the write, so no other writer (this process's
        // or another node's) can change the admins in between.
        let sql = format!(
            "UPDATE users SET {column} = FALSE WHERE id = ?1 AND (NOT (is_admin AND is_active) \
             OR (SELECT COUNT(*) FROM users WHERE is_admin AND is_active AND id <> ?1) >= 1)"
        );
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let changed = sqlx::query(&sql)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        if loss == AdminLoss::Deactivate {
            sqlx::query("DELETE FROM auth_tokens WHERE user_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    pub(super) async fn site_setup_link(
        &self,
        candidate: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<String> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        // Keeps the stored link while it works; replaces it once expired.
        sqlx::query(
            "INSERT INTO site_setup (id, secret, expires_at) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, expires_at = excluded.expires_at \
             WHERE site_setup.expires_at <= ?",
        )
        .bind(candidate)
        .bind(to_millis(expires_at))
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let secret: String = sqlx::query_scalar("SELECT secret FROM site_setup WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(secret)
    }

    pub(super) async fn site_setup_link_valid(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM site_setup WHERE id = 1 AND secret = ? AND expires_at > ?",
        )
        .bind(secret)
        .bind(to_millis(now))
        .fetch_one(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(n > 0)
    }

    pub(super) async fn complete_site_setup(
        &self,
        secret: &str,
        admin: &NewUser,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        // Using the link up first takes the write lock: a second completion
        // waits, then finds no link. Dropping `tx` rolls everything back.
        let used =
            sqlx::query("DELETE FROM site_setup WHERE id = 1 AND secret = ? AND expires_at > ?")
                .bind(secret)
                .bind(to_millis(now))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        if used == 0 {
            return Ok(None);
        }
        let admins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_admin AND is_active")
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        if admins > 0 {
            return Ok(None);
        }
        let sql = format!(
            "INSERT INTO users (username, email, name, password_hash, is_admin, is_course_creator, is_active, created_at) \
             VALUES (?, ?, ?, ?, TRUE, TRUE, TRUE, ?) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&admin.username)
            .bind(&admin.email)
            .bind(&admin.name)
            .bind(&admin.password_hash)
            .bind(to_millis(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        let user = user_from_row(&row).map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(user))
    }
}
