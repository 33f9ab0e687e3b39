//! Instances: many isolated sites served by one deployment (`docs/instances.md`).
//!
//! The registry (which instance answers which host names, where its own
//! database is, its settings, whether it is switched off) lives in the
//! deployment's own database — the default instance's — so every node of a
//! cluster routes the same way. Everything else about an instance lives in
//! its own database, which is what keeps instances apart: accounts,
//! sessions, tokens, courses, posts, jobs and reports of one are simply not
//! in another's tables. This module holds the records, the rules for names
//! and host names, the storage seam and the registry's use cases; the binary
//! opens an instance's database and routes requests to it.

mod hosts;
mod probe;
mod tls_hosts;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use hosts::{check_host, host_of_request};
pub use probe::{InstanceProbe, InstanceStatus};
pub use tls_hosts::DeploymentHosts;

use crate::store::StoreResult;
use crate::{AppError, AppResult, Lectern, StoreError};

/// Most instances one deployment registers: the routing table, the
/// operator console and the `instance` label of `/metrics` stay bounded.
pub const MAX_INSTANCES: usize = 1000;
/// Most host names one instance answers.
pub const MAX_HOSTS: usize = 16;
/// Longest instance name.
pub const MAX_NAME_LEN: usize = 40;
/// Largest settings text (TOML) one instance keeps.
pub const MAX_SETTINGS_BYTES: usize = 16 * 1024;

/// One registered instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub name: String,
    /// The host names it answers, lower case, in the order given.
    pub hosts: Vec<String>,
    /// Its own database; empty for a SQLite file in its own data folder.
    pub database_url: String,
    /// Its own settings: a TOML table over the deployment's configuration
    /// (the binary says which keys an instance may set).
    pub settings: String,
    /// A disabled instance answers nothing (its hosts get the unknown-host
    /// page) and runs no background work; its data stays.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// What `create_instance` stores.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInstance {
    pub name: String,
    pub hosts: Vec<String>,
    pub database_url: String,
}

/// The registry's storage.
#[async_trait]
pub trait InstanceStore {
    /// Every instance with its hosts, by name.
    async fn instances(&self) -> StoreResult<Vec<Instance>>;
    /// Registers an instance and its hosts in one transaction;
    /// `Conflict { field: "name" }` or `Conflict { field: "host" }` when
    /// either is taken, and then nothing is written.
    async fn create_instance(&self, new: &NewInstance, now: DateTime<Utc>) -> StoreResult<()>;
    /// Switches an instance off or on; `false` when there is no such instance.
    async fn set_instance_disabled(&self, name: &str, disabled: bool) -> StoreResult<bool>;
    /// Replaces an instance's settings; `false` when there is no such instance.
    async fn set_instance_settings(&self, name: &str, settings: &str) -> StoreResult<bool>;
    /// Removes an instance and its hosts from the registry (its database
    /// is the caller's to remove); `false` when there is no such instance.
    async fn delete_instance(&self, name: &str) -> StoreResult<bool>;
}

/// Instance names: lower-case letters, digits and inner hyphens, starting
/// with a letter — they name a folder, a database and a metric label.
pub fn check_name(name: &str) -> AppResult<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok && name != "default" {
        Ok(())
    } else {
        Err(AppError::field(
            "name",
            format!(
                "an instance name is 1 to {MAX_NAME_LEN} lower-case letters, digits and hyphens, \
                 starting with a letter, and not \"default\"; {name:?} is not one"
            ),
        ))
    }
}

impl Lectern {
    /// Every registered instance, by name.
    pub async fn instances(&self) -> AppResult<Vec<Instance>> {
        Ok(self.store.instances().await?)
    }

    /// One instance by name.
    pub async fn instance(&self, name: &str) -> AppResult<Instance> {
        self.instances()
            .await?
            .into_iter()
            .find(|i| i.name == name)
            .ok_or_else(|| AppError::NotFound(format!("instance {name:?}")))
    }

    /// Registers an instance answering `hosts`. `reserved` are host names
    /// the deployment keeps for itself (the default site's); none of them,
    /// nor a host another instance answers, may be taken.
    pub async fn create_instance(
        &self,
        name: &str,
        hosts: &[String],
        database_url: &str,
        reserved: &[String],
    ) -> AppResult<Instance> {
        check_name(name)?;
        if hosts.is_empty() {
            return Err(AppError::field(
                "host",
                "an instance needs at least one host",
            ));
        }
        if hosts.len() > MAX_HOSTS {
            return Err(AppError::field(
                "host",
                format!("an instance answers at most {MAX_HOSTS} host names"),
            ));
        }
        let mut checked: Vec<String> = Vec::with_capacity(hosts.len());
        for host in hosts {
            let host = check_host(host)?;
            if reserved.contains(&host) {
                return Err(AppError::field(
                    "host",
                    format!("{host} is the default site's own host name"),
                ));
            }
            if !checked.contains(&host) {
                checked.push(host);
            }
        }
        let existing = self.store.instances().await?;
        if existing.len() >= MAX_INSTANCES {
            return Err(AppError::Conflict(format!(
                "this deployment already has {MAX_INSTANCES} instances, the most it keeps"
            )));
        }
        if existing.iter().any(|i| i.name == name) {
            return Err(AppError::field(
                "name",
                format!("there is already an instance named {name}"),
            ));
        }
        if let Some((host, other)) = checked.iter().find_map(|h| {
            existing
                .iter()
                .find(|i| i.hosts.contains(h))
                .map(|i| (h, &i.name))
        }) {
            return Err(AppError::field(
                "host",
                format!("{host} is already the host of instance {other}"),
            ));
        }
        let new = NewInstance {
            name: name.to_string(),
            hosts: checked,
            database_url: database_url.trim().to_string(),
        };
        match self.store.create_instance(&new, self.now()).await {
            Ok(()) => {}
            // Another command registered the same name or host meanwhile.
            Err(StoreError::Conflict { field }) => {
                return Err(AppError::field(
                    &field,
                    format!("that {field} was taken while this instance was being created"),
                ))
            }
            Err(e) => return Err(e.into()),
        }
        self.instance(name).await
    }

    /// Switches an instance off (`disabled`) or back on.
    pub async fn set_instance_disabled(&self, name: &str, disabled: bool) -> AppResult<()> {
        if self.store.set_instance_disabled(name, disabled).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("instance {name:?}")))
        }
    }

    /// Replaces an instance's settings (already checked by the caller,
    /// which knows which keys an instance may set).
    pub async fn set_instance_settings(&self, name: &str, settings: &str) -> AppResult<()> {
        if settings.len() > MAX_SETTINGS_BYTES {
            return Err(AppError::field(
                "settings",
                format!("an instance's settings are at most {MAX_SETTINGS_BYTES} bytes"),
            ));
        }
        if self.store.set_instance_settings(name, settings).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("instance {name:?}")))
        }
    }

    /// Removes an instance from the registry.
    pub async fn delete_instance(&self, name: &str) -> AppResult<()> {
        if self.store.delete_instance(name).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("instance {name:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_lower_case_words_with_hyphens() {
        for good in ["a", "acme", "acme-2", "x1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        for bad in [
            "", "Acme", "1acme", "-a", "a-", "a_b", "a.b", "a/b", "..", "default", &long,
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
