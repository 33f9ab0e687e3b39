//! `lectern serve`: the site, until SIGTERM or Ctrl-C.
//!
//! Shutdown order: readiness turns 503 (load balancers stop sending), a
//! short drain (job workers stop claiming), then the listener closes and
//! in-flight requests finish; running jobs get `shutdown_job_deadline_secs`
//! to finish or go back to the queue; the database pools close last, so
//! every acknowledged write is on disk.

use std::time::Duration;

use anyhow::Context;
use lectern_app::jobs::{WorkerConfig, Workers};
use lectern_web::{AppState, ThrottleConfig, WebConfig};
use tokio::net::TcpListener;

use crate::config::Config;

/// How long shutdown waits for the database pools to close.
const STORE_CLOSE_BOUND: Duration = Duration::from_secs(10);

pub async fn run(config: Config) -> anyhow::Result<()> {
    let (app, store) = super::open_app(&config).await?;
    // Scheduled backups run as jobs; the scheduler wakes often enough to
    // start each within a quarter of the schedule's interval.
    let mut schedule_every = WorkerConfig::default().schedule_every;
    let app = match super::backup_schedule::Schedule::from_config(&config)? {
        Some(schedule) => {
            if let Some(i) = schedule
                .interval(chrono::Utc::now())
                .and_then(|i| (i / 4).to_std().ok())
            {
                schedule_every = schedule_every.min(i).max(Duration::from_secs(1));
            }
            let runner = super::backup_schedule::Scheduled::new(&config, schedule)?;
            app.with_backups(std::sync::Arc::new(runner))
        }
        None => app,
    };
    let web = WebConfig {
        secure_cookies: config.secure_cookies,
        max_body_bytes: config.max_body_bytes,
        max_upload_bytes: config.max_upload_bytes,
        upload_dir: config.data_dir.join("uploads"),
        site_name: config.site_name.clone(),
        throttle: ThrottleConfig {
            account_failures: config.login_failures_per_account,
            address_failures: config.login_failures_per_address,
            address_attempts: config.login_attempts_per_address,
            registrations_per_address: config.registrations_per_address,
            window: Duration::from_secs(config.login_lockout_secs),
        },
        trusted_proxies: config.trusted_proxy_addrs()?,
        ..WebConfig::default()
    };
    // The search index: in memory, filled by the watcher's first sync (the
    // full rebuild) and kept current by its polls (docs/search.md).
    let app = if config.search.enabled {
        let index = lectern_search::TantivyIndex::new()
            .map_err(|e| anyhow::anyhow!("creating the search index: {e}"))?;
        app.with_search(std::sync::Arc::new(index))
    } else {
        app
    };
    // The tracking log: JSON lines per day in the data folder (docs/tracking.md).
    let app = if config.tracking.enabled {
        let log = lectern_events::FileEventLog::start(lectern_events::EventFileSettings {
            folder: config.data_dir.join("tracking"),
            retention_days: config.tracking.retention_days,
            max_day_bytes: config.tracking.max_day_mb.saturating_mul(1024 * 1024),
        })
        .context("starting the tracking log")?;
        app.with_event_log(log)
    } else {
        app
    };
    let search_watcher = lectern_app::search::SearchWatcher::start(
        &app,
        Duration::from_millis(config.search.poll_ms),
    );
    let state = AppState::new(app.clone(), web);
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
    println!(
        "Lectern is running at {base}/ (data in {}, {} database)",
        config.data_dir.display(),
        app.backend()
    );
    if let Some(plain) = tls.as_ref().and_then(|t| t.plain_addr()) {
        println!("Plain HTTP at http://{plain}/ (ACME challenges, /health, /metrics; the rest redirects to HTTPS)");
    }
    if let Some(secret) = app.setup_secret().await? {
        println!("No administrator yet: open {base}/setup/{secret} to create one (or run `lectern user create --admin`).");
    }
    tracing::info!(%addr, "listening");

    // Background work (regrades, the expired-token cleanup) runs from the
    // database's job queue; see `lectern_app::jobs`.
    let workers = Workers::start(
        &app,
        WorkerConfig {
            workers: config.job_workers,
            lease: Duration::from_secs(config.job_lease_secs),
            shutdown_deadline: Duration::from_secs(config.shutdown_job_deadline_secs),
            schedule_every,
            ..WorkerConfig::default()
        },
    );
    let stopper = workers.stopper();

    let drain = Duration::from_secs(config.shutdown_drain_secs);
    let shutdown_state = state.clone();
    let router = lectern_web::app(state.clone());
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: readiness off, draining");
        shutdown_state.begin_shutdown();
        stopper.stop_claiming();
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
    // Running jobs finish within their deadline or go back to the queue.
    workers.shutdown().await;
    search_watcher.stop().await;
    // Closing waits for every connection to come back to its pool; one stuck
    // on a cut network link never does. Everything acknowledged is already
    // committed, so past the bound the process just exits.
    if tokio::time::timeout(STORE_CLOSE_BOUND, store.close())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = STORE_CLOSE_BOUND.as_secs(),
            "database connections did not close in time; exiting anyway"
        );
    }
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
