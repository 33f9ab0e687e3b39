//! Which database the integration suite runs on. The README's test command
//! runs the suite twice: once on SQLite (the default) and once with
//! `TEST_DATABASE=postgres`, where every test site and every `lectern`
//! process a test starts gets its own fresh database on the throwaway server
//! named by `TEST_POSTGRES_URL` (see `lectern_store::testing`).

use std::path::Path;
use std::process::Command;

/// The variable that selects the backend (`sqlite`, the default, or `postgres`).
const BACKEND_VAR: &str = "TEST_DATABASE";

/// Where the database URL of a data folder's PostgreSQL database is kept, so
/// that every command a test runs in one folder uses one database.
const URL_FILE: &str = "test-database-url";

pub fn on_postgres() -> bool {
    std::env::var(BACKEND_VAR).is_ok_and(|v| v == "postgres")
}

/// `lectern` run in `dir` on this run's backend: on PostgreSQL,
/// `LECTERN_DATABASE_URL` names the folder's own database (made on first use).
pub fn lectern_in(dir: &Path) -> Command {
    std::fs::create_dir_all(dir).expect("data folder");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lectern"));
    cmd.current_dir(dir).env_remove("RUST_LOG");
    on_backend(&mut cmd, dir);
    cmd
}

/// Points a command that runs `lectern` (perhaps through `prlimit`) at the
/// database of the data folder `dir` on this run's backend.
pub fn on_backend<'c>(cmd: &'c mut Command, dir: &Path) -> &'c mut Command {
    if let Some(url) = database_url_for(dir) {
        cmd.env("LECTERN_DATABASE_URL", url);
    }
    cmd
}

/// The PostgreSQL URL for a data folder, or `None` on SQLite.
pub fn database_url_for(dir: &Path) -> Option<String> {
    if !on_postgres() {
        return None;
    }
    std::fs::create_dir_all(dir).expect("data folder");
    let file = dir.join(URL_FILE);
    if let Ok(url) = std::fs::read_to_string(&file) {
        return Some(url);
    }
    let admin = std::env::var(lectern_store::testing::POSTGRES_URL_VAR)
        .expect("TEST_DATABASE=postgres needs TEST_POSTGRES_URL (scripts/postgres.sh)");
    let url = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(lectern_store::testing::fresh_postgres_database(&admin))
    })
    .join()
    .expect("creating a test database")
    .expect("creating a test database");
    std::fs::write(&file, &url).expect("remembering the test database");
    Some(url)
}

/// Bytes the site in data folder `dir` keeps: the SQLite data folder
/// (`dir/lectern-data`, 0 before it exists), or the size of the folder's
/// PostgreSQL database.
pub fn stored_bytes(dir: &Path) -> u64 {
    match database_url_for(dir) {
        None => crate::uploads::folder_bytes(&dir.join("lectern-data")),
        Some(url) => {
            let out = Command::new("psql")
                .args(["-tAc", "SELECT pg_database_size(current_database())"])
                .arg(&url)
                .output()
                .expect("psql");
            let text = String::from_utf8_lossy(&out.stdout);
            text.trim().parse().unwrap_or_else(|_| {
                panic!(
                    "database size of {url}: {text} {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
        }
    }
}

/// The store of a test site whose data folder is `dir`: SQLite in the
/// folder, or the folder's own PostgreSQL database on the PostgreSQL leg.
/// Opening it again (a second node) reaches the same database.
pub async fn store_in(dir: &Path) -> std::sync::Arc<dyn lectern_app::store::Store> {
    let url = database_url_for(dir).unwrap_or_default();
    lectern_store::open(&url, &dir.join("lectern.db"), 8)
        .await
        .expect("opening the test database")
}
