//! `lectern tls status` and `lectern tls renew [--force]`, and what the
//! other commands share about `[tls]`: the host source, the ACME issuer,
//! the renewal policy, and doctor's lines (`docs/tls.md`).

use std::path::PathBuf;

use anyhow::bail;
use clap::Subcommand;
use lectern_app::instances::DeploymentHosts;
use lectern_app::tls::{ConfiguredHosts, RenewOutcome, RenewPolicy, TlsHostStatus};
use lectern_app::Lectern;

use crate::acme::AcmeIssuer;
use crate::config::Config;

/// After a failed order, how long a serving node waits before trying again
/// on its own (`lectern tls renew` tries at once).
const RETRY_FAILED_MINUTES: i64 = 60;

#[derive(Subcommand)]
pub enum TlsCommand {
    /// Each host's certificate: expiry, serial, the last failed order.
    Status,
    /// Order certificates that are missing or due now (this command, not a
    /// serving node, places the orders; a node must answer the challenges).
    Renew {
        /// Order new certificates for every host even if not due.
        #[arg(long)]
        force: bool,
    },
}

pub async fn run(config: Config, command: TlsCommand) -> anyhow::Result<()> {
    if !config.tls.uses_acme() {
        let own = !config.tls.cert_file.trim().is_empty();
        if own && matches!(command, TlsCommand::Status) {
            say!("{}", own_files(&config).map_err(|e| anyhow::anyhow!(e))?);
            return Ok(());
        }
        bail!("[tls] hosts is empty: there are no ACME certificates to show or renew");
    }
    let (app, store) = super::open_app(&config).await?;
    let result = match command {
        TlsCommand::Status => status(&config, &app).await,
        TlsCommand::Renew { force } => renew(&config, &app, force).await,
    };
    store.close().await;
    result
}

async fn status(config: &Config, app: &Lectern) -> anyhow::Result<()> {
    for line in app.tls_status(&hosts(config, app)).await? {
        say!("{}", describe(&line));
    }
    Ok(())
}

async fn renew(config: &Config, app: &Lectern, force: bool) -> anyhow::Result<()> {
    let holder = format!("{}/tls-cli", app.node_id());
    let outcomes = app
        .renew_tls_certificates(
            &hosts(config, app),
            &issuer(config),
            &policy(config),
            force,
            &holder,
        )
        .await?;
    let mut failed = false;
    for outcome in outcomes {
        match outcome {
            RenewOutcome::Fresh { name, not_after } => {
                say!("{name}: valid until {not_after}; not due (use --force to renew anyway)")
            }
            RenewOutcome::Issued {
                name,
                serial,
                not_after,
            } => say!("{name}: issued, serial {serial}, valid until {not_after}"),
            RenewOutcome::Failed { name, error } => {
                failed = true;
                say!("{name}: FAILED: {error} (the previous certificate, if any, is still served)");
            }
            RenewOutcome::Waiting { name } => {
                say!("{name}: failed recently; not retried yet (use --force)")
            }
        }
    }
    if failed {
        bail!("some certificates could not be ordered");
    }
    Ok(())
}

/// One host's line for `status` and `doctor`.
fn describe(s: &TlsHostStatus) -> String {
    let cert = match (&s.not_after, &s.serial) {
        (Some(t), Some(serial)) => format!("certificate valid until {t}, serial {serial}"),
        _ => "no certificate yet".to_string(),
    };
    match (&s.last_error, &s.last_error_at) {
        (Some(e), Some(at)) => format!("{}: {cert}; last order FAILED at {at}: {e}", s.host),
        _ => format!("{}: {cert}", s.host),
    }
}

/// `doctor`'s TLS lines: one per host, failing when the host has no
/// certificate, it has expired, or its last order failed.
pub async fn doctor(config: &Config, app: &Lectern) -> Vec<(String, Result<String, String>)> {
    if !config.tls.enabled() {
        return vec![(
            "tls".into(),
            Ok("off (plain HTTP; [tls] listen is empty)".into()),
        )];
    }
    if !config.tls.uses_acme() {
        return vec![("tls".into(), own_files(config))];
    }
    let lines = match app.tls_status(&hosts(config, app)).await {
        Ok(lines) => lines,
        Err(e) => return vec![("tls".into(), Err(e.to_string()))],
    };
    let now = chrono::Utc::now();
    lines
        .iter()
        .map(|s| {
            let text = describe(s);
            let bad = s.last_error.is_some() || s.not_after.is_none_or(|t| t <= now);
            (
                format!("tls {}", s.host),
                if bad { Err(text) } else { Ok(text) },
            )
        })
        .collect()
}

/// The own certificate files, loaded as `serve` loads them.
fn own_files(config: &Config) -> Result<String, String> {
    let (cert, _) = read_own_files(config)?;
    let facts = lectern_web::tls::leaf_facts(&cert)?;
    Ok(format!(
        "own certificate {}: valid until {}, serial {}",
        config.tls.cert_file, facts.not_after, facts.serial
    ))
}

/// `[tls] cert_file` and `key_file`, read and checked to belong together.
pub fn read_own_files(config: &Config) -> Result<(String, String), String> {
    let cert = std::fs::read_to_string(&config.tls.cert_file)
        .map_err(|e| format!("reading [tls] cert_file {}: {e}", config.tls.cert_file))?;
    let key = std::fs::read_to_string(&config.tls.key_file)
        .map_err(|e| format!("reading [tls] key_file {}: {e}", config.tls.key_file))?;
    lectern_web::tls::certified_key(&cert, &key).map_err(|e| {
        format!(
            "[tls] cert_file {} and key_file {}: {e}",
            config.tls.cert_file, config.tls.key_file
        )
    })?;
    Ok((cert, key))
}

/// The host names needing certificates: `[tls] hosts` and every enabled
/// instance's (`docs/instances.md`).
pub fn hosts(config: &Config, app: &Lectern) -> DeploymentHosts {
    DeploymentHosts {
        configured: ConfiguredHosts(config.tls.hosts.clone()),
        app: app.clone(),
    }
}

pub fn issuer(config: &Config) -> AcmeIssuer {
    let non_empty = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    AcmeIssuer {
        directory: config.tls.directory().to_string(),
        contact_email: non_empty(&config.tls.contact_email),
        ca_file: non_empty(&config.tls.acme_ca_file).map(PathBuf::from),
    }
}

pub fn policy(config: &Config) -> RenewPolicy {
    RenewPolicy {
        renew_before: chrono::Duration::days(i64::from(config.tls.renew_before_days)),
        retry_failed_after: chrono::Duration::minutes(RETRY_FAILED_MINUTES),
    }
}
