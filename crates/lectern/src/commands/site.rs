//! One site opened for serving: the app over its database with everything
//! `serve` plugs in (scheduled backups, the search index and its watcher,
//! the tracking log), its web state and router, and its job workers. The
//! default site and every instance are opened the same way from their own
//! configuration, so an instance runs exactly as a one-site deployment
//! would (`docs/instances.md`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use lectern_app::jobs::{JobState, WorkerConfig, Workers};
use lectern_app::outbox::MailState;
use lectern_app::search::SearchWatcher;
use lectern_app::store::Store;
use lectern_app::Lectern;
use lectern_web::{AppState, ThrottleConfig, WebConfig};
use tokio::sync::Mutex;

use crate::config::Config;

/// How long closing waits for the database pools.
const STORE_CLOSE_BOUND: Duration = Duration::from_secs(10);

pub struct Site {
    pub app: Lectern,
    pub state: AppState,
    pub router: Router,
    store: Arc<dyn Store>,
    /// Taken when the site closes.
    background: Mutex<Option<(Workers, SearchWatcher)>>,
}

impl Site {
    /// Opens `config`'s database (applying migrations) and starts the
    /// site's background work.
    pub async fn open(config: &Config) -> anyhow::Result<Site> {
        let (app, store) = super::open_app(config).await?;
        // Scheduled backups run as jobs; the scheduler wakes often enough
        // to start each within a quarter of the schedule's interval.
        let mut schedule_every = WorkerConfig::default().schedule_every;
        let app = match super::backup_schedule::Schedule::from_config(config)? {
            Some(schedule) => {
                if let Some(i) = schedule
                    .interval(chrono::Utc::now())
                    .and_then(|i| (i / 4).to_std().ok())
                {
                    schedule_every = schedule_every.min(i).max(Duration::from_secs(1));
                }
                let runner = super::backup_schedule::Scheduled::new(config, schedule)?;
                app.with_backups(Arc::new(runner))
            }
            None => app,
        };
        // The search index: in memory, filled by the watcher's first sync
        // (the full rebuild) and kept current by its polls (docs/search.md).
        let app = if config.search.enabled {
            let index = lectern_search::TantivyIndex::new()
                .map_err(|e| anyhow::anyhow!("creating the search index: {e}"))?;
            app.with_search(Arc::new(index))
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
        let watcher = SearchWatcher::start(&app, Duration::from_millis(config.search.poll_ms));
        let state = AppState::new(app.clone(), web_config(config)?);
        let router = lectern_web::app(state.clone());
        // Background work (regrades, mail, reports, backups) runs from the
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
        Ok(Site {
            app,
            state,
            router,
            store,
            background: Mutex::new(Some((workers, watcher))),
        })
    }

    /// Readiness off and no new jobs claimed: the start of shutdown.
    pub async fn begin_shutdown(&self) {
        self.state.begin_shutdown();
        if let Some((workers, _)) = self.background.lock().await.as_ref() {
            workers.stop_claiming();
        }
    }

    /// Whether work is under way that closing would interrupt: a running
    /// job, or mail waiting in the outbox.
    pub async fn busy(&self) -> bool {
        let jobs = self.app.job_counts().await.unwrap_or_default();
        let mail = self.app.mail_counts().await.unwrap_or_default();
        jobs.iter().any(|(s, n)| *s == JobState::Running && *n > 0)
            || mail.iter().any(|(s, n)| *s == MailState::Queued && *n > 0)
    }

    /// Stops the background work (running jobs get their deadline, then go
    /// back to the queue) and closes the database.
    pub async fn close(&self) {
        let background = self.background.lock().await.take();
        if let Some((workers, watcher)) = background {
            workers.shutdown().await;
            watcher.stop().await;
        }
        // Closing waits for every connection to come back to its pool; one
        // stuck on a cut network link never does. Everything acknowledged
        // is already committed, so past the bound the pools are dropped.
        if tokio::time::timeout(STORE_CLOSE_BOUND, self.store.close())
            .await
            .is_err()
        {
            tracing::warn!(
                seconds = STORE_CLOSE_BOUND.as_secs(),
                "database connections did not close in time"
            );
        }
    }
}

fn web_config(config: &Config) -> anyhow::Result<WebConfig> {
    Ok(WebConfig {
        secure_cookies: config.secure_cookies,
        max_body_bytes: config.max_body_bytes,
        max_upload_bytes: config.max_upload_bytes,
        upload_dir: config.data_dir.join("uploads"),
        site_name: config.site_name.clone(),
        logo_url: config.logo_url.trim().to_string(),
        contact_email: config.contact_email.trim().to_string(),
        throttle: ThrottleConfig {
            account_failures: config.login_failures_per_account,
            address_failures: config.login_failures_per_address,
            address_attempts: config.login_attempts_per_address,
            registrations_per_address: config.registrations_per_address,
            window: Duration::from_secs(config.login_lockout_secs),
        },
        trusted_proxies: config.trusted_proxy_addrs()?,
        ..WebConfig::default()
    })
}
