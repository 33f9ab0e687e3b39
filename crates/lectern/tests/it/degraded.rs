//! The site while its database cannot be reached, as learners and clients
//! see it: the database really goes away (a forwarder between the node and
//! PostgreSQL is cut); a learner the node saw recently keeps reading the
//! unit page and the blocks API; a session the node never saw, a check, an
//! enrolment and a sign-in get 503 with `Retry-After`; `/health/ready` says
//! what is wrong; once the database is back everything works again without
//! restarting the node. While the database works, the memory changes
//! nothing: a session ended elsewhere fails at once.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::forwarder::Forwarder;
use crate::support::{bearer, json, Client, TestSite, PASSWORD};

const COURSE: &str = "course-v1:T+D+R";
const TEXT: &str = "Remembered reading text";
const BANNER: &str = "Your saved answers and grades can&#39;t be shown right now";

fn course() -> Vec<u8> {
    let xml = format!(
        r#"<course display_name="Outage"><chapter url_name="c1" display_name="Week 1"><sequential url_name="s1" display_name="Lesson"><vertical url_name="v1" display_name="Reading"><html url_name="h1" display_name="Notes">&lt;p&gt;{TEXT}&lt;/p&gt;</html><problem url_name="p1" display_name="Sum"><numericalresponse answer="4"><formulaequationinput/></numericalresponse></problem></vertical></sequential></chapter></course>"#
    );
    crate::support::course_archive("T", "D", &xml, None)
}

