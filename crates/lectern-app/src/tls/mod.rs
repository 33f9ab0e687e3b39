//! TLS certificates for the hosts this deployment answers (`docs/tls.md`).
//!
//! The app decides *which* certificates are needed and *when* one is
//! ordered; it never speaks ACME or TLS itself. Three seams:
//! - [`TlsHosts`]: the set of host names needing certificates. Today the
//!   `[tls] hosts` list of the configuration ([`ConfiguredHosts`]); later
//!   every instance's hosts — the instance work replaces this one trait.
//! - [`CertificateIssuer`]: an ACME client (the binary plugs in
//!   instant-acme); it publishes HTTP-01 answers through [`AcmeBoard`], so
//!   they live in the database and any node behind a load balancer answers
//!   the CA's request.
//! - [`TlsStore`] (`store.rs`): certificates, keys, the ACME account and the
//!   pending challenge answers, in the database so every node serves the
//!   same certificate.
//!
//! `renew.rs` holds the renewal use case (one node at a time, under the
//! `tls_renew` lease) and the status `lectern tls status`/`doctor` print.

mod renew;
mod store;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use renew::{RenewOutcome, RenewPolicy, TlsHostStatus, TLS_RENEW_LEASE};
pub use store::{StoredCertificate, TlsStore};

use crate::error::AppResult;
use crate::Lectern;

/// One certificate to hold: a name (the row it is kept under) and the
/// host names it must cover (its subject alternative names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSubject {
    pub name: String,
    pub hosts: Vec<String>,
}

/// Where the host names needing certificates come from.
#[async_trait]
pub trait TlsHosts: Send + Sync {
    async fn subjects(&self) -> AppResult<Vec<CertSubject>>;
}

/// The hosts of the configuration's `[tls] hosts`: one certificate covering
/// all of them, named after the first.
#[derive(Debug, Clone)]
pub struct ConfiguredHosts(pub Vec<String>);

#[async_trait]
impl TlsHosts for ConfiguredHosts {
    async fn subjects(&self) -> AppResult<Vec<CertSubject>> {
        Ok(self
            .0
            .first()
            .map(|first| CertSubject {
                name: first.clone(),
                hosts: self.0.clone(),
            })
            .into_iter()
            .collect())
    }
}

/// A certificate an issuer obtained: the chain and its key as PEM, with the
/// facts read from the leaf.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    pub cert_pem: String,
    pub key_pem: String,
    pub not_after: DateTime<Utc>,
    /// The leaf's serial number, hexadecimal.
    pub serial: String,
}

/// An ACME client: orders one certificate for `hosts`. An error is a
/// sentence an operator can act on (it is shown by `doctor`).
#[async_trait]
pub trait CertificateIssuer: Send + Sync {
    async fn issue(
        &self,
        hosts: &[String],
        board: &AcmeBoard<'_>,
    ) -> Result<IssuedCertificate, String>;
}

/// What an issuer keeps in the database during an order: the account and
/// the HTTP-01 answers the CA fetches from `/.well-known/acme-challenge/`.
pub struct AcmeBoard<'a> {
    app: &'a Lectern,
}

/// How long a published challenge answer stays answerable.
const CHALLENGE_TTL_MINUTES: i64 = 30;
/// Longest token accepted (Let's Encrypt's are 43 characters).
const MAX_TOKEN_LEN: usize = 256;

impl AcmeBoard<'_> {
    /// The stored account credentials (JSON) for this ACME directory.
    pub async fn account(&self, directory: &str) -> AppResult<Option<String>> {
        Ok(self.app.store.acme_account(directory).await?)
    }

    pub async fn save_account(&self, directory: &str, credentials: &str) -> AppResult<()> {
        Ok(self
            .app
            .store
            .save_acme_account(directory, credentials, self.app.now())
            .await?)
    }

    /// Makes `key_authorization` the answer to `token` on every node.
    pub async fn publish(&self, token: &str, key_authorization: &str) -> AppResult<()> {
        let expires = self.app.now() + chrono::Duration::minutes(CHALLENGE_TTL_MINUTES);
        Ok(self
            .app
            .store
            .put_acme_challenge(token, key_authorization, expires)
            .await?)
    }

    pub async fn withdraw(&self, token: &str) -> AppResult<()> {
        Ok(self
            .app
            .store
            .delete_acme_challenge(token, self.app.now())
            .await?)
    }
}

impl Lectern {
    /// The answer to an ACME HTTP-01 request for `token`, if one of this
    /// deployment's orders published it and it has not expired.
    pub async fn acme_challenge_answer(&self, token: &str) -> AppResult<Option<String>> {
        let valid = !token.is_empty()
            && token.len() <= MAX_TOKEN_LEN
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Ok(None);
        }
        Ok(self.store.acme_challenge(token, self.now()).await?)
    }

    /// Every stored certificate (with its key), for a node's SNI map.
    pub async fn tls_certificates(&self) -> AppResult<Vec<StoredCertificate>> {
        Ok(self.store.tls_certificates().await?)
    }

    pub(crate) fn acme_board(&self) -> AcmeBoard<'_> {
        AcmeBoard { app: self }
    }
}
