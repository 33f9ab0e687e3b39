//! The `[limits]` section: how many courses and accounts this site may hold
//! and how much course-file storage it may use (`docs/limits.md`). One
//! section per site, so a deployment serving several sites can set each
//! its own by overlaying it. Its variables are `LECTERN_LIMITS_<KEY>`.

use lectern_app::site_limits::SiteLimits;
use serde::{Deserialize, Serialize};

/// Every `[limits]` setting; 0 means unlimited, the default.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Most courses (0: no limit).
    pub max_courses: u64,
    /// Most accounts (0: no limit).
    pub max_accounts: u64,
    /// Most MiB of stored course files (0: no limit).
    pub max_storage_mb: u64,
}

/// (key, description) in file order, for the example file and the variables.
pub const LIMIT_KEYS: &[(&str, &str)] = &[
    (
        "max_courses",
        "Most courses this site may hold (0: no limit); creating or importing one more is refused.",
    ),
    (
        "max_accounts",
        "Most accounts, active or not (0: no limit); registration and `lectern user create` are\n\
         # refused at the limit, except the first administrator of a site without one.",
    ),
    (
        "max_storage_mb",
        "Most MiB of stored course files, uploads and imports alike (0: no limit); an upload or\n\
         # import that would go over is refused.",
    ),
];

/// The largest storage limit accepted (1 PiB in MiB), so bytes never overflow.
const MAX_STORAGE_MB: u64 = 1 << 30;

impl LimitSettings {
    /// Refuses settings outside their ranges, naming the key.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.max_storage_mb <= MAX_STORAGE_MB,
            "[limits] max_storage_mb must be 0 to {MAX_STORAGE_MB}, not {}",
            self.max_storage_mb
        );
        Ok(())
    }

    /// The app's limits: 0 becomes "no limit".
    pub fn site_limits(&self) -> SiteLimits {
        let set = |n: u64| (n > 0).then_some(n);
        SiteLimits {
            max_courses: set(self.max_courses),
            max_accounts: set(self.max_accounts),
            max_storage_bytes: set(self.max_storage_mb).map(|mb| mb * 1024 * 1024),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_unlimited_and_megabytes_become_bytes() {
        assert_eq!(
            LimitSettings::default().site_limits(),
            SiteLimits::default()
        );
        let s = LimitSettings {
            max_courses: 50,
            max_accounts: 0,
            max_storage_mb: 2,
        };
        assert_eq!(
            s.site_limits(),
            SiteLimits {
                max_courses: Some(50),
                max_accounts: None,
                max_storage_bytes: Some(2 * 1024 * 1024),
            }
        );
        assert!(LimitSettings {
            max_storage_mb: MAX_STORAGE_MB + 1,
            ..LimitSettings::default()
        }
        .check()
        .is_err());
    }
}
