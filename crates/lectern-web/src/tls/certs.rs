//! Certificates and keys as files and database rows hold them (PEM), turned
//! into what rustls serves; and the facts operators see (serial, expiry).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use x509_cert::der::Decode;

/// A chain (leaf first) and its private key, checked to belong together.
/// The error says what is wrong, for a startup message or `doctor`.
pub fn certified_key(cert_pem: &str, key_pem: &str) -> Result<Arc<CertifiedKey>, String> {
    let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the certificate is not valid PEM: {e}"))?;
    if chain.is_empty() {
        return Err("no certificate found (expected a PEM \"CERTIFICATE\" block)".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| format!("no private key found (expected a PEM private key): {e}"))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| format!("the private key cannot be used: {e}"))?;
    leaf_facts(cert_pem)?;
    let certified = CertifiedKey::new(chain, signer);
    certified
        .keys_match()
        .map_err(|e| format!("the private key does not belong to the certificate: {e}"))?;
    Ok(Arc::new(certified))
}

/// What an operator wants to know of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafFacts {
    /// The serial number, lower-case hexadecimal.
    pub serial: String,
    pub not_after: DateTime<Utc>,
}

/// The serial and expiry of the first certificate in `cert_pem`.
pub fn leaf_facts(cert_pem: &str) -> Result<LeafFacts, String> {
    let leaf = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .next()
        .ok_or("no certificate found (expected a PEM \"CERTIFICATE\" block)")?
        .map_err(|e| format!("the certificate is not valid PEM: {e}"))?;
    leaf_facts_der(leaf.as_ref())
}

/// The serial and expiry of one DER certificate (what a TLS peer sends).
pub fn leaf_facts_der(der: &[u8]) -> Result<LeafFacts, String> {
    let cert = x509_cert::Certificate::from_der(der)
        .map_err(|e| format!("the certificate is not valid X.509: {e}"))?;
    let serial = hex::encode(cert.tbs_certificate.serial_number.as_bytes());
    let secs = cert
        .tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_secs();
    let not_after = i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .ok_or("the certificate's expiry is out of range")?;
    Ok(LeafFacts { serial, not_after })
}
