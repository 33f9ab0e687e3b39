//! TLS certificates, the ACME account and pending HTTP-01 answers
//! (`TlsStore`) for `Db<DB>`, once for both backends. Every write is one
//! upsert or delete, so two nodes writing at once each leave a whole row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::store::StoreResult;
use lectern_app::tls::IssuedCertificate;
use lectern_app::tls::{StoredCertificate, TlsStore};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use super::db::{Backend, Db};
use super::errors::map_err;
use crate::time::{from_millis, to_millis};

#[derive(sqlx::FromRow)]
struct CertificateRow {
    name: String,
    hosts: String,
    cert_pem: Option<String>,
    key_pem: Option<String>,
    not_after: Option<i64>,
    serial: Option<String>,
    issued_at: Option<i64>,
    last_error: Option<String>,
    last_error_at: Option<i64>,
}

impl CertificateRow {
    fn into_certificate(self) -> StoredCertificate {
        StoredCertificate {
            name: self.name,
            hosts: self.hosts.split_whitespace().map(str::to_string).collect(),
            cert_pem: self.cert_pem,
            key_pem: self.key_pem,
            not_after: self.not_after.map(from_millis),
            serial: self.serial,
            issued_at: self.issued_at.map(from_millis),
            last_error: self.last_error,
            last_error_at: self.last_error_at.map(from_millis),
        }
    }
}

#[async_trait]
impl<DB> TlsStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<<DB as Database>::Row>,
    usize: ColumnIndex<<DB as Database>::Row>,
{
    async fn tls_certificates(&self) -> StoreResult<Vec<StoredCertificate>> {
        let rows: Vec<CertificateRow> = sqlx::query_as(
            "SELECT name, hosts, cert_pem, key_pem, not_after, serial, issued_at, last_error, last_error_at \
             FROM tls_certificates ORDER BY name",
        )
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        Ok(rows
            .into_iter()
            .map(CertificateRow::into_certificate)
            .collect())
    }

    async fn save_tls_certificate(
        &self,
        name: &str,
        hosts: &[String],
        issued: &IssuedCertificate,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO tls_certificates (name, hosts, cert_pem, key_pem, not_after, serial, issued_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
                 ON CONFLICT (name) DO UPDATE SET hosts = $2, cert_pem = $3, key_pem = $4, not_after = $5, \
                 serial = $6, issued_at = $7, updated_at = $7, last_error = NULL, last_error_at = NULL",
            )
            .bind(name.to_string())
            .bind(hosts.join(" "))
            .bind(issued.cert_pem.clone())
            .bind(issued.key_pem.clone())
            .bind(to_millis(issued.not_after))
            .bind(issued.serial.clone())
            .bind(to_millis(now)),
        )
        .await?;
        Ok(())
    }

    async fn record_tls_failure(
        &self,
        name: &str,
        hosts: &[String],
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // The hosts of a row with a certificate stay those it covers.
        self.execute_write(
            sqlx::query(
                "INSERT INTO tls_certificates (name, hosts, last_error, last_error_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (name) DO UPDATE SET last_error = $3, last_error_at = $4, updated_at = $4",
            )
            .bind(name.to_string())
            .bind(hosts.join(" "))
            .bind(error.to_string())
            .bind(to_millis(now)),
        )
        .await?;
        Ok(())
    }

    async fn acme_account(&self, directory: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT credentials FROM acme_accounts WHERE directory = $1")
                .bind(directory.to_string())
                .fetch_optional(&self.write)
                .await
                .map_err(map_err)?;
        Ok(row.map(|(c,)| c))
    }

    async fn save_acme_account(
        &self,
        directory: &str,
        credentials: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO acme_accounts (directory, credentials, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (directory) DO UPDATE SET credentials = $2",
            )
            .bind(directory.to_string())
            .bind(credentials.to_string())
            .bind(to_millis(now)),
        )
        .await?;
        Ok(())
    }

    async fn put_acme_challenge(
        &self,
        token: &str,
        key_authorization: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO acme_challenges (token, key_authorization, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (token) DO UPDATE SET key_authorization = $2, expires_at = $3",
            )
            .bind(token.to_string())
            .bind(key_authorization.to_string())
            .bind(to_millis(expires_at)),
        )
        .await?;
        Ok(())
    }

    async fn acme_challenge(&self, token: &str, now: DateTime<Utc>) -> StoreResult<Option<String>> {
        // The write pool: the CA may ask right after another node wrote it.
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT key_authorization FROM acme_challenges WHERE token = $1 AND expires_at > $2",
        )
        .bind(token.to_string())
        .bind(to_millis(now))
        .fetch_optional(&self.write)
        .await
        .map_err(map_err)?;
        Ok(row.map(|(k,)| k))
    }

    async fn delete_acme_challenge(&self, token: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.execute_write(
            sqlx::query("DELETE FROM acme_challenges WHERE token = $1 OR expires_at <= $2")
                .bind(token.to_string())
                .bind(to_millis(now)),
        )
        .await?;
        Ok(())
    }
}
