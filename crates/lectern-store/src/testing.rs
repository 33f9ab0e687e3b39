//! Test support shared by this crate's contract tests and the binary's
//! integration tests: a fresh, empty PostgreSQL database per test on the
//! throwaway server that `scripts/postgres.sh` starts (the README's test
//! command starts one and names it in `TEST_POSTGRES_URL`).
//!
//! Without that variable the PostgreSQL tests cannot run; they say so and
//! pass only outside CI (`cargo test` on a laptop). Under CI (`CI` set) a
//! missing server is a failure, so a green CI run always means both backends
//! were tested.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// The variable naming the throwaway server's admin URL.
pub const POSTGRES_URL_VAR: &str = "TEST_POSTGRES_URL";

/// The admin URL of the test server, or `None` (with a note on stderr)
/// when there is none and this is not CI. Panics under CI without one.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{POSTGRES_URL_VAR} is not set: CI must run the PostgreSQL tests (scripts/test.sh starts a server)")
        }
        _ => {
            eprintln!("NOTE: {POSTGRES_URL_VAR} is not set; this PostgreSQL test did not run (scripts/postgres.sh starts a server)");
            None
        }
    }
}

/// Creates an empty database with a unique name on the server at
/// `admin_url` and returns its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> Result<String, sqlx::Error> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!(
        "lectern_test_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let options = PgConnectOptions::from_str(admin_url)?;
    let mut admin = options.connect().await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(with_database(admin_url, &name))
}

/// A new empty database on the test server, or `None` when there is no
/// server and this is not CI (see [`postgres_admin_url`]). A server that
/// refuses fails the test.
pub async fn fresh_postgres_url() -> Option<String> {
    let admin = postgres_admin_url()?;
    match fresh_postgres_database(&admin).await {
        Ok(url) => Some(url),
        Err(e) => panic!("creating a test database: {e}"),
    }
}

/// `url` with its database name replaced by `name` (the rest as given, so
/// the URL stays one libpq's tools such as `psql` accept too).
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            super::with_database("postgres://u@h:1/postgres", "t1"),
            "postgres://u@h:1/t1"
        );
        assert_eq!(
            super::with_database("postgres://u@h:1/postgres?sslmode=disable", "t1"),
            "postgres://u@h:1/t1?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://u@h:1", "t1"),
            "postgres://u@h:1/t1"
        );
    }
}
