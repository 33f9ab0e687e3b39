//! `lectern serve` with `[tls] listen` set: the HTTPS listener, the
//! plain-HTTP one (`http_listen`), and each node's certificate refresher
//! (`docs/tls.md`).
//!
//! The refresher reloads the SNI map from the database every
//! `refresh_secs` (so a certificate another node ordered is served here
//! within that), and when a certificate is missing or due it tries the
//! `tls_renew` lease and, holding it, orders; it reloads right after its
//! own issuance. It runs until `stop`, which ends an order in progress (its
//! lease and challenge answers expire by themselves).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use axum::Router;
use lectern_app::tls::RenewOutcome;
use lectern_app::{AppError, Lectern};
use lectern_web::tls::{plain_router, server_config, CertMap, TlsListener};
use lectern_web::AppState;
use tokio::net::TcpListener;

use crate::config::Config;

/// The bound listeners and the certificates they serve.
pub struct TlsServing {
    https: TlsListener,
    pub https_addr: SocketAddr,
    plain: Option<(TcpListener, SocketAddr)>,
    refresher: Option<Refresher>,
}

/// Loads the certificates (own files, or what the database holds) and
/// binds both listeners; `None` when `[tls] listen` is empty.
pub async fn prepare(config: &Config, app: &Lectern) -> anyhow::Result<Option<TlsServing>> {
    let tls = &config.tls;
    if !tls.enabled() {
        return Ok(None);
    }
    let certs = Arc::new(CertMap::new());
    if tls.uses_acme() {
        let n = certs.load(&app.tls_certificates().await?);
        tracing::info!(certificates = n, "certificates loaded from the database");
    } else {
        let (cert, key) = super::tls::read_own_files(config).map_err(|e| anyhow::anyhow!(e))?;
        certs
            .set_single(&cert, &key)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    let rustls = server_config(certs.clone()).map_err(|e| anyhow::anyhow!(e))?;
    let tcp = TcpListener::bind(&tls.listen)
        .await
        .with_context(|| format!("listening on [tls] listen {}", tls.listen))?;
    let https_addr = tcp.local_addr().context("reading the HTTPS address")?;
    let plain = if tls.http_listen.trim().is_empty() {
        None
    } else {
        let l = TcpListener::bind(&tls.http_listen)
            .await
            .with_context(|| format!("listening on [tls] http_listen {}", tls.http_listen))?;
        let a = l.local_addr().context("reading the plain HTTP address")?;
        Some((l, a))
    };
    // Started once both ports are bound: the CA's first request may come
    // within milliseconds of the first order.
    let refresher = tls
        .uses_acme()
        .then(|| Refresher::start(app.clone(), certs, config.clone()));
    Ok(Some(TlsServing {
        https: TlsListener::new(tcp, rustls),
        https_addr,
        plain,
        refresher,
    }))
}

impl TlsServing {
    pub fn plain_addr(&self) -> Option<SocketAddr> {
        self.plain.as_ref().map(|(_, a)| *a)
    }

    /// Serves HTTPS (and plain HTTP) until `shutdown` completes, then stops
    /// the refresher.
    pub async fn serve(
        self,
        state: AppState,
        router: Router,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let TlsServing {
            https,
            https_addr,
            plain,
            refresher,
        } = self;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let https = axum::serve(
            https.tap_io(|_| {}),
            router
                .clone()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let port = https_addr.port();
        let plain = async move {
            let Some((listener, _)) = plain else {
                return Ok(());
            };
            let mut stop = stop_rx;
            axum::serve(
                listener,
                plain_router(state, router, port)
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await
        };
        let (a, b) = tokio::join!(async move { https.await }, plain);
        if let Some(r) = refresher {
            r.stop().await;
        }
        a.context("serving HTTPS")?;
        b.context("serving plain HTTP")?;
        Ok(())
    }
}

/// Each node's certificate refresher (see the module docs).
pub struct Refresher {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Refresher {
    fn start(app: Lectern, certs: Arc<CertMap>, config: Config) -> Self {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let every = Duration::from_secs(config.tls.refresh_secs);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = refresh(&app, &certs, &config) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
            }
        });
        Self { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the certificate refresher ended abnormally");
        }
    }
}

/// One round: order what is due (holding the lease), then reload the map.
async fn refresh(app: &Lectern, certs: &CertMap, config: &Config) {
    let hosts = super::tls::hosts(config, app);
    let policy = super::tls::policy(config);
    match app.tls_renewal_due(&hosts, &policy).await {
        Ok(true) => {
            let holder = format!("{}/tls", app.node_id());
            let issuer = super::tls::issuer(config);
            match app
                .renew_tls_certificates(&hosts, &issuer, &policy, false, &holder)
                .await
            {
                Ok(outcomes) => {
                    for o in outcomes {
                        if let RenewOutcome::Failed { name, error } = o {
                            tracing::warn!(%name, %error, "certificate order failed");
                        }
                    }
                }
                Err(AppError::Conflict(_)) => {
                    tracing::debug!("another node is ordering certificates")
                }
                Err(e) => tracing::warn!(error = %e, "certificate renewal failed"),
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "checking certificates for renewal failed"),
    }
    match app.tls_certificates().await {
        Ok(rows) => {
            certs.load(&rows);
        }
        Err(e) => {
            tracing::warn!(error = %e, "reloading certificates failed; serving the ones loaded")
        }
    }
}
