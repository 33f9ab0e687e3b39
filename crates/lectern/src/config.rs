//! Configuration: defaults → `lectern.toml` (`--config FILE`, else
//! `DATA/lectern.toml` when present) → `LECTERN_*` variables → flags.
//! Unknown keys and unknown `LECTERN_` variables are errors, so a typo never
//! silently leaves a default in place.

use std::path::PathBuf;

use anyhow::{bail, Context};
use lectern_mail::SmtpSettings;
use serde::Deserialize;

use crate::config_backup::BackupSettings;
use crate::config_instances::InstanceSettings;
use crate::config_limits::LimitSettings;
use crate::config_mail::MailConfig;
use crate::config_scripts::ScriptSettings;
use crate::config_search::SearchSettings;
use crate::config_tls::TlsSettings;
use crate::config_tracking::TrackingSettings;

/// Every setting, with its default.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Folder for the SQLite database and generated files.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: String,
    /// `sqlite://PATH`, `postgres://USER:PASSWORD@HOST/DB`; empty means `DATA/lectern.db`.
    pub database_url: String,
    /// Most PostgreSQL connections one node opens (SQLite ignores it).
    pub database_max_connections: u32,
    /// `human` or `json` log lines.
    pub log_format: String,
    /// Log filter, e.g. `info` or `lectern=debug,info`.
    pub log_level: String,
    /// Mark cookies Secure: set when users reach the site over HTTPS.
    pub secure_cookies: bool,
    /// Largest request body accepted (bytes), except course uploads.
    pub max_body_bytes: usize,
    /// Largest course archive accepted for import (bytes).
    pub max_upload_bytes: usize,
    /// Seconds between readiness turning off and the listener closing on shutdown.
    pub shutdown_drain_secs: u64,
    /// The site's name in page titles.
    pub site_name: String,
    /// The site's logo in every page's header (an https:// URL or a path on the site).
    pub logo_url: String,
    /// The address shown in every page's footer for questions about the site.
    pub contact_email: String,
    /// Failed sign-ins per account within the lockout window before it locks.
    pub login_failures_per_account: u32,
    /// Failed sign-ins per client address within the lockout window.
    pub login_failures_per_address: u32,
    /// Sign-ins, right or wrong, per client address within the lockout window.
    pub login_attempts_per_address: u32,
    /// Registrations per client address within the lockout window.
    pub registrations_per_address: u32,
    /// Seconds failures are remembered and a spent budget stays locked.
    pub login_lockout_secs: u64,
    /// Reverse proxies (IP addresses) whose X-Forwarded-For names the client.
    pub trusted_proxies: Vec<String>,
    /// The address users reach the site at, for links in mail; empty: `http://LISTEN`.
    pub site_url: String,
    /// Background job workers on this node (0: this node runs no jobs).
    pub job_workers: usize,
    /// Seconds a claimed job stays held without its worker extending it;
    /// a job of a node that died is picked up again after this.
    pub job_lease_secs: u64,
    /// Seconds running jobs get to finish on shutdown before they are put
    /// back in the queue.
    pub shutdown_job_deadline_secs: u64,
    /// Hours the answers of keyed writes (`Idempotency-Key`) are kept: a
    /// retry within them is answered from the first request's answer.
    pub idempotency_keep_hours: u64,
    /// Seconds a confirmed session is trusted without asking the database
    /// (0 to 60; 0 turns the cache off).
    pub session_cache_secs: u64,
    /// The SMTP relay mail (password reset links) goes through.
    pub smtp: SmtpSettings,
    /// The mail outbox's delivery and bulk e-mail's fan-out.
    pub mail: MailConfig,
    /// Scheduled backups and backup targets.
    pub backup: BackupSettings,
    /// Python-scripted problems and their sandbox.
    pub scripts: ScriptSettings,
    /// The search index.
    pub search: SearchSettings,
    /// The tracking log.
    pub tracking: TrackingSettings,
    /// HTTPS served by Lectern (ACME or own files).
    pub tls: TlsSettings,
    /// How `serve` keeps the instances it serves.
    pub instances: InstanceSettings,
    /// How much this site may hold (courses, accounts, storage).
    pub limits: LimitSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./lectern-data"),
            listen: "127.0.0.1:8080".into(),
            database_url: String::new(),
            database_max_connections: 16,
            log_format: "human".into(),
            log_level: "info".into(),
            secure_cookies: false,
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 512 * 1024 * 1024,
            shutdown_drain_secs: 1,
            site_name: "Lectern".into(),
            logo_url: String::new(),
            contact_email: String::new(),
            login_failures_per_account: 6,
            login_failures_per_address: 60,
            login_attempts_per_address: 300,
            registrations_per_address: 30,
            login_lockout_secs: 900,
            trusted_proxies: Vec::new(),
            site_url: String::new(),
            job_workers: 2,
            job_lease_secs: 60,
            shutdown_job_deadline_secs: 10,
            idempotency_keep_hours: 24,
            session_cache_secs: 5,
            smtp: SmtpSettings::default(),
            mail: MailConfig::default(),
            backup: BackupSettings::default(),
            scripts: ScriptSettings::default(),
            search: SearchSettings::default(),
            tracking: TrackingSettings::default(),
            tls: TlsSettings::default(),
            instances: InstanceSettings::default(),
            limits: LimitSettings::default(),
        }
    }
}

