//! The operator console's facts about instances (`docs/operators.md`), the
//! binary's side of `lectern_app::instances::InstanceProbe`: which are open
//! on this node (from `Sites`), whether each database answers and its size
//! (one short connection, without opening the site), the newest archive in
//! its backup target, and the earliest expiry among the deployment's
//! certificates for its hosts.
//!
//! Bounded: at most `MAX_INSTANCES` rows, `PROBES_AT_ONCE` instances looked
//! at together, each look (database, backup folder) under `PROBE_TIMEOUT`.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::instances::{Instance, InstanceProbe, InstanceStatus, MAX_INSTANCES};
use lectern_app::tls::StoredCertificate;

use super::sites::Sites;
use crate::config::Config;

/// Longest one look at an instance's database or backup folder may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// Instances looked at together.
const PROBES_AT_ONCE: usize = 4;

pub struct Probe {
    base: Config,
    /// Set once serve has built its `Sites`; weak, since `Sites` holds the
    /// default site whose app holds this probe.
    sites: OnceLock<Weak<Sites>>,
}

impl Probe {
    pub fn new(base: Config) -> Arc<Probe> {
        Arc::new(Probe {
            base,
            sites: OnceLock::new(),
        })
    }

    /// Tells the probe which sites this node serves.
    pub fn attach(&self, sites: &Arc<Sites>) {
        let _ = self.sites.set(Arc::downgrade(sites));
    }
}

#[async_trait]
impl InstanceProbe for Probe {
    async fn statuses(&self) -> Vec<InstanceStatus> {
        let Some(sites) = self.sites.get().and_then(Weak::upgrade) else {
            return Vec::new();
        };
        let mut instances = match sites.default.app.instances().await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(error = %e, "reading the instance registry for the operator console");
                return Vec::new();
            }
        };
        instances.truncate(MAX_INSTANCES);
        let certificates = if self.base.tls.listen.trim().is_empty() {
            None
        } else {
            Some(
                sites
                    .default
                    .app
                    .tls_certificates()
                    .await
                    .unwrap_or_default(),
            )
        };
        let certificates = Arc::new(certificates);
        let open = sites.open_instances();
        let permits = Arc::new(tokio::sync::Semaphore::new(PROBES_AT_ONCE));
        let mut set = tokio::task::JoinSet::new();
        for (index, instance) in instances.into_iter().enumerate() {
            let base = self.base.clone();
            let is_open = open.contains(&instance.name);
            let certificates = certificates.clone();
            let permits = permits.clone();
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let status =
                    status(&base, instance, is_open, certificates.as_ref().as_deref()).await;
                (index, status)
            });
        }
        let mut rows = Vec::new();
        while let Some(done) = set.join_next().await {
            if let Ok(row) = done {
                rows.push(row);
            }
        }
        rows.sort_by_key(|(index, _)| *index);
        rows.into_iter().map(|(_, s)| s).collect()
    }
}

async fn status(
    base: &Config,
    instance: Instance,
    open: bool,
    certificates: Option<&[StoredCertificate]>,
) -> InstanceStatus {
    let (certificate_expiry, certificate_note) = certificate(&instance.hosts, certificates);
    let mut status = InstanceStatus {
        name: instance.name.clone(),
        hosts: instance.hosts.clone(),
        disabled: instance.disabled,
        open,
        health_problem: None,
        size_bytes: None,
        last_backup: None,
        backup_note: String::new(),
        certificate_expiry,
        certificate_note,
    };
    let config = match base.for_instance(&instance) {
        Ok(c) => c,
        Err(e) => {
            status.health_problem = Some(format!("its settings: {e:#}"));
            return status;
        }
    };
    let probed = tokio::time::timeout(
        PROBE_TIMEOUT,
        lectern_store::probe_database(&config.database_url, &config.database_path()),
    )
    .await;
    match probed {
        Ok(Ok(bytes)) => status.size_bytes = Some(bytes),
        Ok(Err(e)) => status.health_problem = Some(e.to_string()),
        Err(_) => {
            status.health_problem = Some(format!(
                "its database did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ))
        }
    }
    (status.last_backup, status.backup_note) = last_backup(&config).await;
    status
}

/// The newest archive in the instance's backup target. Object storage is
/// named, not listed: a listing there is a network call per instance.
async fn last_backup(config: &Config) -> (Option<DateTime<Utc>>, String) {
    if config.backup.target.trim().starts_with("s3://") {
        return (None, "s3".into());
    }
    let target = match super::backup_target::target(config, None) {
        Ok(t) => t,
        Err(e) => return (None, format!("its backup target: {e:#}")),
    };
    let listed = tokio::time::timeout(
        PROBE_TIMEOUT,
        tokio::task::spawn_blocking(move || target.list()),
    )
    .await;
    match listed {
        Ok(Ok(Ok(entries))) => match entries.iter().map(|e| e.created).max() {
            Some(t) => (Some(t), String::new()),
            None => (None, "none yet".into()),
        },
        Ok(Ok(Err(e))) => (None, format!("cannot list its backups: {e}")),
        Ok(Err(_)) => (None, "cannot list its backups".into()),
        Err(_) => (None, "its backups did not list in time".into()),
    }
}

/// The earliest expiry among the certificates for `hosts` (each host's
/// newest), and what else to say: "no TLS" when this deployment serves no
/// HTTPS, the hosts that have no certificate yet.
fn certificate(
    hosts: &[String],
    certificates: Option<&[StoredCertificate]>,
) -> (Option<DateTime<Utc>>, String) {
    let Some(certificates) = certificates else {
        return (None, "no TLS".into());
    };
    let mut earliest: Option<DateTime<Utc>> = None;
    let mut missing = Vec::new();
    for host in hosts {
        let newest = certificates
            .iter()
            .filter(|c| c.cert_pem.is_some() && c.hosts.iter().any(|h| h == host))
            .filter_map(|c| c.not_after)
            .max();
        match newest {
            Some(t) => earliest = Some(earliest.map_or(t, |e| e.min(t))),
            None => missing.push(host.as_str()),
        }
    }
    let note = if missing.is_empty() {
        String::new()
    } else {
        format!("no certificate for {}", missing.join(", "))
    };
    (earliest, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(hosts: &[&str], days: i64) -> StoredCertificate {
        StoredCertificate {
            name: hosts.join(","),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            cert_pem: Some("pem".into()),
            key_pem: Some("key".into()),
            not_after: Some(DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(days)),
            serial: None,
            issued_at: None,
            last_error: None,
            last_error_at: None,
        }
    }

    #[test]
    fn the_certificate_column_is_the_earliest_expiry_and_names_uncovered_hosts() {
        let hosts = vec![
            "a.test".to_string(),
            "b.test".to_string(),
            "c.test".to_string(),
        ];
        assert_eq!(certificate(&hosts, None), (None, "no TLS".into()));
        let certs = [
            cert(&["a.test"], 10),
            cert(&["a.test"], 40),
            cert(&["b.test"], 20),
        ];
        let (at, note) = certificate(&hosts, Some(&certs));
        assert_eq!(
            at,
            Some(DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20))
        );
        assert_eq!(note, "no certificate for c.test");
    }
}
