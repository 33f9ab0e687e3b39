//! Search through HTTP: what a learner finds and never finds (drafts,
//! unreleased units, staff-only blocks, other courses), what the team
//! finds, transcripts (posts: `search_posts.rs`), course discovery, hostile queries, the
//! search pages, and two nodes over one database: a publish through one is
//! found through the other, polled with a bound (no timing assertion).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_app::search::SearchWatcher;
use lectern_app::{AppSettings, Lectern};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{bearer, json as body_json, TestSite};

const KEY: &str = "course-v1:T+SRCH+R";
const OTHER: &str = "course-v1:T+OTHER+R";
/// How often the test sites' watchers poll.
const POLL: Duration = Duration::from_millis(200);

fn searchable(app: Lectern) -> Lectern {
    app.with_search(Arc::new(lectern_search::TantivyIndex::new().unwrap()))
}

/// A site with a search index and its watcher.
async fn site() -> (TestSite, SearchWatcher) {
    let site = TestSite::spawn_custom(AppSettings::default(), searchable).await;
    let watcher = SearchWatcher::start(&site.app, POLL);
    (site, watcher)
}

fn course() -> Vec<u8> {
    let xml = r#"<course display_name="Searchable Zoology">
<chapter url_name="cnow" display_name="Open week"><sequential url_name="snow" display_name="Open lesson"><vertical url_name="vnow" display_name="Open unit">
<html url_name="hnow" display_name="Reading"><p>The <b>aardvark</b> sleeps by day.</p></html>
<html url_name="hstaff" display_name="Notes" visible_to_staff_only="true"><p>The pangolin answer key.</p></html>
<problem url_name="pnow" display_name="Birds"><p>Which pink bird stands on one leg?</p><stringresponse answer="flamingo"><textline/></stringresponse><solution><p>The flamingo, of course.</p></solution></problem>
<video url_name="vid" display_name="Talk" html5_sources="[&quot;/static/talk.mp4&quot;]" transcripts="{&quot;en&quot;: &quot;talk-en.srt&quot;}"/>
</vertical></sequential></chapter>
<chapter url_name="clater" display_name="Future week" start="2099-01-01T00:00:00Z"><sequential url_name="slater" display_name="Future lesson"><vertical url_name="vlater" display_name="Future unit">
<html url_name="hlater" display_name="Later"><p>The narwhal surfaces.</p></html>
</vertical></sequential></chapter></course>"#;
    let srt = "1\n00:00:00,000 --> 00:00:02,000\nEvery capybara loves water.\n\n";
    crate::support::tar_gz(&[
        (
            "course/course.xml",
            r#"<course url_name="R" org="T" course="SRCH"/>"#,
        ),
        ("course/course/R.xml", xml),
        ("course/policies/R/policy.json", r#"{"course/R": {}}"#),
        ("course/static/talk-en.srt", srt),
        (
            "course/about/short_description.html",
            "<p>Animals from A to Z.</p>",
        ),
    ])
}

fn other_course() -> Vec<u8> {
    crate::support::course_archive(
        "T",
        "OTHER",
        r#"<course display_name="Other"><chapter url_name="c" display_name="C"><sequential url_name="s" display_name="S"><vertical url_name="v" display_name="V"><html url_name="h"><p>The okapi hides.</p></html></vertical></sequential></chapter></course>"#,
        None,
    )
}

async fn import(site: &TestSite, token: &str, archive: Vec<u8>) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", token)
        .body(archive)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// `POST /search/{course}` with a JSON body, as `token`.
async fn search(site: &TestSite, token: &str, course: &str, body: Value) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/search/{course}", site.base))
        .header("Authorization", token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, body_json(r).await)
}

/// The ids of what `words` finds in `course` as `token`.
async fn found(site: &TestSite, token: &str, course: &str, words: &str) -> Vec<String> {
    let (status, body) = search(site, token, course, json!({"search_string": words})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["_id"].as_str().unwrap().to_string())
        .collect()
}

