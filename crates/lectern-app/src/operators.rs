//! Operators (`docs/operators.md`): the people who run a deployment of many
//! instances. An operator is an account of the deployment's own (default)
//! site marked in its `operators` table; the mark is separate from
//! `is_admin`, so a site administrator is not an operator unless granted,
//! and an operator is no one's administrator: instances keep their own
//! accounts, and an operator has none there. The one thing the role gives is
//! the operator console, which lists every instance through the
//! `InstanceProbe` the binary sets on the default site's app.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::instances::{InstanceProbe, InstanceStatus};
use crate::model::{User, UserId};
use crate::store::StoreResult;
use crate::{AppError, AppResult, Lectern};

/// Most operators `operator list` shows.
pub const MAX_OPERATORS: i64 = 1000;

/// The operator marks' storage.
#[async_trait]
pub trait OperatorStore {
    /// Whether the account is an operator.
    async fn is_operator(&self, user: UserId) -> StoreResult<bool>;
    /// Marks (`Some(when)`) or unmarks (`None`) an account; `true` when
    /// that changed anything.
    async fn set_operator(&self, user: UserId, granted: Option<DateTime<Utc>>)
        -> StoreResult<bool>;
    /// Operators' usernames, alphabetically, at most `limit`.
    async fn operator_usernames(&self, limit: i64) -> StoreResult<Vec<String>>;
}

impl Lectern {
    /// Gives the default site's app the operator console's source of facts.
    /// Only the first call counts; an app without one (an instance's) has
    /// no operator console.
    pub fn set_instance_probe(&self, probe: Arc<dyn InstanceProbe>) {
        let _ = self.instance_probe.set(probe);
    }

    /// Whether this app serves the operator console (the deployment's own
    /// site does; an instance does not).
    pub fn has_operator_console(&self) -> bool {
        self.instance_probe.get().is_some()
    }

    /// Whether `user` is an operator of this deployment.
    pub async fn is_operator(&self, user: &User) -> AppResult<bool> {
        if !user.is_active {
            return Ok(false);
        }
        Ok(self.store.is_operator(user.id).await?)
    }

    /// Makes the account `username` an operator; `false` when it already was.
    pub async fn grant_operator(&self, username: &str) -> AppResult<bool> {
        let user = self.user_by_username(username).await?;
        Ok(self.store.set_operator(user.id, Some(self.now())).await?)
    }

    /// Takes the operator role from `username`; `false` when it had none.
    pub async fn revoke_operator(&self, username: &str) -> AppResult<bool> {
        let user = self.user_by_username(username).await?;
        Ok(self.store.set_operator(user.id, None).await?)
    }

    /// The operators' usernames.
    pub async fn operators(&self) -> AppResult<Vec<String>> {
        Ok(self.store.operator_usernames(MAX_OPERATORS).await?)
    }

    /// Every instance's status, for an operator. `NotFound` where there is
    /// no console (an instance's site), so its existence is not advertised
    /// there; `Forbidden` for anyone else, as the admin console answers.
    pub async fn operator_instances(&self, user: &User) -> AppResult<Vec<InstanceStatus>> {
        let Some(probe) = self.instance_probe.get().cloned() else {
            return Err(AppError::NotFound("page".into()));
        };
        if !self.is_operator(user).await? {
            return Err(AppError::Forbidden(
                "This page is for the deployment's operators.".into(),
            ));
        }
        Ok(probe.statuses().await)
    }
}
