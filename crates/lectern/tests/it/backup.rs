//! `lectern backup` and `lectern restore` end to end with the binary: a
//! backup taken while a learner keeps answering restores to exactly the
//! snapshot, row for row and byte for byte; a SIGKILL during create or
//! restore leaves no partial backup and a database that is untouched or
//! fully restored; bad input through the CLI is refused.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lectern_app::backup::{BackupStore, SnapshotSink, TableSchema, Value};
use lectern_app::StoreError;
use lectern_backup::archive::{ArchiveReader, Event};
use lectern_backup::Keys;
use lectern_store::SqliteStore;
use reqwest::StatusCode;
use serde_json::json;

use crate::backend::{lectern_in, on_postgres};
use crate::binary::{free_port, serve, sigterm, wait_exit};
use crate::support::{bearer, s, tar_gz, Client, PASSWORD};

const COURSE: &str = "course-v1:T+G+R";

/// Every table's rows, each row in a form that keeps every byte, sorted.
type Dump = BTreeMap<String, Vec<String>>;

#[derive(Default)]
struct Collect {
    dump: Dump,
    current: TableSchema,
}

/// A row as `column=value` pairs in column-name order, so that the same row
/// reads the same from either backend whatever the column order.
fn row_text(columns: &[String], values: &[Value]) -> String {
    let mut pairs: Vec<String> = columns
        .iter()
        .zip(values)
        .map(|(c, v)| format!("{c}={v:?}"))
        .collect();
    pairs.sort();
    pairs.join(", ")
}

#[async_trait]
impl SnapshotSink for Collect {
    async fn begin_table(&mut self, t: &TableSchema) -> Result<(), StoreError> {
        self.current = t.clone();
        self.dump.entry(t.name.clone()).or_default();
        Ok(())
    }
    async fn row(&mut self, values: Vec<Value>) -> Result<(), StoreError> {
        let text = row_text(&self.current.columns, &values);
        self.dump
            .entry(self.current.name.clone())
            .or_default()
            .push(text);
        Ok(())
    }
    async fn end_table(&mut self) -> Result<(), StoreError> {
        if let Some(rows) = self.dump.get_mut(&self.current.name) {
            rows.sort();
        }
        Ok(())
    }
}

/// The whole content of a database through the backend-neutral seam, so the
/// comparison is the same whichever backend each side runs on.
async fn dump(store: &dyn BackupStore) -> Dump {
    let mut c = Collect::default();
    store.snapshot(&mut c).await.unwrap();
    c.dump
}

/// Asserts that two dumps hold the same tables and, for the tables `which`
/// picks, the same rows; names the first table that differs (not the bytes).
fn same(left: &Dump, right: &Dump, which: impl Fn(&str) -> bool) {
    let names = |d: &Dump| d.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(left), names(right), "the same tables");
    for (table, rows) in left {
        if which(table) {
            let other = &right[table];
            assert!(
                rows == other,
                "table {table} differs: {} rows against {}",
                rows.len(),
                other.len()
            );
        }
    }
}

/// The whole content of an archive.
fn archive_dump(path: &Path) -> Dump {
    let file = std::fs::File::open(path).unwrap();
    let mut r = ArchiveReader::open(file, &Keys::default()).unwrap();
    let mut out = Dump::new();
    let mut current = TableSchema {
        name: String::new(),
        columns: Vec::new(),
    };
    loop {
        match r.next_event().unwrap() {
            Event::Table(t) => {
                out.entry(t.name.clone()).or_default();
                current = t;
            }
            Event::Row(v) => out
                .get_mut(&current.name)
                .unwrap()
                .push(row_text(&current.columns, &v)),
            Event::EndTable => out.get_mut(&current.name).unwrap().sort(),
            Event::Done(_) => return out,
        }
    }
}

pub(crate) fn db(dir: &Path) -> PathBuf {
    dir.join("lectern-data").join("lectern.db")
}

pub(crate) fn lectern(dir: &Path, args: &[&str]) -> Output {
    lectern_in(dir).args(args).output().unwrap()
}

