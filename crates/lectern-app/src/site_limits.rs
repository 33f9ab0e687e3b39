//! Per-site limits (issue 22): how many courses and accounts a site may
//! hold and how many bytes of course files it may store, so one deployment
//! can serve many sites without one of them taking all the room.
//!
//! The limits are checked where the work enters (course creation and new
//! imports, account creation, file uploads and imports), before anything is
//! written, against one cheap read of the site's usage ([`UsageStore`]).
//! What counts and why is in `docs/limits.md`.
//!
//! Check and write are not one database transaction. Instead, every write a
//! limit applies to takes this process's limits gate between its check and
//! its write, so on one node a limit holds exactly under any concurrency.
//! Processes (nodes of a cluster, a CLI command beside the server) each have
//! their own gate: requests racing on N of them at the limit can take the
//! site at most N − 1 courses or accounts over, and storage over by at most
//! the racing writes' bytes.

use async_trait::async_trait;

use crate::error::{AppError, AppResult};
use crate::store::StoreResult;
use crate::Lectern;

/// A site's limits; `None` is unlimited (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteLimits {
    pub max_courses: Option<u64>,
    pub max_accounts: Option<u64>,
    pub max_storage_bytes: Option<u64>,
}

/// What a site holds now, as the limits count it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteUsage {
    /// Courses, published or not.
    pub courses: u64,
    /// Accounts, active or not (deactivating one does not free its place).
    pub accounts: u64,
    /// Bytes of stored course files (blobs), each distinct content once.
    pub storage_bytes: u64,
}

/// The one read the limits need.
#[async_trait]
pub trait UsageStore {
    /// The site's counts in one read: `COUNT` over users and courses,
    /// `SUM` over blob sizes.
    async fn site_usage(&self) -> StoreResult<SiteUsage>;
}

/// Which limit refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Courses,
    Accounts,
    Storage,
}

/// A write the site's limits refuse: which limit, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitReached {
    pub kind: LimitKind,
    pub limit: u64,
}

impl std::fmt::Display for LimitReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            LimitKind::Courses => write!(
                f,
                "This site has reached its limit of {} courses; no course can be added.",
                self.limit
            ),
            LimitKind::Accounts => write!(
                f,
                "This site has reached its limit of {} accounts; no account can be created.",
                self.limit
            ),
            LimitKind::Storage => write!(
                f,
                "This would take the site over its storage limit of {}; nothing was stored.",
                megabytes(self.limit)
            ),
        }
    }
}

/// `n` bytes as whole megabytes (MiB), the unit the configuration uses.
fn megabytes(n: u64) -> String {
    format!("{} MB", n.div_ceil(1024 * 1024))
}

/// At or above this share of a limit, `lectern doctor` warns.
const WARN_PERCENT: u64 = 90;

impl SiteLimits {
    /// Whether one more course fits.
    pub fn check_new_course(&self, usage: &SiteUsage) -> Result<(), LimitReached> {
        check_count(self.max_courses, usage.courses, LimitKind::Courses)
    }

    /// Whether one more account fits.
    pub fn check_new_account(&self, usage: &SiteUsage) -> Result<(), LimitReached> {
        check_count(self.max_accounts, usage.accounts, LimitKind::Accounts)
    }

    /// Whether `adding` more bytes fit.
    pub fn check_storage(&self, usage: &SiteUsage, adding: u64) -> Result<(), LimitReached> {
        match self.max_storage_bytes {
            Some(limit) if usage.storage_bytes.saturating_add(adding) > limit => {
                Err(LimitReached {
                    kind: LimitKind::Storage,
                    limit,
                })
            }
            _ => Ok(()),
        }
    }