/// (key, description) in file order; the example file and env names come from here.
pub(crate) const KEYS: &[(&str, &str)] = &[
    (
        "data_dir",
        "Folder for the SQLite database and generated files.",
    ),
    ("listen", "Address to listen on."),
    (
        "database_url",
        "Where data lives: empty for SQLite at DATA_DIR/lectern.db, sqlite://PATH for another SQLite file, or postgres://USER:PASSWORD@HOST:PORT/DB (postgresql:// too) for PostgreSQL, which any number of nodes can share. With Patroni, list the servers and Lectern follows the primary: postgres://USER:PASSWORD@H1:5432,H2,H3/DB?target_session_attrs=read-write&connect_timeout=2 (docs/cluster.md).",
    ),
    (
        "database_max_connections",
        "Most PostgreSQL connections one node opens (nodes x this must stay under the server's max_connections); SQLite ignores it.",
    ),
    ("log_format", "\"human\" or \"json\" log lines."),
    (
        "log_level",
        "Log filter, e.g. \"info\" or \"lectern=debug,info\".",
    ),
    (
        "secure_cookies",
        "Mark cookies Secure and send HSTS; set when users reach the site over HTTPS.",
    ),
    (
        "max_body_bytes",
        "Largest request body accepted, in bytes (course uploads excepted).",
    ),
    (
        "max_upload_bytes",
        "Largest course archive accepted for import, in bytes.",
    ),
    (
        "shutdown_drain_secs",
        "Seconds between readiness turning off and the listener closing on shutdown.",
    ),
    ("site_name", "The site's name in page titles."),
    (
        "logo_url",
        "The site's logo in every page's header: an https:// URL or a path on the site\n\
         # (e.g. \"/static/logo.png\"); empty: the site's name alone.",
    ),
    (
        "contact_email",
        "The address every page's footer shows for questions about the site; empty: no footer line.",
    ),
    (
        "login_failures_per_account",
        "Failed sign-ins (pages and /oauth2/access_token) per account within\n\
         # login_lockout_secs before the account is locked for login_lockout_secs.\n\
         # Counted per node, in memory.",
    ),
    (
        "login_failures_per_address",
        "Failed sign-ins per client address (IPv6: per /64) within login_lockout_secs.",
    ),
    (
        "login_attempts_per_address",
        "Sign-ins, right or wrong, per client address within login_lockout_secs\n\
         # (keeps one client from occupying the password hashers).",
    ),
    (
        "registrations_per_address",
        "Registrations per client address within login_lockout_secs.",
    ),
    (
        "login_lockout_secs",
        "Seconds failures are remembered, and how long a spent budget answers 429.",
    ),
    (
        "trusted_proxies",
        "IP addresses of reverse proxies whose X-Forwarded-For names the client\n\
         # (e.g. [\"127.0.0.1\"]); empty: the connection's address is the client.\n\
         # As a variable: LECTERN_TRUSTED_PROXIES=\"10.0.0.1,10.0.0.2\".",
    ),
    (
        "site_url",
        "The address users reach the site at, for links in mail, e.g. \"https://learn.example.org\" (empty: http://LISTEN).",
    ),
    (
        "job_workers",
        "Background job workers on this node (course regrades, cleanups); 0: this node runs no jobs.",
    ),
    (
        "job_lease_secs",
        "Seconds a running job stays held without its worker renewing it; a job whose\n\
         # node died is taken up again by another node (or this one, restarted) after this.",
    ),
    (
        "shutdown_job_deadline_secs",
        "Seconds running jobs get to finish on shutdown before they go back to the queue.",
    ),
    (
        "idempotency_keep_hours",
        "Hours the answer of a write sent with an Idempotency-Key is kept (1 to 8760): a\n\
         # retry with the same key within them gets that answer and changes nothing; after\n\
         # them the key is forgotten and a retry is a new request. Hourly cleanup job.",
    ),
    (
        "session_cache_secs",
        "Seconds a signed-in session (its user, and whether they may use Studio) is\n\
         # trusted without asking the database (0 to 60; 0 = ask on every request). A\n\
         # sign-out, password change or account change made through this node applies\n\
         # here at once; on the other nodes of a cluster within these seconds.",
    ),
];

