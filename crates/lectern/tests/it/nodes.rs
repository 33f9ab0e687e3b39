//! Several nodes over one database: each node here is its own `Lectern`
//! (own caches, own connection pool, own port) over the same SQLite file,
//! as two processes would be. Nothing a person sees may depend on which
//! node answers: the setup link, the first admin, the last admin, and
//! the newest published content.

use reqwest::StatusCode;

use crate::support::{s, Client, TestSite, PASSWORD};

fn signup(username: &str) -> [(&'static str, String); 4] {
    [
        ("username", s(username)),
        ("email", format!("{username}@example.org")),
        ("name", s("Node Tester")),
        ("password", s(PASSWORD)),
    ]
}

#[tokio::test]
async fn both_nodes_print_the_same_setup_link_and_either_accepts_it() {
    let a = TestSite::spawn().await;
    let b = a.another_node().await;
    let link_a = a.app.setup_secret().await.unwrap().expect("a link");
    let link_b = b.app.setup_secret().await.unwrap().expect("a link");
    assert_eq!(
        link_a, link_b,
        "a restart or a second node prints the same link"
    );

    let path = format!("/setup/{link_a}");
    assert_eq!(a.client().get(&path).await.status(), StatusCode::OK);
    let person = b.client();
    assert_eq!(person.get(&path).await.status(), StatusCode::OK);
    let r = person.post_form(&path, &signup("founder")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().path().starts_with("/admin"), "{}", r.url());

    // Used on one node: gone on both.
    assert_eq!(a.client().get(&path).await.status(), StatusCode::FORBIDDEN);
    assert!(a.app.setup_secret().await.unwrap().is_none());
}

#[tokio::test]
async fn two_people_completing_setup_at_once_make_one_admin() {
    let a = TestSite::spawn().await;
    let b = a.another_node().await;
    let link = a.app.setup_secret().await.unwrap().expect("a link");
    let path = format!("/setup/{link}");
    let (first, second) = (a.client(), b.client());
    let (fa, fb) = (signup("first_root"), signup("second_root"));
    let (ra, rb) = tokio::join!(first.post_form(&path, &fa), second.post_form(&path, &fb));
    let statuses = [ra.status(), rb.status()];
    assert!(
        statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::FORBIDDEN),
        "one admin, one refusal: {statuses:?}"
    );
    let loser = if ra.status() == StatusCode::OK {
        rb
    } else {
        ra
    };
    let page = loser.text().await.unwrap();
    assert!(page.contains("already used"), "{page}");
    let mut admins = 0;
    for name in ["first_root", "second_root"] {
        if let Ok(user) = b.app.user_by_username(name).await {
            assert!(user.is_admin, "the loser has no account at all");
            admins += 1;
        }
    }
    assert_eq!(admins, 1);
}

/// A client signed in as `username` on `site`.
async fn signed_in(site: &TestSite, username: &str) -> Client {
    let c = site.client();
    let r = c
        .post_form(
            "/login",
            &[("login", s(username)), ("password", s(PASSWORD))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "signing in {username}");
    c
}

#[tokio::test]
async fn a_publish_through_one_node_is_served_by_the_other_at_once() {
    let a = TestSite::spawn().await;
    let b = a.another_node().await;
    let admin = a.user("root", true).await;
    let author = a.user("author", false).await;
    let r = admin
        .post_form("/admin/users/author", &[("change", s("make_creator"))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (key, html_ref, unit_id) =
        crate::journey::build_course(&author, "NODES", "<p>First edition</p>").await;
    let studio = format!("/studio/course/{key}");
    let publish = author.post_form(&format!("{studio}/publish"), &[]).await;
    assert_eq!(publish.status(), StatusCode::OK);

    // The learner's requests all go to the other node.
    let learner = b.user("learner", false).await;
    let enrolled = learner
        .post_form(&format!("/courses/{key}/enroll"), &[])
        .await;
    assert_eq!(enrolled.status(), StatusCode::OK);
    let unit_path = format!("/courses/{key}/unit/{unit_id}");
    let (status, unit) = learner.text(&unit_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(unit.contains("First edition"), "{unit}");

    // Edited and published on node a: node b's very next page has it (it
    // asks the database for the newest version on every request; only the
    // parsed trees of versions, which never change, are cached).
    let saved = author
        .post_form(
            &format!("{studio}/block/{html_ref}/update"),
            &[("body", s("<p>Second edition</p>")), ("action", s("save"))],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let publish = author.post_form(&format!("{studio}/publish"), &[]).await;
    assert_eq!(publish.status(), StatusCode::OK);
    let (_, unit) = learner.text(&unit_path).await;
    assert!(
        unit.contains("Second edition") && !unit.contains("First edition"),
        "{unit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_admins_removing_each_other_on_two_nodes_leave_one() {
    let a = TestSite::spawn().await;
    let b = a.another_node().await;
    let root = a.user("root", true).await;
    let _ = a.user("other", false).await;
    let r = root
        .post_form("/admin/users/other", &[("change", s("make_admin"))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let other = signed_in(&b, "other").await;
    let revoke = [("change", s("revoke_admin"))];
    for round in 0..6 {
        let (by_root, by_other) = tokio::join!(
            root.post_form("/admin/users/other", &revoke),
            other.post_form("/admin/users/root", &revoke)
        );
        let statuses = [by_root.status(), by_other.status()];
        let done = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(done, 1, "round {round}: one removal succeeds: {statuses:?}");
        let refused = if by_root.status() == StatusCode::OK {
            by_other
        } else {
            by_root
        };
        // Refused by the guard (400, naming the rule) or, when it came in
        // after its sender lost admin, by the admin check (403).
        assert!(
            matches!(
                refused.status(),
                StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN
            ),
            "{}",
            refused.status()
        );
        let mut admins = Vec::new();
        for name in ["root", "other"] {
            let user = a.app.user_by_username(name).await.unwrap();
            if user.is_admin {
                admins.push(user);
            }
        }
        assert_eq!(admins.len(), 1, "round {round}: exactly one admin is left");
        let loser = if admins[0].username == "root" {
            "other"
        } else {
            "root"
        };
        a.app
            .admin_change_user(&admins[0], loser, lectern_app::admin::UserChange::MakeAdmin)
            .await
            .unwrap();
    }
}
