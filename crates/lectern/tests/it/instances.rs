//! Instances are as separate as sites on their own machines (issue 22):
//! one `lectern serve`, two instances made with `lectern instance create`,
//! driven by the Host header. An account, course, token, session, search
//! hit, post, report or backup of one never reaches the other; a host no
//! instance claims learns nothing; with no instance the default site answers
//! every host as before.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::discussion_site::talk_course;
use crate::instances_support::{eventually, set_cookies, sign_in, token, with_bearer, Deploy};

/// A's course (the discussion tests' course: a unit with text, topics).
const A_KEY: &str = "course-v1:T+ISO+R";
const B_KEY: &str = "course-v1:T+BEE+R";

/// Two instances, a (a.test) and b (b.test), each with an administrator
/// of the same name and its own password; a's has a course.
fn two_instances() -> Deploy {
    let d = Deploy::new("");
    d.create_instance("a", "a.test");
    d.create_instance("b", "b.test");
    d.user(Some("a"), "sam", "password of a!", true);
    d.user(Some("b"), "sam", "password of b!", true);
    d
}

#[tokio::test]
async fn the_same_username_signs_in_only_with_its_own_instances_password() {
    let mut d = two_instances();
    d.serve();
    for (host, own, other) in [
        ("a.test", "password of a!", "password of b!"),
        ("b.test", "password of b!", "password of a!"),
    ] {
        let c = d.client(host);
        let r = sign_in(&c, "sam", other).await;
        assert_eq!(
            r.status(),
            StatusCode::BAD_REQUEST,
            "{host}: the other's password"
        );
        assert!(c.cookie("lectern_session").is_none());
        let r = sign_in(&c, "sam", own).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "{host}: its own password"
        );
        assert!(c.cookie("lectern_session").is_some());

        let c = d.client(host);
        assert_eq!(
            token(&c, "sam", other).await.0,
            StatusCode::BAD_REQUEST,
            "{host}"
        );
        let (status, t) = token(&c, "sam", own).await;
        assert_eq!(status, StatusCode::OK, "{host}");
        assert!(t.is_some());
    }
}

/// A report of `kind` asked for on `c`'s host; the download link once ready.
async fn report_link(c: &crate::support::Client, key: &str) -> String {
    let page = format!("/courses/{key}/instructor/reports");
    let r = c
        .post_form(&format!("{page}/request/enrollment"), &[])
        .await;
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    eventually(60, "the report", || async {
        let (status, html) = c.text(&page).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains(">failed"), "the report failed:\n{html}");
        html.split("<tr class=\"report-row\">")
            .skip(1)
            .find(|row| row.contains("class=\"download\""))
            .and_then(|row| {
                crate::support::find_link(row, &format!("/courses/{key}/instructor/reports/"))
            })
    })
    .await
}

