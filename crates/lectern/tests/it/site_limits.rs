//! Issue 22, per-site limits (`docs/limits.md`): at the course limit a new
//! course is refused however it comes (Studio, the import API, the CLI)
//! while a re-import still works; at the account limit registration (page
//! and API) and `lectern user create` are refused, but a site without an
//! administrator can always get its first one; an upload that would go over
//! the storage limit is refused and stores nothing; `lectern doctor` shows
//! usage against the limits. Each refusal names the limit and changes
//! nothing.

use std::io::Write;
use std::process::{Command, Stdio};

use lectern_app::site_limits::SiteLimits;
use lectern_app::AppSettings;
use reqwest::StatusCode;

use crate::support::{bearer, json, s, TestSite};

const MB: u64 = 1024 * 1024;

async fn limited_site(limits: SiteLimits) -> TestSite {
    let settings = AppSettings {
        limits,
        ..AppSettings::default()
    };
    TestSite::spawn_custom(settings, |app| app).await
}

/// A course export `course-v1:LIM+{number}+R` with one chapter.
fn archive(number: &str) -> Vec<u8> {
    crate::support::course_archive(
        "LIM",
        number,
        r#"<course display_name="Limited"><chapter url_name="c1" display_name="Week 1"/></course>"#,
        None,
    )
}

