//! The Grafana dashboard shipped in `docs/grafana/lectern-dashboard.json`
//! asks only for what Lectern exports: every metric name in every panel's
//! query, and in the node variable's `label_values`, appears in the
//! `/metrics` of a real `lectern serve` that has served requests and run a
//! scheduled backup (the backup families exist only after one) and has an
//! instance that answered a request (the instance families need one).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::backend::lectern_in;
use crate::backup::admin;
use crate::binary::{free_port, sigterm, wait_exit};

const DASHBOARD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/grafana/lectern-dashboard.json"
);

/// PromQL words that are neither metrics nor functions called with `(`.
const KEYWORDS: [&str; 10] = [
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
];

/// Every query of the dashboard: panel targets' `expr` and the query
/// variables' `query`.
fn queries(dashboard: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(e) = target["expr"].as_str() {
                out.push(e.to_string());
            }
        }
    }
    for var in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if var["type"] == "query" {
            if let Some(q) = var["query"].as_str() {
                out.push(q.to_string());
            }
        }
    }
    out
}

/// The metric names a PromQL expression reads: label matchers, ranges,
/// strings, grouping clauses, numbers, keywords and function names left out.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let strip = |s: &str, pattern: &str| {
        regex::Regex::new(pattern)
            .unwrap()
            .replace_all(s, " ")
            .to_string()
    };
    let mut e = strip(expr, r#""(?:[^"\\]|\\.)*""#);
    e = strip(&e, r"\{[^}]*\}");
    e = strip(&e, r"\[[^\]]*\]");
    e = strip(
        &e,
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
    );
    // `label_values(metric, label)`: the label is not a metric.
    e = strip(&e, r",\s*[A-Za-z_][A-Za-z0-9_]*\s*\)");
    let token = regex::Regex::new(r"[0-9][0-9.eE+-]*|[A-Za-z_:][A-Za-z0-9_:]*").unwrap();
    let mut names = BTreeSet::new();
    for m in token.find_iter(&e) {
        let word = m.as_str();
        let called = e[m.end()..].trim_start().starts_with('(');
        if word.starts_with(|c: char| c.is_ascii_digit()) || called || KEYWORDS.contains(&word) {
            continue;
        }
        names.insert(word.to_string());
    }
    names
}

/// Names in an exposition: each sample's name and each `# TYPE` family.
fn exported_names(metrics: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in metrics.lines() {
        if let Some(family) = line.strip_prefix("# TYPE ") {
            names.extend(family.split_whitespace().next().map(str::to_string));
        } else if !line.starts_with('#') {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            if end > 0 {
                names.insert(line[..end].to_string());
            }
        }
    }
    names
}

fn has_backup(target: &Path) -> bool {
    std::fs::read_dir(target).is_ok_and(|rd| {
        rd.filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".lbk"))
    })
}

#[test]
fn the_query_reader_finds_metrics_and_nothing_else() {
    let e = r#"histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{instance=~"$node",status=~"5.."}[5m]))) / clamp_min(sum(b_total), 1e-9) + (time() - max(c)) / 3600"#;
    assert_eq!(
        metric_names(e).into_iter().collect::<Vec<_>>(),
        ["a_bucket", "b_total", "c"]
    );
    assert_eq!(
        metric_names("label_values(lectern_ready, instance)")
            .into_iter()
            .collect::<Vec<_>>(),
        ["lectern_ready"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_names_only_exported_metrics() {
    let text = std::fs::read_to_string(DASHBOARD).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(dashboard["uid"], "lectern-overview");
    let exprs = queries(&dashboard);
    assert!(exprs.len() >= 15, "{exprs:?}");
    let used: BTreeSet<String> = exprs.iter().flat_map(|e| metric_names(e)).collect();
    assert!(used.len() >= 10, "{used:?}");

    let dir = tempfile::tempdir().unwrap();
    admin(dir.path());
    let created = lectern_in(dir.path())
        .args(["instance", "create", "acme", "--host", "acme.test"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let target = dir.path().join("backups");
    let port = free_port();
    let mut node = lectern_in(dir.path())
        .env("LECTERN_BACKUP_SCHEDULE", "*/2 * * * * *")
        .env("LECTERN_BACKUP_TARGET", &target)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !has_backup(&target) {
        assert!(Instant::now() < deadline, "no scheduled backup appeared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let base = format!("http://127.0.0.1:{port}");
    for path in ["/health/live", "/courses", "/no-such-page"] {
        reqwest::get(format!("{base}{path}")).await.unwrap();
    }
    let on_instance = reqwest::Client::new()
        .get(format!("{base}/courses"))
        .header("Host", "acme.test")
        .send()
        .await
        .unwrap();
    assert_eq!(on_instance.status(), 200);
    // The backup's figures are published when its job ends, just after the file.
    let mut metrics = String::new();
    while Instant::now() < deadline {
        metrics = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("lectern_backup_last_ok ") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sigterm(&node);
    wait_exit(&mut node);

    let exported = exported_names(&metrics);
    let missing: Vec<&String> = used.difference(&exported).collect();
    assert!(
        missing.is_empty(),
        "the dashboard asks for metrics Lectern does not export: {missing:?}\n{metrics}"
    );
}
