//! The `[instances]` section (how `lectern serve` keeps the instances it
//! serves, `docs/instances.md`) and an instance's own configuration: the
//! deployment's, with the instance's data folder, database and backup
//! place, and the few settings an instance may set for itself.

use std::path::PathBuf;

use anyhow::Context;
use lectern_app::instances::Instance;
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// Every `[instances]` setting, with its default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InstanceSettings {
    /// Seconds an instance stays open without a request and without
    /// background work before it is closed.
    pub idle_close_secs: u64,
    /// Milliseconds between two reads of the registry.
    pub refresh_ms: u64,
}

impl Default for InstanceSettings {
    fn default() -> Self {
        Self {
            idle_close_secs: 600,
            refresh_ms: 2000,
        }
    }
}

/// (key, description) in file order, for the example file and the variables.
pub const INSTANCE_KEYS: &[(&str, &str)] = &[
    (
        "idle_close_secs",
        "Seconds an instance stays open after its last request once it has no background work\n\
         # left (10 to 86400); it opens again on its next request.",
    ),
    (
        "refresh_ms",
        "Milliseconds between two reads of the instance registry (100 to 60000); a request for a\n\
         # host no instance claims also reads it, a few times a second at most.",
    ),
];

impl InstanceSettings {
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (10..=86_400).contains(&self.idle_close_secs),
            "[instances] idle_close_secs must be 10 to 86400, not {}",
            self.idle_close_secs
        );
        anyhow::ensure!(
            (100..=60_000).contains(&self.refresh_ms),
            "[instances] refresh_ms must be 100 to 60000, not {}",
            self.refresh_ms
        );
        Ok(())
    }
}

/// Settings an instance may set for itself: top-level keys, and sections
/// whose every key it may set. Everything else (listeners, TLS, workers,
/// the sandbox, its data folder and database) is the deployment's.
const OWN_KEYS: &[&str] = &[
    "site_name",
    "site_url",
    "secure_cookies",
    "logo_url",
    "contact_email",
];
const OWN_SECTIONS: &[&str] = &["smtp", "mail", "limits"];

impl Config {
    /// Where an instance's files live.
    pub fn instance_dir(&self, name: &str) -> PathBuf {
        self.data_dir.join("instances").join(name)
    }

    /// The configuration an instance runs with.
    pub fn for_instance(&self, instance: &Instance) -> anyhow::Result<Config> {
        let own = parse_settings(&instance.settings)
            .with_context(|| format!("the settings of instance {}", instance.name))?;
        let mut table = toml::Table::try_from(self).context("the deployment's configuration")?;
        for (key, value) in own {
            match (table.get_mut(&key), value) {
                (Some(toml::Value::Table(section)), toml::Value::Table(values)) => {
                    section.extend(values);
                }
                (_, value) => {
                    table.insert(key, value);
                }
            }
        }
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .with_context(|| format!("the settings of instance {}", instance.name))?;
        config.data_dir = self.instance_dir(&instance.name);
        config.database_url = instance.database_url.clone();
        if own_site_url(&instance.settings).is_none() {
            config.site_url = self.instance_url(instance);
        }
        // Backups of an instance go beside the deployment's, in a folder
        // (or under a prefix) of their own.
        let target = self.backup.target.trim().trim_end_matches('/');
        if !target.is_empty() {
            config.backup.target = format!("{target}/instances/{}", instance.name);
        }
        config.mail.check()?;
        config.check_branding()?;
        Ok(config)
    }

    /// An instance's address for links in mail: the deployment's scheme and
    /// port with the instance's first host.
    fn instance_url(&self, instance: &Instance) -> String {
        let base = self.public_url();
        let (scheme, rest) = base.split_once("://").unwrap_or(("http", base.as_str()));
        let authority = rest.split('/').next().unwrap_or_default();
        let port = authority
            .rsplit_once(':')
            .map(|(_, p)| p)
            .filter(|p| p.chars().all(|c| c.is_ascii_digit()) && !authority.ends_with(']'));
        let scheme = if self.tls.enabled() { "https" } else { scheme };
        let host = instance.hosts.first().map_or("localhost", String::as_str);
        match port {
            Some(p) if !self.tls.enabled() => format!("{scheme}://{host}:{p}"),
            _ => format!("{scheme}://{host}"),
        }
    }
}

