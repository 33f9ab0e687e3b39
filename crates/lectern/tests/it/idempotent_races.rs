//! Keyed writes racing on two nodes of one database (copies of one request
//! sent to both at once, as a client that gave up on one node and tried the
//! other): one effect, one answer for all. And the cleanup of stored
//! answers: older than the keep window they are deleted by the periodic job
//! (a retry with such a key is a new request), fresh ones stay, and the key
//! a check was made with stays in the submission history.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use lectern_app::jobs::{JobKind, JobState};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::idempotent_writes::{
    api, enrol_body, import, publish_path, record, site_with_course, upload, COURSE,
};
use crate::support::{bearer, Client, TestSite};

/// `n` copies of one request, alternately to `bases`, all at once.
async fn race<F, Fut>(n: usize, bases: &[String], send: F) -> Vec<(StatusCode, Value)>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = (StatusCode, Value)> + Send + 'static,
{
    let tasks: Vec<_> = (0..n)
        .map(|i| tokio::spawn(send(bases[i % bases.len()].clone())))
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
    answers
}

#[tokio::test]
async fn copies_racing_on_two_nodes_apply_once() {
    let (one, root, browser) = site_with_course(TestSite::spawn().await).await;
    let two = one.another_node().await;
    let bases = [one.base.clone(), two.base.clone()];

    let answers = race(8, &bases, |base| {
        let root = root.clone();
        async move { api(&base, &root, &publish_path(COURSE), Some("race-pub"), None).await }
    })
    .await;
    assert_eq!(answers[0].1["version"], 2);
    assert_eq!(record(&one, COURSE).await.published_version, Some(2));

    let archive = crate::problems::grading_course(0.25);
    let answers = race(4, &bases, |base| {
        let (root, archive) = (root.clone(), archive.clone());
        async move { import(&base, &root, archive, Some("race-import")).await }
    })
    .await;
    assert_eq!(answers[0].1["version"], 3);
    assert_eq!(record(&one, COURSE).await.published_version, Some(3));

    one.user("fay", false).await;
    let fay = bearer(&one.base, "fay").await;
    let path = "/api/enrollment/v1/enrollment";
    race(8, &bases, |base| {
        let fay = fay.clone();
        async move {
            api(
                &base,
                &fay,
                path,
                Some("race-enrol"),
                Some(enrol_body(None, true)),
            )
            .await
        }
    })
    .await;

    // Studio's upload form posted to both nodes at once (the same browser
    // session): the draft changes once.
    let before = record(&one, COURSE).await.draft_revision;
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let node = Client {
                http: browser.http.clone(),
                jar: browser.jar.clone(),
                base: bases[i % 2].clone(),
            };
            tokio::spawn(async move { upload(&node, "race-upload", b"raced").await.status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(record(&one, COURSE).await.draft_revision, before + 1);
}

#[tokio::test]
async fn old_answers_are_cleaned_up_and_fresh_ones_kept() {
    let offset = Arc::new(AtomicI64::new(0));
    let site = TestSite::spawn_with_clock(offset.clone()).await;
    let (site, root, _) = site_with_course(site).await;
    site.user("gus", false).await;
    let gus = bearer(&site.base, "gus").await;
    let enrolled = api(
        &site.base,
        &gus,
        "/api/enrollment/v1/enrollment",
        None,
        Some(enrol_body(None, true)),
    )
    .await;
    assert_eq!(enrolled.0, StatusCode::OK);
    let check = "/api/problems/v1/block-v1:T+G+R+type@problem+block@p2/check";
    let checked = api(
        &site.base,
        &gus,
        check,
        Some("old-check"),
        Some(json!({"answers": {"p2_2_1": "3.14"}})),
    )
    .await;
    assert_eq!(checked.0, StatusCode::OK, "{}", checked.1);
    let old = api(
        &site.base,
        &root,
        &publish_path(COURSE),
        Some("old-pub"),
        None,
    )
    .await;
    assert_eq!(old.1["version"], 2);

    // A day and an hour later (bearer tokens have expired meanwhile).
    offset.store(25 * 3600, Ordering::SeqCst);
    let root = bearer(&site.base, "root").await;
    let gus = bearer(&site.base, "gus").await;
    let fresh = api(
        &site.base,
        &root,
        &publish_path(COURSE),
        Some("new-pub"),
        None,
    )
    .await;
    assert_eq!(fresh.1["version"], 3);
    site.app
        .run_job(&JobKind::IdempotencyCleanup)
        .await
        .unwrap();

    let again = api(
        &site.base,
        &root,
        &publish_path(COURSE),
        Some("new-pub"),
        None,
    )
    .await;
    assert_eq!(again, fresh, "an answer inside the window is kept");
    let late = api(
        &site.base,
        &root,
        &publish_path(COURSE),
        Some("old-pub"),
        None,
    )
    .await;
    assert_eq!(
        late.1["version"], 4,
        "after the window an old key is a new request"
    );
    // The check's key stays in the history; its retry is a new check now.
    let history = reqwest::Client::new()
        .get(format!(
            "{}/api/problems/v1/block-v1:T+G+R+type@problem+block@p2/submissions",
            site.base
        ))
        .header("Authorization", &gus)
        .send()
        .await
        .unwrap();
    let history: Value = history.json().await.unwrap();
    assert_eq!(history["results"][0]["idempotency_key"], "old-check");
    let retried = api(
        &site.base,
        &gus,
        check,
        Some("old-check"),
        Some(json!({"answers": {"p2_2_1": "3.14"}})),
    )
    .await;
    assert_eq!(retried.1["attempts"], 2);
}

#[tokio::test]
async fn the_scheduler_runs_the_cleanup_job() {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    let root = site.app.user_by_username("root").await.unwrap();
    for _ in 0..100 {
        let jobs = site.app.admin_jobs(&root).await.unwrap();
        if jobs
            .iter()
            .any(|j| j.kind == JobKind::IDEMPOTENCY_CLEANUP && j.state == JobState::Done)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no idempotency_cleanup job ran");
}
