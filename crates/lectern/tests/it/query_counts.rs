//! How many SQL statements a page costs (issue 18): the profile of the unit
//! page showed that on SQLite most of a page's time is the hand-off of each
//! statement to the database thread, so the count is what the fixes change.
//! Counted from `lectern serve`'s own statement log (`sqlx::query` at debug
//! level, and `lectern_store::hot_read` for the reads SQLite's hot path runs
//! without sqlx), in a process of the test's own so no other test's reads mix in.
//! Counts, not timings: a unit page costs two reads however many problems
//! it shows (the course with the learner's role and enrolment; the
//! problems' states), the dashboard two however many courses, the
//! catalogue one, and a signed-in page with a warm session cache nothing
//! for the session (three statements without it: token, user, Studio).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

use crate::binary::{free_port, sigterm, wait_exit};
use crate::support::{course_archive, Client, PASSWORD};

fn problem(id: &str) -> String {
    format!(
        r#"<problem url_name="{id}" display_name="Question {id}">
<multiplechoiceresponse><choicegroup type="MultipleChoice">
<choice correct="true">yes</choice><choice correct="false">no</choice>
</choicegroup></multiplechoiceresponse></problem>"#
    )
}

/// A course with a unit of one problem (`one`) and a unit of three (`three`).
fn course(number: &str) -> Vec<u8> {
    let xml = format!(
        r#"<course display_name="Counts {number}" start="2020-01-01T00:00:00Z">
<chapter url_name="ch" display_name="Week"><sequential url_name="sq" display_name="Lesson">
<vertical url_name="one" display_name="One">{}</vertical>
<vertical url_name="three" display_name="Three">{}{}{}</vertical>
</sequential></chapter></course>"#,
        problem("p0"),
        problem("p1"),
        problem("p2"),
        problem("p3"),
    );
    course_archive("CountX", number, &xml, None)
}

struct Server {
    child: Child,
    log: PathBuf,
    base: String,
}

