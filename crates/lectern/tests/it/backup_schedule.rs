//! The built-in schedule (`[backup] schedule`) with two `lectern serve`
//! nodes over one database: each due time gives exactly one backup, made by
//! whichever node's worker claims the job; the outcome shows in `/metrics`
//! and `lectern doctor`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lectern_app::jobs::JobState;
use lectern_app::store::Store;

use crate::backend::{database_url_for, lectern_in};
use crate::backup::{admin, db, ok};
use crate::binary::{free_port, sigterm, wait_exit};
use crate::support::{s, Client, PASSWORD};

fn scheduled<'c>(cmd: &'c mut Command, target: &Path) -> &'c mut Command {
    // Every 3 seconds (croner takes an optional seconds field).
    cmd.env("LECTERN_BACKUP_SCHEDULE", "*/3 * * * * *")
        .env("LECTERN_BACKUP_TARGET", target)
        .env("LECTERN_BACKUP_KEEP_LAST", "1000")
}

fn node(dir: &Path, target: &Path, port: u16) -> Child {
    scheduled(&mut lectern_in(dir), target)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn archives(target: &Path) -> usize {
    std::fs::read_dir(target)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().to_string();
                    n.starts_with("lectern-") && n.ends_with(".lbk")
                })
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_make_exactly_one_backup_per_due_time() {
    let dir = tempfile::tempdir().unwrap();
    admin(dir.path());
    let target = dir.path().join("scheduled");
    // Before any backup, a schedule with no backup is unhealthy.
    let out = scheduled(&mut lectern_in(dir.path()), &target)
        .arg("doctor")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL  backup freshness"), "{text}");

    let (pa, pb) = (free_port(), free_port());
    let mut a = node(dir.path(), &target, pa);
    let mut b = node(dir.path(), &target, pb);
    let deadline = Instant::now() + Duration::from_secs(90);
    while archives(&target) < 3 {
        assert!(Instant::now() < deadline, "no scheduled backups appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut metrics = String::new();
    for port in [pa, pb] {
        metrics += &reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    assert!(
        metrics.contains("lectern_backup_last_success_timestamp_seconds "),
        "{metrics}"
    );
    assert!(
        metrics.contains("lectern_backup_last_size_bytes "),
        "{metrics}"
    );
    // The admin console lists each run with its due time and outcome.
    let admin_page = Client::for_base(&format!("http://127.0.0.1:{pa}"));
    let r = admin_page
        .post_form("/login", &[("login", s("root")), ("password", s(PASSWORD))])
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let (status, page) = admin_page.text("/admin/jobs").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(page.contains("<td>backup</td><td>due 20"), "{page}");
    assert!(page.contains("job-done"), "{page}");
    for child in [&a, &b] {
        sigterm(child);
    }
    wait_exit(&mut a);
    wait_exit(&mut b);

    let store: std::sync::Arc<dyn Store> = lectern_store::open(
        &database_url_for(dir.path()).unwrap_or_default(),
        &db(dir.path()),
        2,
    )
    .await
    .unwrap();
    let jobs: Vec<_> = store
        .recent_jobs(1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "backup")
        .collect();
    store.close().await;
    let keys: BTreeSet<_> = jobs.iter().map(|j| j.dedupe_key.clone()).collect();
    assert_eq!(keys.len(), jobs.len(), "one job per due time: {jobs:?}");
    let done = jobs.iter().filter(|j| j.state == JobState::Done).count();
    assert!(done >= 3, "{jobs:?}");
    assert_eq!(archives(&target), done, "one backup per done job");
    // A fresh backup and a schedule: healthy.
    let out = scheduled(&mut lectern_in(dir.path()), &target)
        .arg("doctor")
        .output()
        .unwrap();
    let text = ok(&out);
    assert!(text.contains("ok    backup freshness"), "{text}");
}
