//! The whole path a course takes: an author builds it in Studio, publishes,
//! a learner enrols and reads it; drafts stay invisible until published.

use reqwest::StatusCode;

use crate::support::{find_link, json, s, TestSite, PASSWORD};

/// Creates a course through Studio with one section/subsection/unit/html
/// block; returns (course key, html block ref, unit id).
pub async fn build_course(
    author: &crate::support::Client,
    run: &str,
    html: &str,
) -> (String, String, String) {
    let resp = author
        .post_form(
            "/studio/courses",
            &[
                ("display_name", s("Rust for Teachers")),
                ("org", s("LecternX")),
                ("number", s("RUST101")),
                ("run", s(run)),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let key = format!("course-v1:LecternX+RUST101+{run}");
    assert!(
        resp.url().path().ends_with(&key),
        "landed on {}",
        resp.url()
    );
    let studio = format!("/studio/course/{key}");

    let add = |parent: String, ty: &'static str, name: &'static str| {
        let path = format!("{studio}/blocks");
        async move {
            author
                .post_form(
                    &path,
                    &[
                        ("parent", parent),
                        ("block_type", s(ty)),
                        ("display_name", s(name)),
                    ],
                )
                .await
        }
    };
    add(s("type@course+block@course"), "chapter", "Week 1").await;
    let outline = author.get(&studio).await.text().await.unwrap();
    let chapter =
        find_link(&outline, &format!("{studio}/edit/type@chapter+block@")).expect("chapter link");
    let chapter = chapter.rsplit('/').next().unwrap().to_string();
    add(chapter, "sequential", "Getting started").await;
    let outline = author.get(&studio).await.text().await.unwrap();
    let seq = find_link(&outline, &format!("{studio}/edit/type@sequential+block@"))
        .expect("subsection link");
    let seq = seq.rsplit('/').next().unwrap().to_string();
    let unit_page = add(seq, "vertical", "Welcome").await;
    assert_eq!(unit_page.status(), StatusCode::OK);
    let unit_id = unit_page
        .url()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let edit = add(
        format!("type@vertical+block@{unit_id}"),
        "html",
        "Introduction",
    )
    .await;
    assert_eq!(edit.status(), StatusCode::OK);
    let html_ref = edit
        .url()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .replace("%40", "@")
        .replace("%2B", "+");
    let saved = author
        .post_form(
            &format!("{studio}/block/{html_ref}/update"),
            &[
                ("display_name", s("Introduction")),
                ("body", s(html)),
                ("action", s("save")),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    assert!(saved.text().await.unwrap().contains("Saved to the draft"));
    (key, html_ref, unit_id)
}

#[tokio::test]
async fn author_publishes_and_learner_reads_only_published_content() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;

    // The author registers, signs out, and signs back in.
    let author = site.user("author", false).await;
    assert_eq!(
        author.post_form("/logout", &[]).await.status(),
        StatusCode::OK
    );
    let (_, dash) = author.text("/dashboard").await;
    assert!(dash.contains("Sign in"), "signed out");
    let login = author
        .post_form(
            "/login",
            &[
                ("login", s("author")),
                ("password", s(PASSWORD)),
                ("next", s("/studio/")),
            ],
        )
        .await;
    assert_eq!(
        login.status(),
        StatusCode::FORBIDDEN,
        "a plain learner is not a course author yet"
    );

    // An admin makes them a course creator through the console.
    let r = admin
        .post_form("/admin/users/author", &[("change", s("make_creator"))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("author updated"));

    let (key, html_ref, unit_id) = build_course(
        &author,
        "2026",
        "<p>Hello learners</p><script>alert('x')</script>",
    )
    .await;
    let studio = format!("/studio/course/{key}");

    // Not published yet: not in the catalogue.
    let learner = site.user("learner", false).await;
    let (_, catalogue) = learner.text("/courses").await;
    assert!(!catalogue.contains(&key));
    assert_eq!(
        learner.get(&format!("/courses/{key}/about")).await.status(),
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        author
            .post_form(&format!("{studio}/publish"), &[])
            .await
            .status(),
        StatusCode::OK
    );

    let (_, catalogue) = learner.text("/courses").await;
    assert!(catalogue.contains("Rust for Teachers"));
    let enrolled = learner
        .post_form(&format!("/courses/{key}/enroll"), &[])
        .await;
    assert_eq!(enrolled.status(), StatusCode::OK);
    let outline = enrolled.text().await.unwrap();
    assert!(
        outline.contains("Week 1")
            && outline.contains("Getting started")
            && outline.contains("Welcome")
    );
    let (status, unit) = learner
        .text(&format!("/courses/{key}/unit/{unit_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(unit.contains("Hello learners"));
    assert!(!unit.contains("alert('x')"), "scripts never reach the page");
    let (_, dash) = learner.text("/dashboard").await;
    assert!(dash.contains("Rust for Teachers"));

    // A draft edit is invisible until the next publish.
    author
        .post_form(
            &format!("{studio}/block/{html_ref}/update"),
            &[("body", s("<p>Second edition</p>")), ("action", s("save"))],
        )
        .await;
    let (_, unit) = learner
        .text(&format!("/courses/{key}/unit/{unit_id}"))
        .await;
    assert!(unit.contains("Hello learners") && !unit.contains("Second edition"));
    let (_, studio_page) = author.text(&studio).await;
    assert!(studio_page.contains("unpublished changes"));
    author.post_form(&format!("{studio}/publish"), &[]).await;
    let (_, unit) = learner
        .text(&format!("/courses/{key}/unit/{unit_id}"))
        .await;
    assert!(unit.contains("Second edition") && !unit.contains("Hello learners"));
}

#[tokio::test]
async fn the_api_walks_the_same_course_with_a_bearer_token() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, _, _) = build_course(&admin, "API", "<p>API body</p>").await;
    admin
        .post_form(&format!("/studio/course/{key}/publish"), &[])
        .await;

    let anon = site.client();
    let reg = anon
        .http
        .post(anon.url("/api/user/v1/account/registration/"))
        .form(&[
            ("username", "mobile"),
            ("email", "m@example.org"),
            ("name", "Mo"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status(), StatusCode::OK);
    let token = anon
        .http
        .post(anon.url("/oauth2/access_token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "mobile"),
            ("password", PASSWORD),
            ("client_id", "app"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    let token = json(token).await;
    assert_eq!(token["token_type"], "Bearer");
    assert!(token["expires_in"].as_i64().unwrap() > 0);
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let http = reqwest::Client::new();

    let courses = json(
        http.get(anon.url("/api/courses/v1/courses/"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(courses["pagination"]["count"], 1);
    assert_eq!(courses["results"][0]["id"], key.as_str());
    assert_eq!(courses["results"][0]["org"], "LecternX");
    let one = json(
        http.get(anon.url(&format!("/api/courses/v1/courses/{key}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(one["name"], "Rust for Teachers");

    let blocks_url = anon.url(&format!(
        "/api/courses/v2/blocks/?course_id={}&depth=all&all_blocks=true",
        key.replace('+', "%2B")
    ));
    let before = http
        .get(&blocks_url)
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), StatusCode::FORBIDDEN, "not enrolled yet");

    let enroll = http
        .post(anon.url("/api/enrollment/v1/enrollment"))
        .header("Authorization", &bearer)
        .json(&serde_json::json!({"course_details": {"course_id": key}}))
        .send()
        .await
        .unwrap();
    assert_eq!(enroll.status(), StatusCode::OK);
    assert_eq!(json(enroll).await["is_active"], true);
    let mine = json(
        http.get(anon.url("/api/enrollment/v1/enrollment"))
            .header("Authorization", &bearer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(mine[0]["course_details"]["course_id"], key.as_str());

    let blocks = json(
        http.get(&blocks_url)
            .header("Authorization", &bearer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let root = blocks["root"].as_str().unwrap();
    assert_eq!(
        root,
        format!("block-v1:LecternX+RUST101+API+type@course+block@course")
    );
    let all = blocks["blocks"].as_object().unwrap();
    assert_eq!(all.len(), 5, "course, chapter, sequential, vertical, html");
    let types: Vec<&str> = all.values().map(|b| b["type"].as_str().unwrap()).collect();
    for t in ["course", "chapter", "sequential", "vertical", "html"] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let chapter = &all[blocks["blocks"][root]["children"][0].as_str().unwrap()];
    assert_eq!(chapter["display_name"], "Week 1");

    let doc = json(
        http.get(anon.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/api/courses/v1/courses/",
        "/api/courses/v2/blocks/",
        "/api/enrollment/v1/enrollment",
        "/oauth2/access_token",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
}
