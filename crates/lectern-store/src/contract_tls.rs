//! The contract of `TlsStore`, on both backends: a failure recorded before
//! any certificate, a certificate replacing it, a later failure keeping the
//! certificate, the ACME account per directory, and challenge answers that
//! expire.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use lectern_app::store::Store;
use lectern_app::tls::IssuedCertificate;

pub async fn run(store: &dyn Store) {
    let now = Utc::now();
    let hosts = vec!["a.test".to_string(), "b.test".to_string()];
    assert!(store.tls_certificates().await.unwrap().is_empty());

    store
        .record_tls_failure("a.test", &hosts, "connection refused", now)
        .await
        .unwrap();
    let rows = store.tls_certificates().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].hosts, hosts);
    assert_eq!(rows[0].cert_pem, None);
    assert_eq!(rows[0].last_error.as_deref(), Some("connection refused"));

    let issued = IssuedCertificate {
        cert_pem: "CERT".into(),
        key_pem: "KEY".into(),
        not_after: now + Duration::days(90),
        serial: "0a1b".into(),
    };
    store
        .save_tls_certificate("a.test", &hosts, &issued, now)
        .await
        .unwrap();
    let row = store.tls_certificates().await.unwrap().remove(0);
    assert_eq!(row.cert_pem.as_deref(), Some("CERT"));
    assert_eq!(row.key_pem.as_deref(), Some("KEY"));
    assert_eq!(row.serial.as_deref(), Some("0a1b"));
    assert_eq!(
        row.not_after.map(|t| t.timestamp_millis()),
        Some((now + Duration::days(90)).timestamp_millis())
    );
    assert_eq!(row.last_error, None, "a success clears the failure");

    let later = now + Duration::minutes(5);
    store
        .record_tls_failure("a.test", &hosts, "DNS problem", later)
        .await
        .unwrap();
    let row = store.tls_certificates().await.unwrap().remove(0);
    assert_eq!(
        row.cert_pem.as_deref(),
        Some("CERT"),
        "a failure keeps the certificate"
    );
    assert_eq!(row.last_error.as_deref(), Some("DNS problem"));
    assert_eq!(
        row.last_error_at.map(|t| t.timestamp_millis()),
        Some(later.timestamp_millis())
    );

    let dir = "https://acme.test/dir";
    assert_eq!(store.acme_account(dir).await.unwrap(), None);
    store
        .save_acme_account(dir, "{\"id\":1}", now)
        .await
        .unwrap();
    store
        .save_acme_account(dir, "{\"id\":2}", now)
        .await
        .unwrap();
    assert_eq!(
        store.acme_account(dir).await.unwrap().as_deref(),
        Some("{\"id\":2}")
    );
    assert_eq!(
        store.acme_account("https://other.test/").await.unwrap(),
        None
    );

    store
        .put_acme_challenge("tok", "tok.thumb", now + Duration::minutes(30))
        .await
        .unwrap();
    store
        .put_acme_challenge("old", "old.thumb", now - Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        store.acme_challenge("tok", now).await.unwrap().as_deref(),
        Some("tok.thumb")
    );
    assert_eq!(
        store.acme_challenge("old", now).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.acme_challenge("nope", now).await.unwrap(), None);
    store.delete_acme_challenge("tok", now).await.unwrap();
    assert_eq!(store.acme_challenge("tok", now).await.unwrap(), None);
}
