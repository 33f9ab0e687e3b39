//! `lectern instance create|list|set|disable|enable|delete`, and the
//! configuration every other command runs with under `--instance NAME`
//! (`docs/instances.md`). The registry is in the deployment's database; a
//! running `serve` reads it every `[instances] refresh_ms`.

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use lectern_app::instances::{check_name, Instance};
use lectern_app::store::Store;
use lectern_app::{AppSettings, Lectern};
use lectern_store::Backend;

use crate::config::Config;
use crate::config_instances::with_assignments;

#[derive(Subcommand)]
pub enum InstanceCommand {
    /// Register a site answering HOST (and more hosts), with its own database; prints its setup link.
    Create {
        name: String,
        /// A host name the instance answers (learn.example.org); repeat for more.
        #[arg(long = "host", value_name = "HOST", required = true)]
        hosts: Vec<String>,
        /// Its own database (sqlite://PATH or postgres://…); default: a SQLite file in
        /// DATA/instances/NAME, or a new database beside the deployment's on PostgreSQL.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// List the instances: name, state, hosts, database.
    List,
    /// Set an instance's own settings: site_name, site_url, secure_cookies, smtp.*, mail.*, limits.*.
    Set {
        name: String,
        /// KEY=VALUE, e.g. site_name="Acme Academy" smtp.host=mail.acme.org limits.max_courses=20
        #[arg(required = true, value_name = "KEY=VALUE")]
        assignments: Vec<String>,
    },
    /// Switch an instance off: its hosts answer nothing; its data stays.
    Disable { name: String },
    /// Switch an instance back on.
    Enable { name: String },
    /// Back an instance up, then remove it and its data folder; prints where the backup is.
    Delete { name: String },
}

/// The deployment's own app, for the registry, and its store to close.
async fn registry(config: &Config) -> anyhow::Result<(Lectern, Arc<dyn Store>)> {
    let store = super::open_store(config).await?;
    Ok((Lectern::new(store.clone(), AppSettings::default()), store))
}

/// The configuration of instance `name`, for `--instance NAME`.
pub async fn config_of(config: &Config, name: &str) -> anyhow::Result<Config> {
    check_name(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (app, store) = registry(config).await?;
    let instance = app.instance(name).await;
    store.close().await;
    config.for_instance(&instance.map_err(|_| {
        anyhow::anyhow!("there is no instance named {name} (see `lectern instance list`)")
    })?)
}

/// Host names the default site keeps: its own address's and its TLS hosts.
pub fn reserved_hosts(config: &Config) -> Vec<String> {
    let url = config.public_url();
    let own = url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default().to_string())
        .and_then(|authority| lectern_app::instances::host_of_request(&authority));
    own.into_iter()
        .chain(
            config
                .tls
                .hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase()),
        )
        .chain(std::iter::once("localhost".to_string()))
        .collect()
}

pub async fn run(config: Config, command: InstanceCommand) -> anyhow::Result<()> {
    let (app, store) = registry(&config).await?;
    let result = match command {
        InstanceCommand::Create {
            name,
            hosts,
            database,
        } => create(&config, &app, &name, &hosts, database.as_deref()).await,
        InstanceCommand::List => list(&app).await,
        InstanceCommand::Set { name, assignments } => {
            let instance = app.instance(&name).await?;
            let settings = with_assignments(&instance.settings, &assignments)?;
            config.for_instance(&Instance {
                settings: settings.clone(),
                ..instance
            })?;
            app.set_instance_settings(&name, &settings).await?;
            say!(
                "instance {name}: settings saved (open instances pick them up when they next open)"
            );
            Ok(())
        }
        InstanceCommand::Disable { name } => {
            app.set_instance_disabled(&name, true).await?;
            say!("instance {name} disabled: its hosts answer nothing now; its data stays");
            Ok(())
        }
        InstanceCommand::Enable { name } => {
            app.set_instance_disabled(&name, false).await?;
            say!("instance {name} enabled");
            Ok(())
        }
        InstanceCommand::Delete { name } => delete(&config, &app, &name).await,
    };
    store.close().await;
    result
}

