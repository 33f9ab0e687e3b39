//! The `lectern` binary: argument parsing and wiring only. Each subcommand
//! is one function in `commands/`; this is the one place that picks a store
//! and hands it to the app and web layers.

#[macro_use]
mod output;

mod acme;
mod commands;
mod config;
mod config_backup;
mod config_env;
mod config_example;
mod config_instances;
mod config_limits;
mod config_mail;
mod config_scripts;
mod config_search;
mod config_tls;
mod config_tracking;
mod logging;
mod memory;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lectern",
    version,
    about = "Lectern: a learning platform (LMS and Studio) in one binary"
)]
struct Cli {
    /// Data folder (database, generated secrets). Default ./lectern-data.
    #[arg(long = "data", global = true, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Configuration file (TOML). Default DATA/lectern.toml when present.
    #[arg(long = "config", global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run the command on this instance (its database, folder and settings; docs/instances.md).
    #[arg(long = "instance", global = true, value_name = "NAME")]
    instance: Option<String>,
    /// Log lines as `human` text (default) or `json`.
    #[arg(long = "log-format", global = true, value_name = "FORMAT")]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the site (LMS, Studio, API) until SIGTERM or Ctrl-C.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: commands::user::UserCommand,
    },
    /// Import an Open edX course export (.tar.gz, or an unpacked folder); prints the course key.
    Import {
        archive: PathBuf,
        /// Username to make the course's instructor.
        #[arg(long)]
        owner: Option<String>,
    },
    /// Export a course as an Open edX OLX archive (.tar.gz).
    Export { course_key: String, out: PathBuf },
    /// Apply database migrations and exit.
    Migrate,
    /// Back up the whole site, list, check and prune backups.
    Backup {
        #[command(subcommand)]
        command: commands::backup::BackupCommand,
    },
    /// Restore a backup into the configured database (checks it first).
    Restore {
        /// A path, or an s3://BUCKET/KEY location.
        path: String,
        /// Check the backup and report what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Replace a database that holds data (a safety backup of it is taken first).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        keys: commands::backup::KeyArgs,
    },
    /// Check configuration, data folder and database; exit 0 only when healthy.
    Doctor,
    /// TLS certificates from ACME: status and renewal (docs/tls.md).
    Tls {
        #[command(subcommand)]
        command: commands::tls::TlsCommand,
    },
    /// Many isolated sites from one deployment, routed by host name (docs/instances.md).
    Instance {
        #[command(subcommand)]
        command: commands::instance::InstanceCommand,
    },
    /// Operators: who may see every instance in the operator console (docs/operators.md).
    Operator {
        #[command(subcommand)]
        command: commands::operator::OperatorCommand,
    },
    /// Print configuration helpers.
    Config {
        #[command(subcommand)]
        command: commands::config::ConfigCommand,
    },
}

/// Rust's allocations go to jemalloc (issue 18, eighth pass): glibc's
/// malloc and free were about a quarter of an answer check's CPU, and with
/// jemalloc checks rose 17–28 % and the unit page went from 0.22–0.24 to
/// 0.30 of nginx, with idle memory within 2–4 MB of glibc's and 0.27–0.30 MB
/// kept per closed instance (issue 22 allows 1 MB). Its settings (freed
/// pages handed back after about a second by its own background thread,
/// two arenas) are compiled in through `JEMALLOC_SYS_WITH_MALLOC_CONF` in
/// `.cargo/config.toml`; `bench/README.md` has the measurements.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let overrides = config::Overrides {
        data_dir: cli.data.clone(),
        listen,
        config_file: cli.config.clone(),
    };
    let config = match config::Config::load(&overrides) {
        Ok(mut c) => {
            if let Some(f) = &cli.log_format {
                if !matches!(f.as_str(), "human" | "json") {
                    eprintln!("error: --log-format is human or json, not {f:?}");
                    return ExitCode::from(2);
                }
                c.log_format = f.clone();
            }
            c
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let config = match &cli.instance {
            None => config,
            Some(_) if matches!(cli.command, Command::Serve { .. } | Command::Instance { .. } | Command::Config { .. } | Command::Tls { .. } | Command::Operator { .. }) => {
                return Err(anyhow::anyhow!(
                    "--instance is for commands on one instance's data; serve, instance, tls, operator and config are the deployment's"
                ));
            }
            Some(name) => commands::instance::config_of(&config, name).await?,
        };
        match cli.command {
            Command::Serve { .. } => commands::serve::run(config).await,
            Command::User { command } => commands::user::run(config, command).await,
            Command::Import { archive, owner } => {
                commands::transfer::import(config, &archive, owner.as_deref()).await
            }
            Command::Export { course_key, out } => {
                commands::transfer::export(config, &course_key, &out).await
            }
            Command::Doctor => commands::doctor::run(config).await,
            Command::Backup { command } => commands::backup::run(config, command).await,
            Command::Restore {
                path,
                dry_run,
                force,
                keys,
            } => commands::backup::restore(config, &path, dry_run, force, keys).await,
            Command::Migrate => match commands::open_store(&config).await {
                Ok(store) => {
                    say!("{} database is up to date", store.backend());
                    store.close().await;
                    Ok(())
                }
                Err(e) => Err(e),
            },
            Command::Config { command } => commands::config::run(command),
            Command::Tls { command } => commands::tls::run(config, command).await,
            Command::Instance { command } => commands::instance::run(config, command).await,
            Command::Operator { command } => commands::operator::run(config, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