/// A site with the course, whose database is reached through a forwarder
/// the test can cut; `None` on the SQLite leg.
async fn site_behind_forwarder() -> Option<(TestSite, Forwarder)> {
    if !crate::backend::on_postgres() {
        eprintln!(
            "note: the database-outage journey runs on the PostgreSQL leg only (TEST_DATABASE=postgres)"
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = crate::backend::database_url_for(dir.path()).unwrap();
    let mut url = reqwest::Url::parse(&url).unwrap();
    let server = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let target = tokio::net::lookup_host(server)
        .await
        .unwrap()
        .next()
        .unwrap();
    let db = Forwarder::start(target);
    url.set_port(Some(db.port())).unwrap();
    let store = lectern_store::open(url.as_str(), &dir.path().join("lectern.db"), 8)
        .await
        .unwrap();
    let site = TestSite::spawn_on_store(store, dir).await;
    import_course(&site).await;
    Some((site, db))
}

async fn import_course(site: &TestSite) {
    site.user("root", true).await;
    let root = bearer(&site.base, "root").await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/courses/v0/import/", site.base))
        .header("Authorization", &root)
        .body(course())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// A signed-in learner enrolled through the page, who has read the unit.
async fn reader(site: &TestSite, name: &str) -> Client {
    let c = site.user(name, false).await;
    let r = c.post_form(&format!("/courses/{COURSE}/enroll"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, page) = c.text(&unit()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(TEXT), "{page}");
    c
}

fn unit() -> String {
    format!("/courses/{COURSE}/unit/v1")
}

const CHECK: &str = "/api/problems/v1/block-v1:T+D+R+type@problem+block@p1/check";

fn blocks_path(username: &str) -> String {
    let course = COURSE.replace('+', "%2B");
    format!("/api/courses/v1/blocks/?course_id={course}&username={username}&depth=all")
}

/// The same browser (cookies) talking to another node.
fn on(c: &Client, site: &TestSite) -> Client {
    Client {
        http: c.http.clone(),
        jar: c.jar.clone(),
        base: site.base.clone(),
    }
}

async fn api_get(base: &str, token: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("Authorization", token)
        .send()
        .await
        .unwrap()
}

async fn api_post(
    base: &str,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("Authorization", token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A 503 that tells the client when to come back.
fn assert_retry_later(r: &reqwest::Response, what: &str) {
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    assert!(
        r.headers().get("retry-after").is_some(),
        "{what}: Retry-After missing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_away_recent_learners_read_and_writes_wait() {
    let Some((site, db)) = site_behind_forwarder().await else {
        return;
    };
    let ann = reader(&site, "ann").await;
    let ann_api = bearer(&site.base, "ann").await;
    let r = api_post(
        &site.base,
        &ann_api,
        CHECK,
        json!({"answers": {"p1_2_1": "4"}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = api_get(&site.base, &ann_api, &blocks_path("ann")).await;
    assert_eq!(r.status(), StatusCode::OK);
    // Bob signed in and read on another node; this node never saw him.
    let other = site.another_node().await;
    let bob_there = reader(&other, "bob").await;
    let bob = on(&bob_there, &site);

    db.cut().await;
    let visitor = site.client();
    let cut_at = Instant::now();
    let r = visitor.get("/health/ready").await;
    // The first request after the cut waits for the pool to give up.
    eprintln!("the node noticed the outage after {:?}", cut_at.elapsed());
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(r).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["checks"]["database"], "unreachable", "{body}");
    assert!(body["degraded"]["since"].is_string(), "{body}");
    assert_eq!(visitor.get("/health/live").await.status(), StatusCode::OK);

    // Ann keeps reading: the unit page (her problem shown as new, with a
    // note), the outline and the blocks API.
    let (status, page) = ann.text(&unit()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(TEXT), "{page}");
    assert!(page.contains(BANNER), "{page}");
    assert!(
        !page.contains(r#"value="check""#),
        "no Submit button: {page}"
    );
    let (status, page) = ann.text(&format!("/courses/{COURSE}/")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Reading"), "{page}");
    let r = api_get(&site.base, &ann_api, &blocks_path("ann")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let blocks = json(r).await;
    assert!(
        blocks["blocks"]["block-v1:T+D+R+type@vertical+block@v1"].is_object(),
        "{blocks}"
    );

    // Pages that need the database say so at once.
    let r = ann.get("/dashboard").await;
    assert_retry_later(&r, "dashboard");
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("this page needs the database"));

    // Bob's session was never seen here: a 503 page, not the course.
    let r = bob.get(&unit()).await;
    assert_retry_later(&r, "unseen session");
    assert!(!r.text().await.unwrap().contains(TEXT));

    // Writes wait: a check (API and page form), an enrolment, sign-ins and
    // registration.
    let r = api_post(
        &site.base,
        &ann_api,
        CHECK,
        json!({"answers": {"p1_2_1": "4"}}),
    )
    .await;
    assert_retry_later(&r, "API check");
    assert_eq!(json(r).await["error"], "unavailable");
    let form = [("action", "check".to_string()), ("p1_2_1", "4".to_string())];
    let r = ann
        .post_form(&format!("/courses/{COURSE}/problem/p1"), &form)
        .await;
    assert_retry_later(&r, "page check");
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("cannot reach its database"));
    let r = api_post(
        &site.base,
        &ann_api,
        "/api/enrollment/v1/enrollment",
        json!({"course_details": {"course_id": COURSE}}),
    )
    .await;
    assert_retry_later(&r, "enrolment");
    let sign_in = [
        ("login", "bob".to_string()),
        ("password", PASSWORD.to_string()),
    ];
    let r = visitor.post_form("/login", &sign_in).await;
    assert_retry_later(&r, "sign-in");
    let r = reqwest::Client::new()
        .post(format!("{}/oauth2/access_token", site.base))
        .form(&[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_retry_later(&r, "token");
    let register = [
        ("username", "cy".to_string()),
        ("email", "cy@example.org".to_string()),
        ("name", "Cy".to_string()),
        ("password", PASSWORD.to_string()),
    ];
    let r = visitor.post_form("/register", &register).await;
    assert_retry_later(&r, "registration");

    // The database comes back: the node sees it by itself.
    db.restore();
    let back_at = Instant::now();
    while visitor.get("/health/ready").await.status() != StatusCode::OK {
        assert!(
            back_at.elapsed() < Duration::from_secs(60),
            "not ready 60 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "ready again {:?} after the database came back",
        back_at.elapsed()
    );
    let (status, page) = bob.text(&unit()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let r = api_post(
        &site.base,
        &ann_api,
        CHECK,
        json!({"answers": {"p1_2_1": "4"}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json(r).await["attempts"], 2);
    let (status, page) = ann.text(&unit()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(BANNER), "saved state shown again: {page}");
    let r = visitor.post_form("/login", &sign_in).await;
    assert_eq!(r.status(), StatusCode::OK, "sign-in works again");
}

/// Both backends: the memory is for outages only. A session signed out on
/// another node fails here at once, though this node saw it a moment ago
/// (with the session cache off: with it, within its TTL, which
/// `sessions.rs` tests).
#[tokio::test]
async fn a_session_ended_elsewhere_fails_at_once_while_the_database_works() {
    let no_session_cache = || lectern_app::AppSettings {
        session_cache_ttl: std::time::Duration::ZERO,
        ..lectern_app::AppSettings::default()
    };
    let site = TestSite::spawn_custom(no_session_cache(), |app| app).await;
    import_course(&site).await;
    let ann = reader(&site, "ann").await;
    let ann_api = bearer(&site.base, "ann").await;
    assert_eq!(
        api_get(&site.base, &ann_api, &blocks_path("ann"))
            .await
            .status(),
        StatusCode::OK
    );
    let session = ann.cookie("lectern_session").unwrap();
    let other = site.another_node_with(no_session_cache()).await;
    let r = on(&ann, &other)
        .post_form("/account/logout_everywhere", &[])
        .await;
    assert!(r.status().is_success(), "{}", r.status());

    // The old cookie, sent as a client that kept it would.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{}", site.base, unit()))
        .header("Cookie", format!("lectern_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sent to sign in");
    assert_eq!(r.headers()["location"], "/login");
    let r = api_get(&site.base, &ann_api, &blocks_path("ann")).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the bearer token ended too"
    );
}