async fn create(
    config: &Config,
    app: &Lectern,
    name: &str,
    hosts: &[String],
    database: Option<&str>,
) -> anyhow::Result<()> {
    check_name(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let database_url = match database.map(str::trim).filter(|d| !d.is_empty()) {
        Some(url) => {
            Backend::of(url)?;
            url.to_string()
        }
        None if Backend::of(&config.database_url)? == Backend::Postgres => {
            let db = instance_database_name(&config.database_url, name)?;
            lectern_store::create_postgres_database(&config.database_url, &db)
                .await
                .map_err(|e| match e {
                    lectern_app::StoreError::Conflict { .. } => anyhow::anyhow!(
                        "a PostgreSQL database named {db} already exists; give --database URL to use it"
                    ),
                    e => anyhow::anyhow!("creating the instance's database {db}: {e}"),
                })?
        }
        None => String::new(),
    };
    let instance = app
        .create_instance(name, hosts, &database_url, &reserved_hosts(config))
        .await?;
    // Open its database now, so a bad URL is said here, not at the first request.
    let own = config.for_instance(&instance)?;
    let opened = async {
        let store = super::open_store(&own).await?;
        let app = Lectern::new(store.clone(), AppSettings::default());
        let secret = app.setup_secret().await;
        store.close().await;
        anyhow::Ok(secret?)
    }
    .await;
    let secret = match opened {
        Ok(secret) => secret,
        Err(e) => {
            app.delete_instance(name).await.ok();
            return Err(e.context(format!(
                "opening the database of instance {name}; nothing was registered"
            )));
        }
    };
    say!(
        "instance {name} created: hosts {}; database {}",
        instance.hosts.join(", "),
        where_data(&own)
    );
    if let Some(secret) = secret {
        say!(
            "No administrator yet: open {}/setup/{secret} to create one (or run `lectern --instance {name} user create --admin`).",
            own.public_url()
        );
    }
    Ok(())
}

/// An instance's PostgreSQL database beside the deployment's: the
/// deployment's database name, `_`, the instance name (hyphens as `_`).
fn instance_database_name(deployment_url: &str, name: &str) -> anyhow::Result<String> {
    let path = deployment_url
        .split_once("://")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, path)| path.split('?').next().unwrap_or_default())
        .unwrap_or_default();
    let base = if path.is_empty() { "lectern" } else { path };
    let db = format!("{base}_{}", name.replace('-', "_")).to_ascii_lowercase();
    anyhow::ensure!(
        db.len() <= 63
            && db
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "cannot name a database for instance {name} after {base:?}; give --database URL"
    );
    Ok(db)
}

fn where_data(config: &Config) -> String {
    if config.database_url.trim().is_empty() {
        config.database_path().display().to_string()
    } else {
        redact(&config.database_url)
    }
}

/// A database URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &url[s + 3..at];
            let user = user.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

async fn list(app: &Lectern) -> anyhow::Result<()> {
    let all = app.instances().await?;
    if all.is_empty() {
        say!("no instances: the default site answers every host");
        return Ok(());
    }
    say!("NAME\tSTATE\tHOSTS\tDATABASE");
    for i in all {
        let state = if i.disabled { "disabled" } else { "enabled" };
        let db = if i.database_url.is_empty() {
            "sqlite (own folder)".to_string()
        } else {
            redact(&i.database_url)
        };
        say!("{}\t{state}\t{}\t{db}", i.name, i.hosts.join(","));
    }
    Ok(())
}

async fn delete(config: &Config, app: &Lectern, name: &str) -> anyhow::Result<()> {
    let instance = app.instance(name).await?;
    let own = config.for_instance(&instance)?;
    // Its default backup folder is inside the folder about to go, so the
    // last backup goes to the deployment's backups unless a target is set.
    let to = if config.backup.target.trim().is_empty() {
        Some(
            config
                .data_dir
                .join("backups")
                .join("instances")
                .join(name)
                .display()
                .to_string(),
        )
    } else {
        None
    };
    let location = super::backup::create_plain(&own, to.as_deref())
        .await
        .with_context(|| format!("backing up instance {name} first; nothing was removed"))?;
    say!("backup of instance {name} written to {location}");
    app.delete_instance(name).await?;
    // Its folder goes on every backend (on PostgreSQL it still holds its
    // tracking log and uploads); a PostgreSQL database is left in place.
    let dir = config.instance_dir(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    say!("instance {name} deleted, with its folder {}", dir.display());
    if !own.database_url.trim().is_empty() {
        say!(
            "its database {} was left in place (drop it when the backup is safe)",
            redact(&own.database_url)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_instance_database_is_named_after_the_deployments() {
        let name = |url, n| super::instance_database_name(url, n).ok();
        assert_eq!(
            name(
                "postgres://u:p@h1:5432,h2/lectern?target_session_attrs=read-write",
                "acme-2"
            )
            .as_deref(),
            Some("lectern_acme_2")
        );
        assert_eq!(name("postgres://u@h", "a").as_deref(), Some("lectern_a"));
        assert_eq!(name("postgres://u@h/Bad-Name", "a"), None);
    }

    #[test]
    fn passwords_stay_out_of_printed_urls() {
        assert_eq!(
            super::redact("postgres://lectern:hunter2@db:5432/x"),
            "postgres://lectern@db:5432/x"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
