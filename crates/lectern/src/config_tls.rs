//! The `[tls]` section: HTTPS served by Lectern itself, with certificates
//! from an ACME CA (Let's Encrypt) or from the operator's own files
//! (`docs/tls.md`). Its variables are `LECTERN_TLS_<KEY>`; `hosts` is a
//! comma-separated list there. With `listen` empty (the default) nothing
//! changes: plain HTTP on the top-level `listen`.

use anyhow::{bail, ensure};
use serde::{Deserialize, Serialize};

/// Let's Encrypt's directories.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";
/// Most host names on one certificate (Let's Encrypt's limit).
const MAX_HOSTS: usize = 100;

/// Every `[tls]` setting, with its default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    /// HTTPS address, e.g. `0.0.0.0:443`; empty: no TLS.
    pub listen: String,
    /// Plain-HTTP address for ACME challenges, redirects, health and metrics.
    pub http_listen: String,
    /// Host names to get certificates for from the ACME CA.
    pub hosts: Vec<String>,
    /// Own certificate chain (PEM), instead of ACME.
    pub cert_file: String,
    /// Own private key (PEM), with `cert_file`.
    pub key_file: String,
    /// ACME directory URL; empty: Let's Encrypt (or its staging with `staging`).
    pub acme_directory: String,
    /// Use Let's Encrypt's staging directory.
    pub staging: bool,
    /// Contact e-mail given to the CA.
    pub contact_email: String,
    /// PEM file of a CA to trust for the ACME server's own HTTPS.
    pub acme_ca_file: String,
    /// Order a new certificate this many days before the current one expires.
    pub renew_before_days: u32,
    /// Seconds between reloads of the certificates from the database.
    pub refresh_secs: u64,
}

impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            listen: String::new(),
            http_listen: String::new(),
            hosts: Vec::new(),
            cert_file: String::new(),
            key_file: String::new(),
            acme_directory: String::new(),
            staging: false,
            contact_email: String::new(),
            acme_ca_file: String::new(),
            renew_before_days: 30,
            refresh_secs: 60,
        }
    }
}

/// (key, description) in file order, for the example file and the variables.
pub const TLS_KEYS: &[(&str, &str)] = &[
    (
        "listen",
        "HTTPS address Lectern serves itself, e.g. \"0.0.0.0:443\"; empty: no TLS, plain HTTP on\n\
         # `listen` as without this section. When set, `listen` above is not used.",
    ),
    (
        "http_listen",
        "Plain-HTTP address, e.g. \"0.0.0.0:80\": answers ACME HTTP-01 challenges, /health/* and\n\
         # /metrics, and redirects everything else to HTTPS. Needed for ACME.",
    ),
    (
        "hosts",
        "Host names to get one certificate for from the ACME CA, e.g. [\"learn.example.org\"].\n\
         # As a variable: LECTERN_TLS_HOSTS=\"a.example.org,b.example.org\".",
    ),
    (
        "cert_file",
        "Own certificate chain (PEM, leaf first) instead of ACME; with key_file.",
    ),
    ("key_file", "Own private key (PEM) of cert_file."),
    (
        "acme_directory",
        "ACME directory URL; empty: Let's Encrypt (its staging directory with staging = true).",
    ),
    (
        "staging",
        "Use Let's Encrypt's staging directory (test certificates, generous rate limits).",
    ),
    (
        "contact_email",
        "Contact e-mail given to the CA (expiry warnings); empty: none.",
    ),
    (
        "acme_ca_file",
        "PEM file of a CA to trust for the ACME server's own HTTPS (a test CA such as Pebble);\n\
         # empty: the system's trusted CAs.",
    ),
    (
        "renew_before_days",
        "Order a new certificate this many days before the current one expires (1 to 365).",
    ),
    (
        "refresh_secs",
        "Seconds between two reloads of the certificates from the database on each node\n\
         # (1 to 86400); a renewal is also checked then.",
    ),
];

impl TlsSettings {
    /// Whether `lectern serve` terminates TLS.
    pub fn enabled(&self) -> bool {
        !self.listen.trim().is_empty()
    }

    /// Whether certificates come from ACME (rather than own files).
    pub fn uses_acme(&self) -> bool {
        !self.hosts.is_empty()
    }

    /// The ACME directory to order from.
    pub fn directory(&self) -> &str {
        if !self.acme_directory.trim().is_empty() {
            self.acme_directory.trim()
        } else if self.staging {
            LETS_ENCRYPT_STAGING
        } else {
            LETS_ENCRYPT
        }
    }