impl Server {
    /// `lectern serve` over `dir`, its statements logged to `log_name`,
    /// trusting a confirmed session for `session_cache_secs`.
    fn start(dir: &Path, log_name: &str, session_cache_secs: u32) -> Server {
        let port = free_port();
        let log = dir.join(log_name);
        let file = std::fs::File::create(&log).expect("log file");
        let child = crate::backend::lectern_in(dir)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env(
                "LECTERN_LOG_LEVEL",
                "warn,sqlx::query=debug,lectern_store::hot_read=debug,lectern_store::group_write=debug",
            )
            .env("LECTERN_LOG_FORMAT", "json")
            .env("LECTERN_SESSION_CACHE_SECS", session_cache_secs.to_string())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("start lectern");
        Server {
            child,
            log,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn statements_so_far(&self) -> usize {
        let mut text = String::new();
        std::fs::File::open(&self.log)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("read the log");
        text.lines()
            .filter(|l| {
                l.contains(r#""target":"sqlx::query""#)
                    || l.contains(r#""target":"lectern_store::hot_read""#)
            })
            .count()
    }

    /// The fewest statements logged around one GET of `path` over a few
    /// tries (background work, such as the job queue's polls, only adds).
    async fn statements_for(&self, client: &Client, path: &str) -> usize {
        let mut fewest = usize::MAX;
        for _ in 0..4 {
            let before = self.statements_so_far();
            let r = client.get(path).await;
            assert_eq!(r.status(), StatusCode::OK, "GET {path}");
            r.bytes().await.expect("body");
            // The log is written as the statements run; give it a moment.
            tokio::time::sleep(Duration::from_millis(50)).await;
            fewest = fewest.min(self.statements_so_far() - before);
        }
        fewest
    }
}

async fn wait_ready(base: &str) {
    for _ in 0..300 {
        if let Ok(r) = reqwest::get(format!("{base}/health/ready")).await {
            if r.status() == StatusCode::OK {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} did not become ready");
}

async fn enrol(client: &Client, key: &str) {
    let csrf = client.csrf().await;
    let r = client
        .post_form(&format!("/courses/{key}/enroll"), &[("csrf_token", csrf)])
        .await;
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "enrol in {key}: {}",
        r.status()
    );
}

#[tokio::test]
async fn unit_pages_dashboards_and_the_catalogue_cost_a_fixed_number_of_reads() {
    let dir = tempfile::tempdir().expect("temp dir");
    for number in ["A", "B"] {
        let archive = dir.path().join(format!("{number}.tar.gz"));
        std::fs::write(&archive, course(number)).expect("archive");
        let out = crate::backend::lectern_in(dir.path())
            .arg("import")
            .arg(&archive)
            .output()
            .expect("import");
        assert!(out.status.success(), "import {number}: {out:?}");
    }
    let mut server = Server::start(dir.path(), "statements.log", 5);
    wait_ready(&server.base).await;

    let learner = Client::for_base(&server.base);
    let form = [
        ("username", "counted".to_string()),
        ("email", "counted@example.org".to_string()),
        ("name", "Counted".to_string()),
        ("password", PASSWORD.to_string()),
    ];
    let r = learner.post_form("/register", &form).await;
    assert_eq!(r.status(), StatusCode::OK, "register");
    enrol(&learner, "course-v1:CountX+A+R").await;

    let unit = |id: &str| format!("/courses/course-v1:CountX+A+R/unit/{id}");
    let one = server.statements_for(&learner, &unit("one")).await;
    let three = server.statements_for(&learner, &unit("three")).await;
    assert_eq!(
        (one, three),
        (2, 2),
        "a unit page is two reads (course with role and enrolment; the problems' \
         states) however many problems it shows, and nothing for the session"
    );
    let catalogue = server.statements_for(&learner, "/courses").await;
    let anonymous = Client::for_base(&server.base);
    let catalogue_anonymous = server.statements_for(&anonymous, "/courses").await;
    assert_eq!(
        (catalogue, catalogue_anonymous),
        (1, 1),
        "the catalogue is one read"
    );

    let dashboard_one = server.statements_for(&learner, "/dashboard").await;
    enrol(&learner, "course-v1:CountX+B+R").await;
    let (status, page) = learner.text("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Counts A") && page.contains("Counts B"),
        "{page}"
    );
    let dashboard_two = server.statements_for(&learner, "/dashboard").await;
    assert_eq!(
        (dashboard_one, dashboard_two),
        (3, 3),
        "the dashboard is three reads (enrolments, their courses, the learner's certificates) however many courses"
    );
    // Leaving a course takes it off the dashboard.
    let csrf = learner.csrf().await;
    let r = learner
        .post_form(
            "/courses/course-v1:CountX+B+R/unenroll",
            &[("csrf_token", csrf)],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let (_, page) = learner.text("/dashboard").await;
    assert!(
        page.contains("Counts A") && !page.contains("Counts B"),
        "{page}"
    );

    sigterm(&server.child);
    wait_exit(&mut server.child);

    // Without the session cache the same session costs three statements
    // on every page: the token, its user, and the header's Studio answer.
    let mut uncached = Server::start(dir.path(), "uncached.log", 0);
    wait_ready(&uncached.base).await;
    let same_session = Client::for_base(&uncached.base);
    let cookie = learner.cookie("lectern_session").expect("session cookie");
    let url = reqwest::Url::parse(&uncached.base).expect("url");
    same_session
        .jar
        .add_cookie_str(&format!("lectern_session={cookie}"), &url);
    let three = uncached.statements_for(&same_session, &unit("three")).await;
    assert_eq!(three, 2 + 3, "unit page without the session cache");
    sigterm(&uncached.child);
    wait_exit(&mut uncached.child);
}

/// Statements logged so far, less transaction control (sqlx logs
/// PostgreSQL's COMMIT but not SQLite's) and PostgreSQL's pool checking a
/// connection at checkout (`SHOW transaction_read_only`,
/// `postgres/primary.rs`): the same count on both backends.
fn work_statements(server: &Server) -> usize {
    let text = std::fs::read_to_string(&server.log).expect("read the log");
    text.lines()
        .filter(|l| l.contains(r#""target":"sqlx::query""#))
        .filter(|l| !l.contains("SHOW transaction_read_only"))
        .filter(|l| !l.contains(r#""summary":"COMMIT""#) && !l.contains(r#""summary":"BEGIN"#))
        .count()
}

/// A server over the grading course (`problems::grading_course`) with one
/// enrolled learner, `checker`, and that learner's bearer token.
async fn grading_server(dir: &Path, log_name: &str) -> (Server, String) {
    let archive = dir.join("G.tar.gz");
    std::fs::write(&archive, crate::problems::grading_course(0.5)).expect("archive");
    let out = crate::backend::lectern_in(dir)
        .arg("import")
        .arg(&archive)
        .output()
        .expect("import");
    assert!(out.status.success(), "import: {out:?}");
    let server = Server::start(dir, log_name, 5);
    wait_ready(&server.base).await;
    let learner = Client::for_base(&server.base);
    let form = [
        ("username", "checker".to_string()),
        ("email", "checker@example.org".to_string()),
        ("name", "Checker".to_string()),
        ("password", PASSWORD.to_string()),
    ];
    let r = learner.post_form("/register", &form).await;
    assert_eq!(r.status(), StatusCode::OK, "register");
    enrol(&learner, "course-v1:T+G+R").await;
    let bearer = crate::support::bearer(&server.base, "checker").await;
    (server, bearer)
}

/// The grading course's `p2` checked with `answer` through the JSON API.
async fn check_p2(server: &Server, bearer: &str, answer: &str, key: Option<&str>) {
    let url = format!(
        "{}/api/problems/v1/block-v1:T+G+R+type@problem+block@p2/check",
        server.base
    );
    let mut request = reqwest::Client::new()
        .post(&url)
        .header("Authorization", bearer)
        .json(&serde_json::json!({"answers": {"p2_2_1": answer}}));
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let r = request.send().await.expect("check");
    assert_eq!(r.status(), StatusCode::OK);
    r.bytes().await.expect("body");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The statements so far that upsert or delete subsection grade rows, on
/// either backend (sqlx logs PostgreSQL's, the group-commit writer SQLite's).
fn subsection_writes(server: &Server) -> (usize, usize) {
    let text = std::fs::read_to_string(&server.log).expect("read the log");
    let count = |what: &str| text.lines().filter(|l| l.contains(what)).count();
    (
        count("INSERT INTO subsection_grades"),
        count("DELETE FROM subsection_grades"),
    )
}

/// A check writes only the subsection rows its answer changed (issue 18,
/// twelfth pass): the first grade writes every row and prunes; after it, a
/// check that changes its problem's score upserts one row and prunes
/// nothing, and one that changes no score writes no row. The grading
/// course has three subsections, so "every row" and "one row" differ.
#[tokio::test]
async fn a_check_writes_only_the_subsection_rows_its_answer_changed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, bearer) = grading_server(dir.path(), "rows.log").await;
    let mut writes = Vec::new();
    for answer in ["3.14", "1", "2", "3.14"] {
        let before = subsection_writes(&server);
        check_p2(&server, &bearer, answer, None).await;
        let after = subsection_writes(&server);
        writes.push((after.0 - before.0, after.1 - before.1));
    }
    assert_eq!(
        writes,
        vec![(1, 1), (1, 0), (0, 0), (1, 0)],
        "(upserts, deletes) of subsection rows per check: first grade, score changed, unchanged, changed"
    );
    sigterm(&server.child);
    wait_exit(&mut server.child);
}

/// The statements of one keyed answer check through the JSON API: the
/// grade's subsections are one insert, so the count does not grow with the
/// course's subsections.
#[tokio::test]
async fn an_answer_check_costs_a_bounded_number_of_statements() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, bearer) = grading_server(dir.path(), "check.log").await;
    let mut fewest = usize::MAX;
    for n in 0..4 {
        let before = work_statements(&server);
        check_p2(&server, &bearer, "3.14", Some(&format!("count-{n}"))).await;
        fewest = fewest.min(work_statements(&server) - before);
    }
    // The session is cached (0), the key's stored answer (1), course, role
    // and enrolment (1), the problem's state (1), the stored grade's
    // revision and the course's states for the new grade (2); the write:
    // key row, state, submission, grade, the grade's subsections deleted
    // and inserted (6), BEGIN and COMMIT not counted. Before issue 18: the
    // session token and user, course, roles and enrolment apart, roles
    // again, the whole stored grade with its subsections, and one insert
    // per subsection.
    assert!(
        fewest <= 11,
        "an answer check costs {fewest} statements (11 expected at most)"
    );
    sigterm(&server.child);
    wait_exit(&mut server.child);
}
