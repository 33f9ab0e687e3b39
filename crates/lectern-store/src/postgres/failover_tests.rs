//! The store against real PostgreSQL servers in the situations a failover
//! creates: a dead or silent first host, a read-only host, a primary that
//! turns read-only under a running store, every connection killed, and a
//! commit that comes back "committed locally".
//!
//! Besides the shared test server (`TEST_POSTGRES_URL`), some tests start
//! their own throwaway server with `scripts/postgres.sh` (a few seconds
//! each), because they need server-wide settings (read-only, a synchronous
//! standby that never comes) that must not touch other tests' server.

use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use lectern_app::store::UserStore;
use lectern_app::{NewUser, StoreError};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgConnection};

use super::PgStore;
use crate::testing::{fresh_postgres_database, postgres_admin_url};

/// A PostgreSQL server of this test's own, stopped when dropped.
struct OwnServer {
    dir: tempfile::TempDir,
    url: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres.sh")
}

impl OwnServer {
    fn start() -> OwnServer {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postgres.sh start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
        OwnServer { dir, url }
    }

    async fn admin(&self) -> PgConnection {
        PgConnectOptions::from_str(&self.url)
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Sets server-wide settings (`ALTER SYSTEM`) and reloads.
    async fn configure(&self, settings: &[(&str, &str)]) {
        let mut admin = self.admin().await;
        for (name, value) in settings {
            admin
                .execute(format!("ALTER SYSTEM SET {name} = '{value}'").as_str())
                .await
                .unwrap();
        }
        admin.execute("SELECT pg_reload_conf()").await.unwrap();
        admin.close().await.unwrap();
        // Backends pick up a reload at their next command; give the
        // postmaster a moment to signal them.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// `host:port` of this server.
    fn host(&self) -> String {
        host_of(&self.url)
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

/// `host:port` of a one-host URL.
fn host_of(url: &str) -> String {
    let after = url.split_once('@').map_or(url, |(_, a)| a);
    after.split('/').next().unwrap().to_string()
}

/// The database name of a one-host URL.
fn db_of(url: &str) -> String {
    url.rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

/// `postgres://lectern@H1,H2,…/DB?QUERY`.
fn multi(hosts: &[String], db: &str, query: &str) -> String {
    format!("postgres://lectern@{}/{db}?{query}", hosts.join(","))
}

/// A port on loopback where nothing listens (connections are refused).
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("127.0.0.1:{port}")
}

fn user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.org"),
        name: name.into(),
        password_hash: "x".into(),
        is_admin: false,
        is_course_creator: false,
    }
}

async fn server_port(store: &PgStore) -> i32 {
    sqlx::query_scalar("SELECT inet_server_port()")
        .fetch_one(&store.write)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_dead_and_a_silent_first_host_are_passed_over() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let url = fresh_postgres_database(&admin).await.unwrap();
    // Accepts TCP (the kernel's backlog) but never answers: only
    // connect_timeout gets past it.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = silent
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let hosts = [closed_port(), silent, host_of(&url)];
    let multi_url = multi(&hosts, &db_of(&url), "connect_timeout=1");
    let store = tokio::time::timeout(Duration::from_secs(20), PgStore::open(&multi_url))
        .await
        .expect("opening must not hang on a silent host")
        .unwrap();
    store.create_user(&user("alice")).await.unwrap();
    assert_eq!(
        server_port(&store).await.to_string(),
        host_of(&url).rsplit(':').next().unwrap()
    );
    store.close().await;
}

#[tokio::test]
async fn no_usable_host_is_a_clear_error_without_the_password() {
    let url = multi(&[closed_port(), closed_port()], "d", "connect_timeout=1")
        .replace("lectern@", "lectern:hunter2@");
    let err = PgStore::open(&url).await.err().unwrap().to_string();
    assert!(
        err.contains("no read-write PostgreSQL server among 127.0.0.1:"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_read_only_server_is_skipped_and_a_primary_turning_read_only_is_left() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let shared_url = fresh_postgres_database(&admin).await.unwrap();
    let db = db_of(&shared_url);
    // The shared server's database is migrated as a primary's would be.
    PgStore::open(&shared_url).await.unwrap().close().await;
    let own = OwnServer::start();
    let mut conn = own.admin().await;
    conn.execute(format!("CREATE DATABASE {db}").as_str())
        .await
        .unwrap();
    conn.close().await.unwrap();
    let shared_port = host_of(&shared_url).rsplit(':').next().unwrap().to_string();

    // 1. Own server read-only (what a standby says): skipped at open.
    own.configure(&[("default_transaction_read_only", "on")])
        .await;
    let url = multi(
        &[own.host(), host_of(&shared_url)],
        &db,
        "connect_timeout=2",
    );
    let store = PgStore::open(&url).await.unwrap();
    assert_eq!(server_port(&store).await.to_string(), shared_port);
    store.create_user(&user("bob")).await.unwrap();
    store.close().await;

    // 2. Own server writable: it is first in the list, so it is the primary.
    own.configure(&[("default_transaction_read_only", "off")])
        .await;
    let store = PgStore::open(&url).await.unwrap();
    assert_ne!(server_port(&store).await.to_string(), shared_port);
    store.create_user(&user("carol")).await.unwrap();

    // 3. It turns read-only under the running store (a demotion): the pooled
    // connection is dropped at checkout, a new one to it refused, and the
    // store finds the other server by itself within that same call.
    own.configure(&[("default_transaction_read_only", "on")])
        .await;
    // The very next write succeeds, on the other server.
    store.create_user(&user("dave")).await.unwrap();
    assert_eq!(server_port(&store).await.to_string(), shared_port);
    store.close().await;
}

#[tokio::test]
async fn the_pool_recovers_when_every_connection_is_killed() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let url = fresh_postgres_database(&admin).await.unwrap();
    let db = db_of(&url);
    let read_write = multi(&[host_of(&url)], &db, "target_session_attrs=read-write");
    for (form, store_url) in [("one host", url.clone()), ("read-write", read_write)] {
        let store = PgStore::open(&store_url).await.unwrap();
        store
            .create_user(&user(&format!("before{}", form.len())))
            .await
            .unwrap();
        let mut conn = PgConnectOptions::from_str(&admin)
            .unwrap()
            .connect()
            .await
            .unwrap();
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&db)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        assert!(!killed.is_empty() && killed.iter().all(|k| *k), "{form}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        // The very next call works: dead pooled connections are found at
        // checkout and replaced.
        store
            .create_user(&user(&format!("after{}", form.len())))
            .await
            .unwrap_or_else(|e| panic!("{form}: {e}"));
        store.close().await;
    }
}

/// A commit that waits for a synchronous standby that never comes, then is
/// cancelled: PostgreSQL answers success with "canceling wait for
/// synchronous replication … committed locally". The store must fail it.
#[tokio::test]
async fn a_commit_only_committed_locally_is_not_acknowledged() {
    use tracing_subscriber::layer::SubscriberExt;
    if postgres_admin_url().is_none() {
        return;
    }
    // The layer the binary installs; this test runs on one thread, so a
    // thread-local subscriber sees every poll of the store's futures.
    let subscriber = tracing_subscriber::registry().with(crate::commit_watch_layer());
    let _guard = tracing::subscriber::set_default(subscriber);

    let own = OwnServer::start();
    // Server-wide: commits wait for a standby named lectern_ghost, but only
    // in sessions that ask for synchronous_commit = on.
    own.configure(&[
        ("synchronous_standby_names", "lectern_ghost"),
        ("synchronous_commit", "local"),
    ])
    .await;
    let url = fresh_postgres_database(&own.url).await.unwrap();
    let migrated = PgStore::open(&url).await.unwrap();
    let alice = migrated.create_user(&user("alice")).await.unwrap();
    migrated.close().await;
    let waiting = format!("{url}?options=-c%20synchronous_commit%3Don");
    let store = PgStore::open(&waiting).await.unwrap();

    // An auto-committed write (INSERT … RETURNING) and a transaction.
    let mut admin = own.admin().await;
    let s = store.clone();
    let result = cancel_the_wait(&mut admin, async move {
        s.create_user(&user("bob")).await.map(|_| ())
    })
    .await;
    assert!(
        matches!(&result, Err(StoreError::Unavailable(m)) if m.contains("committed locally")),
        "create_user: {result:?}"
    );
    let s = store.clone();
    let result = cancel_the_wait(&mut admin, async move {
        s.set_password(alice.id, "new-hash", None).await
    })
    .await;
    assert!(
        matches!(&result, Err(StoreError::Unavailable(m)) if m.contains("committed locally")),
        "set_password: {result:?}"
    );
    // The writes are there on this server (committed locally): the server
    // really answered success, and only the store refused it.
    let bob: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE username = 'bob'")
        .fetch_one(&store.write)
        .await
        .unwrap();
    assert_eq!(bob, 1);
    admin.close().await.unwrap();
    store.close().await;
}

/// Runs `write` (on this thread: the test's runtime has one), waits until
/// its commit waits for the standby, cancels that wait as a driver's query
/// timeout would, and returns what the store answered.
async fn cancel_the_wait<F>(admin: &mut PgConnection, write: F) -> Result<(), StoreError>
where
    F: std::future::Future<Output = Result<(), StoreError>> + Send + 'static,
{
    let handle = tokio::spawn(write);
    let mut pid = None;
    for _ in 0..200 {
        pid = sqlx::query_scalar::<_, i32>(
            "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'",
        )
        .fetch_optional(&mut *admin)
        .await
        .unwrap();
        if pid.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = pid.expect("no commit waited for the standby");
    let cancelled: bool = sqlx::query_scalar("SELECT pg_cancel_backend($1)")
        .bind(pid)
        .fetch_one(&mut *admin)
        .await
        .unwrap();
    assert!(cancelled);
    handle.await.unwrap()
}

/// A TCP relay to `upstream` that can be cut like a network link: after
/// [`Relay::cut`] it forwards nothing more in either direction and answers
/// no new connection, but keeps every socket open (no reset reaches the
/// client, as in a partition).
struct Relay {
    addr: String,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (cut, watch) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((client, _)) = listener.accept().await {
                if *watch.borrow() {
                    held.push(client);
                    continue;
                }
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, watch.clone()));
                tokio::spawn(pipe(sr, cw, watch.clone()));
            }
        });
        Relay { addr, cut }
    }

    fn cut(&self) {
        let _ = self.cut.send(true);
    }
}

