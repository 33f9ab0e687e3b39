//! Bad input gets a clear error and changes nothing.

use reqwest::StatusCode;

use crate::journey::build_course;
use crate::support::{json, s, TestSite, PASSWORD};

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused_cleanly() {
    let site = TestSite::spawn().await;
    site.user("someone", false).await;
    let c = site.client();
    let bearer = crate::support::bearer(&site.base, "someone").await;
    let http = reqwest::Client::new();

    for body in ["{not json", "[]", "{\"course_details\": 5}", ""] {
        let r = http
            .post(c.url("/api/enrollment/v1/enrollment"))
            .header("Authorization", &bearer)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let err = json(r).await;
        assert_eq!(err["error"], "malformed_json");
        assert!(err["message"].as_str().unwrap().contains("JSON"));
    }

    let huge = "x".repeat(3 * 1024 * 1024);
    let r = http
        .post(c.url("/api/user/v1/account/registration/"))
        .form(&[
            ("username", "huge"),
            ("email", "huge@example.org"),
            ("name", huge.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(r).await["error"], "too_large");
    assert!(
        site.app.user_by_username("huge").await.is_err(),
        "nothing was created"
    );

    let r = http
        .post(c.url("/oauth2/access_token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(r).await["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn unknown_course_keys_and_paths_are_404s() {
    let site = TestSite::spawn().await;
    let c = site.user("visitor", false).await;
    for path in [
        "/courses/course-v1:No+Such+Course/about",
        "/courses/not-a-key/about",
        "/courses/course-v1:No+Such+Course/unit/x",
        "/courses/course-v1:No+Such+Course/jump_to/garbage",
        "/studio/course/course-v1:No+Such+Course",
        "/nowhere",
    ] {
        let (status, body) = c.text(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains("<html"), "an HTML page for {path}");
    }
    for path in [
        "/api/courses/v1/courses/course-v1:No+Such+Course",
        "/api/courses/v1/courses/garbage",
        "/api/courses/v2/blocks/?course_id=course-v1:No%2BSuch%2BCourse",
        "/api/nothing/here",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(json(r).await["error"], "not_found", "{path}");
    }
    let r = c.get("/api/courses/v2/blocks/").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(json(r).await["field_errors"]["course_id"].is_string());
}

#[tokio::test]
async fn hostile_html_is_neutralised_everywhere_it_is_shown() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let hostile = r#"<p>Safe text</p><script>alert(1)</script><img src="x.png" onerror="alert(2)"><a href="javascript:alert(3)">click</a><iframe src="javascript:alert(4)"></iframe><svg onload="alert(5)"></svg>"#;
    let (key, html_ref, unit_id) = build_course(&admin, "XSS", hostile).await;
    admin
        .post_form(&format!("/studio/course/{key}/publish"), &[])
        .await;
    let learner = site.user("learner", false).await;
    learner
        .post_form(&format!("/courses/{key}/enroll"), &[])
        .await;
    let pages = [
        learner
            .text(&format!("/courses/{key}/unit/{unit_id}"))
            .await
            .1,
        admin
            .text(&format!("/studio/course/{key}/unit/{unit_id}"))
            .await
            .1,
    ];
    for page in &pages {
        assert!(page.contains("Safe text"));
        for bad in ["<script>alert", "onerror=", "javascript:", "onload="] {
            assert!(!page.contains(bad), "{bad} reached a page");
        }
    }
    // Studio's editor shows the source escaped, never live.
    let (_, editor) = admin
        .text(&format!("/studio/course/{key}/edit/{html_ref}"))
        .await;
    assert!(editor.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(!editor.contains("<script>alert(1)"));
    // Display names are escaped too.
    admin
        .post_form(
            &format!("/studio/course/{key}/block/{html_ref}/update"),
            &[
                ("display_name", s("<b onmouseover=alert(6)>x</b>")),
                ("action", s("save")),
            ],
        )
        .await;
    let (_, unit) = admin
        .text(&format!("/studio/course/{key}/unit/{unit_id}"))
        .await;
    assert!(!unit.contains("<b onmouseover"));
}

#[tokio::test]
async fn a_refused_edit_leaves_the_draft_as_it_was() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, _, unit_id) = build_course(&admin, "BAD", "<p>x</p>").await;
    let studio = format!("/studio/course/{key}");
    let r = admin
        .post_form(
            &format!("{studio}/blocks"),
            &[
                ("parent", format!("type@vertical+block@{unit_id}")),
                ("block_type", s("problem")),
            ],
        )
        .await;
    let problem_ref = r
        .url()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .replace("%40", "@")
        .replace("%2B", "+");
    let before = admin.text(&format!("{studio}/edit/{problem_ref}")).await.1;
    for bad in [
        "<problem><p>unclosed</problem>",
        "<notaproblem/>",
        "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><problem>&a;</problem>",
    ] {
        let r = admin
            .post_form(
                &format!("{studio}/block/{problem_ref}/update"),
                &[("body", s(bad)), ("action", s("save"))],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().await.unwrap().contains("problem"));
    }
    let r = admin
        .post_form(
            &format!("{studio}/block/{problem_ref}/update"),
            &[("field.onclick", s("x")), ("action", s("save"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = admin
        .post_form(
            &format!("{studio}/blocks"),
            &[
                ("parent", s("type@course+block@course")),
                ("block_type", s("html")),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "an html block cannot sit directly in the course"
    );
    let after = admin.text(&format!("{studio}/edit/{problem_ref}")).await.1;
    assert_eq!(before, after);
}
