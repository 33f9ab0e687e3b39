//! Issue 13's web attacks, each replayed against the real router: open
//! redirects after sign-in, missing security headers, password guessing,
//! unbounded metrics and chatty readiness, CSRF tokens that survive sign-in,
//! control characters, and the token endpoint's trailing slash.

use std::sync::Arc;
use std::time::Duration;

use lectern_app::{AppSettings, Lectern};
use lectern_web::{AppState, ThrottleConfig, WebConfig};
use reqwest::cookie::Jar;
use reqwest::{Method, StatusCode};

use crate::journey::build_course;
use crate::support::{json, s, Client, TestSite, PASSWORD};

/// A browser-like client that reports redirects instead of following them.
fn no_redirects(site: &TestSite) -> Client {
    let jar = Arc::new(Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Client {
        http,
        jar,
        base: site.base.clone(),
    }
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn sign_in(c: &Client, login: &str, password: &str, next: &str) -> reqwest::Response {
    c.post_form(
        "/login",
        &[
            ("login", s(login)),
            ("password", s(password)),
            ("next", s(next)),
        ],
    )
    .await
}

#[tokio::test]
async fn next_after_sign_in_is_only_ever_a_path_on_this_site() {
    let site = TestSite::spawn().await;
    site.user("amy", false).await;
    let c = no_redirects(&site);
    // (next as the form carries it, where the browser must be sent)
    let cases = [
        ("/courses", "/courses"),
        ("/\t/evil.example", "/dashboard"),
        ("/%09/evil.example", "/dashboard"),
        ("//evil.example", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("/%5Cevil.example", "/dashboard"),
        ("https://evil.example", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
        ("/\r\nSet-Cookie: x=1", "/dashboard"),
        ("/\u{1}", "/dashboard"),
    ];
    for (next, expected) in cases {
        let r = sign_in(&c, "amy", PASSWORD, next).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "next = {next:?}");
        assert_eq!(location(&r), expected, "next = {next:?}");
    }
    // Signed in, `/login?next=` redirects straight away: the same rule holds.
    for (query, expected) in [
        ("next=/courses", "/courses"),
        ("next=/%09/evil.example", "/dashboard"),
        ("next=/%255Cevil.example", "/dashboard"),
        ("next=%2F%2Fevil.example", "/dashboard"),
        ("next=/%01", "/dashboard"),
    ] {
        let r = c.get(&format!("/login?{query}")).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{query}");
        assert_eq!(location(&r), expected, "{query}");
    }
}

fn assert_security_headers(what: &str, r: &reqwest::Response) {
    let h = r.headers();
    let get = |n: &str| {
        h.get(n)
            .unwrap_or_else(|| panic!("{what}: no {n} header"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let csp = get("content-security-policy");
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "frame-src https://www.youtube.com https://www.youtube-nocookie.com https://player.vimeo.com",
    ] {
        assert!(csp.contains(part), "{what}: CSP lacks {part}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(
        get("referrer-policy"),
        "strict-origin-when-cross-origin",
        "{what}"
    );
    assert!(get("permissions-policy").contains("camera=()"), "{what}");
}

/// Pages must work under the CSP: every script is a file from this site.
fn assert_no_inline_script(what: &str, html: &str) {
    let lower = html.to_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag = &lower[i..i + lower[i..].find('>').unwrap()];
        assert!(
            tag.contains(" src=\"/assets/"),
            "{what}: inline script {tag}"
        );
    }
    assert!(!lower.contains(" style="), "{what}: inline style attribute");
    assert!(!lower.contains(" onclick="), "{what}: inline handler");
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    let (key, _html, unit_id) = build_course(&admin, "2026", "<p>Hi</p>").await;
    let studio = format!("/studio/course/{key}");
    assert_eq!(
        admin
            .post_form(&format!("{studio}/publish"), &[])
            .await
            .status(),
        StatusCode::OK
    );
    let pages = [
        "/".to_string(),
        "/courses".into(),
        "/dashboard".into(),
        "/admin/".into(),
        "/studio/".into(),
        studio.clone(),
        format!("{studio}/files"),
        format!("{studio}/grading"),
        format!("/courses/{key}/about"),
        format!("/courses/{key}/"),
        format!("/courses/{key}/unit/{unit_id}"),
        format!("/courses/{key}/progress"),
        "/no/such/page".into(),
    ];
    for path in &pages {
        let r = admin.get(path).await;
        assert_security_headers(path, &r);
        let html = r.text().await.unwrap();
        assert!(html.contains("<html"), "{path} is a page");
        assert_no_inline_script(path, &html);
    }
    // Visitors' pages, JSON, health, metrics, assets and errors too.
    let visitor = site.client();
    for path in [
        "/login",
        "/register",
        "/api/courses/v1/courses/",
        "/api/no-such-endpoint",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/assets/lectern.css",
        "/assets/problem.js",
    ] {
        let r = visitor.get(path).await;
        assert_security_headers(path, &r);
        if path == "/login" || path == "/register" {
            assert_no_inline_script(path, &r.text().await.unwrap());
        }
    }
    let r = visitor.post_form_no_csrf("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_security_headers("a refused write", &r);
}

/// A site whose lockout window is short enough to wait out in a test.
async fn throttled_site(
    account: u32,
    address: u32,
    registrations: u32,
    window_ms: u64,
) -> TestSite {
    throttled_site_with_attempts(account, address, 300, registrations, window_ms).await
}

async fn throttled_site_with_attempts(
    account: u32,
    address: u32,
    attempts: u32,
    registrations: u32,
    window_ms: u64,
) -> TestSite {
    TestSite::spawn_with(WebConfig {
        throttle: ThrottleConfig {
            account_failures: account,
            address_failures: address,
            address_attempts: attempts,
            registrations_per_address: registrations,
            window: Duration::from_millis(window_ms),
        },
        ..WebConfig::default()
    })
    .await
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn thirty_wrong_passwords_lock_the_account_until_the_window_ends() {
    let site = throttled_site(6, 60, 30, 2000).await;
    site.user("amy", false).await;
    let c = no_redirects(&site);
    let mut statuses = Vec::new();
    for i in 0..30 {
        let r = sign_in(&c, "amy", &format!("wrong {i}"), "/").await;
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!((1..=2).contains(&retry_after(&r)), "Retry-After");
            let page = r.text().await.unwrap();
            assert!(page.contains("Too many attempts"), "{page}");
            assert!(
                page.contains("name=\"password\""),
                "the form is shown again"
            );
        }
    }
    assert!(
        statuses[..6].iter().all(|s| *s == StatusCode::BAD_REQUEST),
        "{statuses:?}"
    );
    assert!(
        statuses[6..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The right password is refused too while the account is locked…
    let r = sign_in(&c, "amy", PASSWORD, "/courses").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) >= 1);
    assert!(c.cookie("lectern_session").is_none());
    // …and accepted once the lockout is over.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = sign_in(&c, "amy", PASSWORD, "/courses").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/courses");
}

#[tokio::test]
async fn other_accounts_work_from_the_same_address_until_its_budget_is_spent() {
    let site = throttled_site(3, 8, 30, 60_000).await;
    site.user("amy", false).await;
    site.user("bob", false).await;
    let c = no_redirects(&site);
    for i in 0..4 {
        sign_in(&c, "amy", &format!("wrong {i}"), "/").await;
    }
    assert_eq!(
        sign_in(&c, "amy", PASSWORD, "/").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // amy is locked, bob from the same address is not.
    assert_eq!(
        sign_in(&c, "bob", PASSWORD, "/").await.status(),
        StatusCode::SEE_OTHER
    );
    // Guessing at other accounts spends the address's budget (8 failures)…
    for name in ["cat", "dan", "eve", "fay", "gus"] {
        assert_eq!(
            sign_in(&c, name, "guess", "/").await.status(),
            StatusCode::BAD_REQUEST,
            "{name}"
        );
    }
    // …after which even bob's right password is refused from here.
    let r = sign_in(&c, "bob", PASSWORD, "/").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) > 50);
}

#[tokio::test]
async fn the_token_endpoint_and_registration_are_throttled_too() {
    let site = throttled_site(3, 60, 3, 60_000).await;
    site.user("amy", false).await; // one registration spent
    let http = reqwest::Client::new();
    let token = |password: &'static str| {
        let http = http.clone();
        let url = format!("{}/oauth2/access_token", site.base);
        async move {
            http.post(url)
                .form(&[
                    ("grant_type", "password"),
                    ("username", "amy"),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(token("wrong").await.status(), StatusCode::BAD_REQUEST);
    }
    let r = token(PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) > 50);
    assert_eq!(json(r).await["error"], "rate_limited");

    // Registrations: the API and the page share the address's budget of 3.
    let register = |name: &'static str| {
        let http = http.clone();
        let url = format!("{}/api/user/v1/account/registration/", site.base);
        async move {
            http.post(url)
                .form(&[
                    ("username", name),
                    ("email", &format!("{name}@example.org")),
                    ("name", name),
                    ("password", PASSWORD),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(register("bea").await.status(), StatusCode::OK);
    assert_eq!(register("cal").await.status(), StatusCode::OK);
    let r = register("dot").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) > 50);
    let page = site.client();
    let r = page
        .post_form(
            "/register",
            &[
                ("username", s("eli")),
                ("email", s("eli@example.org")),
                ("name", s("Eli")),
                ("password", s(PASSWORD)),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));

    // Password reset requests (each may send a mail) have a budget of their
    // own per address, shared by the API and the page.
    let reset = || {
        let http = http.clone();
        let url = format!("{}/user_api/v1/account/password_reset/", site.base);
        async move {
            http.post(url)
                .form(&[("email", "amy@example.org")])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(reset().await.status(), StatusCode::OK);
    }
    let r = reset().await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) > 50);
    let r = page
        .post_form("/password_reset", &[("email", s("amy@example.org"))])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

fn request_series(metrics: &str) -> Vec<&str> {
    metrics
        .lines()
        .filter(|l| l.starts_with("lectern_http_requests_total{"))
        .collect()
}

#[tokio::test]
async fn made_up_methods_and_paths_add_no_metric_series() {
    let site = TestSite::spawn().await;
    let c = site.client();
    let send = |method: String, path: String| {
        let c = &c;
        async move {
            c.http
                .request(Method::from_bytes(method.as_bytes()).unwrap(), c.url(&path))
                .send()
                .await
                .unwrap()
        }
    };
    send("BREW0".into(), "/made-up-0".into()).await;
    send("BREW0".into(), "/courses".into()).await;
    c.text("/metrics").await;
    let (_, before) = c.text("/metrics").await;
    for i in 1..=100 {
        send(format!("BREW{i}"), format!("/made-up-{i}")).await;
        send(format!("BREW{i}"), "/courses".into()).await;
    }
    let (_, after) = c.text("/metrics").await;
    let (before, after) = (request_series(&before), request_series(&after));
    assert_eq!(before.len(), after.len(), "new series: {after:#?}");
    assert!(!after
        .iter()
        .any(|l| l.contains("BREW") || l.contains("made-up")));
    assert!(after.iter().any(|l| l.contains("method=\"other\"")));
}

#[tokio::test]
async fn readiness_names_the_failing_check_without_its_error_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::backend::store_in(dir.path()).await;
    let app = Lectern::new(store.clone(), AppSettings::default());
    let state = AppState::new(app, WebConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = lectern_web::app(state);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let r = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(json(r).await["checks"]["database"], "ok");

    // The database goes away (closed pools fail every query with driver text).
    store.close().await;
    let r = reqwest::get(format!("{base}/health/ready")).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(r).await;
    assert_eq!(
        body["checks"],
        serde_json::json!({"database": "unreachable", "shutdown": "ok"})
    );
    assert_eq!(body["status"], "degraded");
    let text = body.to_string();
    assert!(!text.contains("pool") && !text.contains("closed"), "{text}");
}

#[tokio::test]
async fn signing_in_and_out_replaces_the_csrf_token() {
    let site = TestSite::spawn().await;
    site.user("amy", false).await;
    let c = site.client();
    c.post_form("/logout", &[]).await;
    let before = c.csrf().await;
    let r = sign_in(&c, "amy", PASSWORD, "/dashboard").await;
    assert_eq!(r.status(), StatusCode::OK);
    let after = c.cookie("lectern_csrf").unwrap();
    assert_ne!(before, after, "the token survived sign-in");
    // A form carrying the token from before sign-in is refused…
    let r = c
        .post_form_no_csrf("/logout", &[("csrf_token", before.clone())])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, dash) = c.text("/dashboard").await;
    assert!(dash.contains("Sign out"), "still signed in");
    // …the current one works, and signing out replaces it again.
    let r = c
        .post_form_no_csrf("/logout", &[("csrf_token", after.clone())])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_ne!(c.cookie("lectern_csrf").unwrap(), after);
}

#[tokio::test]
async fn control_characters_in_paths_and_next_get_a_proper_answer() {
    let site = TestSite::spawn().await;
    let c = no_redirects(&site);
    for path in [
        "/courses/%01",
        "/courses/%0d%0aX:1/",
        "/%00",
        "/courses/course-v1:a+b+c/unit/%7F",
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        assert!(r.text().await.unwrap().contains("400"), "{path}");
    }
    let r = c.get("/api/courses/v1/courses/%01/").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(r).await["error"], "bad_path");
    // In `next`, a control character is simply not followed.
    site.user("amy", false).await;
    let r = sign_in(&c, "amy", PASSWORD, "/\u{7}").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/dashboard");
}

#[tokio::test]
async fn the_token_endpoint_needs_no_csrf_token_with_or_without_the_slash() {
    let site = TestSite::spawn().await;
    site.user("amy", false).await;
    for path in ["/oauth2/access_token", "/oauth2/access_token/"] {
        // A form post from a client with no cookies and no CSRF token.
        let r = reqwest::Client::new()
            .post(format!("{}{path}", site.base))
            .form(&[
                ("grant_type", "password"),
                ("username", "amy"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(json(r).await["access_token"].is_string(), "{path}");
    }
}

#[tokio::test]
async fn right_passwords_cannot_occupy_the_hashers_forever_either() {
    // A flood of correct sign-ins from one address (an attacker's own
    // account) still costs a hash each: the address's attempt budget caps it.
    let site = throttled_site_with_attempts(6, 60, 5, 30, 60_000).await;
    site.user("amy", false).await;
    let c = no_redirects(&site);
    for _ in 0..5 {
        assert_eq!(
            sign_in(&c, "amy", PASSWORD, "/").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let r = sign_in(&c, "amy", PASSWORD, "/").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&r) > 50);
}

#[tokio::test]
async fn https_sites_ask_for_https_only() {
    let plain = TestSite::spawn().await;
    let r = plain.client().get("/").await;
    assert!(!r.headers().contains_key("strict-transport-security"));
    let https = TestSite::spawn_with(WebConfig {
        secure_cookies: true,
        ..WebConfig::default()
    })
    .await;
    let r = https.client().get("/").await;
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
}
