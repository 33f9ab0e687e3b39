//! The discussion pages without JavaScript: a unit's discussion block
//! lists its topic's threads and posts a new one by form, the thread page
//! takes responses and comments by form, the course's Discussion tab
//! filters (unread, following, flagged for moderators) and sorts, and every
//! page escapes titles and cleans bodies.

use reqwest::StatusCode;
use serde_json::json;

use crate::discussion_site::{open, talk_site, Api, KEY};
use crate::discussions::safe_html;
use crate::support::s;

#[tokio::test]
async fn a_unit_block_and_the_discussion_tab_work_by_forms_and_escape_posts() {
    let p = talk_site(open()).await;
    let (ann, bob, mona, olly) = (
        p.browser("ann"),
        p.browser("bob"),
        p.browser("mona"),
        p.browser("olly"),
    );
    // The unit shows its discussion block with a form, not a placeholder.
    let (status, unit) = ann.text(&format!("/courses/{KEY}/unit/v1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(unit.contains("Unit talk"), "{unit}");
    assert!(!unit.contains("not available on this site"));
    assert!(unit.contains(&format!("action=\"/courses/{KEY}/discussion/threads\"")));
    assert!(unit.contains("No posts in this topic yet."));

    // Ann asks by form; the title and body are hostile.
    let r = ann
        .post_form(
            &format!("/courses/{KEY}/discussion/threads"),
            &[
                ("topic_id", s("unit1disc")),
                ("type", s("question")),
                ("title", s("<script>alert('t')</script> Sky?")),
                (
                    "body",
                    s("**Why** blue? <img src=x onerror=alert(1)> [x](javascript:alert(1))"),
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let thread_url = r.url().path().to_string();
    assert!(
        thread_url.starts_with(&format!("/courses/{KEY}/discussion/threads/")),
        "{thread_url}"
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("<h1>&#60;script&#62;alert(&#39;t&#39;)&#60;/script&#62; Sky?</h1>"),
        "{page}"
    );
    assert!(page.contains("<strong>Why</strong>"));
    assert!(
        safe_html(&page.replace("<script src=", "<x src=")),
        "{page}"
    );
    assert!(!page.contains("<script>alert"));

    // The unit lists it, escaped.
    let (_, unit) = ann.text(&format!("/courses/{KEY}/unit/v1")).await;
    assert!(unit.contains("Sky?"));
    assert!(!unit.contains("<script>alert"));

    // Bob responds and Ann comments, by form.
    let r = bob
        .post_form(
            &format!("{thread_url}/reply"),
            &[("body", s("Rayleigh $\\lambda^{-4}$"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("\\(\\lambda^{-4}\\)"),
        "math kept for MathJax: {page}"
    );
    let response_id = page
        .split("id=\"response-")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();

    // Ann's tab shows the response as new until she opens the thread.
    let (status, tab) = ann
        .text(&format!("/courses/{KEY}/discussion/?view=unread"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(tab.contains("1 new"), "{tab}");
    let (status, thread) = ann.text(&thread_url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(thread.contains("Rayleigh"));
    let (_, tab) = ann
        .text(&format!("/courses/{KEY}/discussion/?view=unread"))
        .await;
    assert!(!tab.contains("Sky?"), "read threads leave the unread view");
    let r = ann
        .post_form(
            &format!("{thread_url}/reply"),
            &[("body", s("Thanks")), ("parent_id", response_id.clone())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("id=\"comment-"));

    // Sorting by votes; flagged is the moderators' filter.
    let api = Api::new(&p.site, Some("bob")).await;
    let other = api
        .thread("course", "discussion", "Popular one", "vote")
        .await;
    api.patch(
        &format!("/api/discussion/v1/threads/{other}/"),
        json!({"abuse_flagged": true}),
    )
    .await;
    Api::new(&p.site, Some("tara"))
        .await
        .patch(
            &format!("/api/discussion/v1/threads/{other}/"),
            json!({"voted": true}),
        )
        .await;
    let (_, tab) = ann
        .text(&format!("/courses/{KEY}/discussion/?order_by=vote_count"))
        .await;
    let (popular, sky) = (tab.find("Popular one").unwrap(), tab.find("Sky?").unwrap());
    assert!(popular < sky, "most votes first");
    assert_eq!(
        ann.text(&format!("/courses/{KEY}/discussion/?view=flagged"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, flagged) = mona
        .text(&format!("/courses/{KEY}/discussion/?view=flagged"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(flagged.contains("Popular one") && !flagged.contains("Sky?"));
    assert!(flagged.contains("1 flags"));
    let (_, following) = bob
        .text(&format!("/courses/{KEY}/discussion/?view=following"))
        .await;
    assert!(following.contains("Popular one") && !following.contains("Sky?"));

    // A learner of another course gets neither the tab nor the thread.
    assert_eq!(
        olly.text(&format!("/courses/{KEY}/discussion/")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(olly.text(&thread_url).await.0, StatusCode::NOT_FOUND);
    let r = olly
        .post_form(&format!("{thread_url}/reply"), &[("body", s("let me in"))])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A form without its CSRF token changes nothing.
    let r = bob
        .post_form_no_csrf(&format!("{thread_url}/reply"), &[("body", s("forged"))])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, thread) = ann.text(&thread_url).await;
    assert!(!thread.contains("forged") && !thread.contains("let me in"));
    // The outline links the tab.
    let (_, outline) = ann.text(&format!("/courses/{KEY}/")).await;
    assert!(outline.contains(&format!("href=\"/courses/{KEY}/discussion/\"")));
}
