//! The storage seam of TLS: certificates with their keys, the ACME account
//! per directory, and the pending HTTP-01 answers (`docs/tls.md`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::IssuedCertificate;
use crate::store::StoreResult;

/// A certificate row: the current certificate of one subject (absent until
/// the first issuance succeeds) and the last failure, kept apart so a failed
/// renewal never removes the certificate being served.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCertificate {
    pub name: String,
    pub hosts: Vec<String>,
    pub cert_pem: Option<String>,
    pub key_pem: Option<String>,
    pub not_after: Option<DateTime<Utc>>,
    pub serial: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait TlsStore {
    /// Every certificate row, by name.
    async fn tls_certificates(&self) -> StoreResult<Vec<StoredCertificate>>;
    /// Stores a newly issued certificate for `name` (replacing the old one)
    /// and clears its last failure.
    async fn save_tls_certificate(
        &self,
        name: &str,
        hosts: &[String],
        issued: &IssuedCertificate,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Records a failed order for `name`; its certificate, if any, stays.
    async fn record_tls_failure(
        &self,
        name: &str,
        hosts: &[String],
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The account credentials (JSON) registered with an ACME directory.
    async fn acme_account(&self, directory: &str) -> StoreResult<Option<String>>;
    async fn save_acme_account(
        &self,
        directory: &str,
        credentials: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Publishes (or replaces) the HTTP-01 answer for `token`.
    async fn put_acme_challenge(
        &self,
        token: &str,
        key_authorization: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The answer for `token` if it has not expired at `now`.
    async fn acme_challenge(&self, token: &str, now: DateTime<Utc>) -> StoreResult<Option<String>>;
    /// Removes `token`'s answer, and every answer expired at `now`.
    async fn delete_acme_challenge(&self, token: &str, now: DateTime<Utc>) -> StoreResult<()>;
}
