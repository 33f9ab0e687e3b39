//! Certificates as Open edX shows them, over HTTP: the active
//! configuration's signatories (with their signature images from the
//! course's files, PNG and JPEG, a missing, broken or oversized one left
//! out) and course title on the verify page and in the PDF (checked with
//! poppler's `pdftotext` and `pdfimages`); and `certificates_display_behavior`
//! with `certificate_available_date`: before the date the learner's
//! progress page and dashboard say when, the verify page and PDF are not
//! found (the course team sees a preview), the API's list leaves it out and
//! its detail answers; once the clock passes the date it is all there.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{bearer, json, s, tar_gz, Client, TestSite};

const SIG_PNG: &[u8] = include_bytes!("../../../lectern-web/testdata/signature.png");
const SIG_JPEG: &[u8] = include_bytes!("../../../lectern-web/testdata/signature.jpg");
const TOO_WIDE_PNG: &[u8] = include_bytes!("../../../lectern-web/testdata/too-wide.png");

fn key(run: &str) -> String {
    format!("course-v1:T+Disp+{run}")
}

/// A course of two problems (both right passes) with `settings` on its
/// course block, and the signature files among its static files.
fn course(run: &str, settings: &Value) -> Vec<u8> {
    let problem = |id: &str| {
        format!(
            r#"<problem url_name="{id}" display_name="Q {id}"><multiplechoiceresponse><choicegroup type="MultipleChoice"><choice correct="true">right</choice><choice correct="false">wrong</choice></choicegroup></multiplechoiceresponse></problem>"#
        )
    };
    let xml = format!(
        r#"<course display_name="Display Course"><chapter url_name="c" display_name="Week"><sequential url_name="s" display_name="HW" graded="true" format="Homework"><vertical url_name="v" display_name="U">{}{}</vertical></sequential></chapter></course>"#,
        problem("p1"),
        problem("p2")
    );
    let mut course = json!({"cert_html_view_enabled": true});
    if let (Some(c), Some(extra)) = (course.as_object_mut(), settings.as_object()) {
        c.extend(extra.clone());
    }
    let policy = json!({ format!("course/{run}"): course });
    let grading = json!({"GRADER": [{"type": "Homework", "min_count": 1, "drop_count": 0, "weight": 1.0, "short_label": "HW"}],
        "GRADE_CUTOFFS": {"Pass": 0.9}});
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            "course/course.xml".into(),
            format!(r#"<course url_name="{run}" org="T" course="Disp"/>"#).into_bytes(),
        ),
        (format!("course/course/{run}.xml"), xml.into_bytes()),
        (
            format!("course/policies/{run}/policy.json"),
            policy.to_string().into_bytes(),
        ),
        (
            format!("course/policies/{run}/grading_policy.json"),
            grading.to_string().into_bytes(),
        ),
        ("course/static/sig.png".into(), SIG_PNG.to_vec()),
        ("course/static/people/bo.jpg".into(), SIG_JPEG.to_vec()),
        ("course/static/wide.png".into(), TOO_WIDE_PNG.to_vec()),
        (
            "course/static/broken.png".into(),
            b"\x89PNG\r\n\x1a\nnot really".to_vec(),
        ),
    ];
    let refs: Vec<(&str, &Vec<u8>)> = files.iter().map(|(p, b)| (p.as_str(), b)).collect();
    tar_gz(&refs)
}

/// An active configuration with `signatories` and a course title override.
fn configuration(signatories: Value) -> Value {
    json!({"certificates": [
        {"id": 1, "name": "Old", "is_active": false, "course_title": "Not this one", "signatories": []},
        {"id": 2, "name": "Cert", "is_active": true, "version": 1, "course_title": "Printed Course Title",
         "org_logo_path": "/static/wide.png", "signatories": signatories}]})
}

async fn import(site: &TestSite, admin: &str, archive: Vec<u8>) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", admin)
        .body(archive)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// `username` registers, enrols in `run` and passes it; returns their
