//! `lectern user create`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;
use lectern_app::accounts::Registration;
use lectern_app::AppError;

use crate::config::Config;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// File holding the password (`-` reads standard input).
        #[arg(long)]
        password_file: PathBuf,
        /// Full name (defaults to the username).
        #[arg(long)]
        name: Option<String>,
        /// Make the account a site administrator.
        #[arg(long)]
        admin: bool,
    },
}

fn read_password(path: &PathBuf) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the password from standard input")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the password file {}", path.display()))?;
    }
    // One trailing newline is the file's, not the password's.
    let password = text
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(&text);
    Ok(password.to_string())
}

pub async fn run(config: Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            username,
            email,
            password_file,
            name,
            admin,
        } => {
            let password = read_password(&password_file)?;
            let (app, store) = super::open_app(&config).await?;
            let reg = Registration {
                name: name.unwrap_or_else(|| username.clone()),
                username,
                email,
                password,
            };
            let result = app.create_account(&reg, admin).await;
            store.close().await;
            match result {
                Ok(user) => {
                    say!(
                        "created {}{}",
                        user.username,
                        if user.is_admin {
                            " (site administrator)"
                        } else {
                            ""
                        }
                    );
                    Ok(())
                }
                Err(AppError::Invalid {
                    message,
                    field_errors,
                }) => {
                    let details: Vec<String> = field_errors
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect();
                    bail!("{message} {}", details.join("; "))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}
