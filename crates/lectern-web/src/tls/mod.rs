//! HTTPS served by Lectern itself (`docs/tls.md`): rustls with the `ring`
//! provider, certificates picked per host name (SNI) from an in-memory map
//! the binary refreshes from the database, and the plain-HTTP side that
//! answers ACME HTTP-01 challenges, health and metrics and redirects the
//! rest to HTTPS.
//!
//! - `certs.rs` — PEM to a rustls `CertifiedKey`, and the leaf's serial and
//!   expiry.
//! - `resolver.rs` — [`CertMap`], the SNI map.
//! - `listener.rs` — [`TlsListener`], an axum listener doing handshakes
//!   concurrently under a deadline.
//! - `plain.rs` — [`plain_router`], the port-80 side.

mod certs;
mod listener;
mod plain;
mod resolver;

use std::sync::Arc;

pub use certs::{certified_key, leaf_facts, leaf_facts_der, LeafFacts};
pub use listener::TlsListener;
pub use plain::plain_router;
pub use resolver::CertMap;

/// The rustls server settings: TLS 1.2 and 1.3 with `ring`, HTTP/1.1, the
/// certificate chosen by `certs`.
pub fn server_config(certs: Arc<CertMap>) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS settings: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(certs);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