/// browser, token and the certificate's uuid once the job has issued it
/// (read from the API's detail, which answers whatever the display date).
async fn pass(site: &TestSite, username: &str, run: &str) -> (Client, String, String) {
    let c = site.client();
    let form = [
        ("username", s(username)),
        ("email", format!("{username}@example.org")),
        ("name", s("Ann Learner")),
        ("password", s(crate::support::PASSWORD)),
    ];
    assert_eq!(
        c.post_form("/register", &form).await.status(),
        StatusCode::OK
    );
    let k = key(run);
    let r = c.post_form(&format!("/courses/{k}/enroll"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let token = bearer(&site.base, username).await;
    for id in ["p1", "p2"] {
        let usage = format!("block-v1:T+Disp+{run}+type@problem+block@{id}");
        let r = reqwest::Client::new()
            .post(format!("{}/api/problems/v1/{usage}/check", site.base))
            .header("Authorization", &token)
            .json(&json!({"answers": {format!("{id}_2_1"): "choice_0"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let detail = format!("/api/certificates/v0/certificates/{username}/courses/{k}/");
    for _ in 0..150 {
        let (status, body) = api(site, &token, &detail).await;
        if status == StatusCode::OK {
            let uuid = body["uuid"].as_str().unwrap().to_string();
            return (c, token, uuid);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{username} never got a certificate in {run}");
}

async fn api(site: &TestSite, token: &str, path: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", site.base))
        .header("Authorization", token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, json(r).await)
}

/// Runs a poppler tool on `pdf`; `None` (with a NOTE) when it is missing
/// outside CI, as `certificates.rs` does for `pdftotext`.
fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = match std::process::Command::new(tool)
        .args(args)
        .arg(&path)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{tool} is missing in CI ({e}): scripts/test.sh must install poppler-utils"
            );
            eprintln!("NOTE: {tool} is missing (run scripts/test.sh): the check is skipped");
            return None;
        }
    };
    assert!(out.status.success(), "{tool} refused the PDF: {out:?}");
    Some(String::from_utf8(out.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signatories_with_their_images_on_the_page_and_in_the_pdf() {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    let admin = bearer(&site.base, "root").await;
    let signatories = json!([
        {"name": "Ada Lovelace", "title": "Professor of Engines", "organization": "Analytical U", "signature_image_path": "/static/sig.png"},
        {"name": "Bo <b>Bold</b>", "title": "Dean", "organization": "Analytical U",
         "signature_image_path": "/asset-v1:T+Disp+R+type@asset+block@people/bo.jpg"},
        {"name": "Cy Missing", "title": "Registrar", "organization": "", "signature_image_path": "/static/nowhere.png"},
        {"name": "Di Broken", "title": "Chair", "organization": "", "signature_image_path": "/c4x/T/Disp/asset/broken.png"}
    ]);
    let settings = json!({"certificates_display_behavior": "early_no_info",
        "certificates": configuration(signatories)});
    import(&site, &admin, course("R", &settings)).await;
    let (_, _, uuid) = pass(&site, "ann", "R").await;
    let k = key("R");

    let anonymous = site.client();
    let (status, page) = anonymous.text(&format!("/certificates/{uuid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Printed Course Title"), "the title override");
    assert!(
        !page.contains("Display Course"),
        "not the course's own name"
    );
    for text in [
        "Ada Lovelace",
        "Professor of Engines",
        "Analytical U",
        "Bo &#60;b&#62;Bold&#60;/b&#62;",
        "Cy Missing",
        "Registrar",
        "Di Broken",
    ] {
        assert!(page.contains(text), "{text} in {page}");
    }
    assert!(!page.contains("<b>Bold"), "escaped");
    let sig = format!("/courses/{k}/static/sig.png");
    let bo = format!("/courses/{k}/static/people/bo.jpg");
    assert!(page.contains(&format!(r#"src="{sig}""#)), "{page}");
    assert!(page.contains(&format!(r#"src="{bo}""#)), "{page}");
    for skipped in ["nowhere.png", "broken.png", "wide.png"] {
        assert!(!page.contains(skipped), "{skipped} is left out");
    }
    assert!(!page.contains("class=\"logo\""), "the logo is too wide");
    for image in [&sig, &bo] {
        let r = anonymous.get(image).await;
        assert_eq!(r.status(), StatusCode::OK, "{image} for anyone");
    }
    assert!(!page.contains("Preview"), "no preview note when shown");

    let r = anonymous.get(&format!("/certificates/{uuid}.pdf")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let pdf = r.bytes().await.unwrap();
    if let Some(text) = poppler("pdftotext", &[], &pdf) {
        for t in [
            "Printed Course Title",
            "Ada Lovelace",
            "Professor of Engines",
            "Bo <b>Bold</b>",
            "Cy Missing",
            "Di Broken",
        ] {
            assert!(text.contains(t), "{t} in {text}");
        }
    }
    if let Some(list) = poppler("pdfimages", &["-list"], &pdf) {
        // Two signatures (PNG as an image with its soft mask, JPEG as it is).
        let kinds: Vec<(String, String, String)> = list
            .lines()
            .skip(2)
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[2].to_string(), f[3].to_string(), f[4].to_string())
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("image".into(), "150".into(), "50".into()),
                ("smask".into(), "150".into(), "50".into()),
                ("image".into(), "120".into(), "40".into()),
            ],
            "{list}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_certificate_waits_for_the_available_date_then_shows() {
    let offset = Arc::new(AtomicI64::new(0));
    let site = TestSite::spawn_with_clock(offset.clone()).await;
    let staff = site.user("root", true).await;
    let admin = bearer(&site.base, "root").await;
    let available = chrono::Utc::now() + chrono::Duration::days(3);
    let date = available.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let shown_on = available.format("%-d %B %Y").to_string();
    // "end" with a date is read as "end_with_date", as Open edX does.
    let settings = json!({"certificates_display_behavior": "end", "certificate_available_date": date,
        "certificates": configuration(json!([]))});
    import(&site, &admin, course("W", &settings)).await;
    let (ann, token, uuid) = pass(&site, "ann", "W").await;
    let k = key("W");
    let verify = format!("/certificates/{uuid}");

    // Before the date: the learner is told when; nobody else finds it.
    let (_, progress) = ann.text(&format!("/courses/{k}/progress")).await;
    assert!(
        progress.contains(&format!("It will be available on {shown_on}.")),
        "{progress}"
    );
    assert!(!progress.contains(&verify));
    let (_, dashboard) = ann.text("/dashboard").await;
    assert!(dashboard.contains(&format!("It will be available on {shown_on}.")));
    assert!(!dashboard.contains(&verify));
    let anonymous = site.client();
    for path in [
        verify.clone(),
        format!("{verify}.pdf"),
        format!("{verify}/pdf"),
    ] {
        assert_eq!(
            anonymous.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            ann.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // The course team previews it.
    let (status, preview) = staff.text(&verify).await;
    assert_eq!(status, StatusCode::OK);
    assert!(preview.contains("Preview for the course team"), "{preview}");
    assert!(preview.contains(&shown_on));
    assert_eq!(
        staff.get(&format!("{verify}.pdf")).await.status(),
        StatusCode::OK
    );
    // The API: left out of the list, the detail as Open edX answers it.
    let list = "/api/certificates/v0/certificates/ann/";
    assert_eq!(api(&site, &token, list).await, (StatusCode::OK, json!([])));
    let detail = format!("/api/certificates/v0/certificates/ann/courses/{k}/");
    let (status, body) = api(&site, &token, &detail).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "downloadable");
    assert_eq!(body["course_display_name"], "Printed Course Title");

    // The clock passes the date: everything shows, dated the available day.
    offset.store(4 * 24 * 3600, Ordering::SeqCst);
    let (_, progress) = ann.text(&format!("/courses/{k}/progress")).await;
    assert!(
        progress.contains("Your certificate is available"),
        "{progress}"
    );
    assert!(progress.contains(&verify));
    let (_, dashboard) = ann.text("/dashboard").await;
    assert!(dashboard.contains("Your certificate is available"));
    assert!(dashboard.contains(&verify));
    let (status, page) = anonymous.text(&verify).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("Issued <time>{shown_on}</time>")),
        "{page}"
    );
    assert!(!page.contains("Preview"));
    assert_eq!(
        anonymous.get(&format!("{verify}.pdf")).await.status(),
        StatusCode::OK
    );
    // (Bearer tokens expire sooner than four days: a fresh one.)
    let token = bearer(&site.base, "ann").await;
    let (_, list) = api(&site, &token, list).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_display_behaviour_as_open_edx() {
    let site = TestSite::spawn().await;
    site.user("root", true).await;
    let admin = bearer(&site.base, "root").await;
    let config = configuration(json!([]));
    let cases = [
        // (run, settings, shown now, what the learner reads before)
        (
            "E1",
            json!({"certificates_display_behavior": "early_no_info", "end": "2099-01-01T00:00:00Z",
            "certificate_available_date": "2099-01-01T00:00:00Z"}),
            true,
            "",
        ),
        (
            "E2",
            json!({"certificates_display_behavior": "end", "end": "2099-01-01T00:00:00Z"}),
            false,
            "It will be available on 1 January 2099.",
        ),
        (
            "E3",
            json!({}),
            false,
            "It will be available when the course ends.",
        ),
        (
            "E4",
            json!({"certificates_display_behavior": "end_with_date",
            "certificate_available_date": "2020-01-01T00:00:00Z"}),
            true,
            "",
        ),
        (
            "E5",
            json!({"certificates_display_behavior": "end_with_date",
            "certificate_available_date": "2099-06-01T00:00:00Z"}),
            false,
            "It will be available on 1 June 2099.",
        ),
        (
            "E6",
            json!({"self_paced": true, "certificate_available_date": "2099-06-01T00:00:00Z"}),
            true,
            "",
        ),
    ];
    for (i, (run, settings, shown, later)) in cases.iter().enumerate() {
        let mut settings = settings.clone();
        settings["certificates"] = config.clone();
        import(&site, &admin, course(run, &settings)).await;
        let username = format!("learner{i}");
        let (browser, token, uuid) = pass(&site, &username, run).await;
        let verify = format!("/certificates/{uuid}");
        let anonymous = site.client();
        let status = anonymous.get(&verify).await.status();
        let (_, progress) = browser
            .text(&format!("/courses/{}/progress", key(run)))
            .await;
        let (_, list) = api(
            &site,
            &token,
            &format!("/api/certificates/v0/certificates/{username}/"),
        )
        .await;
        if *shown {
            assert_eq!(status, StatusCode::OK, "{run}");
            assert!(progress.contains(&verify), "{run}: {progress}");
            assert_eq!(list.as_array().map(Vec::len), Some(1), "{run}: {list}");
        } else {
            assert_eq!(status, StatusCode::NOT_FOUND, "{run}");
            assert!(!progress.contains(&verify), "{run}");
            assert!(progress.contains(later), "{run}: {progress}");
            assert_eq!(list, json!([]), "{run}");
        }
    }
    // E4's printed date is the available date that has passed.
    let (_, body) = api(
        &site,
        &bearer(&site.base, "learner3").await,
        &format!(
            "/api/certificates/v0/certificates/learner3/courses/{}/",
            key("E4")
        ),
    )
    .await;
    let uuid = body["uuid"].as_str().unwrap();
    let (_, page) = site.client().text(&format!("/certificates/{uuid}")).await;
    assert!(
        page.contains("Issued <time>1 January 2020</time>"),
        "{page}"
    );
}
