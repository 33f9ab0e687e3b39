//! `Idempotency-Key` on answer checks, as a client retrying through a
//! failover sees it: a retry (sequential, concurrent, or on another node of
//! the same database) gets the first answer and uses no attempt; a key
//! reused for another request is a 422; a malformed key is a 400 and writes
//! nothing; the history shows each submission's key.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{json, s, TestSite, PASSWORD};

const COURSE: &str = "course-v1:T+G+R";

fn usage(problem: &str) -> String {
    format!("block-v1:T+G+R+type@problem+block@{problem}")
}

/// A learner's API client on one node.
#[derive(Clone)]
struct Learner {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

impl Learner {
    fn on(&self, site: &TestSite) -> Learner {
        Learner {
            base: site.base.clone(),
            ..self.clone()
        }
    }

    /// A check, with `key` as the `Idempotency-Key` header when given.
    async fn check(&self, problem: &str, answers: Value, key: Option<&str>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(format!(
                "{}/api/problems/v1/{}/check",
                self.base,
                usage(problem)
            ))
            .header("Authorization", &self.bearer)
            .json(&json!({ "answers": answers }));
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Authorization", &self.bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        json(r).await
    }

    async fn attempts(&self, problem: &str) -> u64 {
        self.get(&format!("/api/problems/v1/{}", usage(problem)))
            .await["attempts"]
            .as_u64()
            .unwrap()
    }

