//! Renewal: which subjects need a certificate now, ordering them on one
//! node at a time, and what `lectern tls status` and `doctor` show.
//!
//! A subject needs an order when it has no certificate, when its hosts
//! changed, or when its certificate expires within `renew_before`. A failed
//! order leaves the old certificate in the row (served until it expires),
//! records the error and its time, and is not retried before
//! `retry_failed_after` unless forced.

use chrono::{DateTime, Duration, Utc};

use super::{CertSubject, CertificateIssuer, StoredCertificate, TlsHosts};
use crate::error::{AppError, AppResult};
use crate::Lectern;

/// The lease held by the one node ordering certificates.
pub const TLS_RENEW_LEASE: &str = "tls_renew";
/// How long the lease lasts without being taken again; each order renews it.
const LEASE_TTL_MINUTES: i64 = 15;

/// When certificates are ordered.
#[derive(Debug, Clone, Copy)]
pub struct RenewPolicy {
    /// Order a new certificate this long before the current one expires.
    pub renew_before: Duration,
    /// After a failed order, wait this long before trying again.
    pub retry_failed_after: Duration,
}

/// What happened to one subject in a renewal run.
#[derive(Debug, Clone, PartialEq)]
pub enum RenewOutcome {
    /// Its certificate is valid past the renewal window; nothing done.
    Fresh {
        name: String,
        not_after: DateTime<Utc>,
    },
    /// A new certificate was issued and stored.
    Issued {
        name: String,
        serial: String,
        not_after: DateTime<Utc>,
    },
    /// The order failed; the old certificate (if any) stays.
    Failed { name: String, error: String },
    /// It failed recently; not retried yet.
    Waiting { name: String },
}

/// One host's certificate as an operator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsHostStatus {
    pub host: String,
    /// The certificate (row) covering it.
    pub name: String,
    pub not_after: Option<DateTime<Utc>>,
    pub serial: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

fn needs_order(
    subject: &CertSubject,
    row: Option<&StoredCertificate>,
    policy: &RenewPolicy,
    now: DateTime<Utc>,
) -> bool {
    let Some(row) = row else { return true };
    let (Some(_), Some(not_after)) = (&row.cert_pem, row.not_after) else {
        return true;
    };
    let mut want: Vec<&String> = subject.hosts.iter().collect();
    let mut have: Vec<&String> = row.hosts.iter().collect();
    want.sort();
    have.sort();
    want != have || not_after - now <= policy.renew_before
}

impl Lectern {
    /// Orders a certificate for every subject that needs one (all of them
    /// with `force`), under the `tls_renew` lease as `holder`. A conflict
    /// when another node holds the lease.
    pub async fn renew_tls_certificates(
        &self,
        hosts: &dyn TlsHosts,
        issuer: &dyn CertificateIssuer,
        policy: &RenewPolicy,
        force: bool,
        holder: &str,
    ) -> AppResult<Vec<RenewOutcome>> {
        let subjects = hosts.subjects().await?;
        let ttl = Duration::minutes(LEASE_TTL_MINUTES);
        if !self
            .store
            .try_acquire_lease(TLS_RENEW_LEASE, holder, self.now(), ttl)
            .await?
        {
            return Err(AppError::Conflict(
                "another node is ordering certificates right now; try again in a few minutes"
                    .into(),
            ));
        }
        let result = self
            .renew_held(&subjects, issuer, policy, force, holder)
            .await;
        if let Err(e) = self.store.release_lease(TLS_RENEW_LEASE, holder).await {
            tracing::warn!(error = %e, "releasing the tls_renew lease failed; it will expire");
        }
        result
    }

    /// Whether any subject needs an order now (no lease, no writes): each
    /// node asks this before trying the lease.
    pub async fn tls_renewal_due(
        &self,
        hosts: &dyn TlsHosts,
        policy: &RenewPolicy,
    ) -> AppResult<bool> {
        let rows = self.store.tls_certificates().await?;
        let now = self.now();
        Ok(hosts.subjects().await?.iter().any(|s| {
            let row = rows.iter().find(|r| r.name == s.name);
            needs_order(s, row, policy, now) && !recently_failed(row, policy, now)
        }))
    }

