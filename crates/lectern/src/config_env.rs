//! `LECTERN_<SECTION>_<KEY>` environment variables: which section of the
//! TOML table each one lands in, and as what type. One table of sections
//! instead of one hand-written block per section, so a new section is one
//! line here.

use crate::config::{env_value, SMTP_KEYS};
use crate::config_backup::BACKUP_KEYS;
use crate::config_limits::LIMIT_KEYS;
use crate::config_mail::MAIL_KEYS;
use crate::config_scripts::SCRIPT_KEYS;
use crate::config_search::SEARCH_KEYS;
use crate::config_tls::TLS_KEYS;
use crate::config_tracking::TRACKING_KEYS;

/// A `[section]` of the configuration file that the environment can set.
struct Section {
    name: &'static str,
    keys: &'static [(&'static str, &'static str)],
    /// Whether a key's value is typed (numbers, booleans) rather than kept as
    /// text even when it looks like a number (host names, paths, addresses).
    typed: fn(&str) -> bool,
}

const SECTIONS: &[Section] = &[
    Section {
        name: "smtp",
        keys: SMTP_KEYS,
        typed: |k| k == "port" || k == "timeout_secs",
    },
    Section {
        name: "backup",
        keys: BACKUP_KEYS,
        typed: crate::config_backup::is_numeric,
    },
    Section {
        name: "mail",
        keys: MAIL_KEYS,
        typed: |_| true,
    },
    Section {
        name: "scripts",
        keys: SCRIPT_KEYS,
        typed: |_| true,
    },
    Section {
        name: "search",
        keys: SEARCH_KEYS,
        typed: |_| true,
    },
    Section {
        name: "tracking",
        keys: TRACKING_KEYS,
        typed: |_| true,
    },
    Section {
        name: "tls",
        keys: TLS_KEYS,
        typed: |k| matches!(k, "staging" | "renew_before_days" | "refresh_secs"),
    },
    Section {
        name: "instances",
        keys: crate::config_instances::INSTANCE_KEYS,
        typed: |_| true,
    },
    Section {
        name: "limits",
        keys: LIMIT_KEYS,
        typed: |_| true,
    },
];

/// Keys whose variable is a comma-separated list.
const LIST_KEYS: &[(&str, &str)] = &[("tls", "hosts")];

/// Puts `key` (the variable's name without `LECTERN_`, lower case) into its
/// section of `table` when it names a section's key; false when it does not.
pub(crate) fn insert_section_value(table: &mut toml::Table, key: &str, value: &str) -> bool {
    for section in SECTIONS {
        let Some(field) = key
            .strip_prefix(section.name)
            .and_then(|rest| rest.strip_prefix('_'))
            .filter(|k| section.keys.iter().any(|(s, _)| s == k))
        else {
            continue;
        };
        let entry = table
            .entry(section.name)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = entry {
            let v = if LIST_KEYS.contains(&(section.name, field)) {
                toml::Value::Array(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| toml::Value::String(v.to_string()))
                        .collect(),
                )
            } else if (section.typed)(field) {
                env_value(value)
            } else {
                toml::Value::String(value.to_string())
            };
            t.insert(field.to_string(), v);
        }
        return true;
    }
    false
}

/// Every section variable's name, for the message about an unknown one.
pub(crate) fn section_variables() -> impl Iterator<Item = String> {
    SECTIONS.iter().flat_map(|section| {
        section.keys.iter().map(move |(k, _)| {
            format!(
                "LECTERN_{}_{}",
                section.name.to_uppercase(),
                k.to_uppercase()
            )
        })
    })
}
