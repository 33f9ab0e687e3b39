//! Structured logs: human-readable by default, JSON lines with `log_format = "json"`.
//!
//! Besides the log output, the subscriber carries lectern-store's
//! `commit_watch_layer` with its own filter: it must see PostgreSQL's
//! "canceling wait for synchronous replication" warnings whatever
//! `log_level`/`RUST_LOG` say, or a commit that was only committed locally
//! would be acknowledged (see `lectern_store::commit_watch`).

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::Config;

pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let output = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let output = if config.log_format == "json" {
        output.json().with_filter(filter).boxed()
    } else {
        output.with_filter(filter).boxed()
    };
    let result = tracing_subscriber::registry()
        .with(output)
        .with(lectern_store::commit_watch_layer())
        .try_init();
    if let Err(e) = result {
        eprintln!("warning: logging was already set up: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sqlx emits a server notice only if some layer wants it; with the
    /// log level at `error` the commit watch must still get PostgreSQL's
    /// warnings (the only test in this crate that sets up logging).
    #[test]
    fn the_commit_watch_sees_sqlx_warnings_whatever_the_log_level() {
        let config = Config {
            log_level: "error".into(),
            ..Config::default()
        };
        init(&config);
        assert!(lectern_store::commit_watch::layer_installed());
        assert!(tracing::enabled!(
            target: "sqlx::postgres::notice",
            tracing::Level::WARN
        ));
        assert!(!tracing::enabled!(target: "lectern", tracing::Level::WARN));
    }
}
