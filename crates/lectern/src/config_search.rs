//! The `[search]` section: whether this node keeps a search index, and how
//! often it checks the database for newly published courses
//! (`docs/search.md`). Its variables are `LECTERN_SEARCH_<KEY>`.

use serde::{Deserialize, Serialize};

/// Every `[search]` setting, with its default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SearchSettings {
    /// Keep a search index (in memory, rebuilt at start).
    pub enabled: bool,
    /// Milliseconds between two checks for published changes.
    pub poll_ms: u64,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_ms: 1000,
        }
    }
}

/// (key, description) in file order, for the example file and the variables.
pub const SEARCH_KEYS: &[(&str, &str)] = &[
    (
        "enabled",
        "Keep a search index of published courses (in memory, rebuilt from the database at\n\
         # start); false: the search endpoints and pages answer 404.",
    ),
    (
        "poll_ms",
        "Milliseconds between two checks of each course's newest publish (100 to 60000): a\n\
         # publish on any node is searchable on this one within about this long.",
    ),
];

impl SearchSettings {
    /// Refuses settings outside their ranges, naming the key.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (100..=60_000).contains(&self.poll_ms),
            "[search] poll_ms must be 100 to 60000, not {}",
            self.poll_ms
        );
        Ok(())
    }
}
