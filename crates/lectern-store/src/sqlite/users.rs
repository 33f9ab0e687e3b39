//! Accounts, profiles, sessions and reset links: the shared queries of
//! `shared::db_accounts` on this backend's pools.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{AuthToken, NewUser, TokenKind, User, UserId};
use lectern_app::profile::Profile;
use lectern_app::store::{PasswordReset, StoreResult, TokenStore, UserStore};

use super::SqliteStore;

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        self.db.create_user(new).await
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        self.db.user_by_id(id).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.db.user_by_username(username).await
    }

    async fn user_for_login(&self, login: &str) -> StoreResult<Option<(User, String)>> {
        self.db.user_for_login(login).await
    }

    async fn search_users(&self, query: &str, limit: i64, offset: i64) -> StoreResult<Vec<User>> {
        self.db.search_users(query, limit, offset).await
    }

    async fn set_user_active(&self, id: UserId, active: bool) -> StoreResult<()> {
        self.db.set_user_flag("is_active", id, active).await
    }

    async fn set_user_admin(&self, id: UserId, admin: bool) -> StoreResult<()> {
        self.db.set_user_flag("is_admin", id, admin).await
    }

    async fn set_user_course_creator(&self, id: UserId, creator: bool) -> StoreResult<()> {
        self.db
            .set_user_flag("is_course_creator", id, creator)
            .await
    }

    async fn count_admins(&self) -> StoreResult<i64> {
        self.db.count_admins().await
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        self.db.set_password(id, password_hash, keep).await
    }

    async fn profile(&self, id: UserId) -> StoreResult<Profile> {
        self.db.profile(id).await
    }

    async fn update_account(&self, id: UserId, name: &str, profile: &Profile) -> StoreResult<()> {
        self.db.update_account(id, name, profile).await
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, token: &AuthToken) -> StoreResult<()> {
        self.db.insert_token(token).await
    }

    async fn token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<AuthToken>> {
        self.db.token(token_hash, now).await
    }

    async fn delete_token(&self, token_hash: &str) -> StoreResult<()> {
        self.db.delete_token(token_hash).await
    }

    async fn delete_user_tokens(&self, user_id: UserId) -> StoreResult<()> {
        self.db.delete_user_tokens(user_id).await
    }

    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.db.delete_expired_tokens(now).await
    }

    async fn delete_user_tokens_of_kind(
        &self,
        user_id: UserId,
        kind: TokenKind,
    ) -> StoreResult<u64> {
        self.db.delete_user_tokens_of_kind(user_id, kind).await
    }

    async fn insert_password_reset(&self, reset: &PasswordReset) -> StoreResult<()> {
        self.db.insert_password_reset(reset).await
    }

    async fn count_password_resets(&self, user_id: UserId, now: DateTime<Utc>) -> StoreResult<i64> {
        self.db.count_password_resets(user_id, now).await
    }

    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        self.db.take_password_reset(token_hash, now).await
    }

    async fn peek_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        self.db.peek_password_reset(token_hash, now).await
    }
}
