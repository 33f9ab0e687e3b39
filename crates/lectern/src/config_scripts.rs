//! The `[scripts]` section: whether Python-scripted problems run, and the
//! limits of the sandbox they run in (`lectern-sandbox`, docs/sandbox.md).
//! Its variables are `LECTERN_SCRIPTS_<KEY>`.

use serde::{Deserialize, Serialize};

/// Every `[scripts]` setting, with its default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScriptSettings {
    /// Run Python-scripted problems (in the sandbox; never without it).
    pub enabled: bool,
    /// CPU seconds one run may use.
    pub cpu_seconds: u64,
    /// Wall-clock seconds one run may take.
    pub wall_seconds: u64,
    /// Address space of one run, in MiB.
    pub memory_mb: u64,
    /// Sandboxed processes kept started and waiting.
    pub pool_size: usize,
}

impl Default for ScriptSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            cpu_seconds: 2,
            wall_seconds: 5,
            memory_mb: 512,
            pool_size: 2,
        }
    }
}

/// (key, description) in file order, for the example file and the variables.
pub const SCRIPT_KEYS: &[(&str, &str)] = &[
    (
        "enabled",
        "Grade Python-scripted problems (loncapa/python) in the sandbox; false: they are\n\
         # refused. They never run unsandboxed: `lectern doctor` says whether the sandbox works.",
    ),
    (
        "cpu_seconds",
        "CPU seconds one script run may use (1 to 60); it is killed at the limit.",
    ),
    (
        "wall_seconds",
        "Seconds one script run may take from start to answer (1 to 300).",
    ),
    (
        "memory_mb",
        "Address space of one run in MiB (256 to 65536; numpy, scipy and sympy need about 300).",
    ),
    (
        "pool_size",
        "Sandboxed python3 processes kept started and waiting, each used once (0 to 32; 0:\n\
         # one is started per run, slower).",
    ),
];

impl ScriptSettings {
    /// Refuses settings outside their ranges, naming the key.
    pub fn check(&self) -> anyhow::Result<()> {
        for (key, value, low, high) in [
            ("cpu_seconds", self.cpu_seconds, 1, 60),
            ("wall_seconds", self.wall_seconds, 1, 300),
            ("memory_mb", self.memory_mb, 256, 65536),
            ("pool_size", self.pool_size as u64, 0, 32),
        ] {
            anyhow::ensure!(
                (low..=high).contains(&value),
                "[scripts] {key} must be {low} to {high}, not {value}"
            );
        }
        Ok(())
    }

    /// The sandbox's settings.
    pub fn sandbox(&self) -> lectern_sandbox::Settings {
        lectern_sandbox::Settings {
            limits: lectern_sandbox::Limits {
                cpu_seconds: self.cpu_seconds,
                wall: std::time::Duration::from_secs(self.wall_seconds),
                memory_bytes: self.memory_mb << 20,
                ..lectern_sandbox::Limits::default()
            },
            pool_size: self.pool_size,
            bwrap: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Overrides};

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir()?;
        let flags = Overrides {
            data_dir: Some(dir.path().to_owned()),
            ..Overrides::default()
        };
        Config::load_from(
            &flags,
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn scripts_settings_come_from_variables_and_are_range_checked() {
        let config = load(&[
            ("LECTERN_SCRIPTS_CPU_SECONDS", "5"),
            ("LECTERN_SCRIPTS_ENABLED", "false"),
            ("LECTERN_SCRIPTS_POOL_SIZE", "0"),
        ])
        .unwrap();
        assert_eq!(config.scripts.cpu_seconds, 5);
        assert!(!config.scripts.enabled);
        assert_eq!(config.scripts.pool_size, 0);
        assert_eq!(config.scripts.sandbox().limits.memory_bytes, 512 << 20);
        let err = load(&[("LECTERN_SCRIPTS_MEMORY_MB", "64")]).unwrap_err();
        assert!(
            format!("{err:#}").contains("memory_mb must be 256 to 65536"),
            "{err:#}"
        );
        let err = load(&[("LECTERN_SCRIPTS_WALL_SECONDS", "0")]).unwrap_err();
        assert!(format!("{err:#}").contains("wall_seconds"), "{err:#}");
        let err = load(&[("LECTERN_SCRIPTS_SECONDS", "1")]).unwrap_err();
        assert!(
            format!("{err:#}").contains("LECTERN_SCRIPTS_CPU_SECONDS"),
            "{err:#}"
        );
    }
}
