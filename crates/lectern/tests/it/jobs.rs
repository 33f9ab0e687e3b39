//! The durable job queue as people meet it: a publish regrades through a
//! job, a stale regrade never undoes a newer one, the admin console and
//! `/metrics` show jobs, and a node killed in the middle of a regrade
//! leaves a job that the restarted node finishes with the right grades.

use std::time::{Duration, Instant};

use lectern_app::jobs::{Job, JobKind, JobState, RegradeOutcome};
use lectern_app::transfer::ImportSource;
use lectern_content::olx::ImportLimits;
use lectern_content::CourseKey;
use reqwest::StatusCode;
use serde_json::json;

use crate::problems::grading_course;
use crate::support::{s, Client, TestSite};

const COURSE: &str = "course-v1:T+G+R";
/// Only the exam counts: a grading change every learner's grade feels.
const ONLY_EXAM: &str = r#"{"GRADER": [{"type": "Exam", "min_count": 1, "drop_count": 0, "weight": 1.0, "short_label": "Exam"}], "GRADE_CUTOFFS": {"Pass": 0.5}}"#;

fn key() -> CourseKey {
    COURSE.parse().unwrap()
}

fn usage(problem: &str) -> String {
    format!("block-v1:T+G+R+type@problem+block@{problem}")
}

/// Polls `probe` every 100 ms for up to `secs` seconds.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A site with the grading course (v1) and `bea`, who answered: homework
/// 1.0 and 0.0 (one dropped), exam 0.67 → 84% under the first policy.
async fn graded_site() -> (TestSite, Client, Client) {
    let site = TestSite::spawn().await;
    let root = site.user("root", true).await;
    site.app
        .import_course(
            None,
            ImportSource::Archive(grading_course(0.5)),
            ImportLimits::default(),
        )
        .await
        .unwrap();
    let bea = site.user("bea", false).await;
    let bearer = crate::support::bearer(&site.base, "bea").await;
    let http = reqwest::Client::new();
    let post = |path: String, body: serde_json::Value| {
        http.post(format!("{}{path}", site.base))
            .header("Authorization", &bearer)
            .json(&body)
            .send()
    };
    let r = post(
        "/api/enrollment/v1/enrollment".into(),
        json!({"course_details": {"course_id": COURSE}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for (p, answers) in [
        ("p1", json!({"p1_2_1": "choice_1"})),
        ("p2", json!({"p2_2_1": "2.5"})),
        ("p3", json!({"p3_2_1": ["choice_0"]})),
    ] {
        let r = post(
            format!("/api/problems/v1/{}/check", usage(p)),
            json!({ "answers": answers }),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(stored_grade(&site).await, (1, 0.84));
    (site, root, bea)
}

/// bea's persisted grade: (course version, percent).
async fn stored_grade(site: &TestSite) -> (i64, f64) {
    let bea = site.app.user_by_username("bea").await.unwrap();
    let g = site
        .app
        .persisted_grade(&bea, &key())
        .await
        .unwrap()
        .unwrap();
    (g.course_version, g.percent)
}

/// Changes the draft's grading policy in Studio and publishes it (v2).
async fn publish_only_exam(root: &Client) {
    let r = root
        .post_form(
            &format!("/studio/course/{COURSE}/grading"),
            &[("grading_policy", s(ONLY_EXAM))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = root
        .post_form(&format!("/studio/course/{COURSE}/publish"), &[])
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
}

#[tokio::test]
async fn a_publish_regrades_through_a_job_shown_on_the_console_and_in_metrics() {
    let (site, root, bea) = graded_site().await;
    publish_only_exam(&root).await;
    // The job recomputes the stored grade for v2: the exam's 0.67 alone.
    let grade = eventually(30, "the regrade job", || async {
        Some(stored_grade(&site).await).filter(|g| g.0 == 2)
    })
    .await;
    assert_eq!(grade, (2, 0.67));

    let (status, html) = root.text("/admin/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"href="/admin/jobs""#),
        "linked from the console"
    );
    let html = eventually(10, "the job listed as done", || async {
        let (_, html) = root.text("/admin/jobs").await;
        html.contains("job-done").then_some(html)
    })
    .await;
    assert!(html.contains("course_regrade"), "{html}");
    assert!(html.contains(&format!("{COURSE} v2")), "{html}");
    assert!(html.contains("1 / 8"), "attempts shown: {html}");
    // Learners do not see jobs.
    assert_eq!(bea.get("/admin/jobs").await.status(), StatusCode::FORBIDDEN);

    let (_, metrics) = root.text("/metrics").await;
    assert!(metrics.contains("# TYPE lectern_jobs gauge"), "{metrics}");
    assert!(
        metrics.contains("lectern_jobs{state=\"running\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("lectern_job_runs_total{kind=\"course_regrade\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("lectern_job_failures_total{kind=\"course_regrade\"} 0"));
    assert!(metrics.ends_with("# EOF\n"));
}

#[tokio::test]
async fn a_stale_regrade_never_overwrites_the_grades_of_a_newer_version() {
    let (site, root, _) = graded_site().await;
    publish_only_exam(&root).await;
    eventually(30, "the v2 regrade", || async {
        let g = stored_grade(&site).await;
        (g.0 == 2).then_some(())
    })
    .await;
    // A regrade of v1 still queued from before (a slow node, a retry) runs now.
    let kind = JobKind::CourseRegrade {
        course: key(),
        version: 1,
    };
    let id = site.app.enqueue_job(&kind).await.unwrap().unwrap();
    let root_user = site.app.user_by_username("root").await.unwrap();
    eventually(30, "the stale job to finish", || async {
        let jobs = site.app.admin_jobs(&root_user).await.unwrap();
        jobs.into_iter()
            .find(|j: &Job| j.id == id && j.state == JobState::Done)
    })
    .await;
    assert_eq!(stored_grade(&site).await, (2, 0.67), "v2's grade stands");
    assert_eq!(
        site.app.regrade_course_version(&key(), 1).await.unwrap(),
        RegradeOutcome::Superseded
    );
    assert_eq!(stored_grade(&site).await, (2, 0.67));
}
