//! `lectern backup create|list|verify|prune` and `lectern restore`: thin
//! wiring of the `lectern-backup` use cases to the configured database, a
//! folder target (default `DATA/backups`), and a progress bar when stdout is
//! a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use lectern_app::backup::BackupStore;
use lectern_backup::ops::{self, Opener, Progress, RestoreOptions};
use lectern_backup::retention::{self, Policy};
use lectern_backup::{Encryption, Keys, LocalTarget};

use super::backup_target::{opener, target};
use crate::config::Config;

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Write one consistent backup of every row and file; prints its path.
    Create {
        /// Folder or s3://BUCKET/PREFIX to write to (default: [backup] target, else DATA/backups).
        #[arg(long = "to", value_name = "TARGET")]
        to: Option<String>,
        /// Encrypt with the passphrase in this file (first line).
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// Encrypt to this age public key (age1…); may be repeated.
        #[arg(long = "recipient", value_name = "AGE_KEY")]
        recipients: Vec<String>,
    },
    /// List the finished backups in a folder, oldest first.
    List {
        #[arg(long = "to", value_name = "TARGET")]
        to: Option<String>,
    },
    /// Re-read a backup and check every hash; --deep also restores it into a scratch database.
    Verify {
        /// A path, or an s3://BUCKET/KEY location as `list` prints it.
        path: String,
        #[arg(long)]
        deep: bool,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Fetch a fresh backup from a running node (or the newest from a backup folder), check it, file it.
    Pull {
        /// A node's address (http://HOST:PORT) or a backup folder.
        #[arg(long, value_name = "URL|DIR")]
        from: String,
        /// File holding a bearer token of an account with the backup role.
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Folder or s3://BUCKET/PREFIX to file it in (default: [backup] target, else DATA/backups).
        #[arg(long = "to", value_name = "TARGET")]
        to: Option<String>,
        #[command(flatten)]
        keep: KeepArgs,
        /// Keys for checking an encrypted backup copied from a folder.
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Delete the backups no retention policy keeps (restic's rules).
    Prune {
        #[arg(long = "to", value_name = "TARGET")]
        to: Option<String>,
        #[arg(long, default_value_t = 0)]
        keep_last: u32,
        #[arg(long, default_value_t = 0)]
        keep_daily: u32,
        #[arg(long, default_value_t = 0)]
        keep_weekly: u32,
        #[arg(long, default_value_t = 0)]
        keep_monthly: u32,
        #[arg(long, default_value_t = 0)]
        keep_yearly: u32,
        /// Only list what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
}

/// A retention policy applied after a pull.
#[derive(Args, Default)]
pub struct KeepArgs {
    #[arg(long, default_value_t = 0)]
    keep_last: u32,
    #[arg(long, default_value_t = 0)]
    keep_daily: u32,
    #[arg(long, default_value_t = 0)]
    keep_weekly: u32,
    #[arg(long, default_value_t = 0)]
    keep_monthly: u32,
    #[arg(long, default_value_t = 0)]
    keep_yearly: u32,
}

/// How to open an encrypted backup.
#[derive(Args, Default)]
pub struct KeyArgs {
    /// The passphrase it was encrypted with, in this file (first line).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// An age identity file (AGE-SECRET-KEY-…) for backups encrypted to a recipient.
    #[arg(long, value_name = "FILE")]
    pub identity_file: Option<PathBuf>,
}

fn read_secret(path: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let line = text.lines().next().unwrap_or("").to_string();
    anyhow::ensure!(!line.is_empty(), "{} is empty", path.display());
    Ok(line)
}

impl KeyArgs {
    fn keys(&self) -> anyhow::Result<Keys> {
        let mut keys = match &self.identity_file {
            Some(f) => Keys::identity_text(
                &std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
            )?,
            None => Keys::default(),
        };
        if let Some(f) = &self.passphrase_file {
            keys.passphrase = Keys::passphrase(&read_secret(f)?).passphrase;
        }
        Ok(keys)
    }
}

struct Bar(ProgressBar);

impl Bar {
    fn new() -> Arc<Self> {
        let bar = if std::io::stdout().is_terminal() {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        Arc::new(Bar(bar))
    }
}

impl Progress for Bar {
    fn start(&self, label: &str, total: u64) {
        let template = if total > 0 {
            "{msg:>12} [{bar:30}] {pos}/{len} rows ({per_sec})"
        } else {
            "{msg:>12} {spinner} {pos} rows ({per_sec})"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.0.set_style(style.progress_chars("=> "));
        }
        self.0.set_message(label.to_string());
        self.0.set_length(total);
        self.0.set_position(0);
    }
    fn rows(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// One unencrypted backup of `config`'s database into the target `to`
/// names (else the configured one); its location. `lectern instance
/// delete` takes one before it removes anything.
pub async fn create_plain(config: &Config, to: Option<&str>) -> anyhow::Result<String> {
    let store = super::open_store(config).await?;
    let target = target(config, to)?;
    let made = ops::create(
        store.as_ref(),
        target,
        &config.public_url(),
        Encryption::None,
        Bar::new(),
    )
    .await;
    store.close().await;
    Ok(made?.location)
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

pub async fn run(config: Config, command: BackupCommand) -> anyhow::Result<()> {
    match command {
        BackupCommand::Create {
            to,
            passphrase_file,
            recipients,
        } => {
            let enc = match (&passphrase_file, recipients.is_empty()) {
                (Some(_), false) => {
                    anyhow::bail!("give either --passphrase-file or --recipient, not both")
                }
                (Some(f), true) => Encryption::passphrase(&read_secret(f)?),
                (None, false) => Encryption::recipients(&recipients)?,
                (None, true) => Encryption::None,
            };
            let store = super::open_store(&config).await?;
            let target = target(&config, to.as_deref())?;
            let started = std::time::Instant::now();
            let made = ops::create(
                store.as_ref(),
                target,
                &config.public_url(),
                enc,
                Bar::new(),
            )
            .await?;
            eprintln!(
                "backed up {} rows in {} tables, {} in {:.1}s",
                made.manifest.total_rows(),
                made.manifest.tables.len(),
                human(made.size),
                started.elapsed().as_secs_f64()
            );
            say!("{}", made.location);
            Ok(())
        }
        BackupCommand::List { to } => {
            let target = target(&config, to.as_deref())?;
            for e in target.list()? {
                say!(
                    "{}\t{}\t{}",
                    e.created.format("%Y-%m-%dT%H:%M:%SZ"),
                    e.size,
                    e.location
                );
            }
            Ok(())
        }
        BackupCommand::Verify { path, deep, keys } => {
            let keys = Arc::new(keys.keys()?);
            let open = opener(&config, &path)?;
            let manifest = ops::verify(open.clone(), keys.clone(), Bar::new()).await?;
            if deep {
                deep_check(open, keys, &manifest).await?;
            }
            say!(
                "ok: {} tables, {} rows, schema {}, from {} at {}{}",
                manifest.tables.len(),
                manifest.total_rows(),
                manifest.schema_version,
                manifest.backend,
                manifest.created_at.format("%Y-%m-%dT%H:%M:%SZ"),
                if deep {
                    ", restored into a scratch database"
                } else {
                    ""
                }
            );
            Ok(())
        }
        BackupCommand::Pull {
            from,
            token_file,
            to,
            keep,
            keys,
        } => {
            let policy = Policy {
                last: keep.keep_last,
                daily: keep.keep_daily,
                weekly: keep.keep_weekly,
                monthly: keep.keep_monthly,
                yearly: keep.keep_yearly,
            };
            let target = target(&config, to.as_deref())?;
            super::backup_pull::pull(&from, token_file, target, keys.keys()?, policy).await
        }
        BackupCommand::Prune {
            to,
            keep_last,
            keep_daily,
            keep_weekly,
            keep_monthly,
            keep_yearly,
            dry_run,
        } => {
            let policy = Policy {
                last: keep_last,
                daily: keep_daily,
                weekly: keep_weekly,
                monthly: keep_monthly,
                yearly: keep_yearly,
            };
            let target = target(&config, to.as_deref())?;
            let entries = target.list()?;
            let times: Vec<_> = entries.iter().map(|e| e.created).collect();
            let kept = retention::keep(&times, &policy)?;
            for (e, keep) in entries.iter().zip(kept) {
                if keep {
                    continue;
                }
                if dry_run {
                    say!("would delete {}", e.location);
                } else {
                    target.delete(e)?;
                    say!("deleted {}", e.location);
                }
            }
            Ok(())
        }
    }
}

/// Restores the backup into a scratch SQLite database and compares its row
/// counts with the manifest.
async fn deep_check(
    open: Opener,
    keys: Arc<Keys>,
    manifest: &lectern_backup::Manifest,
) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir().context("making a scratch folder")?;
    let store = lectern_store::SqliteStore::open(&scratch.path().join("scratch.db")).await?;
    let opts = RestoreOptions {
        dry_run: false,
        force: false,
        safety_target: None,
        site: String::new(),
    };
    ops::restore(&store, open, keys, opts, Bar::new()).await?;
    let counts = store.row_counts().await?;
    store.close().await;
    for t in &manifest.tables {
        let got = counts.iter().find(|(n, _)| *n == t.name).map_or(0, |c| c.1);
        anyhow::ensure!(
            got == t.rows,
            "deep check: table {} has {got} rows after restore, the manifest says {}",
            t.name,
            t.rows
        );
    }
    Ok(())
}

/// `lectern restore PATH`.
pub async fn restore(
    config: Config,
    path: &str,
    dry_run: bool,
    force: bool,
    keys: KeyArgs,
) -> anyhow::Result<()> {
    let keys = Arc::new(keys.keys()?);
    let store = super::open_store(&config).await?;
    let opts = RestoreOptions {
        dry_run,
        force,
        safety_target: Some(Arc::new(LocalTarget::new(config.data_dir.join("backups")))),
        site: config.public_url(),
    };
    let started = std::time::Instant::now();
    let open = opener(&config, path)?;
    let done = ops::restore(store.as_ref(), open, keys, opts, Bar::new()).await?;
    if done.dry_run {
        say!(
            "dry run: the backup checks out ({} schema {}, {}); restoring would change:",
            done.manifest.backend,
            done.manifest.schema_version,
            done.manifest.created_at.format("%Y-%m-%dT%H:%M:%SZ")
        );
        let mut any = false;
        for (table, now, then) in &done.changes {
            if now != then {
                any = true;
                say!("  {table}: {now} rows -> {then} rows");
            }
        }
        if !any {
            say!("  no table changes its row count (rows would still be replaced)");
        }
        say!("nothing was changed");
        return Ok(());
    }
    if let Some(safety) = &done.safety_backup {
        say!("safety backup of the replaced data: {safety}");
    }
    say!(
        "restored {} rows in {} tables from {} in {:.1}s",
        done.rows,
        done.manifest.tables.len(),
        path,
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}
