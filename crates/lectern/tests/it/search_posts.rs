//! Discussion posts in the search index, through HTTP: a post written
//! through one node is found through the other node's course search and
//! discussion `text_search` (polled with a bound, no timing assertion), an
//! edit replaces it, a deletion removes the thread with its responses; a
//! learner never finds posts of a course they cannot read or of a topic
//! hidden from them; `text_search` answers from the index (comments and
//! stemmed words match) and, with search switched off, from the database.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_app::search::SearchWatcher;
use lectern_app::{AppSettings, Lectern};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::discussion_site::{talk_course, Api, KEY, OTHER, QKEY};
use crate::support::{s, TestSite};

const POLL: Duration = Duration::from_millis(200);

fn searchable(app: Lectern) -> Lectern {
    app.with_search(Arc::new(lectern_search::TantivyIndex::new().unwrap()))
}

/// Both talk courses; ann is enrolled in KEY, olly in OTHER, stan is on
/// KEY's staff.
async fn populate(site: &TestSite) {
    let root = site.user("root", true).await;
    for number in ["TALK", "ELSE"] {
        let r = reqwest::Client::new()
            .post(format!("{}/api/courses/v0/import/", site.base))
            .header(
                "Authorization",
                crate::support::bearer(&site.base, "root").await,
            )
            .body(talk_course(number, json!([])))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "import {number}");
    }
    for (name, course) in [("ann", KEY), ("olly", OTHER)] {
        site.user(name, false).await;
        let (status, _) = Api::new(site, Some(name))
            .await
            .post(
                "/api/enrollment/v1/enrollment",
                json!({"course_details": {"course_id": course}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "enrol {name}");
    }
    site.user("stan", false).await;
    let r = root
        .post_form(
            "/admin/course-roles",
            &[
                ("username", s("stan")),
                ("course_key", s(KEY)),
                ("role", s("staff")),
            ],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
}

/// The `_id`s course search finds for `words` (a post's is `thread:N` or `comment:N`).
async fn course_search(api: &Api, course: &str, words: &str) -> (StatusCode, Vec<String>) {
    let (status, body) = api
        .post(
            &format!("/search/{course}"),
            json!({"search_string": words}),
        )
        .await;
    let ids = body["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|h| h["_id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    (status, ids)
}

/// The thread ids a discussion `text_search` lists, and the whole answer.
async fn text_search(api: &Api, words: &str) -> (StatusCode, Vec<String>, Value) {
    let (status, body) = api
        .get(&format!(
            "/api/discussion/v1/threads/?course_id={QKEY}&text_search={words}"
        ))
        .await;
    let ids = body["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|t| t["id"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    (status, ids, body)
}

/// Polls `check` until it holds, within a generous bound; whether it did.
async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let give_up = Instant::now() + Duration::from_secs(30);
    while Instant::now() < give_up {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_post_through_one_node_is_found_through_the_other_until_it_is_deleted() {
    let a = TestSite::spawn_custom(AppSettings::default(), searchable).await;
    let _wa = SearchWatcher::start(&a.app, POLL);
    let b = a.another_node_custom(searchable).await;
    let _wb = SearchWatcher::start(&b.app, POLL);
    populate(&a).await;
    let ann_a = Api::new(&a, Some("ann")).await;
    let stan_a = Api::new(&a, Some("stan")).await;
    let ann_b = Api::new(&b, Some("ann")).await;
    let stan_b = Api::new(&b, Some("stan")).await;
    let olly_b = Api::new(&b, Some("olly")).await;

    // A thread and a response on it, through node a.
    let thread = ann_a
        .thread(
            "course",
            "question",
            "Burrow question",
            "Does the **wombat** dig at night?",
        )
        .await;
    let response = stan_a
        .respond(&thread, None, "The echidna digs as well.")
        .await;
    let comment = ann_a
        .respond(&thread, Some(&response), "Thanks, the bilby too?")
        .await;
    // Node b finds all three through course search, and the thread through
    // text_search (by its own words and by a comment's).
    assert!(
        eventually(|| async {
            course_search(&ann_b, KEY, "bilby").await.1 == [format!("comment:{comment}")]
        })
        .await,
        "node b indexed the comment written through node a"
    );
    assert_eq!(
        course_search(&ann_b, KEY, "wombats").await.1,
        [format!("thread:{thread}")],
        "stemmed, in the thread's body"
    );
    assert_eq!(
        course_search(&ann_b, KEY, "echidna").await.1,
        [format!("comment:{response}")]
    );
    let (status, ids, body) = text_search(&ann_b, "echidna").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids, [thread.as_str()], "a thread is found by its response");
    assert_eq!(body["pagination"]["count"], 1);
    assert!(
        body.get("text_search_rewrite").is_some_and(Value::is_null),
        "{body}"
    );
    assert_eq!(text_search(&ann_b, "burrows").await.1, [thread.as_str()]);
    assert!(text_search(&ann_b, "platypus").await.1.is_empty());

    // A learner of another course finds none of it.
    assert_eq!(
        course_search(&olly_b, KEY, "wombat").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        text_search(&olly_b, "wombat").await.0,
        StatusCode::FORBIDDEN
    );
    let (status, ids) = course_search(&olly_b, OTHER, "wombat").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ids.is_empty(), "{ids:?}");

    // A post in a topic hidden from learners (an unreleased unit's): staff
    // find it, the learner does not, by either search.
    let hidden = stan_a
        .thread("futuredisc", "discussion", "Prep", "The narwhal plan.")
        .await;
    assert!(
        eventually(|| async { text_search(&stan_b, "narwhal").await.1 == [hidden.clone()] }).await,
        "staff find the hidden topic's post on node b"
    );
    assert_eq!(
        course_search(&stan_b, KEY, "narwhal").await.1,
        [format!("thread:{hidden}")]
    );
    assert!(course_search(&ann_b, KEY, "narwhal").await.1.is_empty());
    assert!(text_search(&ann_b, "narwhal").await.1.is_empty());

    // An edit through node a replaces the thread's words on node b.
    let (status, _) = ann_a
        .patch(
            &format!("/api/discussion/v1/threads/{thread}/"),
            json!({"title": "Burrow question about the quokka"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        eventually(|| async { text_search(&ann_b, "quokka").await.1 == [thread.clone()] }).await,
        "node b has the edited title"
    );

    // Deleting the thread through node a removes it with its response and
    // comment from node b's index.
    assert_eq!(
        ann_a
            .delete(&format!("/api/discussion/v1/threads/{thread}/"))
            .await,
        StatusCode::NO_CONTENT
    );
    assert!(
        eventually(|| async {
            course_search(&ann_b, KEY, "wombat").await.1.is_empty()
                && course_search(&ann_b, KEY, "echidna").await.1.is_empty()
                && course_search(&ann_b, KEY, "bilby").await.1.is_empty()
        })
        .await,
        "node b dropped the deleted thread and its posts"
    );
    assert!(text_search(&ann_b, "echidna").await.1.is_empty());
}

#[tokio::test]
async fn text_search_without_search_falls_back_to_titles_and_bodies_in_the_database() {
    let site = TestSite::spawn().await;
    populate(&site).await;
    let ann = Api::new(&site, Some("ann")).await;
    let thread = ann
        .thread("course", "discussion", "Wombat burrows", "Dug at night.")
        .await;
    ann.respond(&thread, None, "The echidna digs too.").await;
    let (status, ids, body) = text_search(&ann, "wombat").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids, [thread]);
    assert!(body.get("text_search_rewrite").is_some_and(Value::is_null));
    assert!(
        text_search(&ann, "echidna").await.1.is_empty(),
        "the database search reads titles and bodies only"
    );
}