/// The `[smtp]` section: (key, description), in file order. The environment
/// variable of `host` is `LECTERN_SMTP_HOST`, and so on.
pub(crate) const SMTP_KEYS: &[(&str, &str)] = &[
    (
        "host",
        "The SMTP relay's host name; empty: no mail is sent (password reset links are only logged as not sent).",
    ),
    ("port", "The relay's port (587 for starttls, 465 for tls, 25 for none)."),
    ("username", "User name for the relay; empty: no authentication."),
    ("password", "Password for the relay."),
    ("from", "The sender of Lectern's mail."),
    (
        "tls",
        "\"starttls\", \"tls\" (implicit TLS) or \"none\" (only for a relay on a trusted network).",
    ),
    ("timeout_secs", "Longest wait for the relay, in seconds."),
];

/// Flags that override the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub config_file: Option<PathBuf>,
}

impl Config {
    /// Loads the layers from the real environment.
    pub fn load(flags: &Overrides) -> anyhow::Result<Self> {
        Self::load_from(flags, std::env::vars())
    }

    pub fn load_from(
        flags: &Overrides,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let env: Vec<(String, String)> = env.filter(|(k, _)| k.starts_with("LECTERN_")).collect();
        let data_dir = flags
            .data_dir
            .clone()
            .or_else(|| {
                env.iter()
                    .find(|(k, _)| k == "LECTERN_DATA_DIR")
                    .map(|(_, v)| PathBuf::from(v))
            })
            .unwrap_or_else(|| Config::default().data_dir);
        let file = match &flags.config_file {
            Some(f) => Some(f.clone()),
            None => Some(data_dir.join("lectern.toml")).filter(|p| p.exists()),
        };
        let mut table = match &file {
            Some(f) => {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("reading the configuration file {}", f.display()))?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("{} is not valid TOML", f.display()))?
            }
            None => toml::Table::new(),
        };
        for (name, value) in &env {
            let key = name.trim_start_matches("LECTERN_").to_lowercase();
            if crate::config_env::insert_section_value(&mut table, &key, value) {
                continue;
            }
            if !KEYS.iter().any(|(k, _)| *k == key) {
                let known: Vec<String> = KEYS
                    .iter()
                    .map(|(k, _)| format!("LECTERN_{}", k.to_uppercase()))
                    .chain(crate::config_env::section_variables())
                    .collect();
                bail!(
                    "unknown environment variable {name}; Lectern knows {}",
                    known.join(", ")
                );
            }
            let value = if key == "trusted_proxies" {
                toml::Value::Array(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(|v| toml::Value::String(v.to_string()))
                        .collect(),
                )
            } else {
                env_value(value)
            };
            table.insert(key, value);
        }
        let mut config: Config =
            toml::Value::Table(table)
                .try_into()
                .with_context(|| match &file {
                    Some(f) => format!("bad setting in {} or a LECTERN_ variable", f.display()),
                    None => "bad LECTERN_ variable".to_string(),
                })?;
        if let Some(d) = &flags.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(l) = &flags.listen {
            config.listen = l.clone();
        }
        if !matches!(config.log_format.as_str(), "human" | "json") {
            bail!(
                "log_format must be \"human\" or \"json\", not {:?}",
                config.log_format
            );
        }
        config.trusted_proxy_addrs()?;
        config.check_branding()?;
        for (name, value) in [
            (
                "login_failures_per_account",
                config.login_failures_per_account,
            ),
            (
                "login_failures_per_address",
                config.login_failures_per_address,
            ),
            (
                "login_attempts_per_address",
                config.login_attempts_per_address,
            ),
            (
                "registrations_per_address",
                config.registrations_per_address,
            ),
        ] {
            if value == 0 {
                bail!("{name} must be at least 1");
            }
        }
        if config.login_lockout_secs == 0 {
            bail!("login_lockout_secs must be at least 1");
        }
        if config.job_lease_secs == 0 {
            bail!("job_lease_secs must be at least 1");
        }
        if config.job_workers > 64 {
            bail!("job_workers must be at most 64");
        }
        if !(1..=8760).contains(&config.idempotency_keep_hours) {
            bail!("idempotency_keep_hours must be 1 to 8760 (a year)");
        }
        if config.session_cache_secs > 60 {
            bail!("session_cache_secs must be 0 to 60");
        }
        config.scripts.check()?;
        config.mail.check()?;
        config.search.check()?;
        config.tracking.check()?;
        config.tls.check()?;
        config.instances.check()?;
        config.limits.check()?;
        Ok(config)
    }

    /// `logo_url` and `contact_email` are what a page may show.
    pub fn check_branding(&self) -> anyhow::Result<()> {
        let logo = self.logo_url.trim();
        let plain = |s: &str| {
            !s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"'<>`".contains(c))
        };
        if !logo.is_empty()
            && !(plain(logo)
                && logo.len() <= 2048
                && (logo.starts_with("https://")
                    || (logo.starts_with('/') && !logo.starts_with("//"))))
        {
            bail!("logo_url must be an https:// URL or a path on the site starting with /, not {logo:?}");
        }
        let mail = self.contact_email.trim();
        let mail_ok = mail.is_empty() || (plain(mail) && mail.len() <= 254 && mail.contains('@'));
        if !mail_ok {
            bail!("contact_email must be an e-mail address, not {mail:?}");
        }
        Ok(())
    }

    /// `trusted_proxies` as addresses; an entry that is not one is an error.
    pub fn trusted_proxy_addrs(&self) -> anyhow::Result<Vec<std::net::IpAddr>> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                p.parse()
                    .with_context(|| format!("trusted_proxies: {p:?} is not an IP address"))
            })
            .collect()
    }

    /// The public address for links in mail, without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.site_url.trim().is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.site_url.trim().trim_end_matches('/').to_string()
        }
    }

    /// Where the SQLite database lives.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("lectern.db")
    }
}