    /// Refuses contradictory or out-of-range settings, naming the key.
    pub fn check(&self) -> anyhow::Result<()> {
        ensure!(
            (1..=365).contains(&self.renew_before_days),
            "[tls] renew_before_days must be 1 to 365, not {}",
            self.renew_before_days
        );
        ensure!(
            (1..=86_400).contains(&self.refresh_secs),
            "[tls] refresh_secs must be 1 to 86400, not {}",
            self.refresh_secs
        );
        ensure!(
            self.hosts.len() <= MAX_HOSTS,
            "[tls] hosts lists {} names; a certificate covers at most {MAX_HOSTS}",
            self.hosts.len()
        );
        for host in &self.hosts {
            check_host(host)?;
        }
        let own = !self.cert_file.trim().is_empty() || !self.key_file.trim().is_empty();
        if own && (self.cert_file.trim().is_empty() || self.key_file.trim().is_empty()) {
            bail!("[tls] cert_file and key_file go together: set both or neither");
        }
        if own && self.uses_acme() {
            bail!("[tls] set either hosts (certificates from ACME) or cert_file/key_file (your own), not both");
        }
        if self.enabled() && !own && !self.uses_acme() {
            bail!("[tls] listen is set but there is no certificate: set hosts (ACME) or cert_file and key_file");
        }
        if self.enabled() && self.uses_acme() && self.http_listen.trim().is_empty() {
            bail!("[tls] ACME's HTTP-01 challenge needs http_listen (e.g. \"0.0.0.0:80\")");
        }
        Ok(())
    }
}

/// A host name a CA can issue for over HTTP-01: lower-case labels of
/// letters, digits and inner hyphens; no wildcards, no addresses.
fn check_host(host: &str) -> anyhow::Result<()> {
    // The rule instance hosts follow, without its lower-casing: a setting
    // is written as it will be matched.
    let ok = lectern_app::instances::check_host(host).is_ok_and(|h| h == host);
    ensure!(
        ok,
        "[tls] hosts: {host:?} is not a host name (lower-case, e.g. \"learn.example.org\"; no wildcards)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contradictions_are_refused_by_name() {
        let acme = TlsSettings {
            listen: "127.0.0.1:8443".into(),
            http_listen: "127.0.0.1:8080".into(),
            hosts: vec!["a.example.org".into()],
            ..TlsSettings::default()
        };
        acme.check().unwrap();
        let cases = [
            (
                TlsSettings {
                    http_listen: String::new(),
                    ..acme.clone()
                },
                "http_listen",
            ),
            (
                TlsSettings {
                    cert_file: "c.pem".into(),
                    key_file: "k.pem".into(),
                    ..acme.clone()
                },
                "not both",
            ),
            (
                TlsSettings {
                    hosts: vec!["*.example.org".into()],
                    ..acme.clone()
                },
                "*.example.org",
            ),
            (
                TlsSettings {
                    hosts: Vec::new(),
                    ..acme.clone()
                },
                "no certificate",
            ),
            (
                TlsSettings {
                    hosts: Vec::new(),
                    cert_file: "c.pem".into(),
                    ..acme.clone()
                },
                "go together",
            ),
            (
                TlsSettings {
                    renew_before_days: 0,
                    ..acme.clone()
                },
                "renew_before_days",
            ),
        ];
        for (settings, says) in cases {
            let err = settings.check().unwrap_err().to_string();
            assert!(err.contains(says), "{err} should say {says}");
        }
    }

    #[test]
    fn variables_set_the_section_and_hosts_is_a_list() {
        let env = [
            ("LECTERN_TLS_LISTEN", "127.0.0.1:8443"),
            ("LECTERN_TLS_HTTP_LISTEN", "127.0.0.1:8080"),
            ("LECTERN_TLS_HOSTS", "a.example.org, b.example.org"),
            ("LECTERN_TLS_RENEW_BEFORE_DAYS", "20"),
            ("LECTERN_TLS_STAGING", "true"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let c =
            crate::config::Config::load_from(&crate::config::Overrides::default(), env.into_iter())
                .unwrap();
        assert_eq!(c.tls.hosts, ["a.example.org", "b.example.org"]);
        assert_eq!(c.tls.renew_before_days, 20);
        assert!(c.tls.enabled() && c.tls.uses_acme());
        assert_eq!(c.tls.directory(), LETS_ENCRYPT_STAGING);
    }

    #[test]
    fn the_directory_follows_the_staging_switch_unless_set() {
        let mut s = TlsSettings::default();
        assert_eq!(s.directory(), LETS_ENCRYPT);
        s.staging = true;
        assert_eq!(s.directory(), LETS_ENCRYPT_STAGING);
        s.acme_directory = "https://127.0.0.1:14000/dir".into();
        assert_eq!(s.directory(), "https://127.0.0.1:14000/dir");
    }
}