    async fn renew_held(
        &self,
        subjects: &[CertSubject],
        issuer: &dyn CertificateIssuer,
        policy: &RenewPolicy,
        force: bool,
        holder: &str,
    ) -> AppResult<Vec<RenewOutcome>> {
        let rows = self.store.tls_certificates().await?;
        let mut outcomes = Vec::with_capacity(subjects.len());
        for subject in subjects {
            let now = self.now();
            let row = rows.iter().find(|r| r.name == subject.name);
            if !force && !needs_order(subject, row, policy, now) {
                if let Some(not_after) = row.and_then(|r| r.not_after) {
                    outcomes.push(RenewOutcome::Fresh {
                        name: subject.name.clone(),
                        not_after,
                    });
                }
                continue;
            }
            if !force && recently_failed(row, policy, now) {
                outcomes.push(RenewOutcome::Waiting {
                    name: subject.name.clone(),
                });
                continue;
            }
            // Each order may take minutes: keep the lease ours throughout.
            self.store
                .try_acquire_lease(
                    TLS_RENEW_LEASE,
                    holder,
                    now,
                    Duration::minutes(LEASE_TTL_MINUTES),
                )
                .await?;
            tracing::info!(name = %subject.name, hosts = ?subject.hosts, "ordering a certificate");
            match issuer.issue(&subject.hosts, &self.acme_board()).await {
                Ok(issued) => {
                    self.store
                        .save_tls_certificate(&subject.name, &subject.hosts, &issued, self.now())
                        .await?;
                    tracing::info!(name = %subject.name, serial = %issued.serial, not_after = %issued.not_after, "certificate issued");
                    outcomes.push(RenewOutcome::Issued {
                        name: subject.name.clone(),
                        serial: issued.serial,
                        not_after: issued.not_after,
                    });
                }
                Err(error) => {
                    let error = crate::jobs::bounded_error(&error).to_string();
                    tracing::warn!(name = %subject.name, %error, "ordering a certificate failed; the old one stays");
                    self.store
                        .record_tls_failure(&subject.name, &subject.hosts, &error, self.now())
                        .await?;
                    outcomes.push(RenewOutcome::Failed {
                        name: subject.name.clone(),
                        error,
                    });
                }
            }
        }
        Ok(outcomes)
    }

    /// Each host's certificate: expiry, serial and the last failure.
    pub async fn tls_status(&self, hosts: &dyn TlsHosts) -> AppResult<Vec<TlsHostStatus>> {
        let rows = self.store.tls_certificates().await?;
        let mut out = Vec::new();
        for subject in hosts.subjects().await? {
            let row = rows.iter().find(|r| r.name == subject.name);
            for host in &subject.hosts {
                out.push(TlsHostStatus {
                    host: host.clone(),
                    name: subject.name.clone(),
                    not_after: row.and_then(|r| r.not_after),
                    serial: row.and_then(|r| r.serial.clone()),
                    last_error: row.and_then(|r| r.last_error.clone()),
                    last_error_at: row.and_then(|r| r.last_error_at),
                });
            }
        }
        Ok(out)
    }
}

fn recently_failed(
    row: Option<&StoredCertificate>,
    policy: &RenewPolicy,
    now: DateTime<Utc>,
) -> bool {
    row.and_then(|r| r.last_error_at)
        .is_some_and(|at| now - at < policy.retry_failed_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(hosts: &[&str]) -> CertSubject {
        CertSubject {
            name: "a".into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        }
    }

    fn row(hosts: &[&str], not_after: DateTime<Utc>) -> StoredCertificate {
        StoredCertificate {
            name: "a".into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            cert_pem: Some("pem".into()),
            key_pem: Some("key".into()),
            not_after: Some(not_after),
            serial: Some("01".into()),
            issued_at: None,
            last_error: None,
            last_error_at: None,
        }
    }

    #[test]
    fn an_order_is_needed_when_missing_changed_or_expiring() {
        let now = Utc::now();
        let policy = RenewPolicy {
            renew_before: Duration::days(30),
            retry_failed_after: Duration::minutes(10),
        };
        let s = subject(&["a.test", "b.test"]);
        assert!(needs_order(&s, None, &policy, now));
        let fresh = row(&["b.test", "a.test"], now + Duration::days(60));
        assert!(!needs_order(&s, Some(&fresh), &policy, now));
        let soon = row(&["a.test", "b.test"], now + Duration::days(29));
        assert!(needs_order(&s, Some(&soon), &policy, now));
        let fewer = row(&["a.test"], now + Duration::days(60));
        assert!(needs_order(&s, Some(&fewer), &policy, now));
        let mut failed_only = fresh.clone();
        failed_only.cert_pem = None;
        assert!(needs_order(&s, Some(&failed_only), &policy, now));
    }
}