    /// Doctor's line (`3/50 courses, 12/unlimited accounts, 40 MB/2048 MB
    /// storage`) and whether any usage is at or above 90 % of its limit.
    pub fn summary(&self, usage: &SiteUsage) -> (String, bool) {
        let of = |limit: Option<u64>, show: &dyn Fn(u64) -> String| {
            limit.map_or_else(|| "unlimited".to_string(), show)
        };
        let line = format!(
            "{}/{} courses, {}/{} accounts, {}/{} storage",
            usage.courses,
            of(self.max_courses, &|n| n.to_string()),
            usage.accounts,
            of(self.max_accounts, &|n| n.to_string()),
            megabytes(usage.storage_bytes),
            of(self.max_storage_bytes, &megabytes),
        );
        let near = |used: u64, limit: Option<u64>| {
            limit
                .is_some_and(|l| u128::from(used) * 100 >= u128::from(l) * u128::from(WARN_PERCENT))
        };
        let warn = near(usage.courses, self.max_courses)
            || near(usage.accounts, self.max_accounts)
            || near(usage.storage_bytes, self.max_storage_bytes);
        (line, warn)
    }
}

fn check_count(limit: Option<u64>, used: u64, kind: LimitKind) -> Result<(), LimitReached> {
    match limit {
        Some(limit) if used >= limit => Err(LimitReached { kind, limit }),
        _ => Ok(()),
    }
}

/// Held from a limit's check to the end of the write it allows; `None`
/// when no limit applies (nothing is serialised on an unlimited site).
pub(crate) type LimitPermit = Option<tokio::sync::OwnedMutexGuard<()>>;

impl Lectern {
    /// The site's limits (from `AppSettings`).
    pub fn site_limits(&self) -> SiteLimits {
        self.settings.limits
    }

    /// What the site holds now.
    pub async fn site_usage(&self) -> AppResult<SiteUsage> {
        Ok(self.store.site_usage().await?)
    }

    /// Takes the gate when `applies`, so that the caller's check and write
    /// are not interleaved with another limited write of this process.
    async fn limit_gate(&self, applies: bool) -> LimitPermit {
        if applies {
            Some(self.limits_gate.clone().lock_owned().await)
        } else {
            None
        }
    }

    /// Before creating a course: refuses one over the course limit.
    pub(crate) async fn admit_new_course(&self) -> AppResult<LimitPermit> {
        let limits = self.site_limits();
        let permit = self.limit_gate(limits.max_courses.is_some()).await;
        if permit.is_some() {
            limits.check_new_course(&self.site_usage().await?)?;
        }
        Ok(permit)
    }

    /// Before creating an account: refuses one over the account limit. The
    /// first admin of a site without one is always allowed (`exempt`), so a
    /// site can never be locked out of its own administration.
    pub(crate) async fn admit_new_account(&self, exempt: bool) -> AppResult<LimitPermit> {
        let limits = self.site_limits();
        let permit = self
            .limit_gate(!exempt && limits.max_accounts.is_some())
            .await;
        if permit.is_some() {
            limits.check_new_account(&self.site_usage().await?)?;
        }
        Ok(permit)
    }