impl serde::Serialize for Config {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Config", KEYS.len() + 3)?;
        st.serialize_field("data_dir", &self.data_dir)?;
        st.serialize_field("listen", &self.listen)?;
        st.serialize_field("database_url", &self.database_url)?;
        st.serialize_field("database_max_connections", &self.database_max_connections)?;
        st.serialize_field("log_format", &self.log_format)?;
        st.serialize_field("log_level", &self.log_level)?;
        st.serialize_field("secure_cookies", &self.secure_cookies)?;
        st.serialize_field("max_body_bytes", &self.max_body_bytes)?;
        st.serialize_field("max_upload_bytes", &self.max_upload_bytes)?;
        st.serialize_field("shutdown_drain_secs", &self.shutdown_drain_secs)?;
        st.serialize_field("site_name", &self.site_name)?;
        st.serialize_field("logo_url", &self.logo_url)?;
        st.serialize_field("contact_email", &self.contact_email)?;
        st.serialize_field(
            "login_failures_per_account",
            &self.login_failures_per_account,
        )?;
        st.serialize_field(
            "login_failures_per_address",
            &self.login_failures_per_address,
        )?;
        st.serialize_field(
            "login_attempts_per_address",
            &self.login_attempts_per_address,
        )?;
        st.serialize_field("registrations_per_address", &self.registrations_per_address)?;
        st.serialize_field("login_lockout_secs", &self.login_lockout_secs)?;
        st.serialize_field("trusted_proxies", &self.trusted_proxies)?;
        st.serialize_field("site_url", &self.site_url)?;
        st.serialize_field("job_workers", &self.job_workers)?;
        st.serialize_field("job_lease_secs", &self.job_lease_secs)?;
        st.serialize_field(
            "shutdown_job_deadline_secs",
            &self.shutdown_job_deadline_secs,
        )?;
        st.serialize_field("idempotency_keep_hours", &self.idempotency_keep_hours)?;
        st.serialize_field("session_cache_secs", &self.session_cache_secs)?;
        st.serialize_field("smtp", &self.smtp)?;
        st.serialize_field("mail", &self.mail)?;
        st.serialize_field("backup", &self.backup)?;
        st.serialize_field("scripts", &self.scripts)?;
        st.serialize_field("search", &self.search)?;
        st.serialize_field("tracking", &self.tracking)?;
        st.serialize_field("tls", &self.tls)?;
        st.serialize_field("instances", &self.instances)?;
        st.serialize_field("limits", &self.limits)?;
        st.end()
    }
}