pub(crate) fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub(crate) fn admin(dir: &Path) {
    let mut create = lectern_in(dir)
        .args([
            "user",
            "create",
            "--username",
            "root",
            "--email",
            "root@example.org",
        ])
        .args(["--password-file", "-", "--admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = create.stdin.take().unwrap();
    stdin.write_all(PASSWORD.as_bytes()).unwrap();
    drop(stdin);
    assert!(create.wait().unwrap().success());
}

/// Bytes that do not compress, the same every run.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub(crate) fn import(dir: &Path, name: &str, archive: Vec<u8>) {
    let path = dir.join(name);
    std::fs::write(&path, archive).unwrap();
    ok(&lectern(
        dir,
        &["import", path.to_str().unwrap(), "--owner", "root"],
    ));
}

/// A course with a static file of `size` bytes (several blob chunks).
pub(crate) fn course_with_asset(number: &str, size: usize) -> Vec<u8> {
    let course_xml = r#"<course display_name="Assets"><chapter url_name="c1" display_name="W"><sequential url_name="s1" display_name="S"><vertical url_name="v1" display_name="U"><html url_name="h1">&lt;p&gt;Hi&lt;/p&gt;</html></vertical></sequential></chapter></course>"#;
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            "course/course.xml".into(),
            format!(r#"<course url_name="R" org="A" course="{number}"/>"#).into_bytes(),
        ),
        ("course/course/R.xml".into(), course_xml.as_bytes().to_vec()),
        (
            "course/policies/R/policy.json".into(),
            br#"{"course/R": {}}"#.to_vec(),
        ),
        ("course/static/data.bin".into(), noise(size, size as u64)),
    ];
    let refs: Vec<(&str, &Vec<u8>)> = files.iter().map(|(p, b)| (p.as_str(), b)).collect();
    tar_gz(&refs)
}