async fn api_import(site: &TestSite, token: &str, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", token)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Runs `cmd` to its end off the test's one runtime thread, which also runs
/// the site: a CLI waiting for SQLite's write lock on a blocked thread froze
/// a write the site had begun, and gave up after its 10 s busy timeout.
async fn finished(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// `lectern` on the site's database with `LECTERN_LIMITS_<key>` set.
fn lectern(site: &TestSite, key: &str, value: u64) -> Command {
    let mut cmd = crate::backend::lectern_in(site.data_dir());
    cmd.env("LECTERN_DATA_DIR", site.data_dir())
        .env(format!("LECTERN_LIMITS_{key}"), value.to_string());
    cmd
}

#[tokio::test]
async fn at_the_course_limit_new_courses_are_refused_and_re_imports_work() {
    let site = limited_site(SiteLimits {
        max_courses: Some(1),
        ..SiteLimits::default()
    })
    .await;
    let admin = site.user("root", true).await;
    let token = bearer(&site.base, "root").await;
    let r = api_import(&site, &token, archive("ONE")).await;
    assert_eq!(r.status(), StatusCode::OK, "the first course fits");
    let count = || async { site.app.site_usage().await.unwrap().courses };
    assert_eq!(count().await, 1);

    // Studio's form: a page naming the limit.
    let r = admin
        .post_form(
            "/studio/courses",
            &[
                ("display_name", s("Two")),
                ("org", s("LIM")),
                ("number", s("TWO")),
                ("run", s("R")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap();
    assert!(page.contains("limit of 1 courses"), "{page}");

    // The import API: JSON naming the limit.
    let r = api_import(&site, &token, archive("TWO")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = json(r).await;
    assert_eq!(body["error"], "course_limit_reached");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("limit of 1 courses"));

    // Studio's import form.
    let csrf = admin.csrf().await;
    let part = reqwest::multipart::Part::bytes(archive("TWO")).file_name("two.tar.gz");
    let r = admin
        .http
        .post(admin.url(&format!("/studio/import?csrf_token={csrf}")))
        .multipart(reqwest::multipart::Form::new().part("archive", part))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("limit of 1 courses"));

    // The CLI, with the limit from its configuration.
    let file = site.data_dir().join("two.tar.gz");
    std::fs::write(&file, archive("TWO")).unwrap();
    let mut import = lectern(&site, "MAX_COURSES", 1);
    import.arg("import").arg(&file);
    let out = finished(import).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("limit of 1 courses"), "{err}");

    assert_eq!(count().await, 1, "nothing was created");
    let two = "course-v1:LIM+TWO+R".parse().unwrap();
    assert!(site.app.published_course(&two).await.is_err());

    // A re-import of the existing course is not a new course.
    let r = api_import(&site, &token, archive("ONE")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json(r).await["version"], 2);
    let file = site.data_dir().join("one.tar.gz");
    std::fs::write(&file, archive("ONE")).unwrap();
    // The CLI shares the SQLite file with the running site and waits for
    // its write lock (see `finished`; a plain `output()` here, with a retry
    // loop that hid the freeze, failed half the time after 10 s).
    let mut import = lectern(&site, "MAX_COURSES", 1);
    import.arg("import").arg(&file);
    let out = finished(import).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count().await, 1);
}

/// `lectern user create` of `username` with the account limit `limit`.
/// (Waited for off the runtime thread, as [`finished`] does.)
async fn cli_user(site: &TestSite, limit: u64, username: &str) -> std::process::Output {
    let mut cmd = lectern(site, "MAX_ACCOUNTS", limit);
    cmd.args(["user", "create", "--username", username])
        .args(["--email", &format!("{username}@example.org")])
        .args(["--password-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(crate::support::PASSWORD.as_bytes())
            .unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn registration(username: &str) -> [(&'static str, String); 4] {
    [
        ("username", username.to_string()),
        ("email", format!("{username}@example.org")),
        ("name", format!("{username} Tester")),
        ("password", crate::support::PASSWORD.to_string()),
    ]
}

#[tokio::test]
async fn at_the_account_limit_registration_and_user_create_are_refused() {
    let site = limited_site(SiteLimits {
        max_accounts: Some(2),
        ..SiteLimits::default()
    })
    .await;
    // A learner first, then the limit is reached: the site's first
    // administrator still comes through the setup link.
    site.user("learner", false).await;
    let out = cli_user(&site, 2, "second").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let accounts = || async { site.app.site_usage().await.unwrap().accounts };
    assert_eq!(accounts().await, 2);
    site.user("root", true).await;
    assert_eq!(accounts().await, 3, "the first admin is always possible");

    // The registration page: a page naming the limit.
    let r = site
        .client()
        .post_form("/register", &registration("late"))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("limit of 2 accounts"));

    // The registration API: JSON naming the limit.
    let r = reqwest::Client::new()
        .post(format!("{}/api/user/v1/account/registration/", site.base))
        .form(&registration("later"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body = json(r).await;
    assert_eq!(body["error"], "account_limit_reached");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("limit of 2 accounts"));

    // The CLI.
    let out = cli_user(&site, 2, "latest").await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("limit of 2 accounts"), "{err}");

    assert_eq!(accounts().await, 3, "no account was created");
    for name in ["late", "later", "latest"] {
        assert!(site.app.user_by_username(name).await.is_err(), "{name}");
    }
}

#[tokio::test]
async fn a_full_site_without_an_administrator_can_still_get_one_from_the_cli() {
    let site = limited_site(SiteLimits {
        max_accounts: Some(1),
        ..SiteLimits::default()
    })
    .await;
    site.user("learner", false).await;
    let out = cli_user(&site, 1, "other").await;
    assert!(!out.status.success(), "the site is full");
    let mut cmd = lectern(&site, "MAX_ACCOUNTS", 1);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    tokio::task::spawn_blocking(move || crate::binary::create_admin(cmd, "ops"))
        .await
        .unwrap();
    assert!(site.app.user_by_username("ops").await.unwrap().is_admin);
    // Only the first: with an administrator, the limit holds for admins too.
    let mut cmd = lectern(&site, "MAX_ACCOUNTS", 1);
    cmd.args(["user", "create", "--username", "ops2", "--admin"])
        .args(["--email", "ops2@example.org", "--password-file", "-"])
        .stdin(Stdio::null());
    let out = finished(cmd).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("limit of 1 accounts"), "{err}");
}

async fn upload(
    admin: &crate::support::Client,
    key: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let csrf = admin.csrf().await;
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    admin
        .http
        .post(admin.url(&format!("/studio/course/{key}/files?csrf_token={csrf}")))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_upload_over_the_storage_limit_is_refused_and_stores_nothing() {
    let site = limited_site(SiteLimits {
        max_storage_bytes: Some(MB),
        ..SiteLimits::default()
    })
    .await;
    let admin = site.user("root", true).await;
    let (key, _, _) = crate::journey::build_course(&admin, "STORE", "<p>x</p>").await;
    let stored = || async { site.app.site_usage().await.unwrap().storage_bytes };
    let files = || async {
        let (_, page) = admin.text(&format!("/studio/course/{key}/files")).await;
        page
    };

    let r = upload(&admin, &key, "a.bin", vec![1; 600 * 1024]).await;
    assert_eq!(r.status(), StatusCode::OK, "under the limit");
    assert_eq!(stored().await, 600 * 1024);

    let r = upload(&admin, &key, "b.bin", vec![2; 500 * 1024]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("storage limit of 1 MB"));
    assert_eq!(stored().await, 600 * 1024, "nothing stored");
    assert!(!files().await.contains("b.bin"));

    // The same bytes again add nothing; a smaller file still fits.
    let r = upload(&admin, &key, "a-copy.bin", vec![1; 600 * 1024]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = upload(&admin, &key, "c.bin", vec![3; 424 * 1024]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(stored().await, MB);
    let page = files().await;
    assert!(page.contains("a-copy.bin") && page.contains("c.bin"));

    // An import bringing files that do not fit: refused, nothing created.
    let files = [
        (
            "course/course.xml",
            r#"<course url_name="R" org="LIM" course="BIG"/>"#.as_bytes().to_vec(),
        ),
        (
            "course/course/R.xml",
            br#"<course display_name="Big"/>"#.to_vec(),
        ),
        ("course/static/big.bin", vec![4u8; 4096]),
    ];
    let token = bearer(&site.base, "root").await;
    let r = api_import(&site, &token, crate::support::tar_gz(&files)).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(r).await["error"], "storage_limit_reached");
    assert_eq!(stored().await, MB);
    assert_eq!(site.app.site_usage().await.unwrap().courses, 1);
}

#[tokio::test]
async fn doctor_shows_usage_against_the_limits_and_warns_near_one() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    crate::journey::build_course(&admin, "DOC1", "<p>x</p>").await;
    let doctor = |limit: u64| {
        let mut cmd = lectern(&site, "MAX_COURSES", limit);
        cmd.env("LECTERN_LIMITS_MAX_ACCOUNTS", "1000").arg("doctor");
        async move { String::from_utf8_lossy(&finished(cmd).await.stdout).into_owned() }
    };
    let out = doctor(0).await;
    assert!(
        out.contains("ok    limits: 1/unlimited courses, 1/1000 accounts, 0 MB/unlimited storage"),
        "{out}"
    );
    let out = doctor(10).await;
    assert!(out.contains("ok    limits: 1/10 courses"), "{out}");
    let out = doctor(1).await;
    assert!(out.contains("WARN  limits: 1/1 courses"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_racing_at_the_limit_on_one_node_never_take_it_over() {
    let site = limited_site(SiteLimits {
        max_courses: Some(2),
        ..SiteLimits::default()
    })
    .await;
    let admin = site.user("root", true).await;
    let csrf = admin.csrf().await;
    let mut racing = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (http, url, csrf) = (
            admin.http.clone(),
            admin.url("/studio/courses"),
            csrf.clone(),
        );
        racing.spawn(async move {
            let form = [
                ("display_name", s("Race")),
                ("org", s("LIM")),
                ("number", format!("RACE{i}")),
                ("run", s("R")),
                ("csrf_token", csrf),
            ];
            http.post(url).form(&form).send().await.unwrap().status()
        });
    }
    let statuses = racing.join_all().await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 2, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::OK || *s == StatusCode::FORBIDDEN));
    assert_eq!(site.app.site_usage().await.unwrap().courses, 2);
}
