//! Every discussion action against every role: the question's author
//! (ann), another learner (bob), a Community TA (tara), a Moderator (mona),
//! course staff (stan), the site admin (root), a learner of another course
//! (olly) and an anonymous client. The expected statuses are written here,
//! row by row, from docs/discussions.md.

use reqwest::StatusCode;
use serde_json::json;

use crate::discussion_site::{open, talk_site, Api, KEY, QKEY};

const OK: u16 = 200;
const GONE: u16 = 204;
const BAD: u16 = 400;
const ANON: u16 = 401;
const NO: u16 = 403;
/// An anonymous write has neither a bearer token nor a CSRF cookie: the
/// CSRF layer refuses it (403) before anything else, as on every API.
const ANON_W: u16 = 403;
const HIDDEN: u16 = 404;

const ROLES: [Option<&str>; 8] = [
    Some("ann"),
    Some("bob"),
    Some("tara"),
    Some("mona"),
    Some("stan"),
    Some("root"),
    Some("olly"),
    None,
];

#[tokio::test]
async fn every_action_for_every_role() {
    let p = talk_site(open()).await;
    let site = &p.site;
    let ann = Api::new(site, Some("ann")).await;
    let bob = Api::new(site, Some("bob")).await;
    let question = ann
        .thread("qa", "question", "Matrix question", "body")
        .await;
    let answer = bob.respond(&question, None, "an answer").await;
    let mut callers = Vec::new();
    for r in ROLES {
        callers.push(Api::new(site, r).await);
    }
    let t = format!("/api/discussion/v1/threads/{question}/");
    let c = format!("/api/discussion/v1/comments/{answer}/");
    let mut failures = Vec::new();
    let mut check = |action: &str, who: usize, got: StatusCode, want: u16| {
        if got.as_u16() != want {
            failures.push(format!(
                "{action} by {:?}: {got}, expected {want}",
                ROLES[who]
            ));
        }
    };
    for (i, api) in callers.iter().enumerate() {
        let rows: [(&str, u16); 9] = [
            ("list", [OK, OK, OK, OK, OK, OK, NO, ANON][i]),
            ("read", [OK, OK, OK, OK, OK, OK, HIDDEN, ANON][i]),
            ("create", [OK, OK, OK, OK, OK, OK, NO, ANON_W][i]),
            ("respond", [OK, OK, OK, OK, OK, OK, HIDDEN, ANON_W][i]),
            ("edit title", [OK, NO, OK, OK, OK, OK, HIDDEN, ANON_W][i]),
            ("pin", [NO, NO, OK, OK, OK, OK, HIDDEN, ANON_W][i]),
            ("endorse", [OK, NO, OK, OK, OK, OK, HIDDEN, ANON_W][i]),
            ("vote", [OK, OK, OK, OK, OK, OK, HIDDEN, ANON_W][i]),
            ("flagged list", [NO, NO, OK, OK, OK, OK, NO, ANON][i]),
        ];
        for (action, want) in rows {
            let got = match action {
                "list" => api.get(&format!("/api/discussion/v1/threads/?course_id={QKEY}")).await.0,
                "read" => api.get(&t).await.0,
                "create" => {
                    api.post(
                        "/api/discussion/v1/threads/",
                        json!({"course_id": KEY, "topic_id": "course", "type": "discussion", "title": "x", "raw_body": "y"}),
                    )
                    .await
                    .0
                }
                "respond" => {
                    api.post("/api/discussion/v1/comments/", json!({"thread_id": question, "raw_body": "r"}))
                        .await
                        .0
                }
                "edit title" => api.patch(&t, json!({"title": format!("Edited {i}")})).await.0,
                "pin" => api.patch(&t, json!({"pinned": i % 2 == 0})).await.0,
                "endorse" => api.patch(&c, json!({"endorsed": true})).await.0,
                "vote" => api.patch(&t, json!({"voted": true})).await.0,
                _ => {
                    api.get(&format!("/api/discussion/v1/threads/?course_id={QKEY}&flagged=True"))
                        .await
                        .0
                }
            };
            check(action, i, got, want);
        }
        // Destructive actions, each on posts of their own.
        let fresh = ann.thread("course", "discussion", "To delete", "x").await;
        let got = api
            .delete(&format!("/api/discussion/v1/threads/{fresh}/"))
            .await;
        check(
            "delete thread",
            i,
            got,
            [GONE, NO, GONE, GONE, GONE, GONE, HIDDEN, ANON_W][i],
        );
        let fresh = ann.thread("course", "discussion", "To close", "x").await;
        let got = api
            .patch(
                &format!("/api/discussion/v1/threads/{fresh}/"),
                json!({"closed": true}),
            )
            .await
            .0;
        check("close", i, got, [NO, NO, OK, OK, OK, OK, HIDDEN, ANON_W][i]);
        let response = bob.respond(&question, None, "mine").await;
        let path = format!("/api/discussion/v1/comments/{response}/");
        let got = api.patch(&path, json!({"raw_body": "changed"})).await.0;
        check(
            "edit response",
            i,
            got,
            [NO, OK, OK, OK, OK, OK, HIDDEN, ANON_W][i],
        );
        let got = api.delete(&path).await;
        check(
            "delete response",
            i,
            got,
            [NO, GONE, GONE, GONE, GONE, GONE, HIDDEN, ANON_W][i],
        );
        let got = api
            .post(
                &format!("/api/discussion/v1/courses/{KEY}/roles/Community%20TA/"),
                json!({"user_id": "bob", "action": "revoke"}),
            )
            .await
            .0;
        check(
            "manage roles",
            i,
            got,
            [HIDDEN, HIDDEN, HIDDEN, HIDDEN, NO, OK, HIDDEN, ANON_W][i],
        );
    }
    // A closed thread takes no more responses from learners; moderators still may.
    let closed = ann.thread("course", "discussion", "Closing", "x").await;
    let mona = &callers[3];
    mona.patch(
        &format!("/api/discussion/v1/threads/{closed}/"),
        json!({"closed": true}),
    )
    .await;
    let (got, _) = bob
        .post(
            "/api/discussion/v1/comments/",
            json!({"thread_id": closed, "raw_body": "late"}),
        )
        .await;
    check("respond to closed", 1, got, NO);
    let (got, _) = mona
        .post(
            "/api/discussion/v1/comments/",
            json!({"thread_id": closed, "raw_body": "note"}),
        )
        .await;
    check("moderator responds to closed", 3, got, OK);
    let (got, _) = ann
        .patch(
            &format!("/api/discussion/v1/threads/{closed}/"),
            json!({"title": "reopen?"}),
        )
        .await;
    check("author edits closed", 0, got, NO);
    let (got, _) = ann.patch(&t, json!({"nonsense": true})).await;
    check("unknown field", 0, got, BAD);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