async fn learner(base: &str, username: &str) -> String {
    let r = Client::for_base(base)
        .post_form(
            "/register",
            &[
                ("username", s(username)),
                ("email", format!("{username}@example.org")),
                ("name", s(username)),
                ("password", s(PASSWORD)),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let token = bearer(base, username).await;
    let r = reqwest::Client::new()
        .post(format!("{base}/api/enrollment/v1/enrollment"))
        .header("Authorization", &token)
        .json(&json!({"course_details": {"course_id": COURSE}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    token
}

async fn answer(base: &str, token: &str, block: &str, input: &str, value: &str) {
    let r = reqwest::Client::new()
        .post(format!(
            "{base}/api/problems/v1/block-v1:T+G+R+type@problem+block@{block}/check"
        ))
        .header("Authorization", token)
        .json(&json!({"answers": {input: value}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// Tables that change while the backup runs: the writer's, and the
/// server's own background work (its scheduler lease, the jobs it queues).
const MOVING: [&str; 6] = [
    "problem_states",
    "submissions",
    "course_grades",
    "subsection_grades",
    "leases",
    "jobs",
];

#[tokio::test]
async fn a_backup_under_load_restores_to_exactly_its_snapshot() {
    if on_postgres() {
        // This test reads the SQLite files of source and copy; the
        // PostgreSQL directions are `across_backends`, called below.
        return;
    }
    let src = tempfile::tempdir().unwrap();
    admin(src.path());
    import(src.path(), "g.tar.gz", crate::problems::grading_course(0.5));
    import(src.path(), "a.tar.gz", course_with_asset("A1", 3 << 20));
    import(src.path(), "b.tar.gz", course_with_asset("B2", 100_000));
    let port = free_port();
    let (mut server, _) = serve(src.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let mut tokens = Vec::new();
    for name in ["ann", "bob", "cat"] {
        let token = learner(&base, name).await;
        answer(&base, &token, "p1", "p1_2_1", "choice_1").await;
        answer(&base, &token, "p3", "p3_2_1", "choice_0").await;
        tokens.push(token);
    }
    // A discussion thread with a response and a vote goes into the backup too.
    let post = |token: &str, path: &str, body: serde_json::Value| {
        reqwest::Client::new()
            .post(format!("{base}{path}"))
            .header("Authorization", token)
            .json(&body)
            .send()
    };
    let r = post(&tokens[0], "/api/discussion/v1/threads/", serde_json::json!({
        "course_id": COURSE, "topic_id": "course", "type": "question", "title": "Backed up?", "raw_body": "I hope so"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let thread: serde_json::Value = r.json().await.unwrap();
    let r = post(
        &tokens[1],
        "/api/discussion/v1/comments/",
        serde_json::json!({
        "thread_id": thread["id"], "raw_body": "Yes"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let sessions = Client::for_base(&base);
    let r = sessions
        .post_form("/login", &[("login", s("ann")), ("password", s(PASSWORD))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // A learner keeps answering while the backup runs.
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let token = learner(&base, "wes").await;
    let writer = {
        let (acked, stop, base) = (acked.clone(), stop.clone(), base.clone());
        tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let value = if i.is_multiple_of(2) { "3.14" } else { "1" };
                answer(&base, &token, "p2", "p2_2_1", value).await;
                i += 1;
                acked.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while acked.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = acked.load(Ordering::SeqCst);
    let dir = src.path().to_path_buf();
    let made = tokio::task::spawn_blocking(move || lectern(&dir, &["backup", "create"]))
        .await
        .unwrap();
    let archive = PathBuf::from(src.path()).join(ok(&made));
    let during = acked.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    sigterm(&server);
    wait_exit(&mut server);
    assert!(during > before, "the writer kept writing during the backup");

    let dst = tempfile::tempdir().unwrap();
    let out = ok(&lectern(
        dst.path(),
        &["restore", archive.to_str().unwrap()],
    ));
    assert!(out.contains("restored"), "{out}");

    let source = SqliteStore::open(&db(src.path())).await.unwrap();
    let restored = SqliteStore::open(&db(dst.path())).await.unwrap();
    let (a, b) = (dump(&source).await, dump(&restored).await);
    // The restored database is the archive, row for row, byte for byte.
    same(&b, &archive_dump(&archive), |_| true);
    // Everything the writer did not touch equals the source.
    same(&a, &b, |t| !MOVING.contains(&t));
    assert!(b["blob_chunks"].len() >= 4, "the assets' chunks are in it");
    assert_eq!(b["discussion_threads"].len(), 1, "the discussion is in it");
    assert_eq!(b["discussion_comments"].len(), 1);
    assert_eq!(
        b["discussion_follows"].len(),
        1,
        "the author follows their thread"
    );
    // Submissions are append-only: the restored ones are the source's first
    // ones, including every answer acknowledged before the backup began.
    let subs_a = &a["submissions"];
    let subs_b = &b["submissions"];
    assert!(subs_b.iter().all(|r| subs_a.contains(r)));
    let total = acked.load(Ordering::SeqCst);
    assert!(
        subs_b.len() as u64 >= subs_a.len() as u64 - (total - before),
        "an answer acknowledged before the backup is missing: {} of {}",
        subs_b.len(),
        subs_a.len()
    );
    assert!(
        subs_b.len() < subs_a.len(),
        "answers after the snapshot are not in it"
    );
    source.close().await;
    restored.close().await;
    across_backends(&archive, &b).await;

    // The restored site serves: the learner signs in and sees their grade.
    let port = free_port();
    let (mut server, _) = serve(dst.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let token = bearer(&base, "ann").await;
    let r = reqwest::Client::new()
        .get(format!(
            "{base}/api/grades/v1/courses/{COURSE}/?username=ann"
        ))
        .header("Authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    sigterm(&server);
    wait_exit(&mut server);
}

/// SQLite → PostgreSQL → SQLite: the archive restored into PostgreSQL gives
/// the same rows (`expected`, the SQLite restore), and a backup of that
/// PostgreSQL database restored into a fresh SQLite data folder gives them
/// again, byte for byte. Runs when the throwaway PostgreSQL server is there
/// (`TEST_POSTGRES_URL`).
async fn across_backends(archive: &Path, expected: &Dump) {
    use lectern_backup::ops::{self, RestoreOptions, Silent};
    let Some(admin) = lectern_store::testing::postgres_admin_url() else {
        eprintln!("TEST_POSTGRES_URL is not set: SQLite <-> PostgreSQL legs skipped");
        return;
    };
    let url = lectern_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let pg = lectern_store::PgStore::open(&url).await.unwrap();
    let path = archive.to_path_buf();
    let open: ops::Opener = Arc::new(move || {
        Ok(Box::new(std::fs::File::open(&path).unwrap()) as Box<dyn std::io::Read + Send>)
    });
    let opts = RestoreOptions {
        dry_run: false,
        force: false,
        safety_target: None,
        site: String::new(),
    };
    ops::restore(&pg, open, Arc::new(Keys::default()), opts, Arc::new(Silent))
        .await
        .unwrap();
    same(&dump(&pg).await, expected, |_| true);

    let folder = tempfile::tempdir().unwrap();
    let target = Arc::new(lectern_backup::LocalTarget::new(folder.path()));
    let made = ops::create(
        &pg,
        target,
        "x",
        lectern_backup::Encryption::None,
        Arc::new(Silent),
    )
    .await
    .unwrap();
    pg.close().await;
    assert_eq!(made.manifest.backend, "postgres");
    let back = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_lectern"));
    let out = cmd
        .current_dir(back.path())
        .env_remove("LECTERN_DATABASE_URL")
        .args(["restore", &made.location])
        .output()
        .unwrap();
    ok(&out);
    let sqlite = SqliteStore::open(&db(back.path())).await.unwrap();
    same(&dump(&sqlite).await, expected, |_| true);
    sqlite.close().await;
}

/// A data folder whose database holds `n` files of 16 MiB of noise, so that
/// backing it up or restoring it takes long enough to be killed half-way.
pub(crate) async fn big_site(dir: &Path, n: u64) -> lectern_app::backup::RowCounts {
    use lectern_app::store::BlobStore;
    std::fs::create_dir_all(db(dir).parent().unwrap()).unwrap();
    let store = SqliteStore::open(&db(dir)).await.unwrap();
    for i in 0..n {
        let bytes = noise(16 << 20, i + 1);
        store
            .put_blob_stream(&format!("{i:064x}"), bytes.len() as u64, &mut &bytes[..])
            .await
            .unwrap();
    }
    let counts = store.row_counts().await.unwrap();
    store.close().await;
    counts
}

fn files_in(dir: &Path, prefix: &str) -> Vec<(String, u64)> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    let len = e.metadata().ok()?.len();
                    name.starts_with(prefix).then_some((name, len))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn sigkill(child: &mut std::process::Child) {
    assert!(
        child.try_wait().unwrap().is_none(),
        "lectern finished before it could be killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_create_killed_half_way_leaves_no_backup_that_looks_good() {
    if on_postgres() {
        return;
    }
    let src = tempfile::tempdir().unwrap();
    big_site(src.path(), 6).await;
    let backups = src.path().join("lectern-data").join("backups");
    let mut child = lectern_in(src.path())
        .args(["backup", "create"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("a partly written backup", || {
        files_in(&backups, ".partial-")
            .iter()
            .any(|(_, len)| *len > 4 << 20)
    });
    sigkill(&mut child);
    assert_eq!(files_in(&backups, ".partial-").len(), 1, "killed half-way");
    assert_eq!(ok(&lectern(src.path(), &["backup", "list"])), "");
    // The next backup is whole and the only one listed.
    let path = ok(&lectern(src.path(), &["backup", "create"]));
    let listed = ok(&lectern(src.path(), &["backup", "list"]));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.ends_with(&path), "{listed}");
    ok(&lectern(src.path(), &["backup", "verify", &path]));
}

#[tokio::test]
async fn a_restore_killed_half_way_leaves_the_old_data_or_all_the_new() {
    if on_postgres() {
        return;
    }
    let src = tempfile::tempdir().unwrap();
    let full = big_site(src.path(), 6).await;
    let archive = src
        .path()
        .join(ok(&lectern(src.path(), &["backup", "create"])));
    let dst = tempfile::tempdir().unwrap();
    admin(dst.path());
    let before = {
        let store = SqliteStore::open(&db(dst.path())).await.unwrap();
        let counts = store.row_counts().await.unwrap();
        store.close().await;
        counts
    };
    let mut child = lectern_in(dst.path())
        .args(["restore", "--force", archive.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The safety backup comes after the archive is checked and before the
    // transaction begins; the transaction then writes 96 MiB.
    let safety = dst.path().join("lectern-data").join("backups");
    wait_for("the safety backup", || {
        !files_in(&safety, "lectern-").is_empty()
    });
    std::thread::sleep(Duration::from_millis(150));
    sigkill(&mut child);
    let store = SqliteStore::open(&db(dst.path())).await.unwrap();
    let after = store.row_counts().await.unwrap();
    store.close().await;
    assert!(
        after == before || after == full,
        "half a restore: {after:?}"
    );
    eprintln!(
        "killed restore left {}",
        if after == before {
            "the old data"
        } else {
            "the new data"
        }
    );
    // Run to the end, the restore gives back the whole site.
    ok(&lectern(
        dst.path(),
        &["restore", "--force", archive.to_str().unwrap()],
    ));
    let store = SqliteStore::open(&db(dst.path())).await.unwrap();
    assert_eq!(store.row_counts().await.unwrap(), full);
    store.close().await;
}

#[tokio::test]
async fn bad_input_through_the_cli_is_refused_and_changes_nothing() {
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    admin(dir.path());
    // A target that is a file.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"mine").unwrap();
    let out = lectern(
        dir.path(),
        &["backup", "create", "--to", file.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write backups"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), b"mine");
    // A wrong passphrase.
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "right\n").unwrap();
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "wrong\n").unwrap();
    let path = ok(&lectern(
        dir.path(),
        &[
            "backup",
            "create",
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    ));
    for cmd in [&["backup", "verify"][..], &["restore", "--force"][..]] {
        let mut args = cmd.to_vec();
        args.extend([path.as_str(), "--passphrase-file", wrong.to_str().unwrap()]);
        let out = lectern(dir.path(), &args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("wrong passphrase"), "{err}");
    }
    ok(&lectern(
        dir.path(),
        &[
            "backup",
            "verify",
            &path,
            "--deep",
            "--passphrase-file",
            pass.to_str().unwrap(),
        ],
    ));
    // A truncated archive: refused by verify and restore; the site keeps its data.
    let bytes = std::fs::read(dir.path().join(&path)).unwrap();
    let short = dir.path().join("short.lbk");
    std::fs::write(&short, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let out = lectern(dir.path(), &["restore", "--force", short.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("wrong passphrase")
            || err.contains("--passphrase-file")
            || err.contains("damaged"),
        "{err}"
    );
    let plain = ok(&lectern(dir.path(), &["backup", "create"]));
    let bytes = std::fs::read(dir.path().join(&plain)).unwrap();
    std::fs::write(&short, &bytes[..bytes.len() / 2]).unwrap();
    for cmd in [&["backup", "verify"][..], &["restore", "--force"][..]] {
        let mut args = cmd.to_vec();
        args.push(short.to_str().unwrap());
        let out = lectern(dir.path(), &args);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("damaged or incomplete"), "{err}");
    }
    // A non-empty database needs --force; a dry run changes nothing.
    let out = lectern(dir.path(), &["restore", &plain]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let dry = ok(&lectern(dir.path(), &["restore", "--dry-run", &plain]));
    assert!(dry.contains("nothing was changed"), "{dry}");
    // Two backups listed (the failed restores took no safety backup, since
    // they stopped at the check that comes first).
    let listed = ok(&lectern(dir.path(), &["backup", "list"]));
    assert_eq!(listed.lines().count(), 2, "{listed}");
}
