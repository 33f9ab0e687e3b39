//! The renewal use case with a stand-in CA (no network): what is ordered
//! when, one node at a time under the `tls_renew` lease, a failure kept
//! beside the certificate it leaves in place, and HTTP-01 answers published
//! through the database and served by the plain-HTTP router.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{Duration, Utc};
use lectern_app::tls::{
    AcmeBoard, CertificateIssuer, ConfiguredHosts, IssuedCertificate, RenewOutcome, RenewPolicy,
    TLS_RENEW_LEASE,
};
use lectern_app::AppError;

use crate::support::TestSite;

/// A CA that answers from a script: each order fetches its own challenge
/// answer from the plain-HTTP side first (as a real CA would), then issues
/// serial `n` or fails with the scripted error.
struct ScriptedCa {
    plain_base: String,
    orders: AtomicUsize,
    fail_with: Mutex<Option<String>>,
    fetched: Mutex<Vec<(u16, String)>>,
}

#[async_trait]
impl CertificateIssuer for ScriptedCa {
    async fn issue(
        &self,
        hosts: &[String],
        board: &AcmeBoard<'_>,
    ) -> Result<IssuedCertificate, String> {
        let n = self.orders.fetch_add(1, Ordering::SeqCst) + 1;
        let token = format!("token-{n}");
        board
            .publish(&token, &format!("{token}.thumbprint"))
            .await
            .map_err(|e| e.to_string())?;
        let url = format!("{}/.well-known/acme-challenge/{token}", self.plain_base);
        let answer = reqwest::Client::new()
            .get(&url)
            .header("host", hosts[0].as_str())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status().as_u16();
        let text = answer.text().await.map_err(|e| e.to_string())?;
        self.fetched.lock().unwrap().push((status, text));
        board.withdraw(&token).await.map_err(|e| e.to_string())?;
        if let Some(error) = self.fail_with.lock().unwrap().clone() {
            return Err(error);
        }
        Ok(IssuedCertificate {
            cert_pem: format!("CERT {n}"),
            key_pem: format!("KEY {n}"),
            not_after: Utc::now() + Duration::days(90),
            serial: format!("{n:02}"),
        })
    }
}

async fn plain_side(site: &TestSite) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = lectern_web::tls::plain_router(
        site.state.clone(),
        lectern_web::app(site.state.clone()),
        443,
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_orders_when_due_on_one_node_and_keeps_the_old_certificate_on_failure() {
    let site = TestSite::spawn().await;
    let plain = plain_side(&site).await;
    let ca = ScriptedCa {
        plain_base: plain.clone(),
        orders: AtomicUsize::new(0),
        fail_with: Mutex::new(None),
        fetched: Mutex::new(Vec::new()),
    };
    let hosts = ConfiguredHosts(vec!["a.lectern.test".into(), "b.lectern.test".into()]);
    let policy = RenewPolicy {
        renew_before: Duration::days(30),
        retry_failed_after: Duration::minutes(60),
    };
    let app = &site.app;

    assert!(app.tls_renewal_due(&hosts, &policy).await.unwrap());
    let outcomes = app
        .renew_tls_certificates(&hosts, &ca, &policy, false, "node-a")
        .await
        .unwrap();
    assert!(
        matches!(&outcomes[..], [RenewOutcome::Issued { serial, .. }] if serial == "01"),
        "{outcomes:?}"
    );
    assert_eq!(
        ca.fetched.lock().unwrap()[0],
        (200, "token-1.thumbprint".to_string()),
        "the plain side answered the challenge from the database"
    );
    let status = reqwest::get(format!("{plain}/.well-known/acme-challenge/token-1"))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404, "a withdrawn answer is gone");
    let rows = app.tls_certificates().await.unwrap();
    assert_eq!(rows[0].cert_pem.as_deref(), Some("CERT 1"));
    assert_eq!(rows[0].hosts, hosts.0);

    // Not due: nothing ordered.
    assert!(!app.tls_renewal_due(&hosts, &policy).await.unwrap());
    let outcomes = app
        .renew_tls_certificates(&hosts, &ca, &policy, false, "node-a")
        .await
        .unwrap();
    assert!(
        matches!(&outcomes[..], [RenewOutcome::Fresh { .. }]),
        "{outcomes:?}"
    );
    assert_eq!(ca.orders.load(Ordering::SeqCst), 1);

    // Another node holding the lease: this one orders nothing.
    let now = Utc::now();
    let other_node = crate::backend::store_in(site.data_dir()).await;
    assert!(other_node
        .try_acquire_lease(TLS_RENEW_LEASE, "node-b", now, Duration::minutes(5))
        .await
        .unwrap());
    let err = app
        .renew_tls_certificates(&hosts, &ca, &policy, true, "node-a")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    assert_eq!(ca.orders.load(Ordering::SeqCst), 1);
    other_node
        .release_lease(TLS_RENEW_LEASE, "node-b")
        .await
        .unwrap();

    // A failed forced order keeps the certificate and records why.
    *ca.fail_with.lock().unwrap() = Some("DNS problem: NXDOMAIN".into());
    let outcomes = app
        .renew_tls_certificates(&hosts, &ca, &policy, true, "node-a")
        .await
        .unwrap();
    assert!(
        matches!(&outcomes[..], [RenewOutcome::Failed { error, .. }] if error.contains("NXDOMAIN")),
        "{outcomes:?}"
    );
    let status = app.tls_status(&hosts).await.unwrap();
    assert_eq!(status.len(), 2, "one line per host");
    for line in &status {
        assert_eq!(
            line.serial.as_deref(),
            Some("01"),
            "the old certificate stays"
        );
        assert_eq!(line.last_error.as_deref(), Some("DNS problem: NXDOMAIN"));
        assert!(line.last_error_at.is_some());
    }

    // A host added to the list makes an order due, but not right after a
    // failure (unless forced).
    let more = ConfiguredHosts(vec![
        "a.lectern.test".into(),
        "b.lectern.test".into(),
        "c.lectern.test".into(),
    ]);
    assert!(!app.tls_renewal_due(&more, &policy).await.unwrap());
    let outcomes = app
        .renew_tls_certificates(&more, &ca, &policy, false, "node-a")
        .await
        .unwrap();
    assert!(
        matches!(&outcomes[..], [RenewOutcome::Waiting { .. }]),
        "{outcomes:?}"
    );
    *ca.fail_with.lock().unwrap() = None;
    let outcomes = app
        .renew_tls_certificates(&more, &ca, &policy, true, "node-a")
        .await
        .unwrap();
    assert!(
        matches!(&outcomes[..], [RenewOutcome::Issued { .. }]),
        "{outcomes:?}"
    );
    let status = app.tls_status(&more).await.unwrap();
    assert_eq!(status.len(), 3);
    assert!(status
        .iter()
        .all(|s| s.last_error.is_none() && s.serial.as_deref() == Some("03")));

    // The rest of plain HTTP goes to HTTPS on 443: no port in the address.
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_follow
        .get(format!("{plain}/courses"))
        .header("host", "a.lectern.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(r.headers()["location"], "https://a.lectern.test/courses");
}
