//! The host names needing certificates in a deployment with instances:
//! `[tls] hosts` (the default site's, one certificate) and each enabled
//! instance's hosts (one certificate per instance, named after its first
//! host). A disabled instance keeps its certificate row but is not renewed.

use async_trait::async_trait;

use crate::tls::{CertSubject, ConfiguredHosts, TlsHosts};
use crate::{AppResult, Lectern};

pub struct DeploymentHosts {
    pub configured: ConfiguredHosts,
    /// The deployment's own app, which reads the registry.
    pub app: Lectern,
}

#[async_trait]
impl TlsHosts for DeploymentHosts {
    async fn subjects(&self) -> AppResult<Vec<CertSubject>> {
        let mut subjects = self.configured.subjects().await?;
        for instance in self.app.instances().await? {
            if instance.disabled {
                continue;
            }
            let Some(first) = instance.hosts.first() else {
                continue;
            };
            // A host already covered by the default site's certificate
            // cannot be an instance's (creation refuses it), but a changed
            // configuration could make it so: the configuration wins.
            let hosts: Vec<String> = instance
                .hosts
                .iter()
                .filter(|h| !subjects.iter().any(|s| s.hosts.contains(h)))
                .cloned()
                .collect();
            if !hosts.is_empty() {
                subjects.push(CertSubject {
                    name: first.clone(),
                    hosts,
                });
            }
        }
        Ok(subjects)
    }
}
