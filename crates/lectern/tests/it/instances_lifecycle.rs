//! An instance's life under a running server (issue 22): switched off and
//! on, deleted (after a backup that verifies), its own settings, closed when
//! idle and reopened with its data; and `--instance NAME` on the commands
//! that work on one site's data.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::discussion_site::talk_course;
use crate::instances_support::{eventually, metric, sign_in, Deploy, REFRESH_MS};

const KEY: &str = "course-v1:T+ISO+R";

/// Polls the host's `/login` until it answers `want`, within the refresh
/// time and a margin.
async fn answers(d: &Deploy, host: &str, want: u16) {
    let deadline = Instant::now() + Duration::from_millis(REFRESH_MS) + Duration::from_secs(5);
    loop {
        let (status, _) = d.raw("GET", host, "/login");
        if status == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{host} still answers {status}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn disable_enable_and_delete_under_a_running_server() {
    let mut d = Deploy::new("");
    d.create_instance("a", "a.test");
    d.create_instance("b", "b.test");
    d.user(Some("a"), "sam", "password of a!", true);
    d.user(Some("b"), "sam", "password of b!", true);
    d.import("a", &talk_course("ISO", json!([])), "sam");
    d.serve();
    let c = d.client("a.test");
    assert_eq!(
        c.get(&format!("/courses/{KEY}/about")).await.status(),
        StatusCode::OK
    );

    d.ok(&["instance", "disable", "a"]);
    answers(&d, "a.test", 404).await;
    let (_, raw) = d.raw("GET", "a.test", &format!("/courses/{KEY}/about"));
    assert!(
        raw.contains("<h1>Not found</h1>") && !raw.contains("Talk"),
        "{raw}"
    );
    answers(&d, "b.test", 200).await;

    d.ok(&["instance", "enable", "a"]);
    answers(&d, "a.test", 200).await;
    assert_eq!(
        c.get(&format!("/courses/{KEY}/about")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        sign_in(&c, "sam", "password of a!").await.status(),
        StatusCode::SEE_OTHER
    );

    let out = d.ok(&["instance", "delete", "a"]);
    let backup = out
        .lines()
        .find_map(|l| l.strip_prefix("backup of instance a written to "))
        .unwrap_or_else(|| panic!("no backup location in:\n{out}"))
        .trim()
        .to_string();
    assert!(d.path().join(&backup).is_file(), "{backup}");
    d.ok(&["backup", "verify", &backup]);
    answers(&d, "a.test", 404).await;
    answers(&d, "b.test", 200).await;
    let folder = d.path().join("lectern-data/instances/a");
    assert!(!folder.exists(), "{} is still there", folder.display());
    let list = d.ok(&["instance", "list"]);
    assert!(!list.lines().any(|l| l.starts_with("a\t")), "{list}");
}

#[tokio::test]
async fn an_instances_site_name_shows_on_its_pages_only() {
    let mut d = Deploy::new("");
    d.create_instance("a", "a.test");
    d.create_instance("b", "b.test");
    d.serve();
    let title = |host: &'static str| {
        let d = &d;
        async move {
            let (status, raw) = d.raw("GET", host, "/login");
            assert_eq!(status, 200);
            raw
        }
    };
    assert!(!title("a.test").await.contains("Acme Academy"));
    d.ok(&["instance", "set", "a", "site_name=\"Acme Academy\""]);
    // The open instance closes at the next refresh and reopens with it.
    eventually(10, "a's new name", || async {
        let page = title("a.test").await;
        page.contains(" · Acme Academy</title>").then_some(())
    })
    .await;
    assert!(!title("b.test").await.contains("Acme Academy"));
    let (_, default) = d.raw("GET", "127.0.0.1", "/login");
    assert!(!default.contains("Acme Academy"));
}

#[tokio::test]
async fn an_idle_instance_closes_and_reopens_with_its_data() {
    let mut d = Deploy::new("idle_close_secs = 10");
    d.create_instance("a", "a.test");
    d.user(Some("a"), "sam", "password of a!", true);
    d.import("a", &talk_course("ISO", json!([])), "sam");
    d.serve();
    let open = |d: &Deploy| metric(&d.metrics(), "lectern_instance_open{instance_name=\"a\"}");
    assert_eq!(
        open(&d).as_deref(),
        Some("0"),
        "not opened before its first request"
    );
    let c = d.client("a.test");
    assert_eq!(
        c.get(&format!("/courses/{KEY}/about")).await.status(),
        StatusCode::OK
    );
    assert_eq!(open(&d).as_deref(), Some("1"));
    eventually(40, "a closed when idle", || async {
        (open(&d).as_deref() == Some("0")).then_some(())
    })
    .await;
    let c = d.client("a.test");
    assert_eq!(
        c.get(&format!("/courses/{KEY}/about")).await.status(),
        StatusCode::OK
    );
    assert_eq!(open(&d).as_deref(), Some("1"), "reopened");
    assert_eq!(
        sign_in(&c, "sam", "password of a!").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[test]
fn the_instance_flag_works_on_every_command_of_one_sites_data() {
    let d = Deploy::new("");
    d.create_instance("a", "a.test");
    d.create_instance("b", "b.test");
    d.user(Some("a"), "sam", "password of a!", true);

    // import / export on a; b has no such course.
    let out = d.import("a", &talk_course("ISO", json!([])), "sam");
    assert!(out.contains(KEY), "{out}");
    let export = d.path().join("export.tar.gz");
    d.ok(&["--instance", "a", "export", KEY, export.to_str().unwrap()]);
    assert!(std::fs::metadata(&export).unwrap().len() > 0);
    let (ok, _, err) = d.cli(&["--instance", "b", "export", KEY, export.to_str().unwrap()]);
    assert!(!ok, "b has no course {KEY}");
    assert!(
        err.contains(KEY) || err.to_lowercase().contains("not found"),
        "{err}"
    );
    // Nor has the default site.
    let (ok, _, _) = d.cli(&["export", KEY, export.to_str().unwrap()]);
    assert!(!ok);

    // doctor on a passes its administrator check; b has none yet.
    let (_, out, _) = d.cli(&["--instance", "a", "doctor"]);
    assert!(
        out.contains("ok    administrator") || !out.contains("FAIL  administrator"),
        "{out}"
    );
    let (ok, out, _) = d.cli(&["--instance", "b", "doctor"]);
    assert!(!ok && out.contains("FAIL  administrator"), "{out}");

    // backup create / list on a, restore into b.
    let created = d.ok(&["--instance", "a", "backup", "create"]);
    let path = created.trim().to_string();
    assert!(d.path().join(&path).is_file(), "{created}");
    let listed = d.ok(&["--instance", "a", "backup", "list"]);
    let file = std::path::Path::new(&path)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert!(listed.contains(file), "{listed}");
    assert!(
        !d.ok(&["backup", "list"]).contains(file),
        "the deployment lists a's backup"
    );
    let restored = d.ok(&["--instance", "b", "restore", &path, "--force"]);
    assert!(
        restored.contains("/instances/b/"),
        "the safety backup is b's own: {restored}"
    );
    d.ok(&["--instance", "b", "export", KEY, export.to_str().unwrap()]);
    let (ok, out, _) = d.cli(&["--instance", "b", "doctor"]);
    assert!(
        !out.contains("FAIL  administrator"),
        "b has a's administrator after restore: {ok} {out}"
    );

    // An unknown name is a clear error; serve refuses the flag.
    let (ok, _, err) = d.cli(&["--instance", "nosuch", "doctor"]);
    assert!(!ok && err.contains("no instance named nosuch"), "{err}");
    let (ok, _, err) = d.cli(&["--instance", "a", "serve"]);
    assert!(!ok && err.contains("--instance"), "{err}");
}
