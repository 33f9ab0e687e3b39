//! Whole-course regrade from the instructor dashboard: the button enqueues
//! the regrade of the newest published version and the page follows it to
//! "done" with every learner counted; a grading-policy change takes effect
//! at the publish, whose regrade shows on the same page and changes the
//! stored grades.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::reports::class;
use crate::support::Client;

const COURSE: &str = "course-v1:T+G+R";

fn page() -> String {
    format!("/courses/{COURSE}/instructor/regrade")
}

/// Waits until the page lists version `version` as `state` with `progress`.
async fn wait_for(client: &Client, version: i64, state: &str, progress: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let want = format!(
        "<td class=\"version\">{version}</td><td class=\"state\">{state}</td><td class=\"progress\">{progress}</td>"
    );
    loop {
        let (status, html) = client.text(&page()).await;
        assert_eq!(status, StatusCode::OK);
        if html.contains(&want) {
            return html;
        }
        assert!(Instant::now() < deadline, "never saw {want} in:\n{html}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_regrade_button_regrades_everyone_and_shows_progress() {
    let (site, root, sam) = class().await;
    let key = COURSE.parse().unwrap();
    let admin = site.app.user_by_username("root").await.unwrap();
    let version = site
        .app
        .instructor_course(&admin, &key)
        .await
        .unwrap()
        .published_version
        .unwrap();
    let (_, html) = sam.text(&page()).await;
    assert!(html.contains("Regrade all learners"), "{html}");

    // cy passes with the grading policy as imported.
    let cy = site.app.user_by_username("cy").await.unwrap();
    let before = site.app.persisted_grade(&cy, &key).await.unwrap().unwrap();
    assert_eq!(before.percent, 0.5);

    let r = sam.post_form(&format!("{}/start", page()), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    // ann, bo and cy are enrolled (dee left): 3 of 3.
    wait_for(&sam, version, "done", "3 / 3").await;

    // The grading policy changes in Studio; publishing applies it and
    // regrades, and the page shows that regrade too.
    let policy = serde_json::json!({"GRADER": [
        {"type": "Homework", "min_count": 2, "drop_count": 1, "weight": 0.1, "short_label": "HW"},
        {"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 0.9, "short_label": "Exam"}],
        "GRADE_CUTOFFS": {"Pass": 0.5}});
    let r = root
        .post_form(
            &format!("/studio/course/{COURSE}/grading"),
            &[("grading_policy", policy.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let next = site.app.publish(&admin, &key).await.unwrap();
    assert_eq!(next, version + 1);
    let html = wait_for(&sam, next, "done", "3 / 3").await;
    assert!(
        html.contains(&format!("<td class=\"version\">{version}</td>")),
        "the older run is still listed"
    );
    // cy: Homework 1.0 × 0.1 + Exam 0 × 0.9 = 0.1, no longer passing.
    let after = site.app.persisted_grade(&cy, &key).await.unwrap().unwrap();
    assert_eq!(after.percent, 0.1);
    assert!(!after.passed);
    assert_eq!(after.course_version, next);

    // Without the CSRF token the button does nothing.
    let r = sam
        .post_form_no_csrf(&format!("{}/start", page()), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
