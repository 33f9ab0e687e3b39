//! [`CertMap`]: which certificate a TLS handshake gets, by the host name
//! the client asked for (SNI). Replaced whole on every refresh, so a
//! handshake sees either the old map or the new one.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use lectern_app::tls::StoredCertificate;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

#[derive(Debug, Default)]
struct Certs {
    by_host: HashMap<String, Arc<CertifiedKey>>,
    /// Served when the client names no host or one not in the map: the
    /// only certificate, when there is exactly one.
    fallback: Option<Arc<CertifiedKey>>,
}

/// The certificates this node serves, by lower-case host name.
#[derive(Debug, Default)]
pub struct CertMap {
    certs: RwLock<Certs>,
}

impl CertMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves one certificate (own files) for every host; an error says
    /// what is wrong with it and changes nothing.
    pub fn set_single(&self, cert_pem: &str, key_pem: &str) -> Result<(), String> {
        let key = super::certified_key(cert_pem, key_pem)?;
        self.replace(Certs {
            by_host: HashMap::new(),
            fallback: Some(key),
        });
        Ok(())
    }

    /// Replaces the map with the stored certificates that have one; a row
    /// whose certificate cannot be used is left out and logged. Returns how
    /// many certificates are served.
    pub fn load(&self, rows: &[StoredCertificate]) -> usize {
        let mut by_host = HashMap::new();
        let mut keys = Vec::new();
        for row in rows {
            let (Some(cert), Some(key)) = (&row.cert_pem, &row.key_pem) else {
                continue;
            };
            match super::certified_key(cert, key) {
                Ok(k) => {
                    for host in &row.hosts {
                        by_host.insert(host.to_ascii_lowercase(), k.clone());
                    }
                    keys.push(k);
                }
                Err(e) => {
                    tracing::error!(name = %row.name, error = %e, "a stored certificate cannot be served")
                }
            }
        }
        let n = keys.len();
        let fallback = if n == 1 { keys.pop() } else { None };
        self.replace(Certs { by_host, fallback });
        n
    }

    fn replace(&self, certs: Certs) {
        let mut guard = self.certs.write().unwrap_or_else(|e| e.into_inner());
        *guard = certs;
    }

    fn lookup(&self, host: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let certs = self.certs.read().unwrap_or_else(|e| e.into_inner());
        host.and_then(|h| certs.by_host.get(&h.to_ascii_lowercase()).cloned())
            .or_else(|| certs.fallback.clone())
    }
}

impl ResolvesServerCert for CertMap {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.lookup(hello.server_name())
    }
}
