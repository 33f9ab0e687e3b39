//! One module per subcommand, plus the wiring they share.

pub mod backup;
pub mod config;
pub mod doctor;
pub mod serve;
pub mod transfer;
pub mod user;

use std::sync::Arc;

use anyhow::Context;
use lectern_app::{AppSettings, Lectern};
use lectern_store::SqliteStore;

use crate::config::Config;

/// Opens the configured database (creating the data folder) and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<SqliteStore> {
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data folder {}", config.data_dir.display()))?;
        SqliteStore::open(&config.database_path())
            .await
            .with_context(|| format!("opening the database {}", config.database_path().display()))
    } else if config.database_url.starts_with("sqlite:") {
        SqliteStore::open_url(&config.database_url)
            .await
            .context("opening the database")
    } else {
        anyhow::bail!(
            "database_url {:?} is not supported by this build: use sqlite://PATH (PostgreSQL support is planned)",
            config.database_url
        )
    }
}

/// The app over the configured store.
pub async fn open_app(config: &Config) -> anyhow::Result<(Lectern, SqliteStore)> {
    let store = open_store(config).await?;
    let settings = AppSettings {
        site_url: config.public_url(),
        ..AppSettings::default()
    };
    let mut app = Lectern::new(Arc::new(store.clone()), settings);
    if !config.smtp.host.trim().is_empty() {
        let mailer = lectern_mail::SmtpMailer::new(&config.smtp)
            .map_err(|e| anyhow::anyhow!("bad [smtp] setting: {e}"))?;
        app = app.with_mailer(Arc::new(mailer));
    }
    Ok((app, store))
}
