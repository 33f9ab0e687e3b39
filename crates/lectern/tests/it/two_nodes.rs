//! Two `lectern serve` processes on one database, as two cluster nodes
//! behind a load balancer: nothing a request needs lives in one process.
//! On the PostgreSQL leg (`TEST_DATABASE=postgres`) both share one
//! PostgreSQL database; on SQLite they share one database file.

use std::process::Child;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::backend::lectern_in;
use crate::binary::{create_admin, free_port, serve, sigterm, wait_exit};
use crate::support::{bearer, json, s, Client, PASSWORD};

const COURSE: &str = "course-v1:T+G+R";

/// Stops a node when the test ends, however it ends.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        sigterm(&self.0);
        wait_exit(&mut self.0);
    }
}

fn start(dir: &std::path::Path) -> (Node, String) {
    let port = free_port();
    let (child, _) = serve(dir, port);
    (Node(child), format!("http://127.0.0.1:{port}"))
}

#[tokio::test]
async fn two_nodes_share_accounts_answers_and_publishes() {
    let dir = tempfile::tempdir().unwrap();
    create_admin(lectern_in(dir.path()), "root");
    let archive = dir.path().join("course.tar.gz");
    std::fs::write(&archive, crate::problems::grading_course(0.5)).unwrap();
    let out = lectern_in(dir.path())
        .arg("import")
        .arg(&archive)
        .args(["--owner", "root"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (_one, one) = start(dir.path());
    let (_two, two) = start(dir.path());

    // Registered through one node, signed in through the other.
    let r = Client::for_base(&one)
        .post_form(
            "/register",
            &[
                ("username", s("bea")),
                ("email", s("bea@example.org")),
                ("name", s("Bea")),
                ("password", s(PASSWORD)),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let browser = Client::for_base(&two);
    let r = browser
        .post_form("/login", &[("login", s("bea")), ("password", s(PASSWORD))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, page) = browser.text("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"<a href="/account/settings">bea</a>"#),
        "signed in through the second node"
    );

    // An answer submitted through one node is counted by the other.
    let http = reqwest::Client::new();
    let bea_one = bearer(&one, "bea").await;
    let r = http
        .post(format!("{one}/api/enrollment/v1/enrollment"))
        .header("Authorization", &bea_one)
        .json(&json!({"course_details": {"course_id": COURSE}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .post(format!(
            "{one}/api/problems/v1/block-v1:T+G+R+type@problem+block@p1/check"
        ))
        .header("Authorization", &bea_one)
        .json(&json!({"answers": {"p1_2_1": "choice_1"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bea_two = bearer(&two, "bea").await;
    let grade = json(
        http.get(format!(
            "{two}/api/grades/v1/courses/{COURSE}/?username=bea"
        ))
        .header("Authorization", &bea_two)
        .send()
        .await
        .unwrap(),
    )
    .await;
    let percent = grade[0]["percent"].as_f64().unwrap_or_default();
    assert!(percent > 0.0, "the second node counts the answer: {grade}");
    let state = json(
        http.get(format!(
            "{two}/api/problems/v1/block-v1:T+G+R+type@problem+block@p1"
        ))
        .header("Authorization", &bea_two)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(state["attempts"], 1, "{state}");

    // A publish through one node is served by the other within seconds.
    let author = Client::for_base(&two);
    let r = author
        .post_form("/login", &[("login", s("root")), ("password", s(PASSWORD))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let studio = format!("/studio/course/{COURSE}");
    let r = author
        .post_form(
            &format!("{studio}/blocks"),
            &[
                ("parent", s("type@course+block@course")),
                ("block_type", s("chapter")),
                ("display_name", s("Published on node two")),
            ],
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let r = author.post_form(&format!("{studio}/publish"), &[]).await;
    assert!(r.status().is_success(), "{}", r.status());
    let outline = Client::for_base(&one);
    outline
        .post_form("/login", &[("login", s("bea")), ("password", s(PASSWORD))])
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, page) = outline.text(&format!("/courses/{COURSE}/")).await;
        if page.contains("Published on node two") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node one still serves the old version after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