    /// Before an import: a new course must fit under the course limit, and
    /// the import's files that are not stored yet under the storage limit.
    pub(crate) async fn admit_import(
        &self,
        new_course: bool,
        blobs: &[crate::store::NewBlob<'_>],
    ) -> AppResult<LimitPermit> {
        let limits = self.site_limits();
        let counts_course = new_course && limits.max_courses.is_some();
        let permit = self
            .limit_gate(counts_course || limits.max_storage_bytes.is_some())
            .await;
        if permit.is_none() {
            return Ok(None);
        }
        let usage = self.site_usage().await?;
        if counts_course {
            limits.check_new_course(&usage)?;
        }
        if limits.max_storage_bytes.is_some() {
            let adding = self.unstored_bytes(blobs).await?;
            limits.check_storage(&usage, adding)?;
        }
        Ok(permit)
    }

    /// Before storing an uploaded file of `size` bytes: bytes already
    /// stored (the same content) add nothing.
    pub(crate) async fn admit_upload(&self, sha256: &str, size: u64) -> AppResult<LimitPermit> {
        let limits = self.site_limits();
        let permit = self.limit_gate(limits.max_storage_bytes.is_some()).await;
        if permit.is_some() && self.store.blob_info(sha256).await?.is_none() {
            limits.check_storage(&self.site_usage().await?, size)?;
        }
        Ok(permit)
    }

    /// The bytes of `blobs` not stored yet, each distinct content once.
    async fn unstored_bytes(&self, blobs: &[crate::store::NewBlob<'_>]) -> AppResult<u64> {
        let mut seen = std::collections::BTreeSet::new();
        let mut total = 0u64;
        for blob in blobs {
            if seen.insert(blob.sha256) && self.store.blob_info(blob.sha256).await?.is_none() {
                total = total.saturating_add(blob.bytes.len() as u64);
            }
        }
        Ok(total)
    }
}

impl From<LimitReached> for AppError {
    fn from(e: LimitReached) -> Self {
        AppError::LimitReached(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    fn usage(courses: u64, accounts: u64, storage_bytes: u64) -> SiteUsage {
        SiteUsage {
            courses,
            accounts,
            storage_bytes,
        }
    }

    #[test]
    fn unlimited_allows_everything() {
        let l = SiteLimits::default();
        let u = usage(u64::MAX, u64::MAX, u64::MAX);
        assert!(l.check_new_course(&u).is_ok());
        assert!(l.check_new_account(&u).is_ok());
        assert!(l.check_storage(&u, u64::MAX).is_ok());
    }

    #[test]
    fn counts_refuse_at_the_limit_not_below() {
        let l = SiteLimits {
            max_courses: Some(2),
            max_accounts: Some(3),
            max_storage_bytes: None,
        };
        assert!(l.check_new_course(&usage(1, 0, 0)).is_ok());
        let refused = l.check_new_course(&usage(2, 0, 0));
        assert_eq!(
            refused,
            Err(LimitReached {
                kind: LimitKind::Courses,
                limit: 2
            })
        );
        assert!(l.check_new_account(&usage(0, 2, 0)).is_ok());
        assert!(l.check_new_account(&usage(0, 3, 0)).is_err());
        assert!(refused
            .unwrap_err()
            .to_string()
            .contains("limit of 2 courses"));
    }

    #[test]
    fn storage_refuses_only_what_goes_over() {
        let l = SiteLimits {
            max_storage_bytes: Some(10 * MB),
            ..SiteLimits::default()
        };
        assert!(l.check_storage(&usage(0, 0, 6 * MB), 4 * MB).is_ok());
        let over = l.check_storage(&usage(0, 0, 6 * MB), 4 * MB + 1);
        assert!(over.is_err());
        assert!(over.unwrap_err().to_string().contains("10 MB"));
        // No overflow at the edges.
        assert!(l.check_storage(&usage(0, 0, u64::MAX), u64::MAX).is_err());
    }

    #[test]
    fn summary_warns_at_ninety_percent() {
        let l = SiteLimits {
            max_courses: Some(50),
            max_accounts: Some(1000),
            max_storage_bytes: Some(2048 * MB),
        };
        let (line, warn) = l.summary(&usage(3, 12, 40 * MB));
        assert_eq!(
            line,
            "3/50 courses, 12/1000 accounts, 40 MB/2048 MB storage"
        );
        assert!(!warn);
        assert!(l.summary(&usage(45, 12, 40 * MB)).1);
        assert!(!l.summary(&usage(44, 12, 40 * MB)).1);
        assert!(l.summary(&usage(3, 12, 1844 * MB)).1);
        let (line, warn) = SiteLimits::default().summary(&usage(3, 12, 0));
        assert_eq!(
            line,
            "3/unlimited courses, 12/unlimited accounts, 0 MB/unlimited storage"
        );
        assert!(!warn);
    }
}
