//! Who may see and change what: learners stay out of Studio and the admin
//! console, authors out of each other's drafts, everyone out of everyone
//! else's data; writes need a CSRF token or a bearer token.

use reqwest::StatusCode;

use crate::journey::build_course;
use crate::support::{json, s, TestSite, PASSWORD};

#[tokio::test]
async fn learners_cannot_reach_studio_admin_or_drafts() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, html_ref, unit_id) = build_course(&admin, "AUTHZ", "<p>draft only</p>").await;
    let learner = site.user("learner", false).await;

    assert_eq!(
        learner.get("/studio/").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(learner.get("/admin/").await.status(), StatusCode::FORBIDDEN);
    for path in [
        format!("/studio/course/{key}"),
        format!("/studio/course/{key}/unit/{unit_id}"),
        format!("/studio/course/{key}/edit/{html_ref}"),
    ] {
        let (status, body) = learner.text(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("draft only"));
    }
    // Unpublished: the learner side does not know the course either.
    assert_eq!(
        learner
            .get(&format!("/courses/{key}/unit/{unit_id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Writes to someone else's course are refused and change nothing.
    let r = learner
        .post_form(&format!("/studio/course/{key}/publish"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = learner
        .post_form(
            &format!("/studio/course/{key}/block/{html_ref}/update"),
            &[("body", s("<p>defaced</p>")), ("action", s("save"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = learner
        .post_form(
            "/studio/courses",
            &[
                ("display_name", s("Mine")),
                ("org", s("X")),
                ("number", s("Y")),
                ("run", s("Z")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = learner
        .post_form("/admin/users/learner", &[("change", s("make_admin"))])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, draft) = admin
        .text(&format!("/studio/course/{key}/edit/{html_ref}"))
        .await;
    assert!(draft.contains("draft only") && !draft.contains("defaced"));
    let stats = site.app.catalogue().await.unwrap();
    assert!(stats.is_empty(), "nothing was published");
}

#[tokio::test]
async fn authors_only_see_their_own_courses() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let alice = site.user("alice", false).await;
    let bob = site.user("bob", false).await;
    for name in ["alice", "bob"] {
        admin
            .post_form(
                &format!("/admin/users/{name}"),
                &[("change", s("make_creator"))],
            )
            .await;
    }
    let (alice_key, _, _) = build_course(&alice, "ALICE", "<p>alice's secret draft</p>").await;
    let (bob_key, _, _) = build_course(&bob, "BOB", "<p>bob's</p>").await;
    let (_, bob_studio) = bob.text("/studio/").await;
    assert!(bob_studio.contains(&bob_key) && !bob_studio.contains(&alice_key));
    assert_eq!(
        bob.get(&format!("/studio/course/{alice_key}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The admin sees both.
    let (_, admin_studio) = admin.text("/studio/").await;
    assert!(admin_studio.contains(&alice_key) && admin_studio.contains(&bob_key));
    // Granting bob staff on alice's course opens it to him.
    let r = admin
        .post_form(
            "/admin/course-roles",
            &[
                ("username", s("bob")),
                ("course_key", alice_key.clone()),
                ("role", s("staff")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        bob.get(&format!("/studio/course/{alice_key}"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn learners_see_only_their_own_enrolments_and_enrolled_courses() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, _, unit_id) = build_course(&admin, "PRIV", "<p>course body</p>").await;
    admin
        .post_form(&format!("/studio/course/{key}/publish"), &[])
        .await;
    let one = site.user("one", false).await;
    let two = site.user("two", false).await;
    one.post_form(&format!("/courses/{key}/enroll"), &[]).await;

    let (_, dash_two) = two.text("/dashboard").await;
    assert!(!dash_two.contains("Rust for Teachers"));
    let mine = json(two.get("/api/enrollment/v1/enrollment").await).await;
    assert_eq!(
        mine.as_array().map(Vec::len),
        Some(0),
        "two's enrolments do not include one's"
    );
    // Not enrolled: the unit is refused and the outline sends to the about page.
    let (status, body) = two.text(&format!("/courses/{key}/unit/{unit_id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("course body"));
    let outline = two.get(&format!("/courses/{key}/")).await;
    assert!(outline.url().path().ends_with("/about"));
    // Visitors are sent to sign in.
    let anon = site.client();
    let r = anon.get(&format!("/courses/{key}/unit/{unit_id}")).await;
    assert!(r.url().path().starts_with("/login"));
    let api = anon.get("/api/enrollment/v1/enrollment").await;
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(api).await["error"], "unauthenticated");
}

#[tokio::test]
async fn every_write_needs_a_csrf_or_bearer_token() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, html_ref, _) = build_course(&admin, "CSRF", "<p>x</p>").await;
    let studio = format!("/studio/course/{key}");
    let writes: Vec<(String, Vec<(&str, String)>)> = vec![
        ("/logout".into(), vec![]),
        (format!("{studio}/publish"), vec![]),
        (
            format!("{studio}/blocks"),
            vec![
                ("parent", s("type@course+block@course")),
                ("block_type", s("chapter")),
                ("display_name", s("Evil")),
            ],
        ),
        (
            format!("{studio}/block/{html_ref}/update"),
            vec![("body", s("<p>evil</p>")), ("action", s("save"))],
        ),
        (format!("{studio}/block/{html_ref}/delete"), vec![]),
        (
            "/studio/courses".into(),
            vec![
                ("display_name", s("Evil")),
                ("org", s("E")),
                ("number", s("V")),
                ("run", s("L")),
            ],
        ),
        (
            "/admin/users/root".into(),
            vec![("change", s("revoke_admin"))],
        ),
        (format!("/courses/{key}/enroll"), vec![]),
    ];
    for (path, form) in &writes {
        let r = admin.post_form_no_csrf(path, form).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "no token: {path}");
        let mut wrong = form.clone();
        wrong.push(("csrf_token", "0".repeat(64)));
        let r = admin.post_form_no_csrf(path, &wrong).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "wrong token: {path}");
    }
    // JSON writes with the session cookie need the header.
    let r = admin
        .http
        .post(admin.url("/api/enrollment/v1/enrollment"))
        .json(&serde_json::json!({"course_details": {"course_id": key}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(r).await["error"], "csrf_failed");
    // A cross-site login form (no CSRF cookie at all) is refused too.
    let fresh = reqwest::Client::new();
    let r = fresh
        .post(admin.url("/login"))
        .form(&[("login", "root"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Nothing above changed anything.
    let (_, outline) = admin.text(&studio).await;
    assert!(!outline.contains("Evil") && outline.contains("Not published yet"));
    let (_, edit) = admin.text(&format!("{studio}/edit/{html_ref}")).await;
    assert!(edit.contains("&#60;p&#62;x&#60;/p&#62;") && !edit.contains("evil"));
    assert!(site.app.user_by_username("root").await.unwrap().is_admin);
    assert_eq!(
        admin.get("/admin/").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    // A bad bearer token is 401, not a CSRF question.
    let r = fresh
        .post(admin.url("/api/enrollment/v1/enrollment"))
        .header("Authorization", "Bearer nope")
        .json(&serde_json::json!({"course_details": {"course_id": key}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn enrolled_learners_wait_for_the_course_start() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, _, unit_id) = build_course(&admin, "LATER", "<p>not yet</p>").await;
    let settings = format!("/studio/course/{key}/block/type@course+block@course/update");
    let r = admin
        .post_form(
            &settings,
            &[
                ("field.start", s("2099-01-01T00:00:00Z")),
                ("action", s("save")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    admin
        .post_form(&format!("/studio/course/{key}/publish"), &[])
        .await;
    let learner = site.user("early", false).await;
    assert_eq!(
        learner
            .post_form(&format!("/courses/{key}/enroll"), &[])
            .await
            .status(),
        StatusCode::OK,
        "enrolment opens before the start"
    );
    let (status, body) = learner
        .text(&format!("/courses/{key}/unit/{unit_id}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("starts on 1 January 2099") && !body.contains("not yet"));
    let (_, about) = learner.text(&format!("/courses/{key}/about")).await;
    assert!(about.contains("2099"));
    // The course team sees it before it starts.
    assert_eq!(
        admin
            .get(&format!("/courses/{key}/unit/{unit_id}"))
            .await
            .status(),
        StatusCode::OK
    );
}
