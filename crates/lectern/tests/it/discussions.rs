//! Course discussions through Open edX's v1 API: the question journey
//! (ask in a unit's topic, answer, endorse, pin, unread markers), flagged
//! posts and moderation, who may do what (every action × every role),
//! hidden topics, blackouts, once-only votes and flags, and hostile
//! Markdown/HTML in titles and bodies.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::discussion_site::{open, talk_site, Api, KEY, QKEY};

fn threads_url(extra: &str) -> String {
    format!("/api/discussion/v1/threads/?course_id={QKEY}{extra}")
}

#[tokio::test]
async fn a_question_in_a_unit_is_answered_endorsed_pinned_and_read() {
    let p = talk_site(open()).await;
    let site = &p.site;
    let (ann, bob, stan) = (
        Api::new(site, Some("ann")).await,
        Api::new(site, Some("bob")).await,
        Api::new(site, Some("stan")).await,
    );
    // The unit's discussion block is a topic, under its category.
    let (status, topics) = ann
        .get(&format!("/api/discussion/v1/course_topics/{KEY}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let week = &topics["courseware_topics"][0];
    assert_eq!(week["name"], "Week 1");
    assert_eq!(week["children"][0]["id"], "unit1disc");
    assert_eq!(week["children"][0]["name"], "Unit talk");
    let general: Vec<&str> = topics["non_courseware_topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(general, ["course", "qa"]);

    let q = ann
        .thread(
            "unit1disc",
            "question",
            "Why is the sky blue?",
            "I wonder about $x^2$.",
        )
        .await;
    let answer = bob.respond(&q, None, "Rayleigh **scattering**.").await;

    // Ann sees the answer as unread.
    let (_, list) = ann.get(&threads_url("&topic_id=unit1disc")).await;
    let t = &list["results"][0];
    assert_eq!(
        (t["title"].clone(), t["comment_count"].clone()),
        (json!("Why is the sky blue?"), json!(1))
    );
    assert_eq!(t["unread_comment_count"], 1);
    assert_eq!(t["read"], false);
    assert_eq!(t["rendered_body"], "<p>I wonder about \\(x^2\\).</p>\n");
    assert_eq!(list["pagination"]["count"], 1);

    // Staff endorses and pins; Bob's answer shows who endorsed it.
    let (status, c) = stan
        .patch(
            &format!("/api/discussion/v1/comments/{answer}/"),
            json!({"endorsed": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(
        (c["endorsed"].clone(), c["endorsed_by"].clone()),
        (json!(true), json!("stan"))
    );
    assert_eq!(c["endorsed_by_label"], "Staff");
    assert_eq!(c["author_label"], Value::Null, "bob is a learner");
    let (status, t) = stan
        .patch(
            &format!("/api/discussion/v1/threads/{q}/"),
            json!({"pinned": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["pinned"], true);
    assert_eq!(t["has_endorsed"], true);
    let (_, unanswered) = ann.get(&threads_url("&view=unanswered")).await;
    assert_eq!(
        unanswered["pagination"]["count"], 0,
        "an endorsed question is answered"
    );

    // Ann reads it: the marker clears.
    let (status, t) = ann.get(&format!("/api/discussion/v1/threads/{q}/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["author"], "ann");
    let (_, list) = ann.get(&threads_url("")).await;
    assert_eq!(list["results"][0]["unread_comment_count"], 0);
    assert_eq!(list["results"][0]["read"], true);
    let (_, unread) = ann.get(&threads_url("&view=unread")).await;
    assert_eq!(unread["pagination"]["count"], 0);

    // The responses, endorsed ones through the question's URL.
    let (status, responses) = ann
        .get(&format!(
            "/api/discussion/v1/comments/?thread_id={q}&endorsed=True"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(responses["results"][0]["id"], json!(answer));
    assert_eq!(
        responses["results"][0]["rendered_body"],
        "<p>Rayleigh <strong>scattering</strong>.</p>\n"
    );
    // A comment on the answer, listed under it.
    let c = ann.respond(&q, Some(&answer), "Thanks!").await;
    let (_, children) = ann
        .get(&format!("/api/discussion/v1/comments/{answer}/"))
        .await;
    assert_eq!(children["results"][0]["id"], json!(c));
    assert_eq!(children["results"][0]["parent_id"], json!(answer));
    // A comment on a comment is refused: one level, as Open edX.
    let (status, _) = ann
        .post(
            "/api/discussion/v1/comments/",
            json!({"thread_id": q, "parent_id": c, "raw_body": "deeper"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Pinned first, whatever the order.
    ann.thread("course", "discussion", "Later thread", "hello")
        .await;
    let (_, list) = ann.get(&threads_url("&order_by=vote_count")).await;
    assert_eq!(list["results"][0]["id"], json!(q));
}

#[tokio::test]
async fn a_moderator_sees_flagged_posts_and_deletes_them() {
    let p = talk_site(open()).await;
    let site = &p.site;
    let (ann, bob, mona) = (
        Api::new(site, Some("ann")).await,
        Api::new(site, Some("bob")).await,
        Api::new(site, Some("mona")).await,
    );
    let t = ann.thread("course", "discussion", "Hello", "hi all").await;
    let rude = bob.respond(&t, None, "something rude").await;
    let (status, c) = ann
        .patch(
            &format!("/api/discussion/v1/comments/{rude}/"),
            json!({"abuse_flagged": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c["abuse_flagged"], true);
    assert!(
        c.get("abuse_flagged_count").is_none(),
        "learners see only their own flag"
    );
    // Learners may not list flagged posts; the moderator may.
    assert_eq!(
        ann.get(&threads_url("&flagged=True")).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, flagged) = mona.get(&threads_url("&flagged=True")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(flagged["results"][0]["id"], json!(t));
    let (_, responses) = mona
        .get(&format!("/api/discussion/v1/comments/?thread_id={t}"))
        .await;
    assert_eq!(responses["results"][0]["abuse_flagged_count"], 1);
    assert_eq!(
        mona.delete(&format!("/api/discussion/v1/comments/{rude}/"))
            .await,
        StatusCode::NO_CONTENT
    );
    let (_, flagged) = mona.get(&threads_url("&flagged=True")).await;
    assert_eq!(flagged["pagination"]["count"], 0);
    let (_, thread) = ann.get(&format!("/api/discussion/v1/threads/{t}/")).await;
    assert_eq!(thread["comment_count"], 0);
    assert_eq!(
        ann.get(&format!("/api/discussion/v1/comments/{rude}/"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn outsiders_neither_read_nor_post() {
    let p = talk_site(open()).await;
    let site = &p.site;
    let ann = Api::new(site, Some("ann")).await;
    let t = ann
        .thread("course", "discussion", "Inside", "only for us")
        .await;
    let r = ann.respond(&t, None, "yes").await;
    for (who, list_status, post_status, by_id) in [
        (
            Api::new(site, Some("olly")).await,
            StatusCode::FORBIDDEN,
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
        ),
        // Anonymous writes carry no CSRF cookie: refused (403) before anything else.
        (
            Api::new(site, None).await,
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        assert_eq!(who.get(&threads_url("")).await.0, list_status);
        assert_eq!(
            who.get(&format!("/api/discussion/v1/course_topics/{KEY}"))
                .await
                .0,
            list_status
        );
        assert_eq!(
            who.get(&format!("/api/discussion/v1/courses/{KEY}"))
                .await
                .0,
            list_status
        );
        let (status, body) = who
            .post(
                "/api/discussion/v1/threads/",
                json!({"course_id": KEY, "topic_id": "course", "type": "discussion", "title": "x", "raw_body": "y"}),
            )
            .await;
        assert_eq!(status, post_status, "{body}");
        assert_eq!(
            who.get(&format!("/api/discussion/v1/threads/{t}/")).await.0,
            by_id
        );
        assert_eq!(
            who.get(&format!("/api/discussion/v1/comments/?thread_id={t}"))
                .await
                .0,
            by_id
        );
        let write = if post_status == StatusCode::FORBIDDEN && by_id == StatusCode::UNAUTHORIZED {
            StatusCode::FORBIDDEN
        } else {
            by_id
        };
        let (status, _) = who
            .post(
                "/api/discussion/v1/comments/",
                json!({"thread_id": t, "raw_body": "in"}),
            )
            .await;
        assert_eq!(status, write);
        assert_eq!(
            who.patch(
                &format!("/api/discussion/v1/comments/{r}/"),
                json!({"voted": true})
            )
            .await
            .0,
            write
        );
        assert_eq!(
            who.delete(&format!("/api/discussion/v1/threads/{t}/"))
                .await,
            write
        );
    }
    let (_, list) = ann.get(&threads_url("")).await;
    assert_eq!(
        list["pagination"]["count"], 1,
        "nothing was posted or deleted"
    );
    assert_eq!(list["results"][0]["comment_count"], 1);
}

#[tokio::test]
async fn unreleased_topics_are_hidden_from_learners() {
    let p = talk_site(open()).await;
    let site = &p.site;
    let (ann, stan) = (
        Api::new(site, Some("ann")).await,
        Api::new(site, Some("stan")).await,
    );
    let (_, topics) = ann
        .get(&format!("/api/discussion/v1/course_topics/{KEY}"))
        .await;
    assert!(!topics.to_string().contains("futuredisc"), "{topics}");
    let (_, topics) = stan
        .get(&format!("/api/discussion/v1/course_topics/{KEY}"))
        .await;
    assert!(topics.to_string().contains("futuredisc"), "{topics}");
    let (status, body) = ann
        .post(
            "/api/discussion/v1/threads/",
            json!({"course_id": KEY, "topic_id": "futuredisc", "type": "discussion", "title": "x", "raw_body": "y"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["field_errors"]["topic_id"].is_string());
    let hidden = stan
        .thread("futuredisc", "discussion", "Staff prep", "soon")
        .await;
    assert_eq!(
        ann.get(&format!("/api/discussion/v1/threads/{hidden}/"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, list) = ann.get(&threads_url("")).await;
    assert_eq!(list["pagination"]["count"], 0);
    let (_, list) = stan.get(&threads_url("")).await;
    assert_eq!(list["pagination"]["count"], 1);
}

#[tokio::test]
async fn blackouts_stop_learners_posting_but_not_moderators() {
    let now = chrono::Utc::now();
    let window = json!([[
        (now - chrono::Duration::days(1)).to_rfc3339(),
        (now + chrono::Duration::days(1)).to_rfc3339()
    ]]);
    let p = talk_site(window).await;
    let site = &p.site;
    let (ann, mona) = (
        Api::new(site, Some("ann")).await,
        Api::new(site, Some("mona")).await,
    );
    let (_, course) = ann.get(&format!("/api/discussion/v1/courses/{KEY}")).await;
    assert_eq!(course["blackouts"].as_array().unwrap().len(), 1);
    assert_eq!(course["user_is_privileged"], false);
    let (status, body) = ann
        .post(
            "/api/discussion/v1/threads/",
            json!({"course_id": KEY, "topic_id": "course", "type": "discussion", "title": "x", "raw_body": "y"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("blackout"));
    let t = mona
        .thread("course", "discussion", "Announcement", "quiet week")
        .await;
    let (status, _) = ann
        .post(
            "/api/discussion/v1/comments/",
            json!({"thread_id": t, "raw_body": "ok"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Reading and voting go on.
    let (status, v) = ann
        .patch(
            &format!("/api/discussion/v1/threads/{t}/"),
            json!({"voted": true}),
        )
        .await;
    assert_eq!(
        (status, v["vote_count"].clone()),
        (StatusCode::OK, json!(1))
    );
}

#[tokio::test]
async fn votes_and_flags_count_once_per_person() {
    let p = talk_site(open()).await;
    let site = &p.site;
    let (ann, bob, tara) = (
        Api::new(site, Some("ann")).await,
        Api::new(site, Some("bob")).await,
        Api::new(site, Some("tara")).await,
    );
    let t = ann
        .thread("course", "discussion", "Vote me", "please")
        .await;
    let path = format!("/api/discussion/v1/threads/{t}/");
    for _ in 0..3 {
        let (status, v) = bob
            .patch(&path, json!({"voted": true, "abuse_flagged": true}))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (v["voted"].clone(), v["vote_count"].clone()),
            (json!(true), json!(1))
        );
    }
    let (_, v) = tara.patch(&path, json!({"voted": true})).await;
    assert_eq!(v["vote_count"], 2);
    assert_eq!(v["abuse_flagged_count"], 1, "one flag, however often sent");
    let (_, v) = bob.patch(&path, json!({"voted": false})).await;
    assert_eq!(
        (v["voted"].clone(), v["vote_count"].clone()),
        (json!(false), json!(1))
    );
    let (_, v) = bob.patch(&path, json!({"voted": false})).await;
    assert_eq!(v["vote_count"], 1, "unvoting twice takes one vote away");
    // A moderator clearing the flag clears everyone's.
    let (_, v) = tara.patch(&path, json!({"abuse_flagged": false})).await;
    assert_eq!(v["abuse_flagged_count"], 0);
    let (_, v) = bob.get(&path).await;
    assert_eq!(v["abuse_flagged"], false);
}

#[tokio::test]
async fn scripts_never_reach_rendered_bodies_and_raw_bodies_come_back_as_written() {
    let p = talk_site(open()).await;
    let site = &p.site;
    let ann = Api::new(site, Some("ann")).await;
    let hostile = [
        "<script>alert('x')</script>",
        "<img src=x onerror=\"alert(1)\">",
        "[click](javascript:alert(1))",
        "<a href=\"javascript:alert(1)\">link</a>",
        "<svg/onload=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<div onclick=\"alert(1)\" style=\"background:url(javascript:alert(1))\">x</div>",
        "[a](JaVaScRiPt:alert(1))",
    ];
    for raw in hostile {
        let (status, t) = ann
            .post(
                "/api/discussion/v1/threads/",
                json!({"course_id": KEY, "topic_id": "course", "type": "discussion", "title": raw, "raw_body": raw}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{t}");
        assert_eq!(t["raw_body"], raw, "stored as written");
        assert_eq!(t["title"], raw, "titles are text; pages escape them");
        let id = t["id"].as_str().unwrap().to_string();
        let c = ann.respond(&id, None, raw).await;
        let (_, children) = ann
            .get(&format!("/api/discussion/v1/comments/?thread_id={id}"))
            .await;
        let comment = children["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == json!(c))
            .unwrap()
            .clone();
        for rendered in [t["rendered_body"].clone(), comment["rendered_body"].clone()] {
            let html = rendered.as_str().unwrap();
            assert!(safe_html(html), "{raw} rendered as {html}");
        }
    }
}

#[tokio::test]
async fn bounds_on_bodies_titles_pages_and_searches() {
    let p = talk_site(open()).await;
    let site = &p.site;
    let ann = Api::new(site, Some("ann")).await;
    let long_title = "t".repeat(301);
    let (status, body) = ann
        .post(
            "/api/discussion/v1/threads/",
            json!({"course_id": KEY, "topic_id": "course", "type": "discussion", "title": long_title, "raw_body": "y"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["field_errors"]["title"].is_string());
    let (status, body) = ann
        .post(
            "/api/discussion/v1/threads/",
            json!({"course_id": KEY, "topic_id": "course", "type": "poll", "title": "x", "raw_body": "y"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = ann
        .post(
            "/api/discussion/v1/threads/",
            json!({"course_id": KEY, "topic_id": "course", "type": "discussion", "title": "x", "raw_body": "b".repeat(20_001)}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for bad in [
        "&page_size=101",
        "&page=0",
        "&order_by=title",
        "&view=mine",
        "&following=maybe",
    ] {
        let (status, body) = ann.get(&threads_url(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _) = ann
        .get(&threads_url(&format!("&text_search={}", "w".repeat(201))))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Searching and paging.
    for i in 0..3 {
        ann.thread(
            "course",
            "discussion",
            &format!("Topic number {i}"),
            "body 100% sure",
        )
        .await;
    }
    let (_, found) = ann.get(&threads_url("&text_search=NUMBER%201")).await;
    assert_eq!(found["pagination"]["count"], 1);
    let (_, found) = ann.get(&threads_url("&text_search=0%25")).await;
    assert_eq!(found["pagination"]["count"], 3, "% is a literal character");
    let (_, page) = ann.get(&threads_url("&page_size=2")).await;
    assert_eq!(page["pagination"]["num_pages"], 2);
    let next = page["pagination"]["next"].as_str().unwrap();
    assert!(next.contains("page=2"), "{next}");
    let (_, page2) = ann.get(next.trim_start_matches(&site.base)).await;
    assert_eq!(page2["results"].as_array().unwrap().len(), 1);
    assert!(page2["pagination"]["previous"].is_string());
    assert_eq!(
        ann.get(&threads_url("&page=3&page_size=2")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_discussion_api_is_in_the_openapi_document() {
    let p = talk_site(open()).await;
    let (status, doc) = Api::new(&p.site, None).await.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for (path, method) in [
        ("/api/discussion/v1/courses/{course_id}", "get"),
        ("/api/discussion/v1/course_topics/{course_id}", "get"),
        ("/api/discussion/v1/threads/", "get"),
        ("/api/discussion/v1/threads/", "post"),
        ("/api/discussion/v1/threads/{thread_id}/", "patch"),
        ("/api/discussion/v1/threads/{thread_id}/", "delete"),
        ("/api/discussion/v1/comments/", "post"),
        ("/api/discussion/v1/comments/{comment_id}/", "patch"),
        (
            "/api/discussion/v1/courses/{course_id}/roles/{rolename}/",
            "post",
        ),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    let _: &Value = &doc;
    // The admin console offers the discussion roles form.
    let (status, console) = p.root.text("/admin/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(console.contains("action=\"/admin/discussion-roles\""));
}

/// Whether no tag of `html` is a script, an event handler, a style or a
/// `javascript:` URL (text between tags is escaped, so it may say anything).
pub fn safe_html(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    lower.split('<').skip(1).all(|rest| {
        let tag = rest.split('>').next().unwrap_or("");
        let handler = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .skip(1)
            .any(|attr| attr.starts_with("on") || attr.starts_with("style"));
        !tag.starts_with("script") && !handler && !tag.contains("javascript:")
    })
}

#[test]
fn the_safety_check_catches_what_it_must() {
    assert!(safe_html("<p>&lt;svg onload=x&gt; javascript: in text</p>"));
    for bad in [
        "<script>x</script>",
        "<img src=x onerror=y>",
        "<a href=\"javascript:x\">",
        "<svg/onload=x>",
        "<div style=\"x\">",
    ] {
        assert!(!safe_html(bad), "{bad}");
    }
}
