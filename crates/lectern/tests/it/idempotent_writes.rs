//! `Idempotency-Key` on the writes besides answer checks — enrolment (one's
//! own and staff enrolling someone else), publish (the API and Studio's
//! button), static file uploads and course import (the API and Studio's
//! form) — as a retrying client sees them: the same key again gets the first
//! answer and changes nothing, even when what the first request did was
//! undone in between; the same key with another request is a 422 that
//! changes nothing. Races across nodes and the cleanup of old answers are in
//! `idempotent_races`.

use lectern_app::CourseRecord;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{bearer, course_archive, json, s, Client, TestSite};

pub const COURSE: &str = "course-v1:T+G+R";

/// A site with the grading course imported by `root` (an admin, so on its
/// team): the site, root's bearer token and root's signed-in browser.
pub async fn site_with_course(site: TestSite) -> (TestSite, String, Client) {
    let browser = site.user("root", true).await;
    let root = bearer(&site.base, "root").await;
    let (status, body) = import(
        &site.base,
        &root,
        crate::problems::grading_course(0.5),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (site, root, browser)
}

/// A JSON API call with `bearer`, and `key` as the `Idempotency-Key`.
pub async fn api(
    base: &str,
    bearer: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("Authorization", bearer);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

/// `POST /api/courses/v0/import/` of `archive`.
pub async fn import(
    base: &str,
    bearer: &str,
    archive: Vec<u8>,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/api/courses/v0/import/"))
        .header("Authorization", bearer)
        .body(archive);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap())
}

pub fn publish_path(course: &str) -> String {
    format!("/api/courses/v0/publish/{course}")
}

pub fn enrol_body(user: Option<&str>, active: bool) -> Value {
    let mut body = json!({"course_details": {"course_id": COURSE}, "is_active": active});
    if let Some(user) = user {
        body["user"] = json!(user);
    }
    body
}

/// The course as the database has it now.
pub async fn record(site: &TestSite, course: &str) -> CourseRecord {
    site.app
        .published_course(&course.parse().unwrap())
        .await
        .unwrap()
        .record
}

/// The `idempotency_key` a page's form carries.
pub fn form_key(html: &str) -> String {
    let needle = r#"name="idempotency_key" value=""#;
    let start = html.find(needle).expect("the form has a key") + needle.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

/// Studio's upload form: `bytes` as `notes.txt`, under the form's `key`.
pub async fn upload(browser: &Client, key: &str, bytes: &[u8]) -> reqwest::Response {
    let csrf = browser.csrf().await;
    let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("notes.txt");
    let form = reqwest::multipart::Form::new()
        .text("idempotency_key", key.to_string())
        .part("file", part);
    browser
        .http
        .post(browser.url(&format!("/studio/course/{COURSE}/files?csrf_token={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn my_enrollments(base: &str, bearer: &str) -> Vec<Value> {
    let r = reqwest::Client::new()
        .get(format!("{base}/api/enrollment/v1/enrollment"))
        .header("Authorization", bearer)
        .send()
        .await
        .unwrap();
    json(r).await.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_retried_enrolment_answers_the_first_and_is_not_applied_again() {
    let (site, root, _) = site_with_course(TestSite::spawn().await).await;
    let path = "/api/enrollment/v1/enrollment";
    site.user("dan", false).await;
    let dan = bearer(&site.base, "dan").await;
    let first = api(
        &site.base,
        &dan,
        path,
        Some("e-1"),
        Some(enrol_body(None, true)),
    )
    .await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(first.1["is_active"], true);
    // Dan leaves (no key); a late retry of the enrolment is answered from
    // the first and does not enrol him again.
    let off = api(&site.base, &dan, path, None, Some(enrol_body(None, false))).await;
    assert_eq!(off.1["is_active"], false);
    let retry = api(
        &site.base,
        &dan,
        path,
        Some("e-1"),
        Some(enrol_body(None, true)),
    )
    .await;
    assert_eq!(retry, first);
    assert!(my_enrollments(&site.base, &dan).await.is_empty());

    // The same key for another request: 422, and nothing changes.
    let reused = api(
        &site.base,
        &dan,
        path,
        Some("e-1"),
        Some(enrol_body(None, false)),
    )
    .await;
    assert_eq!(reused.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.1["error"], "idempotency_key_reused");
    let other = json!({"course_details": {"course_id": "course-v1:T+G+Other"}});
    let reused = api(&site.base, &dan, path, Some("e-1"), Some(other)).await;
    assert_eq!(reused.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(my_enrollments(&site.base, &dan).await.is_empty());

    // Staff enrolling someone else: the key is the caller's.
    site.user("eve", false).await;
    let eve = bearer(&site.base, "eve").await;
    let staff = api(
        &site.base,
        &root,
        path,
        Some("s-1"),
        Some(enrol_body(Some("eve"), true)),
    )
    .await;
    assert_eq!(staff.0, StatusCode::OK, "{}", staff.1);
    assert_eq!(staff.1["user"], "eve");
    api(&site.base, &eve, path, None, Some(enrol_body(None, false))).await;
    let again = api(
        &site.base,
        &root,
        path,
        Some("s-1"),
        Some(enrol_body(Some("eve"), true)),
    )
    .await;
    assert_eq!(again, staff);
    assert!(my_enrollments(&site.base, &eve).await.is_empty());
    // Another user's key of the same text is theirs alone.
    let own = api(
        &site.base,
        &eve,
        path,
        Some("s-1"),
        Some(enrol_body(None, true)),
    )
    .await;
    assert_eq!((own.0, &own.1["user"]), (StatusCode::OK, &json!("eve")));

    // A malformed key is refused before anything is done.
    let bad = api(
        &site.base,
        &dan,
        path,
        Some("two words"),
        Some(enrol_body(None, true)),
    )
    .await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST);
    assert!(bad.1["field_errors"]["idempotency_key"].is_string());
    assert!(my_enrollments(&site.base, &dan).await.is_empty());
}

#[tokio::test]
async fn a_retried_publish_makes_no_new_version() {
    let (site, root, browser) = site_with_course(TestSite::spawn().await).await;
    let path = publish_path(COURSE);
    let first = api(&site.base, &root, &path, Some("p-1"), None).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(first.1["version"], 2);
    let again = api(&site.base, &root, &path, Some("p-1"), None).await;
    assert_eq!(again, first);
    assert_eq!(record(&site, COURSE).await.published_version, Some(2));
    let next = api(&site.base, &root, &path, Some("p-2"), None).await;
    assert_eq!(next.1["version"], 3, "a new key is a new publish");
    let plain = api(&site.base, &root, &path, None, None).await;
    assert_eq!(plain.1["version"], 4, "and so is a publish without one");

    // The same key for another course: 422, that course is not published.
    let other = course_archive("T", "Other", r#"<course display_name="Other"/>"#, None);
    let (status, _) = import(&site.base, &root, other, None).await;
    assert_eq!(status, StatusCode::OK);
    let reused = api(
        &site.base,
        &root,
        &publish_path("course-v1:T+Other+R"),
        Some("p-1"),
        None,
    )
    .await;
    assert_eq!(reused.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.1["error"], "idempotency_key_reused");
    assert_eq!(
        record(&site, "course-v1:T+Other+R").await.published_version,
        Some(1)
    );

    // Studio's button: each rendering of the outline carries its own key,
    // so the same post sent twice publishes once.
    let (_, outline) = browser.text(&format!("/studio/course/{COURSE}")).await;
    let key = form_key(&outline);
    let (_, again) = browser.text(&format!("/studio/course/{COURSE}")).await;
    assert_ne!(form_key(&again), key, "a fresh key per rendering");
    let publish = format!("/studio/course/{COURSE}/publish");
    for _ in 0..2 {
        let r = browser
            .post_form(&publish, &[("idempotency_key", key.clone())])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(record(&site, COURSE).await.published_version, Some(5));
}

#[tokio::test]
async fn a_retried_upload_is_stored_once() {
    let (site, _, browser) = site_with_course(TestSite::spawn().await).await;
    let (_, page) = browser
        .text(&format!("/studio/course/{COURSE}/files"))
        .await;
    let key = form_key(&page);
    let before = record(&site, COURSE).await.draft_revision;
    let r = upload(&browser, &key, b"first notes").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("notes.txt"));
    assert_eq!(record(&site, COURSE).await.draft_revision, before + 1);
    // The file is deleted; a late retry of its upload puts nothing back.
    let r = browser
        .post_form(
            &format!("/studio/course/{COURSE}/files/delete"),
            &[("path", s("notes.txt"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let after_delete = record(&site, COURSE).await.draft_revision;
    let r = upload(&browser, &key, b"first notes").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.text().await.unwrap().contains("notes.txt"));
    assert_eq!(record(&site, COURSE).await.draft_revision, after_delete);

    // The same key with other bytes: 422, nothing stored.
    let r = upload(&browser, &key, b"other notes").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("choose the file again"), "{page}");
    assert_ne!(form_key(&page), key, "the form comes back with a fresh key");
    assert_eq!(record(&site, COURSE).await.draft_revision, after_delete);
    let (_, page) = browser
        .text(&format!("/studio/course/{COURSE}/files"))
        .await;
    assert!(!page.contains("notes.txt"));
}

#[tokio::test]
async fn a_retried_import_imports_once() {
    let (site, root, browser) = site_with_course(TestSite::spawn().await).await;
    let archive = crate::problems::grading_course(0.25);
    let first = import(&site.base, &root, archive.clone(), Some("i-1")).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(first.1["version"], 2);
    let again = import(&site.base, &root, archive.clone(), Some("i-1")).await;
    assert_eq!(again, first);
    assert_eq!(record(&site, COURSE).await.published_version, Some(2));

    // Another archive under the same key: 422, nothing imported.
    let other = crate::problems::grading_course(0.75);
    let reused = import(&site.base, &root, other.clone(), Some("i-1")).await;
    assert_eq!(reused.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.1["error"], "idempotency_key_reused");
    assert_eq!(record(&site, COURSE).await.published_version, Some(2));

    // Studio's import form carries its own key: sent twice, imported once.
    let (_, home) = browser.text("/studio/").await;
    let key = form_key(&home);
    for _ in 0..2 {
        let csrf = browser.csrf().await;
        let part = reqwest::multipart::Part::bytes(other.clone()).file_name("course.tar.gz");
        let form = reqwest::multipart::Form::new()
            .text("idempotency_key", key.clone())
            .part("archive", part);
        let r = browser
            .http
            .post(browser.url(&format!("/studio/import?csrf_token={csrf}")))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("version 3"));
    }
    assert_eq!(record(&site, COURSE).await.published_version, Some(3));
}
