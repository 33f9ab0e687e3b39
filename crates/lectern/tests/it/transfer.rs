//! Course import and export through Studio, the API and the CLI, on the real
//! Open edX exports in the shared fixtures.

use reqwest::StatusCode;

use crate::support::{json, s, TestSite};

pub fn fixture(name: &str) -> Vec<u8> {
    let dir = std::env::var("LECTERN_OLX_FIXTURES").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/olx").to_string()
    });
    let path = format!("{dir}/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

async fn upload(c: &crate::support::Client, bytes: Vec<u8>) -> reqwest::Response {
    let csrf = c.csrf().await;
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name("course.tar.gz")
        .mime_str("application/gzip")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("archive", part);
    c.http
        .post(c.url(&format!("/studio/import?csrf_token={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn studio_imports_the_demo_course_and_serves_it_to_learners() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let r = upload(&admin, fixture("openedx-demo-course.tar.gz")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("course-v1:OpenedX+DemoX+DemoCourse"));
    assert!(
        page.contains("drag-and-drop-v2"),
        "unsupported types are listed"
    );
    let key = "course-v1:OpenedX+DemoX+DemoCourse";

    let learner = site.user("learner", false).await;
    learner
        .post_form(&format!("/courses/{key}/enroll"), &[])
        .await;
    let (status, outline) = learner.text(&format!("/courses/{key}/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        outline.contains("Introduction") || outline.contains("Example Week 1"),
        "the outline shows the demo's sections"
    );

    // Every unit renders for the learner, unsupported blocks as named placeholders.
    let course = site
        .app
        .published_course(&key.parse().unwrap())
        .await
        .unwrap();
    let mut placeholders = 0;
    for unit in course.tree.units() {
        let (status, html) = learner
            .text(&format!("/courses/{key}/unit/{}", unit.id))
            .await;
        assert_eq!(status, StatusCode::OK, "unit {}", unit.id);
        assert!(
            !html.contains("<script>"),
            "unit {} carries a script",
            unit.id
        );
        placeholders += html.matches("class=\"placeholder\"").count();
    }
    assert!(placeholders > 0);

    // Static files come back with their bytes and type; links point at them.
    let asset = course
        .tree
        .assets
        .values()
        .find(|a| a.content_type == "image/jpeg" || a.content_type == "image/png")
        .expect("an image");
    let r = learner
        .get(&format!("/courses/{key}/static/{}", asset.path))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], asset.content_type.as_str());
    assert!(r.headers().contains_key("etag"));
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len() as u64, asset.size);
    let html_with_static = course
        .tree
        .blocks
        .values()
        .find(|b| {
            b.block_type == "html" && b.body.as_deref().is_some_and(|h| h.contains("\"/static/"))
        })
        .expect("an html block linking /static/");
    let unit = course
        .tree
        .ancestry(&html_with_static.block_ref())
        .into_iter()
        .find(|r| r.block_type == "vertical")
        .unwrap();
    let (_, html) = learner
        .text(&format!("/courses/{key}/unit/{}", unit.id))
        .await;
    assert!(
        html.contains(&format!("/courses/{key}/static/")),
        "static links are rewritten"
    );
    assert_eq!(
        learner
            .get(&format!("/courses/{key}/static/no/such/file.png"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Export from Studio gives an archive that imports again to the same course.
    let r = admin.get(&format!("/studio/course/{key}/export")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    let exported = r.bytes().await.unwrap().to_vec();
    let again = lectern_content::olx::read_archive(&exported, &Default::default()).unwrap();
    let (_, draft) = site
        .app
        .draft(
            &site.app.user_by_username("root").await.unwrap(),
            &key.parse().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(again.tree.blocks, draft.blocks);
    assert_eq!(again.tree.assets, draft.assets);
}

#[tokio::test]
async fn bad_archives_are_refused_and_change_nothing() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let before = site.app.catalogue().await.unwrap().len();
    let demo = fixture("openedx-demo-course.tar.gz");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not gzip", b"this is not an archive".to_vec()),
        ("truncated", demo[..demo.len() / 2].to_vec()),
        ("a library", fixture("openedx-demo-library.tar.gz")),
    ];
    for (what, bytes) in cases {
        let r = upload(&admin, bytes).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{what}");
        let page = r.text().await.unwrap();
        assert!(page.contains("refused"), "{what}: {page}");
    }
    assert_eq!(site.app.catalogue().await.unwrap().len(), before);
    // A learner may not import at all.
    let learner = site.user("learner", false).await;
    assert_eq!(upload(&learner, demo).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_imports_and_exports_and_reimport_replaces_the_draft() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let bearer = crate::support::bearer(&site.base, "root").await;
    let http = reqwest::Client::new();
    let course = fixture("openedx-test-course.tar.gz");
    let r = http
        .post(admin.url("/api/courses/v0/import/"))
        .header("Authorization", &bearer)
        .body(course.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = json(r).await;
    assert_eq!(body["course_id"], "course-v1:TestX+Course+1");
    assert_eq!(body["version"], 1);
    assert_eq!(body["replaced"], false);
    assert!(
        body["report"]["blocks_by_type"]["problem"]
            .as_u64()
            .unwrap()
            > 0
    );

    let learner = site.user("learner", false).await;
    let key = "course-v1:TestX+Course+1";
    learner
        .post_form(&format!("/courses/{key}/enroll"), &[])
        .await;

    // An author edits the draft; re-importing replaces it and publishes again.
    let root = site.app.user_by_username("root").await.unwrap();
    let k: lectern_content::CourseKey = key.parse().unwrap();
    let (_, draft) = site.app.draft(&root, &k).await.unwrap();
    let chapter = draft.root().unwrap().children[0].clone();
    admin
        .post_form(
            &format!("/studio/course/{key}/block/{chapter}/update"),
            &[
                ("display_name", s("Renamed by hand")),
                ("action", s("save")),
            ],
        )
        .await;
    let r = http
        .post(admin.url("/api/courses/v0/import/"))
        .header("Authorization", &bearer)
        .body(course)
        .send()
        .await
        .unwrap();
    let body = json(r).await;
    assert_eq!(body["replaced"], true);
    assert_eq!(body["version"], 2);
    let (_, draft) = site.app.draft(&root, &k).await.unwrap();
    assert_ne!(
        draft.block(&chapter).unwrap().display_name.as_deref(),
        Some("Renamed by hand")
    );
    assert!(
        site.app
            .enrollment(&site.app.user_by_username("learner").await.unwrap(), &k)
            .await
            .unwrap()
            .is_some(),
        "enrolments survive"
    );

    let r = http
        .get(admin.url(&format!("/api/courses/v0/export/{key}")))
        .header("Authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again =
        lectern_content::olx::read_archive(&r.bytes().await.unwrap(), &Default::default()).unwrap();
    assert_eq!(again.tree.key.to_string(), key);

    let r = http
        .post(admin.url("/api/courses/v0/import/"))
        .header("Authorization", &bearer)
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let err = json(r).await;
    assert!(err["field_errors"]["archive"]
        .as_str()
        .unwrap()
        .contains("refused"));
}

/// Runs the compiled `lectern` in `dir` and returns what it did.
fn lectern(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    crate::backend::lectern_in(dir).args(args).output().unwrap()
}

#[test]
fn the_cli_imports_every_fixture_course_and_exports_it() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = [
        (
            "openedx-demo-course.tar.gz",
            "course-v1:OpenedX+DemoX+DemoCourse",
        ),
        ("openedx-test-course.tar.gz", "course-v1:TestX+Course+1"),
        (
            "mitx-grading-library-course.tar.gz",
            "course-v1:MITx+grading-library+course",
        ),
    ];
    for (name, key) in fixtures {
        let path = dir.path().join(name);
        std::fs::write(&path, fixture(name)).unwrap();
        let out = lectern(dir.path(), &["import".as_ref(), path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !key.is_empty() {
            assert_eq!(printed, key, "{name}");
        }
        assert!(stderr.contains("blocks: "), "a summary by type: {stderr}");
        // Python-scripted problems are graded in the sandbox: none is
        // reported as ungraded, and authors are told which ones use it.
        assert!(
            !stderr.contains("not graded by Lectern yet: Python"),
            "{name}: {stderr}"
        );
        if name != "openedx-test-course.tar.gz" {
            assert!(
                stderr.contains("graded by their Python scripts in the sandbox"),
                "{name}: {stderr}"
            );
        }
        let export = dir.path().join("out.tar.gz");
        let out = lectern(
            dir.path(),
            &["export".as_ref(), printed.as_ref(), export.as_os_str()],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The export imports into a fresh site as the same course.
        let fresh = tempfile::tempdir().unwrap();
        let out = lectern(fresh.path(), &["import".as_ref(), export.as_os_str()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), printed);
    }
    let lib = dir.path().join("lib.tar.gz");
    std::fs::write(&lib, fixture("openedx-demo-library.tar.gz")).unwrap();
    let out = lectern(dir.path(), &["import".as_ref(), lib.as_os_str()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("library"));
}

#[tokio::test]
async fn studio_uploads_files_that_learners_get_after_publish() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, _, unit_id) = crate::journey::build_course(
        &admin,
        "FILES",
        r#"<p><img src="/static/images/dot.png" alt="dot"></p>"#,
    )
    .await;
    let png: Vec<u8> = vec![0x89, b'P', b'N', b'G', 13, 10, 26, 10, 1, 2, 3, 4];
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let admin = &admin;
        let key = key.clone();
        async move {
            let csrf = admin.csrf().await;
            let part = reqwest::multipart::Part::bytes(bytes).file_name("dot.png");
            let form = reqwest::multipart::Form::new()
                .part("file", part)
                .text("path", name);
            admin
                .http
                .post(admin.url(&format!("/studio/course/{key}/files?csrf_token={csrf}")))
                .multipart(form)
                .send()
                .await
                .unwrap()
        }
    };
    let r = upload("images/dot.png", png.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("/static/images/dot.png"));
    for bad in ["../escape.png", "/etc/passwd", "a/.hidden"] {
        assert_eq!(
            upload(bad, png.clone()).await.status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    // The author sees it before publishing; learners only after.
    assert_eq!(
        admin
            .get(&format!("/courses/{key}/static/images/dot.png"))
            .await
            .status(),
        StatusCode::OK
    );
    let anon = site.client();
    admin
        .post_form(&format!("/studio/course/{key}/publish"), &[])
        .await;
    let r = anon
        .get(&format!("/courses/{key}/static/images/dot.png"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    let learner = site.user("learner", false).await;
    learner
        .post_form(&format!("/courses/{key}/enroll"), &[])
        .await;
    let (_, unit) = learner
        .text(&format!("/courses/{key}/unit/{unit_id}"))
        .await;
    assert!(unit.contains(&format!("/courses/{key}/static/images/dot.png")));
    // Deleting from the draft leaves the published file until the next publish.
    let r = admin
        .post_form(
            &format!("/studio/course/{key}/files/delete"),
            &[("path", s("images/dot.png"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        anon.get(&format!("/courses/{key}/static/images/dot.png"))
            .await
            .status(),
        StatusCode::OK
    );
    admin
        .post_form(&format!("/studio/course/{key}/publish"), &[])
        .await;
    assert_eq!(
        anon.get(&format!("/courses/{key}/static/images/dot.png"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
