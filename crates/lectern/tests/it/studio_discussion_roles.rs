//! Studio's "Discussion roles" page: the course team sees who holds which
//! role; the course's instructors and site admins grant (by username or
//! e-mail) and remove roles there, and a role granted there makes its
//! holder a moderator on the discussion pages. Anyone else is refused.

use reqwest::StatusCode;

use crate::discussion_site::{open, talk_site, Api, KEY};
use crate::support::{s, Client};

fn roles_path() -> String {
    format!("/studio/course/{KEY}/discussion-roles")
}

async fn change(who: &Client, user: &str, role: &str, action: &str) -> (StatusCode, String) {
    let r = who
        .post_form(
            &roles_path(),
            &[("user", s(user)), ("role", s(role)), ("action", s(action))],
        )
        .await;
    let status = r.status();
    (status, r.text().await.unwrap())
}

#[tokio::test]
async fn instructors_grant_and_remove_discussion_roles_in_studio_and_no_one_else_does() {
    let p = talk_site(open()).await;
    let (root, stan, bob, ann) = (
        &p.root,
        p.browser("stan"),
        p.browser("bob"),
        p.browser("ann"),
    );
    // An instructor of the course, made in the admin console.
    let ivy = p.site.user("ivy", false).await;
    let r = root
        .post_form(
            "/admin/course-roles",
            &[
                ("username", s("ivy")),
                ("course_key", s(KEY)),
                ("role", s("instructor")),
            ],
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());

    // The outline links the page; it lists the roles granted elsewhere.
    let (_, outline) = ivy.text(&format!("/studio/course/{KEY}")).await;
    assert!(outline.contains(&format!("href=\"{}\"", roles_path())));
    let (status, page) = ivy.text(&roles_path()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<td>tara</td><td>tara@example.org</td><td>Community TA</td>"),
        "{page}"
    );
    assert!(page.contains("<td>mona</td><td>mona@example.org</td><td>Moderator</td>"));
    assert!(page.contains("<label for=\"role-user\">Username or e-mail</label>"));

    // Ivy grants bob Moderator by e-mail; the page says so and lists him.
    let (status, page) = change(&ivy, "BOB@example.org", "Moderator", "allow").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("The discussion role was granted."), "{page}");
    assert!(page.contains("<td>bob</td><td>bob@example.org</td><td>Moderator</td>"));
    // Bob now moderates: the thread page offers him "Pin".
    let thread = Api::new(&p.site, Some("ann"))
        .await
        .thread("course", "discussion", "Hello", "hi")
        .await;
    let thread_path = format!("/courses/{KEY}/discussion/threads/{thread}");
    let (_, t) = bob.text(&thread_path).await;
    assert!(t.contains("value=\"pin\""), "{t}");

    // Mistakes come back on the page, naming what is wrong; nothing changes.
    let (status, page) = change(&ivy, "nobody", "Moderator", "allow").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("user nobody was not found") && page.contains("role=\"alert\""));
    let (status, page) = change(&ivy, "ann", "Overlord", "allow").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("The role is Administrator, Moderator"));
    assert!(!page.contains("<td>ann</td>"));

    // Course staff (not instructors) see the list but get no forms, and posting is refused.
    let (status, page) = stan.text(&roles_path()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<td>bob</td>") && !page.contains("Grant a discussion role"));
    assert!(!page.contains("value=\"revoke\""));
    let (status, _) = change(stan, "ann", "Moderator", "allow").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = change(stan, "bob", "Moderator", "revoke").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A learner gets neither the page nor the form (the course is not theirs in Studio).
    assert_eq!(ann.text(&roles_path()).await.0, StatusCode::NOT_FOUND);
    let (status, _) = change(ann, "ann", "Moderator", "allow").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A forged form changes nothing.
    let r = ivy
        .post_form_no_csrf(
            &roles_path(),
            &[("user", s("ann")), ("role", s("Moderator"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, page) = ivy.text(&roles_path()).await;
    assert!(!page.contains("<td>ann</td>"), "{page}");
    assert!(page.contains("<td>bob</td>"));

    // The site admin removes bob's role with its row's button: he no longer moderates.
    let (_, page) = root.text(&roles_path()).await;
    assert!(page.contains("aria-label=\"Remove Moderator from bob\""));
    let (status, page) = change(root, "bob", "Moderator", "revoke").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("The discussion role was removed.") && !page.contains("<td>bob</td>"));
    let (_, t) = bob.text(&thread_path).await;
    assert!(!t.contains("value=\"pin\""));
}
