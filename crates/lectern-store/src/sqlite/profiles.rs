//! Password changes, reset links, profiles and the staff enrolment list:
//! the queries behind `lectern_app::credentials`, `profile` and `roster`.
//! The trait impls in `users.rs` and `misc.rs` delegate here.

use chrono::{DateTime, Utc};
use lectern_app::model::{Enrollment, TokenKind, UserId};
use lectern_app::profile::Profile;
use lectern_app::roster::{Direction, EnrollmentQuery};
use lectern_app::store::{PasswordReset, StoreResult};
use lectern_app::StoreError;
use sqlx::Row;

use super::{map_err, SqliteStore};
use crate::time::{from_millis, to_millis};

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
        sqlx::query("DELETE FROM auth_tokens WHERE user_id = ? AND token_hash IS NOT ?")
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
        let row = sqlx::query(
            "SELECT bio, country, state, language, level_of_education, gender, goals, \
             mailing_address, year_of_birth, language_proficiencies FROM user_profiles WHERE user_id = ?",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        let Some(r) = row else {
            return Ok(Profile::default());
        };
        let langs: String = r.try_get("language_proficiencies").map_err(map_err)?;
        let year: Option<i64> = r.try_get("year_of_birth").map_err(map_err)?;
        Ok(Profile {
            bio: r.try_get("bio").map_err(map_err)?,
            country: r.try_get("country").map_err(map_err)?,
            state: r.try_get("state").map_err(map_err)?,
            language: r.try_get("language").map_err(map_err)?,
            level_of_education: r.try_get("level_of_education").map_err(map_err)?,
            gender: r.try_get("gender").map_err(map_err)?,
            goals: r.try_get("goals").map_err(map_err)?,
            mailing_address: r.try_get("mailing_address").map_err(map_err)?,
            year_of_birth: year.and_then(|y| i32::try_from(y).ok()),
            language_proficiencies: serde_json::from_str(&langs)
                .map_err(|e| StoreError::Internal(format!("stored languages: {e}")))?,
        })
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
        sqlx::query(
            "INSERT INTO user_profiles (user_id, bio, country, state, language, level_of_education, gender, \
             goals, mailing_address, year_of_birth, language_proficiencies, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (user_id) DO UPDATE SET bio = excluded.bio, country = excluded.country, \
             state = excluded.state, language = excluded.language, \
             level_of_education = excluded.level_of_education, gender = excluded.gender, \
             goals = excluded.goals, mailing_address = excluded.mailing_address, \
             year_of_birth = excluded.year_of_birth, \
             language_proficiencies = excluded.language_proficiencies, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(&p.bio)
        .bind(&p.country)
        .bind(&p.state)
        .bind(&p.language)
        .bind(&p.level_of_education)
        .bind(&p.gender)
        .bind(&p.goals)
        .bind(&p.mailing_address)
        .bind(p.year_of_birth.map(i64::from))
        .bind(langs)
        .bind(to_millis(Utc::now()))
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
        let mut sql = String::from(
            "SELECT e.user_id, e.course_key, e.mode, e.is_active, e.created_at, u.username \
             FROM enrollments e JOIN users u ON u.id = e.user_id WHERE 1 = 1",
        );
        if q.course.is_some() {
            sql.push_str(" AND e.course_key = ?");
        }
        if !q.usernames.is_empty() {
            let marks = vec!["?"; q.usernames.len()].join(", ");
            sql.push_str(&format!(" AND lower(u.username) IN ({marks})"));
        }
        let order = match &q.from {
            Some((_, Direction::Older)) => {
                sql.push_str(" AND (e.created_at, e.user_id, e.course_key) < (?, ?, ?)");
                "DESC"
            }
            Some((_, Direction::Newer)) => {
                sql.push_str(" AND (e.created_at, e.user_id, e.course_key) > (?, ?, ?)");
                "ASC"
            }
            None => "DESC",
        };
        sql.push_str(&format!(
            " ORDER BY e.created_at {order}, e.user_id {order}, e.course_key {order} LIMIT ?"
        ));
        let mut query = sqlx::query(&sql);
        if let Some(c) = &q.course {
            query = query.bind(c.to_string());
        }
        for u in &q.usernames {
            query = query.bind(u);
        }
        if let Some((p, _)) = &q.from {
            query = query
                .bind(to_millis(p.created_at))
                .bind(p.user_id)
                .bind(&p.course_key);
        }
        let rows = query
            .bind(q.limit as i64)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let key: String = r.try_get("course_key").map_err(map_err)?;
                let e = Enrollment {
                    user_id: r.try_get("user_id").map_err(map_err)?,
                    course_key: key
                        .parse()
                        .map_err(|e| StoreError::Internal(format!("stored course key: {e}")))?,
                    mode: r.try_get("mode").map_err(map_err)?,
                    is_active: r.try_get("is_active").map_err(map_err)?,
                    created_at: from_millis(r.try_get("created_at").map_err(map_err)?),
                };
                Ok((e, r.try_get("username").map_err(map_err)?))
            })
            .collect()
    }
}