fn own_site_url(settings: &str) -> Option<String> {
    parse_settings(settings)
        .ok()?
        .get("site_url")
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// An instance's settings text as a table, refusing keys it may not set.
pub fn parse_settings(text: &str) -> anyhow::Result<toml::Table> {
    let table: toml::Table = text.parse().context("not valid TOML")?;
    for (key, value) in &table {
        let ok = OWN_KEYS.contains(&key.as_str())
            || (OWN_SECTIONS.contains(&key.as_str()) && value.is_table());
        anyhow::ensure!(
            ok,
            "an instance cannot set {key:?}; it may set {} and the [{}] sections",
            OWN_KEYS.join(", "),
            OWN_SECTIONS.join("], [")
        );
    }
    Ok(table)
}

/// Adds `key=value` pairs (`site_name="Acme"`, `smtp.host=mail.acme.test`)
/// to an instance's settings; a value that is not TOML is taken as text.
pub fn with_assignments(settings: &str, assignments: &[String]) -> anyhow::Result<String> {
    let mut table = parse_settings(settings)?;
    for assignment in assignments {
        let (key, raw) = assignment
            .split_once('=')
            .with_context(|| format!("{assignment:?} is not KEY=VALUE"))?;
        let value = format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.to_string()));
        match key.trim().split_once('.') {
            Some((section, field)) => {
                let entry = table
                    .entry(section.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(t) = entry {
                    t.insert(field.to_string(), value);
                }
            }
            None => {
                table.insert(key.trim().to_string(), value);
            }
        }
    }
    let text = toml::to_string(&table).context("writing the settings")?;
    parse_settings(&text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn instance(settings: &str) -> Instance {
        Instance {
            name: "acme".into(),
            hosts: vec!["learn.acme.test".into()],
            database_url: String::new(),
            settings: settings.into(),
            disabled: false,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn an_instance_runs_in_its_own_folder_with_its_own_name_and_relay() {
        let base = Config {
            data_dir: "/srv/lectern".into(),
            listen: "0.0.0.0:8080".into(),
            ..Config::default()
        };
        let settings = with_assignments(
            "",
            &[
                "site_name=Acme Academy".into(),
                "smtp.host=mail.acme.test".into(),
            ],
        )
        .unwrap();
        let c = base.for_instance(&instance(&settings)).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/srv/lectern/instances/acme"));
        assert_eq!(
            c.database_path(),
            PathBuf::from("/srv/lectern/instances/acme/lectern.db")
        );
        assert_eq!(c.site_name, "Acme Academy");
        assert_eq!(c.smtp.host, "mail.acme.test");
        assert_eq!(
            c.smtp.port, base.smtp.port,
            "the rest of [smtp] is the deployment's"
        );
        assert_eq!(c.public_url(), "http://learn.acme.test:8080");
        assert_eq!(c.listen, base.listen);
    }

    #[test]
    fn an_instance_cannot_set_what_is_the_deployments() {
        for bad in [
            "listen=\"0.0.0.0:1\"",
            "database_url=x",
            "tls.listen=x",
            "data_dir=/",
        ] {
            assert!(with_assignments("", &[bad.into()]).is_err(), "{bad}");
        }
        assert!(parse_settings("[scripts]\nenabled = true").is_err());
        assert!(with_assignments("", &["limits".into()]).is_err(), "no =");
    }

    #[test]
    fn an_instance_shows_its_own_logo_and_contact_and_nothing_that_could_be_markup() {
        let base = Config::default();
        let good = with_assignments(
            "",
            &[
                "logo_url=https://acme.test/logo.png".into(),
                "contact_email=help@acme.test".into(),
            ],
        )
        .unwrap();
        let c = base.for_instance(&instance(&good)).unwrap();
        assert_eq!(c.logo_url, "https://acme.test/logo.png");
        assert_eq!(c.contact_email, "help@acme.test");
        for bad in [
            "logo_url=javascript:alert(1)",
            "logo_url=//evil.test/x.png",
            "logo_url=\"/x.png\\\" onerror=\\\"alert(1)\"",
            "contact_email=nobody",
            "contact_email=\"a@b.test<script>\"",
        ] {
            let settings = with_assignments("", &[bad.into()]).unwrap();
            assert!(base.for_instance(&instance(&settings)).is_err(), "{bad}");
        }
    }

    #[test]
    fn backups_of_an_instance_go_to_its_own_folder() {
        let mut base = Config::default();
        base.backup.target = "/backups/".into();
        let c = base.for_instance(&instance("")).unwrap();
        assert_eq!(c.backup.target, "/backups/instances/acme");
    }
}
