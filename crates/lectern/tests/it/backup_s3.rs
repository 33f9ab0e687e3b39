//! Backups in S3-compatible storage through the binary, against moto's
//! server mode: create, list, verify, prune and restore with `s3://`
//! targets; a server that goes away mid-upload is a clear error and leaves
//! no object behind.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::backend::{lectern_in, on_postgres};
use crate::backup::{admin, big_site, course_with_asset, import, ok, wait_for};
use crate::moto::{CutProxy, Moto};

fn s3_lectern(dir: &Path, endpoint: &str) -> Command {
    let mut cmd = lectern_in(dir);
    cmd.env("LECTERN_BACKUP_S3_ENDPOINT", endpoint)
        .env("LECTERN_BACKUP_S3_TIMEOUT_SECS", "5")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    cmd
}

fn run(dir: &Path, endpoint: &str, args: &[&str]) -> Output {
    s3_lectern(dir, endpoint).args(args).output().unwrap()
}

#[tokio::test]
async fn backups_live_in_s3_from_create_to_restore() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    moto.bucket("site-backups").await;
    let target = "s3://site-backups/lectern/main";
    let src = tempfile::tempdir().unwrap();
    admin(src.path());
    // A course with a 12 MiB file: the archive takes more than one part.
    import(src.path(), "a.tar.gz", course_with_asset("S3", 12 << 20));
    let e = &moto.endpoint;
    let first = ok(&run(src.path(), e, &["backup", "create", "--to", target]));
    assert!(
        first.starts_with("s3://site-backups/lectern/main/lectern-"),
        "{first}"
    );
    std::thread::sleep(Duration::from_millis(20));
    let second = ok(&run(src.path(), e, &["backup", "create", "--to", target]));
    let listed = ok(&run(src.path(), e, &["backup", "list", "--to", target]));
    let locations: Vec<&str> = listed
        .lines()
        .map(|l| l.rsplit('\t').next().unwrap())
        .collect();
    assert_eq!(locations, [first.as_str(), second.as_str()], "{listed}");
    let size: u64 = listed
        .lines()
        .next()
        .unwrap()
        .split('\t')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(size > 12 << 20, "the archive holds the file: {size}");
    assert!(moto.open_uploads("site-backups").await.is_empty());
    let checked = ok(&run(src.path(), e, &["backup", "verify", &second]));
    assert!(checked.starts_with("ok: "), "{checked}");

    let pruned = ok(&run(
        src.path(),
        e,
        &["backup", "prune", "--to", target, "--keep-last", "1"],
    ));
    assert_eq!(pruned, format!("deleted {first}"));
    assert_eq!(
        moto.keys("site-backups").await,
        [second.trim_start_matches("s3://site-backups/")]
    );

    // Restored into a fresh site, it holds what the backup holds.
    let dst = tempfile::tempdir().unwrap();
    let restored = ok(&run(dst.path(), e, &["restore", &second]));
    assert!(restored.starts_with("restored "), "{restored}");
    let again = ok(&run(dst.path(), e, &["restore", &second, "--dry-run"]));
    assert!(again.contains("no table changes its row count"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_goes_away_mid_upload_leaves_no_object() {
    if on_postgres() {
        return; // The big site is written straight into SQLite.
    }
    let Some(moto) = Moto::start().await else {
        return;
    };
    moto.bucket("cut-test").await;
    let proxy = CutProxy::start(&moto.endpoint).await;
    let src = tempfile::tempdir().unwrap();
    big_site(src.path(), 4).await;
    let child = s3_lectern(src.path(), &proxy.endpoint)
        .args(["backup", "create", "--to", "s3://cut-test/x"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Handle::current();
    let moto_ref = &moto;
    // Wait until parts are flowing, then pull the plug.
    tokio::task::block_in_place(|| {
        wait_for("an upload under way", || {
            !rt.block_on(moto_ref.open_uploads("cut-test")).is_empty()
        })
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.cut();
    let out = tokio::task::block_in_place(|| child.wait_with_output()).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the backup did not fail: {err}");
    assert!(
        err.contains("s3://cut-test/x/lectern-"),
        "names what failed: {err}"
    );
    assert!(moto.keys("cut-test").await.is_empty(), "an object was left");
    let listed = ok(&run(
        src.path(),
        &moto.endpoint,
        &["backup", "list", "--to", "s3://cut-test/x"],
    ));
    assert_eq!(listed, "");
}
