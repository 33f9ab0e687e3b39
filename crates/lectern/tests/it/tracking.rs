//! Tracking events end to end: a learner's journey through HTTP (enrol,
//! answer wrong then right, run out of attempts, play and pause a video in
//! the page, unenrol) leaves exactly the expected events, in order, in the
//! day file, each a JSON object with Open edX's fields; what a page may
//! send to `POST /event` is bounded.

use std::path::Path;
use std::time::{Duration, Instant};

use lectern_app::AppSettings;
use lectern_events::{EventFileSettings, FileEventLog};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{bearer, json as body_json, s, TestSite};

const COURSE: &str = "course-v1:T+G+R";

/// A site with the grading course (tests/it/problems.rs) and a tracking log
/// in `folder`.
async fn site(folder: &Path) -> TestSite {
    let log = FileEventLog::start(EventFileSettings {
        folder: folder.to_path_buf(),
        retention_days: 30,
        max_day_bytes: 1 << 24,
    })
    .unwrap();
    let site =
        TestSite::spawn_custom(AppSettings::default(), move |app| app.with_event_log(log)).await;
    site.user("root", true).await;
    let admin = bearer(&site.base, "root").await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", &admin)
        .body(crate::problems::grading_course(0.5))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    site
}

/// Every event in `folder`'s day files once there are at least `count`
/// (the writer flushes within a moment; bounded wait, not a timing claim).
async fn events(folder: &Path, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(folder).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for line in text.lines() {
                all.push(
                    serde_json::from_str::<Value>(line).expect("each line is one JSON object"),
                );
            }
        }
        if all.len() >= count || Instant::now() > deadline {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn api_post(site: &TestSite, token: &str, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", site.base))
        .header("Authorization", token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_learners_journey_leaves_the_expected_events_in_open_edx_shape() {
    let folder = tempfile::tempdir().unwrap();
    let site = site(folder.path()).await;
    let page = site.user("ann", false).await;
    let ann = bearer(&site.base, "ann").await;
    let p1 = "block-v1:T+G+R+type@problem+block@p1";

    let enrol = json!({"course_details": {"course_id": COURSE}});
    let r = api_post(&site, &ann, "/api/enrollment/v1/enrollment", enrol.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let first = events(folder.path(), 1).await;
    assert_eq!(first.len(), 1, "the enrolment is recorded when it happens");
    // Enrolling again changes nothing and records nothing.
    let r = api_post(&site, &ann, "/api/enrollment/v1/enrollment", enrol).await;
    assert_eq!(r.status(), StatusCode::OK);

    let check = format!("/api/problems/v1/{p1}/check");
    let r = api_post(
        &site,
        &ann,
        &check,
        json!({"answers": {"p1_2_1": "choice_0"}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = api_post(
        &site,
        &ann,
        &check,
        json!({"answers": {"p1_2_1": "choice_1"}}),
    )
    .await;
    assert_eq!(body_json(r).await["earned"].as_f64(), Some(1.0));
    // p1 allows two attempts: a third is refused, and recorded as such.
    let r = api_post(
        &site,
        &ann,
        &check,
        json!({"answers": {"p1_2_1": "choice_1"}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The video player's events, as the page's script sends them.
    let unit = format!("/courses/{COURSE}/courseware/c1/hw1/");
    for (kind, event) in [
        (
            "play_video",
            r#"{"id":"v1","code":"html5","currentTime":0}"#,
        ),
        (
            "pause_video",
            r#"{"id":"v1","code":"html5","currentTime":12.5}"#,
        ),
    ] {
        let r = page
            .post_form(
                "/event",
                &[
                    ("event_type", s(kind)),
                    ("event", s(event)),
                    ("page", format!("{}{unit}", site.base)),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.text().await.unwrap(), "success");
    }

    // Leaving through a keyed request (the write path with a stored answer).
    let leave = json!({"course_details": {"course_id": COURSE}, "is_active": false});
    let r = reqwest::Client::new()
        .post(format!("{}/api/enrollment/v1/enrollment", site.base))
        .header("Authorization", &ann)
        .header("Idempotency-Key", "leave-1")
        .json(&leave)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let all = events(folder.path(), 7).await;
    let kinds: Vec<&str> = all
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "edx.course.enrollment.activated",
            "problem_check",
            "problem_check",
            "problem_check_fail",
            "play_video",
            "pause_video",
            "edx.course.enrollment.deactivated",
        ]
    );
    let ann_id = all[0]["context"]["user_id"].as_i64().expect("a user id");
    for e in &all {
        // Open edX's common fields, on every event.
        assert_eq!(e["name"], e["event_type"]);
        assert_eq!(e["username"], "ann");
        assert_eq!(e["context"]["course_id"], COURSE);
        assert_eq!(e["context"]["org_id"], "T");
        assert_eq!(e["context"]["user_id"], ann_id);
        let time = e["time"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(time).is_ok() && time.ends_with("+00:00"),
            "{time}"
        );
        assert_eq!(e["ip"], "127.0.0.1");
        assert!(e["host"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert!(e["context"]["path"].as_str().unwrap().starts_with('/'));
    }
    let sources: Vec<&str> = all
        .iter()
        .map(|e| e["event_source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        ["server", "server", "server", "server", "browser", "browser", "server"]
    );

    let activated = &all[0]["event"];
    assert_eq!(
        *activated,
        json!({"course_id": COURSE, "user_id": ann_id, "mode": "audit"})
    );

    let (wrong, right) = (&all[1]["event"], &all[2]["event"]);
    assert_eq!(all[1]["context"]["module"]["usage_key"], p1);
    assert_eq!(all[1]["context"]["path"], check);
    assert_eq!(wrong["problem_id"], p1);
    assert_eq!(wrong["answers"], json!({"p1_2_1": "choice_0"}));
    assert_eq!(wrong["success"], "incorrect");
    assert_eq!(wrong["attempts"], 1);
    assert_eq!(
        (wrong["grade"].as_f64(), wrong["max_grade"].as_f64()),
        (Some(0.0), Some(1.0))
    );
    assert_eq!(wrong["correct_map"]["p1_2_1"]["correctness"], "incorrect");
    assert_eq!(wrong["state"]["done"], false);
    assert_eq!(right["success"], "correct");
    assert_eq!(right["attempts"], 2);
    assert_eq!(right["grade"].as_f64(), Some(1.0));
    // The state a check started from is the previous check's.
    assert_eq!(
        right["state"]["student_answers"],
        json!({"p1_2_1": "choice_0"})
    );
    assert_eq!(right["state"]["done"], true);
    assert_eq!(all[3]["event"]["failure"], "unreset");

    // Browser events keep their event as the text the page sent.
    assert_eq!(
        all[4]["event"],
        r#"{"id":"v1","code":"html5","currentTime":0}"#
    );
    assert_eq!(all[4]["page"], format!("{}{unit}", site.base));
    assert_eq!(all[4]["context"]["path"], "/event");
    assert_eq!(all[6]["event"]["mode"], "audit");
}

#[tokio::test]
async fn what_a_page_may_send_is_bounded_and_nothing_else_is_recorded() {
    let folder = tempfile::tempdir().unwrap();
    let site = site(folder.path()).await;
    let page = site.user("ann", false).await;
    let unit = format!("/courses/{COURSE}/courseware/c1/hw1/");
    let send = |kind: &'static str, event: String| {
        let page = &page;
        let unit = unit.clone();
        async move {
            page.post_form(
                "/event",
                &[("event_type", s(kind)), ("event", event), ("page", unit)],
            )
            .await
        }
    };
    // A made-up kind, an event that is not JSON, one over the bound.
    let r = send("edx.grades.all_a_plus", s("{}")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(body_json(r).await["field_errors"]["event_type"].is_string());
    let r = send("play_video", s("{not json")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let big = format!(r#"{{"id":"{}"}}"#, "x".repeat(5_000));
    let r = send("play_video", big).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Without the CSRF token a browser's cookies do not carry it.
    let r = page
        .post_form_no_csrf(
            "/event",
            &[("event_type", s("play_video")), ("event", s("{}"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A visitor who is not signed in is answered, and not recorded.
    let visitor = site.client();
    let r = visitor
        .post_form(
            "/event",
            &[("event_type", s("play_video")), ("event", s("{}"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // One good event, so the wait below ends: it must be the only one.
    let r = send("load_video", s(r#"{"id":"v1","code":"html5"}"#)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let all = events(folder.path(), 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all_later = events(folder.path(), 1).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all_later.len(), 1, "{all_later:?}");
    assert_eq!(all[0]["event_type"], "load_video");
}
