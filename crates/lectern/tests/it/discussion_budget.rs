//! The discussion post budget is a rate limit: a learner past 30 posts an
//! hour is answered 429 Too Many Requests (JSON `rate_limited` for the API,
//! the error page for forms) and nothing is written; other learners and
//! moderators post on.

use reqwest::StatusCode;
use serde_json::json;

use crate::discussion_site::{open, talk_site, Api, KEY};
use crate::support::s;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn past_the_post_budget_a_learner_gets_429_and_nothing_is_written() {
    let people = talk_site(open()).await;
    let site = &people.site;
    let ann = Api::new(site, Some("ann")).await;
    let thread = ann.thread("course", "discussion", "Busy", "first").await;
    for i in 1..30 {
        ann.respond(&thread, None, &format!("reply {i}")).await;
    }

    // The 31st post, through the API: 429, Open edX's error shape.
    let (status, body) = ann
        .post(
            "/api/discussion/v1/comments/",
            json!({"thread_id": thread, "raw_body": "one too many"}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "rate_limited");
    assert!(
        body["message"].as_str().unwrap().contains("30 posts"),
        "{body}"
    );
    let (status, _) = ann
        .post(
            "/api/discussion/v1/threads/",
            json!({"course_id": KEY, "topic_id": "course", "type": "discussion", "title": "More", "raw_body": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Through the thread page's form: the 429 page.
    let thread_url = format!("/courses/{KEY}/discussion/threads/{thread}");
    let r = people
        .browser("ann")
        .post_form(
            &format!("{thread_url}/reply"),
            &[("body", s("from the page"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_none(), "no time is known");
    let page = r.text().await.unwrap();
    assert!(page.contains("please wait before posting again"), "{page}");

    // Nothing of it was written.
    let (_, t) = ann
        .get(&format!("/api/discussion/v1/threads/{thread}/"))
        .await;
    assert_eq!(t["comment_count"], 29, "{t}");
    let (_, page) = people.browser("ann").text(&thread_url).await;
    assert!(!page.contains("one too many") && !page.contains("from the page"));

    // The budget is ann's: bob and a moderator post on.
    let bob = Api::new(site, Some("bob")).await;
    bob.respond(&thread, None, "bob is fine").await;
    let mona = Api::new(site, Some("mona")).await;
    mona.respond(&thread, None, "moderators are exempt").await;
}
