//! Grouped commits lose nothing acknowledged (issue 18): the real `lectern`
//! binary takes many concurrent answer checks with `Idempotency-Key`s from
//! several learners (several checks of one learner in flight at once, so
//! batches hold both different learners and one learner's racing checks),
//! is killed with SIGKILL in the middle of that load, and is started again
//! on the same data. Every check that was answered 200 must then be in its
//! learner's history exactly once, with the attempt number it was answered
//! with; attempts are numbered 1..n without gaps or repeats; and a retry of
//! an acknowledged key is answered from the stored answer, writing nothing.
//! On both backends (the folder's database, `crate::backend`).

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::binary::free_port;
use crate::problems::grading_course;
use crate::support::PASSWORD;

const COURSE: &str = "course-v1:T+G+R";
/// "Pi" (no `max_attempts`): every check is graded and stored.
const PROBLEM: &str = "block-v1:T+G+R+type@problem+block@p2";
const LEARNERS: usize = 4;
/// Checks of one learner in flight at once.
const STREAMS_PER_LEARNER: usize = 3;
/// Acknowledged checks to wait for before the kill.
const ACKS_BEFORE_KILL: usize = 60;

fn start(dir: &std::path::Path, port: u16) -> Child {
    crate::backend::lectern_in(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("LECTERN_LOGIN_ATTEMPTS_PER_ADDRESS", "100000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lectern")
}

async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{base}/health/ready")).await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("lectern did not become ready");
}

/// A learner account made with `lectern user create`.
fn learner(dir: &std::path::Path, name: &str) {
    let mut child = crate::backend::lectern_in(dir)
        .args(["user", "create", "--username", name])
        .args(["--email", &format!("{name}@example.org")])
        .args(["--password-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "creating {name}");
}

async fn post(
    http: &reqwest::Client,
    url: String,
    bearer: &str,
    key: Option<&str>,
    body: Value,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let mut req = http.post(url).header("Authorization", bearer).json(&body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let r = req.send().await?;
    let status = r.status();
    let body = r.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// (key → attempts) of every check answered 200, per learner.
type Acks = Arc<Mutex<BTreeMap<String, BTreeMap<String, u64>>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_check_survives_a_kill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("course.tar.gz");
    std::fs::write(&archive, grading_course(0.5)).unwrap();
    let out = crate::backend::lectern_in(dir.path())
        .arg("import")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success(), "import: {out:?}");
    let names: Vec<String> = (0..LEARNERS).map(|i| format!("learner{i}")).collect();
    for name in &names {
        learner(dir.path(), name);
    }

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(dir.path(), port);
    wait_ready(&base).await;
    let http = reqwest::Client::new();
    let mut bearers = BTreeMap::new();
    for name in &names {
        let bearer = crate::support::bearer(&base, name).await;
        let (status, body) = post(
            &http,
            format!("{base}/api/enrollment/v1/enrollment"),
            &bearer,
            None,
            json!({"course_details": {"course_id": COURSE}}),
        )
        .await
        .unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        bearers.insert(name.clone(), bearer);
    }
    let r = http
        .get(format!("{base}/api/problems/v1/{PROBLEM}"))
        .header("Authorization", &bearers[&names[0]])
        .send()
        .await
        .unwrap();
    let problem: Value = r.json().await.unwrap();
    let input = problem["inputs"][0]["id"].as_str().unwrap().to_string();

    // The load: every stream sends checks back to back, each with a key of
    // its own, until the server is gone.
    let acks: Acks = Arc::default();
    let mut streams = Vec::new();
    for name in &names {
        for stream in 0..STREAMS_PER_LEARNER {
            let (http, base, input) = (http.clone(), base.clone(), input.clone());
            let (name, bearer, acks) = (name.clone(), bearers[name].clone(), acks.clone());
            streams.push(tokio::spawn(async move {
                for n in 0.. {
                    let key = format!("{name}-{stream}-{n}");
                    let answer = if n % 2 == 0 { "3.14" } else { "2" };
                    let sent = post(
                        &http,
                        format!("{base}/api/problems/v1/{PROBLEM}/check"),
                        &bearer,
                        Some(&key),
                        json!({"answers": {&input: answer}}),
                    )
                    .await;
                    match sent {
                        Ok((StatusCode::OK, body)) => {
                            let attempts = body["attempts"].as_u64().expect("attempts");
                            acks.lock()
                                .unwrap()
                                .entry(name.clone())
                                .or_default()
                                .insert(key, attempts);
                        }
                        // Refused (busy, racing): not acknowledged, go on.
                        Ok(_) => {}
                        // The server is gone.
                        Err(_) => return,
                    }
                }
            }));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let acked: usize = acks.lock().unwrap().values().map(BTreeMap::len).sum();
        if acked >= ACKS_BEFORE_KILL {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {acked} checks acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap(); // SIGKILL, in the middle of the load
    server.wait().unwrap();
    for s in streams {
        s.await.unwrap();
    }
    let acks = acks.lock().unwrap().clone();
    let acked: usize = acks.values().map(BTreeMap::len).sum();
    assert!(acked >= ACKS_BEFORE_KILL);

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(dir.path(), port);
    wait_ready(&base).await;
    for name in &names {
        let bearer = crate::support::bearer(&base, name).await;
        let history = |bearer: String| {
            let (http, url) = (
                http.clone(),
                format!("{base}/api/problems/v1/{PROBLEM}/submissions"),
            );
            async move {
                let r = http
                    .get(url)
                    .header("Authorization", bearer)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                let body: Value = r.json().await.unwrap();
                body["results"].as_array().unwrap().clone()
            }
        };
        let results = history(bearer.clone()).await;
        let mut by_key: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut attempts: Vec<u64> = Vec::new();
        for s in &results {
            let key = s["idempotency_key"]
                .as_str()
                .expect("every check had a key");
            let attempt = s["attempt"].as_u64().unwrap();
            by_key.entry(key.to_string()).or_default().push(attempt);
            attempts.push(attempt);
        }
        attempts.sort_unstable();
        let numbered: Vec<u64> = (1..=attempts.len() as u64).collect();
        assert_eq!(attempts, numbered, "{name}: attempts 1..n, each once");
        assert!(
            by_key.values().all(|a| a.len() == 1),
            "{name}: a key stored twice"
        );
        let mine = acks.get(name).cloned().unwrap_or_default();
        for (key, attempt) in &mine {
            assert_eq!(
                by_key.get(key),
                Some(&vec![*attempt]),
                "{name}: acknowledged check {key} (attempt {attempt}) after the restart"
            );
        }
        // The stored state agrees with the history.
        let r = http
            .get(format!("{base}/api/problems/v1/{PROBLEM}"))
            .header("Authorization", &bearer)
            .send()
            .await
            .unwrap();
        let state: Value = r.json().await.unwrap();
        assert_eq!(state["attempts"].as_u64(), Some(results.len() as u64));
        // A retry of an acknowledged check is answered as it was, and
        // changes nothing.
        if let Some((key, attempt)) = mine.iter().next() {
            let n: u64 = key.rsplit('-').next().unwrap().parse().unwrap();
            let answer = if n.is_multiple_of(2) { "3.14" } else { "2" };
            let (status, body) = post(
                &http,
                format!("{base}/api/problems/v1/{PROBLEM}/check"),
                &bearer,
                Some(key),
                json!({"answers": {&input: answer}}),
            )
            .await
            .unwrap();
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["attempts"].as_u64(), Some(*attempt), "{body}");
            assert_eq!(history(bearer.clone()).await.len(), results.len());
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
