//! The admin console's use cases: finding users, deactivating them, granting
//! roles, and the numbers an operator looks at.

use lectern_content::CourseKey;

use crate::error::{AppError, AppResult};
use crate::model::{CourseRole, SiteStats, User};
use crate::store::AdminLoss;
use crate::Lectern;

pub const USERS_PER_PAGE: i64 = 50;

/// A change an admin makes to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    Activate,
    Deactivate,
    MakeAdmin,
    RevokeAdmin,
    MakeCourseCreator,
    RevokeCourseCreator,
}

impl Lectern {
    fn require_admin(&self, user: &User) -> AppResult<()> {
        if user.is_admin {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "This page is for site administrators.".into(),
            ))
        }
    }

    pub async fn admin_stats(&self, admin: &User) -> AppResult<SiteStats> {
        self.require_admin(admin)?;
        Ok(self.store.stats(self.now()).await?)
    }

    pub async fn admin_users(&self, admin: &User, query: &str, page: i64) -> AppResult<Vec<User>> {
        self.require_admin(admin)?;
        let page = page.max(1);
        Ok(self
            .store
            .search_users(query.trim(), USERS_PER_PAGE, (page - 1) * USERS_PER_PAGE)
            .await?)
    }

    pub async fn admin_change_user(
        &self,
        admin: &User,
        username: &str,
        change: UserChange,
    ) -> AppResult<User> {
        self.require_admin(admin)?;
        let target = self.user_by_username(username).await?;
        // Removing an admin's power is one guarded write in the store, so two
        // admins removing each other at once (from two nodes) leave one.
        let guarded = |loss| async move {
            if self.store.remove_admin_power(target.id, loss).await? {
                Ok(())
            } else {
                Err(AppError::invalid(
                    "The last site administrator cannot be removed or deactivated.",
                ))
            }
        };
        match change {
            UserChange::Activate => self.store.set_user_active(target.id, true).await?,
            // A deactivated account loses its sessions and tokens at once.
            UserChange::Deactivate => guarded(AdminLoss::Deactivate).await?,
            UserChange::MakeAdmin => self.store.set_user_admin(target.id, true).await?,
            UserChange::RevokeAdmin => guarded(AdminLoss::RevokeAdmin).await?,
            UserChange::MakeCourseCreator => {
                self.store.set_user_course_creator(target.id, true).await?
            }
            UserChange::RevokeCourseCreator => {
                self.store.set_user_course_creator(target.id, false).await?
            }
        }
        // This node stops trusting what it cached of the account at once
        // (other nodes within `session_cache_ttl`); a deactivated account's
        // sessions are forgotten by the outage memory too.
        if change == UserChange::Deactivate {
            self.forget_user_sessions(target.id);
        } else {
            self.forget_cached_user(target.id);
        }
        tracing::info!(admin = %admin.username, user = %target.username, ?change, "account changed");
        self.user_by_username(username).await
    }

    pub async fn admin_grant_course_role(
        &self,
        admin: &User,
        username: &str,
        key: &CourseKey,
        role: CourseRole,
    ) -> AppResult<()> {
        self.require_admin(admin)?;
        let target = self.user_by_username(username).await?;
        if self.store.course(key).await?.is_none() {
            return Err(AppError::not_found(format!("course {key}")));
        }
        self.store.grant_course_role(key, target.id, role).await?;
        self.forget_cached_user(target.id);
        Ok(())
    }

    pub async fn admin_courses(
        &self,
        admin: &User,
    ) -> AppResult<Vec<(crate::model::CourseRecord, i64)>> {
        self.require_admin(admin)?;
        let mut out = Vec::new();
        for c in self.store.list_courses().await? {
            let n = self.store.count_enrollments(&c.key).await?;
            out.push((c, n));
        }
        Ok(out)
    }
}
