//! `lectern config example`: prints the example configuration file.

use clap::Subcommand;

use crate::config::Config;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print an example lectern.toml with every setting and its default.
    Example,
}

pub fn run(command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Example => say_part!("{}", Config::example_toml()),
    }
    Ok(())
}
