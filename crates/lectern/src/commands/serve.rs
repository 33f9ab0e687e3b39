//! `lectern serve`: the site, until SIGTERM or Ctrl-C.
//!
//! Shutdown order: readiness turns 503 (load balancers stop sending), a
//! short drain (job workers stop claiming), then the listener closes and
//! in-flight requests finish; running jobs get `shutdown_job_deadline_secs`
//! to finish or go back to the queue; the database pools close last, so
//! every acknowledged write is on disk.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use super::site::Site;
use super::sites::Sites;
use crate::config::Config;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let default = Arc::new(Site::open(&config).await?);
    let app = default.app.clone();
    let state = default.state.clone();
    // Requests go to the default site or to an instance by host name
    // (docs/instances.md); with no instance registered, all to the default.
    let sites = Sites::new(config.clone(), default.clone()).await;
    crate::memory::trim_after_bursts();
    // The operator console (docs/operators.md) is the default site's only.
    let probe = super::instance_probe::Probe::new(config.clone());
    probe.attach(&sites);
    app.set_instance_probe(probe);
    // With `[tls] listen`, HTTPS (and plain HTTP beside it) replace `listen`.
    let tls = super::tls_serve::prepare(&config, &app).await?;
    let (listener, addr) = match &tls {
        Some(tls) => (None, tls.https_addr),
        None => {
            let listener = TcpListener::bind(&config.listen)
                .await
                .with_context(|| format!("listening on {}", config.listen))?;
            let addr = listener
                .local_addr()
                .context("reading the listening address")?;
            (Some(listener), addr)
        }
    };
    let base = match &tls {
        Some(_) => format!("https://{addr}"),
        None => format!("http://{addr}"),
    };
    say!(
        "Lectern is running at {base}/ (data in {}, {} database)",
        config.data_dir.display(),
        app.backend()
    );
    if let Some(plain) = tls.as_ref().and_then(|t| t.plain_addr()) {
        say!("Plain HTTP at http://{plain}/ (ACME challenges, /health, /metrics; the rest redirects to HTTPS)");
    }
    if let Some(secret) = app.setup_secret().await? {
        say!("No administrator yet: open {base}/setup/{secret} to create one (or run `lectern user create --admin`).");
    }
    tracing::info!(%addr, "listening");

    let (stop_keeper, keeper_stopped) = tokio::sync::watch::channel(false);
    let keeper = sites.start_keeper(keeper_stopped);
    let drain = Duration::from_secs(config.shutdown_drain_secs);
    let router = sites.router();
    let shutdown_sites = sites.clone();
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: readiness off, draining");
        shutdown_sites.default.begin_shutdown().await;
        shutdown_sites.begin_shutdown().await;
        tokio::time::sleep(drain).await;
    };
    match (tls, listener) {
        (Some(tls), _) => tls.serve(state, router, shutdown).await?,
        // The peer address feeds the sign-in throttle.
        (None, Some(listener)) => axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP")?,
        (None, None) => anyhow::bail!("no listener was bound"),
    }
    let _ = stop_keeper.send(true);
    let _ = keeper.await;
    // Running jobs finish within their deadline or go back to the queue;
    // the database pools close last.
    sites.close_all().await;
    default.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