/// An environment value as TOML: numbers and booleans typed, the rest strings.
pub(crate) fn env_value(v: &str) -> toml::Value {
    if let Ok(b) = v.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    if let Ok(n) = v.parse::<i64>() {
        return toml::Value::Integer(n);
    }
    toml::Value::String(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_mail::TlsMode;
    use std::path::Path;

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn defaults_need_nothing() {
        let c = Config::load_from(&Overrides::default(), env(&[])).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./lectern-data"));
    }

    #[test]
    fn the_session_cache_is_bounded_to_a_minute() {
        let c = Config::load_from(&Overrides::default(), env(&[])).unwrap();
        assert_eq!(c.session_cache_secs, 5);
        let off = env(&[("LECTERN_SESSION_CACHE_SECS", "0")]);
        assert_eq!(
            Config::load_from(&Overrides::default(), off)
                .unwrap()
                .session_cache_secs,
            0
        );
        let long = env(&[("LECTERN_SESSION_CACHE_SECS", "61")]);
        let err = Config::load_from(&Overrides::default(), long).unwrap_err();
        assert!(err.to_string().contains("session_cache_secs"), "{err}");
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("l.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nsite_name = \"From file\"\nmax_body_bytes = 10\n",
        )
        .unwrap();
        let flags = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        let c = Config::load_from(
            &flags,
            env(&[
                ("LECTERN_SITE_NAME", "From env"),
                ("LECTERN_MAX_BODY_BYTES", "20"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert_eq!(c.site_name, "From env");
        assert_eq!(c.max_body_bytes, 20);
        let flags = Overrides {
            listen: Some("127.0.0.1:1".into()),
            ..flags
        };
        assert_eq!(
            Config::load_from(&flags, env(&[])).unwrap().listen,
            "127.0.0.1:1"
        );
    }

    #[test]
    fn unknown_keys_and_variables_are_errors() {
        let err =
            Config::load_from(&Overrides::default(), env(&[("LECTERN_LISTN", "x")])).unwrap_err();
        assert!(err.to_string().contains("LECTERN_LISTN"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("l.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let flags = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        let err = Config::load_from(&flags, env(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
    }

    #[test]
    fn smtp_settings_come_from_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("l.toml");
        std::fs::write(
            &file,
            "[smtp]\nhost = \"mail.example.org\"\nport = 465\ntls = \"tls\"\n",
        )
        .unwrap();
        let flags = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        let c = Config::load_from(
            &flags,
            env(&[
                ("LECTERN_SMTP_PASSWORD", "1234"),
                ("LECTERN_SMTP_PORT", "2465"),
            ]),
        )
        .unwrap();
        assert_eq!(c.smtp.host, "mail.example.org");
        assert_eq!(c.smtp.port, 2465);
        assert_eq!(c.smtp.tls, TlsMode::Tls);
        assert_eq!(c.smtp.password, "1234");
        assert_eq!(c.public_url(), "http://127.0.0.1:8080");
        let err = Config::load_from(&Overrides::default(), env(&[("LECTERN_SMTP_HOTS", "x")]))
            .unwrap_err();
        assert!(err.to_string().contains("LECTERN_SMTP_HOST"), "{err}");
    }

    #[test]
    fn the_example_file_is_current_and_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/lectern.example.toml");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            committed,
            Config::example_toml(),
            "docs/lectern.example.toml drifted: regenerate it with `lectern config example`"
        );
        let flags = Overrides {
            config_file: Some(path),
            ..Default::default()
        };
        assert_eq!(
            Config::load_from(&flags, env(&[])).unwrap(),
            Config::default()
        );
    }
}