/// Polls until `words` finds something in `course` on `site`; whether it did
/// within a generous bound.
async fn eventually_found(site: &TestSite, token: &str, course: &str, words: &str) -> bool {
    let give_up = Instant::now() + Duration::from_secs(30);
    while Instant::now() < give_up {
        if !found(site, token, course, words).await.is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Root imports both courses; lena is enrolled in KEY only; tess is on KEY's team.
async fn setup(site: &TestSite) -> (String, String, String) {
    let root = site.user("root", true).await;
    let root_token = bearer(&site.base, "root").await;
    import(site, &root_token, course()).await;
    import(site, &root_token, other_course()).await;
    site.user("tess", false).await;
    let r = root
        .post_form(
            "/admin/course-roles",
            &[
                ("username", "tess".to_string()),
                ("course_key", KEY.to_string()),
                ("role", "staff".to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let lena = site.user("lena", false).await;
    let r = lena.post_form(&format!("/courses/{KEY}/enroll"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    (
        root_token,
        bearer(&site.base, "lena").await,
        bearer(&site.base, "tess").await,
    )
}

#[tokio::test]
async fn learners_find_released_content_and_transcripts_and_nothing_hidden() {
    let (site, _watcher) = site().await;
    let (_, lena, tess) = setup(&site).await;
    assert!(
        eventually_found(&site, &lena, KEY, "aardvark").await,
        "indexed"
    );

    // The HTML block, in edx-search's shape.
    let (status, body) = search(&site, &lena, KEY, json!({"search_string": "aardvarks"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 1, "{body}");
    assert!(body["max_score"].as_f64().unwrap() > 0.0);
    let hit = &body["results"][0];
    assert_eq!(hit["data"]["id"], "block-v1:T+SRCH+R+type@html+block@hnow");
    assert_eq!(
        hit["data"]["location"],
        json!(["Open week", "Open lesson", "Open unit"])
    );
    assert_eq!(hit["data"]["content"]["display_name"], "Reading");
    assert_eq!(
        hit["data"]["content"]["html_content"],
        "The aardvark sleeps by day."
    );
    assert_eq!(hit["data"]["url"], format!("/courses/{KEY}/unit/vnow"));
    assert_eq!(hit["data"]["course"], KEY);
    // The transcript, and the problem's question but not its answer.
    assert_eq!(
        found(&site, &lena, KEY, "capybara").await,
        ["block-v1:T+SRCH+R+type@video+block@vid"]
    );
    assert_eq!(found(&site, &lena, KEY, "pink bird").await.len(), 1);
    assert!(
        found(&site, &lena, KEY, "flamingo").await.is_empty(),
        "the answer and solution"
    );
    // Unreleased and staff-only: the team finds them, the learner does not.
    assert!(found(&site, &lena, KEY, "narwhal").await.is_empty());
    assert!(found(&site, &lena, KEY, "pangolin").await.is_empty());
    assert_eq!(found(&site, &tess, KEY, "narwhal").await.len(), 1);
    assert_eq!(found(&site, &tess, KEY, "pangolin").await.len(), 1);
    // Another course's words are not in this course; that course is closed to her.
    assert!(found(&site, &lena, KEY, "okapi").await.is_empty());
    let (status, _) = search(&site, &lena, OTHER, json!({"search_string": "okapi"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = search(
        &site,
        &lena,
        "course-v1:T+NONE+R",
        json!({"search_string": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = reqwest::Client::new()
        .post(format!("{}/search/{KEY}", site.base))
        .form(&[("search_string", "aardvark")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a form without a session is refused (CSRF)"
    );
    let r = reqwest::Client::new()
        .post(format!("{}/search/{KEY}", site.base))
        .header("Authorization", "Bearer not-a-token")
        .form(&[("search_string", "aardvark")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn course_discovery_lists_the_catalogue_by_words_or_all_of_it() {
    let (site, _watcher) = site().await;
    setup(&site).await;
    let http = reqwest::Client::new();
    let discover = |form: Vec<(&'static str, &'static str)>| {
        let http = http.clone();
        let url = format!("{}/search/course_discovery/", site.base);
        async move { http.post(url).form(&form).send().await.unwrap() }
    };
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let body = body_json(discover(vec![("search_string", "zoology")]).await).await;
        if body["total"] == 1 {
            let data = &body["results"][0]["data"];
            assert_eq!(data["id"], KEY);
            assert_eq!(data["content"]["display_name"], "Searchable Zoology");
            assert_eq!(data["content"]["short_description"], "Animals from A to Z.");
            assert_eq!(data["org"], "T");
            break;
        }
        assert!(Instant::now() < give_up, "not indexed: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let give_up = Instant::now() + Duration::from_secs(30);
    while body_json(discover(vec![("search_string", "")]).await).await["total"] != 2 {
        assert!(
            Instant::now() < give_up,
            "both courses are listed without words"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = body_json(
        discover(vec![
            ("search_string", ""),
            ("page_size", "1"),
            ("page_index", "1"),
        ])
        .await,
    )
    .await;
    assert_eq!(body["results"].as_array().unwrap().len(), 1, "{body}");
    // Course content is not in the catalogue.
    let body = body_json(discover(vec![("search_string", "aardvark")]).await).await;
    assert_eq!(body["total"], 0, "{body}");
}

#[tokio::test]
async fn hostile_or_malformed_queries_get_a_clear_400_or_an_answer_never_a_failure() {
    let (site, _watcher) = site().await;
    let (_, lena, _) = setup(&site).await;
    assert!(eventually_found(&site, &lena, KEY, "aardvark").await);
    for bad in [
        json!({"search_string": "a".repeat(10_000)}),
        json!({"search_string": "aardvark", "page_size": 1000}),
        json!({"search_string": "aardvark", "page_size": 0}),
        json!({"search_string": "aardvark", "page_size": "many"}),
        json!({"search_string": "aardvark", "page_index": 1_000_000}),
        json!({"search_string": "aardvark", "page_index": u64::MAX}),
        json!({"search_string": "aard\u{0}vark"}),
        json!({"search_string": "   "}),
        json!({}),
    ] {
        let (status, body) = search(&site, &lena, KEY, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
        assert!(
            body["field_errors"]
                .as_object()
                .is_some_and(|f| !f.is_empty()),
            "{body}"
        );
    }
    let r = reqwest::Client::new()
        .post(format!("{}/search/{KEY}", site.base))
        .header("Authorization", &lena)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Query syntax is only text: no error, no wildcard explosion.
    for words in [
        "aardvark AND (",
        "title:aardvark",
        "\"aardvark",
        "*",
        "a* b* c* d* e*",
        "/.*/",
        "[a TO z]",
        "aardvark~2",
        "aardvark^99999",
        "+-&&||!(){}[]^\"~*?:\\/",
    ] {
        let (status, body) = search(&site, &lena, KEY, json!({"search_string": words})).await;
        assert_eq!(status, StatusCode::OK, "{words} → {body}");
    }
    assert_eq!(found(&site, &lena, KEY, "*").await.len(), 0);
    assert_eq!(found(&site, &lena, KEY, "aardvark*").await.len(), 1);
    assert_eq!(found(&site, &lena, KEY, "(aardvark)").await.len(), 1);
}

#[tokio::test]
async fn the_search_pages_show_escaped_results_to_whoever_may_see_them() {
    let (site, _watcher) = site().await;
    let (_, lena_token, _) = setup(&site).await;
    assert!(eventually_found(&site, &lena_token, KEY, "aardvark").await);
    let lena = crate::support::Client::for_base(&site.base);
    lena.post_form(
        "/login",
        &[
            ("login", "lena".to_string()),
            ("password", crate::support::PASSWORD.to_string()),
        ],
    )
    .await;
    let (status, page) = lena
        .text(&format!("/courses/{KEY}/search?q=aardvark"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("1 result for"), "{page}");
    assert!(
        page.contains(&format!("/courses/{KEY}/unit/vnow")),
        "{page}"
    );
    let (_, page) = lena
        .text(&format!(
            "/courses/{KEY}/search?q=%3Cscript%3Ealert(1)%3C/script%3E"
        ))
        .await;
    assert!(!page.contains("<script>alert(1)"), "the words are escaped");
    let (_, outline) = lena.text(&format!("/courses/{KEY}/")).await;
    assert!(
        outline.contains(&format!("action=\"/courses/{KEY}/search\"")),
        "a search box in the course"
    );
    let (status, _) = lena.text(&format!("/courses/{OTHER}/search?q=okapi")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let anon = site.client();
    let (status, page) = anon.text("/search?q=zoology").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Searchable Zoology"), "{page}");
    let (_, catalogue) = anon.text("/courses").await;
    assert!(
        catalogue.contains("action=\"/search\""),
        "a search box on the catalogue"
    );
    let (status, _) = anon.text(&format!("/search?q={}", "x".repeat(500))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_publish_through_one_node_is_found_through_the_other_and_drafts_never_are() {
    let (a, _wa) = site().await;
    let b = a.another_node_custom(searchable).await;
    let _wb = SearchWatcher::start(&b.app, POLL);
    let (root, lena, _) = setup(&a).await;
    let lena_b = bearer(&b.base, "lena").await;
    assert!(
        eventually_found(&b, &lena_b, KEY, "aardvark").await,
        "b indexed the import"
    );

    // A draft change (a new section named "Quokka") is found by no one.
    let author = crate::support::Client::for_base(&a.base);
    author
        .post_form(
            "/login",
            &[
                ("login", "root".to_string()),
                ("password", crate::support::PASSWORD.to_string()),
            ],
        )
        .await;
    let r = author
        .post_form(
            &format!("/studio/course/{KEY}/blocks"),
            &[
                ("parent", "type@course+block@course".to_string()),
                ("block_type", "chapter".to_string()),
                ("display_name", "Quokka corner".to_string()),
            ],
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    // Let both watchers poll at least once more.
    tokio::time::sleep(POLL * 3).await;
    assert!(
        found(&a, &root, KEY, "quokka").await.is_empty(),
        "a draft is not indexed"
    );
    assert!(found(&b, &lena_b, KEY, "quokka").await.is_empty());

    // Publish through node a; a loaded machine may answer 503 (busy, retry
    // later), which a client retries.
    let mut attempts = 0;
    loop {
        let r = reqwest::Client::new()
            .post(format!("{}/api/courses/v0/publish/{KEY}", a.base))
            .header("Authorization", &root)
            .send()
            .await
            .unwrap();
        let status = r.status();
        if status.is_success() {
            break;
        }
        attempts += 1;
        assert!(
            status == StatusCode::SERVICE_UNAVAILABLE && attempts < 10,
            "publish: {status} {}",
            r.text().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        eventually_found(&b, &lena_b, KEY, "quokka").await,
        "node b finds the text published through node a"
    );
    assert!(eventually_found(&a, &lena, KEY, "quokka").await);
}