    async fn history(&self, problem: &str) -> Vec<Value> {
        self.get(&format!("/api/problems/v1/{}/submissions", usage(problem)))
            .await["results"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// A site with the grading course (p1: two attempts; p2: numeric, no
/// limit) and `name` enrolled.
async fn setup(name: &str) -> (TestSite, Learner) {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    let root = crate::support::bearer(&site.base, "root").await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", &root)
        .body(crate::problems::grading_course(0.5))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let learner = enrolled(&site, name).await;
    (site, learner)
}

async fn enrolled(site: &TestSite, name: &str) -> Learner {
    site.user(name, false).await;
    let learner = Learner {
        http: reqwest::Client::new(),
        base: site.base.clone(),
        bearer: crate::support::bearer(&site.base, name).await,
    };
    let r = learner
        .http
        .post(format!("{}/api/enrollment/v1/enrollment", site.base))
        .header("Authorization", &learner.bearer)
        .json(&json!({"course_details": {"course_id": COURSE}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    learner
}

#[tokio::test]
async fn a_retried_check_is_answered_once_and_shown_in_history() {
    let (_site, ann) = setup("ann").await;
    let answers = json!({"p2_2_1": "3.14"});
    let first = ann.check("p2", answers.clone(), Some("retry-1")).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(first.1["attempts"], 1);
    let again = ann.check("p2", answers.clone(), Some("retry-1")).await;
    assert_eq!(again, first, "a retry gets the first answer, unchanged");
    assert_eq!(ann.attempts("p2").await, 1, "and uses no attempt");

    // A new key is a new check; so is a check without one.
    let second = ann.check("p2", answers.clone(), Some("retry-2")).await;
    assert_eq!(second.1["attempts"], 2);
    let third = ann.check("p2", answers, None).await;
    assert_eq!(third.1["attempts"], 3);
    let keys: Vec<Value> = ann
        .history("p2")
        .await
        .iter()
        .map(|s| s["idempotency_key"].clone())
        .collect();
    assert_eq!(keys, [json!("retry-1"), json!("retry-2"), Value::Null]);

    // p1 allows two attempts: the retry of the last one still gets its
    // answer, not "you have used all your attempts".
    let one = ann
        .check("p1", json!({"p1_2_1": "choice_0"}), Some("p1-a"))
        .await;
    let two = ann
        .check("p1", json!({"p1_2_1": "choice_1"}), Some("p1-b"))
        .await;
    assert_eq!((one.0, two.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(two.1["closed"], true);
    let retry = ann
        .check("p1", json!({"p1_2_1": "choice_1"}), Some("p1-b"))
        .await;
    assert_eq!(retry, two);
    let (status, _) = ann
        .check("p1", json!({"p1_2_1": "choice_1"}), Some("p1-c"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a new key is a new attempt");
    assert_eq!(ann.attempts("p1").await, 2);
}

#[tokio::test]
async fn concurrent_copies_of_one_check_use_one_attempt() {
    let (_site, bea) = setup("bea").await;
    let bea = Arc::new(bea);
    for round in 0..3 {
        let key = format!("burst-{round}");
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (bea, key) = (bea.clone(), key.clone());
                tokio::spawn(
                    async move { bea.check("p2", json!({"p2_2_1": "3.1"}), Some(&key)).await },
                )
            })
            .collect();
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        assert_eq!(answers[0].0, StatusCode::OK, "{}", answers[0].1);
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "every copy gets the same answer: {answers:?}"
        );
        assert_eq!(answers[0].1["attempts"], round + 1);
    }
    assert_eq!(bea.attempts("p2").await, 3, "one attempt per key");
    assert_eq!(bea.history("p2").await.len(), 3);
}

#[tokio::test]
async fn a_retry_on_another_node_is_answered_from_the_first() {
    let (one, cat) = setup("cat").await;
    let two = one.another_node().await;
    let (on_one, on_two) = (cat.on(&one), cat.on(&two));
    let answers = json!({"p2_2_1": "2.5"});
    // The first node answered (or died after committing); the client
    // retries on the second.
    let first = on_one.check("p2", answers.clone(), Some("node-hop")).await;
    assert_eq!(first.0, StatusCode::OK);
    let retry = on_two.check("p2", answers.clone(), Some("node-hop")).await;
    assert_eq!(retry, first);
    // Both nodes at once, many times over: the database decides.
    let tasks: Vec<_> = (0..12)
        .map(|n| {
            let node = if n % 2 == 0 {
                on_one.clone()
            } else {
                on_two.clone()
            };
            let answers = answers.clone();
            tokio::spawn(async move { node.check("p2", answers, Some("both-nodes")).await })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    assert_eq!(seen[0].0, StatusCode::OK, "{}", seen[0].1);
    assert!(seen.iter().all(|a| *a == seen[0]), "{seen:?}");
    assert_eq!(on_two.attempts("p2").await, 2);
    let keys: Vec<Value> = on_one
        .history("p2")
        .await
        .iter()
        .map(|s| s["idempotency_key"].clone())
        .collect();
    assert_eq!(keys, [json!("node-hop"), json!("both-nodes")]);
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused() {
    let (site, dan) = setup("dan").await;
    let (status, _) = dan
        .check("p2", json!({"p2_2_1": "3.14"}), Some("once"))
        .await;
    assert_eq!(status, StatusCode::OK);
    for (problem, answers) in [
        ("p2", json!({"p2_2_1": "3.15"})),
        ("p3", json!({"p3_2_1": ["choice_0"]})),
    ] {
        let (status, body) = dan.check(problem, answers, Some("once")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"], "idempotency_key_reused");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("different request"),
            "{body}"
        );
    }
    assert_eq!(dan.attempts("p2").await, 1);
    assert_eq!(dan.attempts("p3").await, 0);
    // Keys belong to a learner: another one's "once" is their own.
    let eve = enrolled(&site, "eve").await;
    let (status, body) = eve.check("p2", json!({"p2_2_1": "1"}), Some("once")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["attempts"], 1);
}

#[tokio::test]
async fn a_malformed_key_is_refused_and_nothing_is_written() {
    let (_site, fay) = setup("fay").await;
    let long = "k".repeat(256);
    for key in ["", "two words", long.as_str()] {
        let (status, body) = fay.check("p2", json!({"p2_2_1": "3.14"}), Some(key)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key:?}: {body}");
        assert!(
            body["field_errors"]["idempotency_key"].is_string(),
            "{body}"
        );
    }
    // Bytes beyond ASCII, and the header twice.
    let url = format!("{}/api/problems/v1/{}/check", fay.base, usage("p2"));
    let odd = reqwest::header::HeaderValue::from_bytes(b"cl\xe9").unwrap();
    for req in [
        fay.http.post(&url).header("Idempotency-Key", odd),
        fay.http
            .post(&url)
            .header("Idempotency-Key", "a")
            .header("Idempotency-Key", "b"),
    ] {
        let r = req
            .header("Authorization", &fay.bearer)
            .json(&json!({"answers": {"p2_2_1": "3.14"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body = json(r).await;
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"));
    }
    assert_eq!(fay.attempts("p2").await, 0, "nothing was graded or stored");
    assert!(fay.history("p2").await.is_empty());
    // The longest key accepted works.
    let max = "k".repeat(255);
    let (status, _) = fay.check("p2", json!({"p2_2_1": "3.14"}), Some(&max)).await;
    assert_eq!(status, StatusCode::OK);
}

/// The `idempotency_key` hidden in the problem form on a unit page.
fn form_key(page: &str, problem: &str) -> String {
    let form = page
        .split(&format!("/problem/{problem}\""))
        .nth(1)
        .expect("the problem's form");
    let after = form
        .split(r#"name="idempotency_key" value=""#)
        .nth(1)
        .expect("a key in the form");
    after[..after.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn the_page_form_sent_twice_is_graded_once() {
    let (site, gus) = setup("gus").await;
    let browser = site.client();
    browser
        .post_form("/login", &[("login", s("gus")), ("password", s(PASSWORD))])
        .await;
    let (status, page) = browser.text(&format!("/courses/{COURSE}/unit/v2")).await;
    assert_eq!(status, StatusCode::OK);
    let key = form_key(&page, "p2");
    let post = |value: &'static str, key: String| {
        let browser = &browser;
        async move {
            let r = browser
                .post_form(
                    &format!("/courses/{COURSE}/problem/p2"),
                    &[
                        ("p2_2_1", s(value)),
                        ("action", s("check")),
                        ("idempotency_key", key),
                    ],
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.unwrap()
        }
    };
    // A double click: the same rendering's form, twice.
    let first = post("3.14", key.clone()).await;
    let second = post("3.14", key.clone()).await;
    assert_eq!(gus.attempts("p2").await, 1, "graded once");
    assert_ne!(
        form_key(&first, "p2"),
        key,
        "each rendering has its own key"
    );
    assert_eq!(form_key(&second, "p2").len(), key.len());
    // The same rendering's form sent again with other answers is refused
    // with a message on the page, and nothing changes.
    let page = post("2.0", key).await;
    assert!(page.contains("already submitted"), "{page}");
    assert_eq!(gus.attempts("p2").await, 1);
    // The fresh form on the page is a new attempt.
    post("2.0", form_key(&second, "p2")).await;
    assert_eq!(gus.attempts("p2").await, 2);
}