async fn until_cut(cut: &mut tokio::sync::watch::Receiver<bool>) {
    loop {
        let now = *cut.borrow_and_update();
        if now || cut.changed().await.is_err() {
            return;
        }
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut cut: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            _ = until_cut(&mut cut) => break,
            n = from.read(&mut buf) => match n {
                Ok(0) | Err(_) => return,
                Ok(n) => if to.write_all(&buf[..n]).await.is_err() { return },
            },
        }
    }
    // Cut: hold both halves open, forwarding nothing, until the test ends.
    std::future::pending::<()>().await;
    drop((from, to));
}

/// The primary's link is cut while the store holds pooled connections to
/// it: a call ends (503) within the checkout deadline instead of hanging,
/// and the store moves to the other host by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_link_to_the_primary_is_left_within_bounded_time() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let url = fresh_postgres_database(&admin).await.unwrap();
    let relay = Relay::start(host_of(&url)).await;
    let hosts = [relay.addr.clone(), host_of(&url)];
    let store = PgStore::open(&multi(&hosts, &db_of(&url), "connect_timeout=1"))
        .await
        .unwrap();
    // Several pooled connections through the relay.
    let writes = (0..4).map(|i| {
        let s = store.clone();
        async move { s.create_user(&user(&format!("pre{i}"))).await }
    });
    for r in futures_util::future::join_all(writes).await {
        r.unwrap();
    }
    relay.cut();
    let mut done = false;
    for i in 0..4 {
        let new = user(&format!("post{i}"));
        let call = store.create_user(&new);
        let outcome = tokio::time::timeout(super::ACQUIRE_TIMEOUT + Duration::from_secs(10), call)
            .await
            .expect("a call on a cut link must end by the checkout deadline");
        match outcome {
            Ok(_) => {
                done = true;
                break;
            }
            Err(e) => assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}"),
        }
    }
    assert!(done, "the store did not move to the reachable host");
    // Closing waits for every connection to come back, and one stuck on the
    // cut link never does (sqlx cannot time out a socket it owns): bounded,
    // so the test ends; the point above is made.
    let _ = tokio::time::timeout(Duration::from_secs(5), store.close()).await;
}
