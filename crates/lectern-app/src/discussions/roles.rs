//! Granting and removing discussion roles: the course's instructors and
//! site admins decide (from Studio's course team page, the admin console
//! or the API); a role names an existing user.

use lectern_content::CourseKey;

use super::model::DiscussionRole;
use crate::error::{AppError, AppResult};
use crate::model::{CourseRole, User};
use crate::Lectern;

impl Lectern {
    async fn require_role_manager(&self, actor: &User, key: &CourseKey) -> AppResult<()> {
        if self.store.course(key).await?.is_none() {
            return Err(AppError::not_found(format!("course {key}")));
        }
        if actor.is_admin
            || self.store.course_role(key, actor.id).await? == Some(CourseRole::Instructor)
        {
            return Ok(());
        }
        if self.is_course_author(actor, key).await? {
            return Err(AppError::Forbidden(
                "Only the course's instructors can change its discussion roles.".into(),
            ));
        }
        Err(AppError::not_found(format!("course {key}")))
    }

    /// Whether `actor` may grant and remove the course's discussion roles
    /// (what a page asks before it offers the forms).
    pub async fn may_manage_discussion_roles(
        &self,
        actor: &User,
        key: &CourseKey,
    ) -> AppResult<bool> {
        match self.require_role_manager(actor, key).await {
            Ok(()) => Ok(true),
            Err(AppError::Forbidden(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The person a role names: a username, or (with an `@`) an e-mail
    /// address, as Open edX's forum role forms accept either.
    async fn role_member(&self, name: &str) -> AppResult<User> {
        if let Some(user) = self.store.user_by_username(name).await? {
            return Ok(user);
        }
        if name.contains('@') {
            if let Some((user, _)) = self.store.user_for_login(name).await? {
                return Ok(user);
            }
        }
        Err(AppError::not_found(format!("user {name}")))
    }

    /// Everyone with a discussion role in the course (for its team page).
    pub async fn discussion_team(
        &self,
        actor: &User,
        key: &CourseKey,
    ) -> AppResult<Vec<(User, DiscussionRole)>> {
        if !self.is_course_author(actor, key).await? {
            return Err(AppError::not_found(format!("course {key}")));
        }
        Ok(self.store.discussion_team(key).await?)
    }

    pub async fn grant_discussion_role(
        &self,
        actor: &User,
        key: &CourseKey,
        username: &str,
        role: DiscussionRole,
    ) -> AppResult<()> {
        self.require_role_manager(actor, key).await?;
        let member = self.role_member(username).await?;
        self.store
            .grant_discussion_role(key, member.id, role)
            .await?;
        tracing::info!(course = %key, user = %member.username, role = role.as_str(), by = %actor.username, "discussion role granted");
        Ok(())
    }

    pub async fn revoke_discussion_role(
        &self,
        actor: &User,
        key: &CourseKey,
        username: &str,
        role: DiscussionRole,
    ) -> AppResult<()> {
        self.require_role_manager(actor, key).await?;
        let member = self.role_member(username).await?;
        self.store
            .revoke_discussion_role(key, member.id, role)
            .await?;
        tracing::info!(course = %key, user = %member.username, role = role.as_str(), by = %actor.username, "discussion role removed");
        Ok(())
    }
}
