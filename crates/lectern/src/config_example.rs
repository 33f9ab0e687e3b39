//! The example configuration file (`lectern config example`,
//! `docs/lectern.example.toml`): every setting with its help text and
//! default, generated from the code so it cannot drift (a test compares).

use crate::config::{Config, KEYS, SMTP_KEYS};
use crate::config_backup::BACKUP_KEYS;
use crate::config_instances::INSTANCE_KEYS;
use crate::config_limits::LIMIT_KEYS;
use crate::config_mail::MAIL_KEYS;
use crate::config_scripts::SCRIPT_KEYS;
use crate::config_search::SEARCH_KEYS;
use crate::config_tls::TLS_KEYS;
use crate::config_tracking::TRACKING_KEYS;

/// The sections in file order: (name, the comment above it, its keys).
type Section = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const SECTIONS: &[Section] = &[
    ("smtp", "Outgoing mail (password reset links).", SMTP_KEYS),
    (
        "mail",
        "The mail outbox: retries, batches, pace; bulk e-mail fan-out (docs/mail.md).",
        MAIL_KEYS,
    ),
    (
        "backup",
        "Backups: the schedule of lectern serve, retention, targets.",
        BACKUP_KEYS,
    ),
    (
        "scripts",
        "Python-scripted problems and their sandbox (docs/sandbox.md).",
        SCRIPT_KEYS,
    ),
    ("search", "The search index (docs/search.md).", SEARCH_KEYS),
    (
        "tracking",
        "The tracking log (docs/tracking.md).",
        TRACKING_KEYS,
    ),
    (
        "tls",
        "HTTPS served by Lectern itself: ACME (Let's Encrypt) or own files (docs/tls.md).",
        TLS_KEYS,
    ),
    (
        "limits",
        "What this site may hold; 0 is no limit (docs/limits.md).",
        LIMIT_KEYS,
    ),
    (
        "instances",
        "Instances: many isolated sites from one deployment (docs/instances.md).",
        INSTANCE_KEYS,
    ),
];

impl Config {
    /// The example configuration file, generated from the defaults.
    pub fn example_toml() -> String {
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        let mut out = String::from(
            "# Lectern configuration: every setting with its default.\n\
             # Put this in DATA_DIR/lectern.toml or pass --config FILE. Each key can also be\n\
             # set with a LECTERN_<KEY> environment variable (e.g. LECTERN_LISTEN).\n\
             # Generated from the code; a test fails when it drifts.\n",
        );
        write_keys(&mut out, &defaults, KEYS);
        for (name, heading, keys) in SECTIONS {
            out.push_str(&format!("\n# {heading}\n[{name}]\n"));
            if let Some(toml::Value::Table(section)) = defaults.get(*name) {
                write_keys(&mut out, section, keys);
            }
        }
        out
    }
}

/// Each key's help as a comment, then the key with its default.
fn write_keys(out: &mut String, values: &toml::Table, keys: &[(&str, &str)]) {
    for (key, help) in keys {
        out.push_str(&format!("\n# {help}\n"));
        if let Some(v) = values.get(*key) {
            out.push_str(&format!("{key} = {v}\n"));
        }
    }
}
