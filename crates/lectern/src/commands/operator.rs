//! `lectern operator grant|revoke|list`: who may use the operator console
//! (`docs/operators.md`). Operators are accounts of the deployment's own
//! site, so these commands refuse `--instance`.

use clap::Subcommand;

use crate::config::Config;

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Make an account of the deployment's own site an operator.
    Grant { username: String },
    /// Take the operator role from an account.
    Revoke { username: String },
    /// List the operators.
    List,
}

pub async fn run(config: Config, command: OperatorCommand) -> anyhow::Result<()> {
    let (app, store) = super::open_app(&config).await?;
    let result = match command {
        OperatorCommand::Grant { username } => app.grant_operator(&username).await.map(|changed| {
            if changed {
                say!("{username} is now an operator");
            } else {
                say!("{username} was already an operator");
            }
        }),
        OperatorCommand::Revoke { username } => {
            app.revoke_operator(&username).await.map(|changed| {
                if changed {
                    say!("{username} is no longer an operator");
                } else {
                    say!("{username} was not an operator");
                }
            })
        }
        OperatorCommand::List => app.operators().await.map(|names| {
            if names.is_empty() {
                say!("no operators (lectern operator grant USERNAME makes one)");
            }
            for name in names {
                say!("{name}");
            }
        }),
    };
    store.close().await;
    Ok(result?)
}
