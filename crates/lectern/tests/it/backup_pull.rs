//! `lectern backup pull` and `GET /api/backup/v1/snapshot` through the real
//! binary: a backup host pulls a fresh archive from a running node, checks
//! it and files it; an account without the backup role gets 403; a node
//! killed mid-pull leaves nothing on the puller; a backup folder can be
//! pulled from too (the laptop copy).

use std::path::Path;
use std::process::Stdio;

use reqwest::StatusCode;

use crate::backend::{lectern_in, on_postgres};
use crate::backup::{admin, big_site, course_with_asset, import, lectern, ok, wait_for};
use crate::binary::{free_port, serve, sigterm, wait_exit};
use crate::support::{bearer, s, Client, PASSWORD};

fn token_file(dir: &Path, token: &str) -> String {
    let path = dir.join("token");
    std::fs::write(&path, token).unwrap();
    path.display().to_string()
}

fn partials(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(".partial-"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_backup_host_pulls_checks_and_files_a_fresh_backup() {
    let node = tempfile::tempdir().unwrap();
    admin(node.path());
    import(node.path(), "a.tar.gz", course_with_asset("P", 3 << 20));
    let port = free_port();
    let (mut child, _) = serve(node.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let host = tempfile::tempdir().unwrap();
    let store = host.path().join("store");
    let token = token_file(host.path(), &bearer(&base, "root").await);
    let to = store.to_str().unwrap();
    let pull = |extra: &[&str]| {
        let mut args = vec![
            "backup",
            "pull",
            "--from",
            &base,
            "--token-file",
            &token,
            "--to",
            to,
        ];
        args.extend_from_slice(extra);
        lectern(host.path(), &args)
    };
    let first = ok(&pull(&[]));
    assert!(first.starts_with(to) && first.ends_with(".lbk"), "{first}");
    let checked = ok(&lectern(host.path(), &["backup", "verify", &first]));
    assert!(checked.contains("from "), "{checked}");
    let second = ok(&pull(&["--keep-last", "1"]));
    let listed = ok(&lectern(host.path(), &["backup", "list", "--to", to]));
    assert_eq!(listed.lines().count(), 1, "pruned to one: {listed}");
    assert!(listed.ends_with(&second), "{listed}");

    // The laptop copy: from the host's folder, the newest backup.
    let laptop = tempfile::tempdir().unwrap();
    let copy_to = laptop.path().join("copies");
    let copied = ok(&lectern(
        laptop.path(),
        &[
            "backup",
            "pull",
            "--from",
            to,
            "--to",
            copy_to.to_str().unwrap(),
        ],
    ));
    let name = |p: &str| Path::new(p).file_name().unwrap().to_owned();
    assert_eq!(name(&copied), name(&second));
    assert_eq!(
        std::fs::read(&copied).unwrap(),
        std::fs::read(&second).unwrap()
    );

    // Restored, the pulled backup is the node's data.
    let restored = tempfile::tempdir().unwrap();
    ok(&lectern(restored.path(), &["restore", &copied]));
    ok(&lectern(
        restored.path(),
        &["restore", "--dry-run", &copied],
    ));
    sigterm(&child);
    wait_exit(&mut child);
}

#[tokio::test]
async fn an_account_without_the_backup_role_gets_403_and_nothing_is_filed() {
    let node = tempfile::tempdir().unwrap();
    admin(node.path());
    let port = free_port();
    let (mut child, _) = serve(node.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let r = Client::for_base(&base)
        .post_form(
            "/register",
            &[
                ("username", s("learner")),
                ("email", s("learner@example.org")),
                ("name", s("L")),
                ("password", s(PASSWORD)),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let learner = bearer(&base, "learner").await;
    let r = reqwest::Client::new()
        .get(format!("{base}/api/backup/v1/snapshot"))
        .header("Authorization", &learner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "forbidden");
    let r = reqwest::get(format!("{base}/api/backup/v1/snapshot"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let host = tempfile::tempdir().unwrap();
    let store = host.path().join("store");
    let token = token_file(host.path(), &learner);
    let out = lectern(
        host.path(),
        &[
            "backup",
            "pull",
            "--from",
            &base,
            "--token-file",
            &token,
            "--to",
            store.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("403") && err.contains("backup role"), "{err}");
    assert!(!store.exists() || std::fs::read_dir(&store).unwrap().count() == 0);
    sigterm(&child);
    wait_exit(&mut child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_pull_leaves_no_partial_backup() {
    if on_postgres() {
        return; // The big site is written straight into SQLite.
    }
    let node = tempfile::tempdir().unwrap();
    big_site(node.path(), 6).await;
    admin(node.path());
    let port = free_port();
    let (mut child, _) = serve(node.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    let host = tempfile::tempdir().unwrap();
    let store = host.path().join("store");
    let token = token_file(host.path(), &bearer(&base, "root").await);
    let puller = lectern_in(host.path())
        .args(["backup", "pull", "--from", &base, "--token-file", &token])
        .args(["--to", store.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::task::block_in_place(|| {
        wait_for("a partly pulled backup", || {
            std::fs::read_dir(&store).is_ok_and(|rd| {
                rd.filter_map(Result::ok).any(|e| {
                    e.file_name().to_string_lossy().starts_with(".partial-")
                        && e.metadata().is_ok_and(|m| m.len() > 4 << 20)
                })
            })
        })
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let out = tokio::task::block_in_place(|| puller.wait_with_output()).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the pull did not fail: {err}");
    assert!(
        err.contains("broke off") || err.contains("damaged"),
        "{err}"
    );
    assert_eq!(partials(&store), 0, "a partial backup was left");
    let listed = ok(&lectern(
        host.path(),
        &["backup", "list", "--to", store.to_str().unwrap()],
    ));
    assert_eq!(listed, "");
}
