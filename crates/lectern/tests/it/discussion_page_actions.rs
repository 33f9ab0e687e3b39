//! The thread page's buttons without JavaScript: vote, follow, report,
//! pin, close, endorse / mark as answer, edit and delete are plain forms
//! that post, redirect back to the thread and show the change; each person
//! gets only the buttons the use cases allow them, and posting a form
//! anyway is refused with a 403 page that changes nothing. The unread
//! marker shows on the unit's list and the tab until the thread is opened.

use reqwest::StatusCode;

use crate::discussion_site::{open, talk_site, Api, People, KEY};
use crate::discussions::safe_html;
use crate::support::{s, Client};

/// Presses a button of a post's action form; the page it lands on.
async fn press(who: &Client, path: &str, action: &str) -> (StatusCode, String, String) {
    let r = who.post_form(path, &[("action", s(action))]).await;
    let status = r.status();
    let at = r.url().path().to_string();
    (status, at, r.text().await.unwrap())
}

fn thread_path(id: &str) -> String {
    format!("/courses/{KEY}/discussion/threads/{id}")
}

fn comment_path(id: &str, what: &str) -> String {
    format!("/courses/{KEY}/discussion/comments/{id}/{what}")
}

/// What `who` sees of the thread now.
async fn thread_page(who: &Client, id: &str) -> String {
    let (status, page) = who.text(&thread_path(id)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

/// A question by ann with bob's response.
async fn asked(p: &People) -> (String, String) {
    let ann = Api::new(&p.site, Some("ann")).await;
    let thread = ann
        .thread("course", "question", "Why <i>blue</i>?", "Sky is **blue**")
        .await;
    let bob = Api::new(&p.site, Some("bob")).await;
    let response = bob.respond(&thread, None, "Rayleigh scattering").await;
    (thread, response)
}

#[tokio::test]
async fn learners_vote_follow_report_and_mark_answers_by_forms_and_get_only_their_buttons() {
    let p = talk_site(open()).await;
    let (ann, bob) = (p.browser("ann"), p.browser("bob"));
    let (thread, response) = asked(&p).await;
    let act = format!("{}/act", thread_path(&thread));

    // Bob, an ordinary learner: vote, follow, report; no moderator buttons,
    // no edit or delete of ann's thread, no "mark as answer".
    let page = thread_page(bob, &thread).await;
    for want in ["value=\"vote\"", "value=\"follow\"", "value=\"flag\""] {
        assert!(page.contains(want), "{want}: {page}");
    }
    for never in [
        "value=\"pin\"",
        "value=\"close\"",
        "value=\"endorse\"",
        "Edit this post",
        "Delete the thread",
    ] {
        assert!(!page.contains(never), "bob must not get {never}");
    }
    // ...but he edits and deletes his own response.
    assert!(page.contains(&format!(
        "action=\"/courses/{KEY}/discussion/comments/{response}/edit\""
    )));
    assert!(page.contains("Delete the response"));

    // Each button posts, redirects back to the thread page and shows the change.
    let (status, at, page) = press(bob, &act, "vote").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        at,
        thread_path(&thread),
        "back on the thread (POST-redirect-GET)"
    );
    assert!(page.contains("1 votes") && page.contains("value=\"unvote\""));
    let (_, _, page) = press(bob, &act, "unvote").await;
    assert!(page.contains("0 votes") && page.contains("value=\"vote\""));
    let (_, _, page) = press(bob, &act, "follow").await;
    assert!(page.contains("value=\"unfollow\""));
    let (_, following) = bob
        .text(&format!("/courses/{KEY}/discussion/?view=following"))
        .await;
    assert!(
        following.contains("Why &#60;i&#62;blue&#60;/i&#62;?"),
        "{following}"
    );
    let (_, _, page) = press(bob, &act, "flag").await;
    assert!(page.contains("Remove report"));
    let (_, _, page) = press(bob, &comment_path(&response, "act"), "vote").await;
    assert!(page.contains("1 votes"), "{page}");

    // Posting a moderator's button anyway: a 403 page, nothing changes.
    for action in ["pin", "close"] {
        let (status, _, page) = press(bob, &act, action).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{action}");
        assert!(page.contains("You may not change the field"), "{page}");
    }
    let (status, _, _) = press(bob, &comment_path(&response, "act"), "endorse").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = bob
        .post_form(
            &format!("{}/edit", thread_path(&thread)),
            &[("title", s("Hijacked")), ("body", s("mine now"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = bob
        .post_form(&format!("{}/delete", thread_path(&thread)), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = thread_page(bob, &thread).await;
    assert!(!page.contains("<span class=\"badge\">pinned</span>") && !page.contains("Hijacked"));
    assert!(!page.contains("marked as answer"));
    // An unknown button, a forged form and another course's learner change nothing either.
    let (status, _, _) = press(bob, &act, "explode").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let r = bob.post_form_no_csrf(&act, &[("action", s("vote"))]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (status, _, _) = press(p.browser("olly"), &act, "vote").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(thread_page(bob, &thread).await.contains("0 votes"));

    // Ann, the question's author, marks bob's response as the answer and edits her post.
    let page = thread_page(ann, &thread).await;
    assert!(page.contains("Mark as answer") && page.contains("Edit this post"));
    assert!(
        page.contains("Sky is **blue**</textarea>"),
        "the raw Markdown to edit: {page}"
    );
    assert!(
        !page.contains(&format!("comments/{response}/delete")),
        "ann may not delete bob's response"
    );
    let (status, at, page) = press(ann, &comment_path(&response, "act"), "endorse").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(at, thread_path(&thread));
    assert!(page.contains("marked as answer by ann"), "{page}");
    assert!(page.contains("Unmark as answer"));
    let r = ann
        .post_form(
            &format!("{}/edit", thread_path(&thread)),
            &[
                ("title", s("<script>alert(1)</script> Why blue?")),
                ("body", s("Edited <img src=x onerror=alert(2)>")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("<h1>&#60;script&#62;alert(1)&#60;/script&#62; Why blue?</h1>"));
    assert!(
        safe_html(&page.replace("<script src=", "<x src=")),
        "{page}"
    );
    assert!(page.contains("Edited"));
    // A bad edit is refused with a page and the post stays.
    let r = ann
        .post_form(
            &format!("{}/edit", thread_path(&thread)),
            &[("title", s(" ")), ("body", s("x"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Bob edits, then deletes his own response.
    let r = bob
        .post_form(
            &comment_path(&response, "edit"),
            &[("body", s("Rayleigh, *really*"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("<em>really</em>"));
    let r = bob.post_form(&comment_path(&response, "delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.url().path(), thread_path(&thread));
    assert!(r.text().await.unwrap().contains("0 responses"));
}

#[tokio::test]
async fn moderators_pin_close_clear_flags_and_delete_by_forms() {
    let p = talk_site(open()).await;
    let (bob, mona) = (p.browser("bob"), p.browser("mona"));
    let (thread, response) = asked(&p).await;
    let act = format!("{}/act", thread_path(&thread));
    press(bob, &comment_path(&response, "act"), "flag").await;
    press(bob, &act, "flag").await;

    // Mona (a Moderator by role) gets the moderator's buttons and the flag counts.
    let page = thread_page(mona, &thread).await;
    for want in [
        "value=\"pin\"",
        "value=\"close\"",
        "Clear flags",
        "1 flags",
        "value=\"endorse\"",
        "Delete the thread",
        "Delete the response",
    ] {
        assert!(page.contains(want), "{want}: {page}");
    }
    let (status, _, page) = press(mona, &act, "pin").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<span class=\"badge\">pinned</span>") && page.contains("value=\"unpin\"")
    );
    let (_, _, page) = press(mona, &act, "close").await;
    assert!(page.contains("value=\"reopen\""));
    // Closed: bob gets no reply form, and posting one anyway is refused.
    let page = thread_page(bob, &thread).await;
    assert!(page.contains("This thread is closed.") && !page.contains("/reply\""));
    let r = bob
        .post_form(
            &format!("{}/reply", thread_path(&thread)),
            &[("body", s("late"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    press(mona, &act, "reopen").await;
    let (_, _, page) = press(mona, &act, "unpin").await;
    assert!(page.contains("value=\"pin\"") && !page.contains("late"));

    // The flagged view lists the thread until mona clears its flags.
    let flagged = format!("/courses/{KEY}/discussion/?view=flagged");
    let (status, view) = mona.text(&flagged).await;
    assert_eq!(status, StatusCode::OK);
    assert!(view.contains("Why &#60;i&#62;blue&#60;/i&#62;?"));
    press(mona, &comment_path(&response, "act"), "unflag").await;
    let (_, _, page) = press(mona, &act, "unflag").await;
    assert!(!page.contains("Clear flags"), "{page}");
    let (_, view) = mona.text(&flagged).await;
    assert!(view.contains("0 posts"), "{view}");

    // Mona deletes the thread: back to the tab, and the thread is gone.
    let r = mona
        .post_form(&format!("{}/delete", thread_path(&thread)), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.url().path(), format!("/courses/{KEY}/discussion/"));
    assert!(r.text().await.unwrap().contains("The post was deleted."));
    assert_eq!(
        bob.text(&thread_path(&thread)).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_thread_is_unread_on_the_unit_and_the_tab_until_it_is_opened() {
    let p = talk_site(open()).await;
    let bob = p.browser("bob");
    let ann = Api::new(&p.site, Some("ann")).await;
    let thread = ann
        .thread("unit1disc", "discussion", "Unit question", "hello")
        .await;
    let unread = "<strong class=\"badge unread\">unread</strong>";
    let unit = format!("/courses/{KEY}/unit/v1");
    let tab = format!("/courses/{KEY}/discussion/");
    // The author has read her own thread; bob has not.
    let (_, page) = p.browser("ann").text(&unit).await;
    assert!(page.contains("Unit question") && !page.contains(unread));
    for path in [&unit, &tab] {
        let (_, page) = bob.text(path).await;
        assert!(
            page.contains("Unit question") && page.contains(unread),
            "{path}: {page}"
        );
    }
    thread_page(bob, &thread).await;
    for path in [&unit, &tab] {
        let (_, page) = bob.text(path).await;
        assert!(
            page.contains("Unit question") && !page.contains(unread),
            "{path}: {page}"
        );
    }
    // New activity by someone else makes it unread again, with the count.
    ann.respond(&thread, None, "more").await;
    let (_, page) = bob.text(&tab).await;
    assert!(page.contains(unread) && page.contains("1 new"), "{page}");
}
