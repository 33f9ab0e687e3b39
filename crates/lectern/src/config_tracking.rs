//! The `[tracking]` section: whether tracking events are written to the
//! data folder's `tracking/` day files, and how long they are kept
//! (`docs/tracking.md`). Its variables are `LECTERN_TRACKING_<KEY>`.

use serde::{Deserialize, Serialize};

/// Every `[tracking]` setting, with its default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TrackingSettings {
    /// Write tracking events.
    pub enabled: bool,
    /// Days a day file is kept.
    pub retention_days: u32,
    /// A day file's size bound, in MiB.
    pub max_day_mb: u64,
}

impl Default for TrackingSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            retention_days: 90,
            max_day_mb: 1024,
        }
    }
}

/// (key, description) in file order, for the example file and the variables.
pub const TRACKING_KEYS: &[(&str, &str)] = &[
    (
        "enabled",
        "Write tracking events (problem checks, enrolments, video plays, … in Open edX's event\n\
         # shape) as JSON lines to <data_dir>/tracking/tracking-YYYY-MM-DD.log.",
    ),
    (
        "retention_days",
        "Days a day file is kept (1 to 3650); older ones are deleted at start and each new day.",
    ),
    (
        "max_day_mb",
        "A day file stops growing at this many MiB (1 to 1048576); later events that day are\n\
         # dropped and counted.",
    ),
];

impl TrackingSettings {
    /// Refuses settings outside their ranges, naming the key.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=3650).contains(&self.retention_days),
            "[tracking] retention_days must be 1 to 3650, not {}",
            self.retention_days
        );
        anyhow::ensure!(
            (1..=1_048_576).contains(&self.max_day_mb),
            "[tracking] max_day_mb must be 1 to 1048576, not {}",
            self.max_day_mb
        );
        Ok(())
    }
}
