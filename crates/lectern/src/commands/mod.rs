//! One module per subcommand, plus the wiring they share.

pub mod backup;
pub mod backup_pull;
pub mod backup_schedule;
pub mod backup_target;
pub mod config;
pub mod doctor;
pub mod instance;
pub mod instance_probe;
pub mod operator;
pub mod scripts;
pub mod serve;
pub mod site;
pub mod sites;
pub mod tls;
pub mod tls_serve;
pub mod transfer;
pub mod user;

use std::sync::Arc;

use anyhow::Context;
use lectern_app::store::Store;
use lectern_app::{AppSettings, Lectern};
use lectern_store::Backend;

use crate::config::Config;

/// Opens the configured database (SQLite by default, creating the data
/// folder; PostgreSQL for a `postgres://` URL) and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let backend = Backend::of(&config.database_url)?;
    if config.database_url.trim().is_empty() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data folder {}", config.data_dir.display()))?;
    }
    let what = match backend {
        _ if config.database_url.trim().is_empty() => {
            format!("the database {}", config.database_path().display())
        }
        Backend::Sqlite => "the SQLite database".to_string(),
        Backend::Postgres => "the PostgreSQL database".to_string(),
    };
    lectern_store::open(
        &config.database_url,
        &config.database_path(),
        config.database_max_connections,
    )
    .await
    .with_context(|| format!("opening {what}"))
}

/// The app over the configured store.
pub async fn open_app(config: &Config) -> anyhow::Result<(Lectern, Arc<dyn Store>)> {
    let store = open_store(config).await?;
    let settings = AppSettings {
        site_url: config.public_url(),
        idempotency_keep: chrono::Duration::hours(
            i64::try_from(config.idempotency_keep_hours).unwrap_or(24),
        ),
        session_cache_ttl: std::time::Duration::from_secs(config.session_cache_secs),
        mail: config.mail.settings(),
        limits: config.limits.site_limits(),
        ..AppSettings::default()
    };
    let mut app = Lectern::new(store.clone(), settings);
    if !config.smtp.host.trim().is_empty() {
        let mailer = lectern_mail::SmtpMailer::new(&config.smtp)
            .map_err(|e| anyhow::anyhow!("bad [smtp] setting: {e}"))?;
        app = app.with_mailer(Arc::new(mailer));
    }
    if let Some(runner) = scripts::runner(config) {
        app = app.with_python_runner(runner);
    }
    Ok((app, store))
}