fn total(body: &str) -> i64 {
    serde_json::from_str::<Value>(body).unwrap_or_default()["total"]
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test]
async fn nothing_of_one_instance_reaches_anothers_host() {
    let mut d = two_instances();
    d.import("a", &talk_course("ISO", json!([])), "sam");
    d.import("b", &talk_course("BEE", json!([])), "sam");
    d.serve();
    let a = d.client("a.test");
    let b = d.client("b.test");

    // A's session cookie and bearer token; its cookies are host-only.
    let r = sign_in(&a, "sam", "password of a!").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("lectern_session=")),
        "{cookies:?}"
    );
    for c in &cookies {
        assert!(
            !c.to_ascii_lowercase().contains("domain="),
            "not host-only: {c}"
        );
    }
    let session = a.cookie("lectern_session").unwrap();
    let (_, a_token) = token(&d.client("a.test"), "sam", "password of a!").await;
    let a_token = a_token.unwrap();
    let (_, b_token) = token(&d.client("b.test"), "sam", "password of b!").await;
    let b_token = b_token.unwrap();

    // On A: the course, a post, search, discovery and a report.
    let (status, _) = with_bearer(
        &a,
        Method::GET,
        &format!("/api/courses/v1/courses/{A_KEY}"),
        &a_token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let r = a
        .http
        .post(a.url("/api/discussion/v1/threads/"))
        .header("Authorization", &a_token)
        .json(
            &json!({"course_id": A_KEY, "topic_id": "course", "type": "discussion",
                      "title": "Secret plans", "raw_body": "zebra crossing"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let thread: Value = r.json().await.unwrap();
    let thread_id = thread["id"].as_str().unwrap().to_string();
    let search = [("search_string", "Read")];
    eventually(30, "A's course indexed", || async {
        let (status, body) = with_bearer(
            &a,
            Method::POST,
            &format!("/search/{A_KEY}"),
            &a_token,
            Some(&search),
        )
        .await;
        (status == StatusCode::OK && total(&body) >= 1).then_some(())
    })
    .await;
    let discovered = eventually(30, "A's catalogue indexed", || async {
        let (_, body) = with_bearer(
            &a,
            Method::POST,
            "/search/course_discovery/",
            &a_token,
            Some(&[("search_string", "")]),
        )
        .await;
        (total(&body) == 1).then_some(body)
    })
    .await;
    assert!(
        discovered.contains(A_KEY) && !discovered.contains(B_KEY),
        "{discovered}"
    );
    let report = report_link(&a, A_KEY).await;
    assert_eq!(a.get(&report).await.status(), StatusCode::OK);

    // From B's host: A's token and session are strangers.
    let (status, _) =
        with_bearer(&b, Method::GET, "/api/user/v1/accounts/sam", &a_token, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "A's token on B");
    let (status, _) =
        with_bearer(&b, Method::GET, "/api/user/v1/accounts/sam", &b_token, None).await;
    assert_eq!(status, StatusCode::OK, "B's own token");
    let (status, _) = with_bearer(&b, Method::GET, "/api/backup/v1/snapshot", &a_token, None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "A's token asks B for a backup"
    );
    let stranger = d.client("b.test");
    let r = stranger
        .http
        .get(stranger.url("/dashboard"))
        .header("Cookie", format!("lectern_session={session}"))
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_redirection(),
        "A's session on B is no session: {}",
        r.status()
    );
    assert!(r.headers()["location"].to_str().unwrap().contains("/login"));
    let r = stranger
        .http
        .get(stranger.url("/api/user/v1/accounts/sam"))
        .header("Cookie", format!("lectern_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // B's own administrator finds nothing of A's: not its course, post,
    // search hits, catalogue entry or report.
    let r = sign_in(&b, "sam", "password of b!").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for path in [
        format!("/courses/{A_KEY}/"),
        format!("/courses/{A_KEY}/about"),
        format!("/courses/{A_KEY}/instructor/reports"),
        report.clone(),
    ] {
        assert_eq!(b.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = with_bearer(
        &b,
        Method::GET,
        &format!("/api/courses/v1/courses/{A_KEY}"),
        &b_token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = with_bearer(
        &b,
        Method::GET,
        &format!("/api/discussion/v1/threads/{thread_id}/"),
        &b_token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "A's post on B");
    let (_, body) = with_bearer(
        &b,
        Method::GET,
        &format!(
            "/api/discussion/v1/threads/?course_id={}",
            B_KEY.replace('+', "%2B")
        ),
        &b_token,
        None,
    )
    .await;
    assert!(!body.contains("Secret plans"), "{body}");
    let (status, _) = with_bearer(
        &b,
        Method::POST,
        &format!("/search/{A_KEY}"),
        &b_token,
        Some(&search),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "searching A's course on B");
    let discovered = eventually(30, "B's catalogue indexed", || async {
        let (_, body) = with_bearer(
            &b,
            Method::POST,
            "/search/course_discovery/",
            &b_token,
            Some(&[("search_string", "")]),
        )
        .await;
        (total(&body) == 1).then_some(body)
    })
    .await;
    assert!(
        discovered.contains(B_KEY) && !discovered.contains(A_KEY),
        "{discovered}"
    );

    // Backups: A's are A's alone.
    let made = d.ok(&["--instance", "a", "backup", "create"]);
    let file = std::path::Path::new(made.trim())
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(d.ok(&["--instance", "a", "backup", "list"]).contains(&file));
    let b_list = d.ok(&["--instance", "b", "backup", "list"]);
    assert!(
        !b_list.contains(&file),
        "A's backup {file} listed for B:\n{b_list}"
    );
    assert!(!made.contains("/instances/b/"), "{made}");
}

#[tokio::test]
async fn a_host_no_instance_claims_learns_nothing() {
    let mut d = two_instances();
    d.import("a", &talk_course("ISO", json!([])), "sam");
    d.ok(&["instance", "set", "a", "site_name=\"Acme Academy\""]);
    d.serve();
    let (_, bare) = d.raw("GET", "nobody.test", "/");
    let body_of = |raw: &str| raw.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    let bare_body = body_of(&bare);
    assert!(bare_body.contains("Not found"), "{bare}");
    for method in ["GET", "POST", "PUT", "DELETE", "HEAD"] {
        for path in [
            "/".to_string(),
            "/login".to_string(),
            "/api/user/v1/accounts/sam".to_string(),
            "/oauth2/access_token".to_string(),
            "/static/lectern.css".to_string(),
            format!("/courses/{A_KEY}/"),
            "/admin/".to_string(),
            "/setup/x".to_string(),
        ] {
            let (status, raw) = d.raw(method, "nobody.test:8080", &path);
            assert_eq!(status, 404, "{method} {path}: {raw}");
            assert!(set_cookies(&raw).is_empty(), "{method} {path}: {raw}");
            if method != "HEAD" {
                assert_eq!(body_of(&raw), bare_body, "{method} {path}");
            }
            for leak in ["Acme", "ISO", "a.test", "sam", "Lectern", "instance"] {
                assert!(!raw.contains(leak), "{method} {path} names {leak}: {raw}");
            }
        }
    }
    // A Host that is no host name is an unknown host too.
    for host in ["a_b.test", "a.test/x", "\u{e9}t\u{e9}.test"] {
        let (status, raw) = d.raw("GET", host, "/login");
        assert_eq!(
            (status, body_of(&raw)),
            (404, bare_body.clone()),
            "{host}: {raw}"
        );
    }
    for path in ["/health/live", "/health/ready", "/metrics"] {
        for host in ["nobody.test", "a.test", "b.test", "a_b.test"] {
            let (status, raw) = d.raw("GET", host, path);
            assert_eq!(status, 200, "{host}{path}: {raw}");
        }
    }
    // A's own host serves A.
    let (status, raw) = d.raw("GET", "a.test", "/login");
    assert_eq!(status, 200);
    assert!(raw.contains("Acme Academy"), "{raw}");
}

#[tokio::test]
async fn with_no_instance_the_default_site_answers_any_host() {
    let mut d = Deploy::new("");
    d.user(None, "root", crate::support::PASSWORD, true);
    d.serve();
    for host in ["my_server", "\u{e9}t\u{e9}.test", "anything.example:8080"] {
        let (status, raw) = d.raw("GET", host, "/login");
        assert_eq!(status, 200, "{host}: {raw}");
    }
    for host in ["anything.example", "a.test", "127.0.0.1", "localhost"] {
        let c = d.client(host);
        let (status, html) = c.text("/login").await;
        assert_eq!(status, StatusCode::OK, "{host}");
        assert!(html.contains("<form"), "{host}: {html}");
        let r = sign_in(&c, "root", crate::support::PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{host}");
    }
    let metrics = d.metrics();
    assert!(
        !metrics.contains("lectern_instance"),
        "no instance series: {metrics}"
    );
}

#[tokio::test]
async fn a_report_job_runs_on_its_own_instance_only() {
    let mut d = two_instances();
    d.import("a", &talk_course("ISO", json!([])), "sam");
    d.import("b", &talk_course("ISO", json!([])), "sam");
    d.serve();
    let a = d.client("a.test");
    let b = d.client("b.test");
    assert_eq!(
        sign_in(&a, "sam", "password of a!").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        sign_in(&b, "sam", "password of b!").await.status(),
        StatusCode::SEE_OTHER
    );
    // The same course key on both: the job a enqueues runs on a, and its
    // report is listed and served on a only.
    let link = report_link(&a, A_KEY).await;
    assert_eq!(a.get(&link).await.status(), StatusCode::OK);
    let (status, html) = b
        .text(&format!("/courses/{A_KEY}/instructor/reports"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("class=\"download\""),
        "a's report listed on b:\n{html}"
    );
    assert_eq!(b.get(&link).await.status(), StatusCode::NOT_FOUND);
    // b's jobs page has no report job of a's.
    let (status, jobs) = b.text("/admin/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!jobs.contains("course_report"), "{jobs}");
    let (_, jobs) = a.text("/admin/jobs").await;
    assert!(jobs.contains("course_report"), "{jobs}");
    // The job's log line names its instance.
    let log = eventually(10, "the job's log line", || async {
        let log = d.log();
        log.lines()
            .any(|l| l.contains("job done") && l.contains("course_report"))
            .then_some(log)
    })
    .await;
    let plain = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&log, "");
    let job_lines: Vec<&str> = plain
        .lines()
        .filter(|l| l.contains("job done") && l.contains("course_report"))
        .collect();
    for line in job_lines {
        assert!(
            line.contains("instance{instance=a}"),
            "a's job logs without its instance: {line}"
        );
    }

    // Mail: a password reset asked on a is in a's outbox, not b's.
    let r = d
        .client("a.test")
        .post_form(
            "/password_reset",
            &[("email", "sam@example.org".to_string())],
        )
        .await;
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let mails = |html: String| -> u64 {
        html.split("<div class=\"stat\">")
            .skip(1)
            .filter_map(|p| p.split('<').next()?.trim().parse::<u64>().ok())
            .sum()
    };
    eventually(10, "a's reset mail in a's outbox", || async {
        let (_, html) = a.text("/admin/mail").await;
        (mails(html) >= 1).then_some(())
    })
    .await;
    let (status, html) = b.text("/admin/mail").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mails(html.clone()), 0, "{html}");
}
