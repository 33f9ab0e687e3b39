//! Accounts: registration errors, sign-in, deactivation, the setup link.

use reqwest::StatusCode;

use crate::support::{json, s, TestSite, PASSWORD};

#[tokio::test]
async fn registration_reports_every_bad_field() {
    let site = TestSite::spawn().await;
    let c = site.client();
    let r = c
        .http
        .post(c.url("/api/user/v1/account/registration/"))
        .json(&serde_json::json!({"username": "a b", "email": "not-an-email", "name": "", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = json(r).await;
    assert_eq!(body["error"], "invalid");
    for field in ["username", "email", "name", "password"] {
        assert!(body["field_errors"][field].is_string(), "{field} in {body}");
    }
    site.user("taken", false).await;
    let r = c
        .http
        .post(c.url("/api/user/v1/account/registration/"))
        .json(&serde_json::json!({"username": "TAKEN", "email": "new@example.org", "name": "N", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        json(r).await["field_errors"]["username"].is_string(),
        "usernames are unique regardless of case"
    );
}

#[tokio::test]
async fn wrong_passwords_and_deactivated_accounts_cannot_sign_in() {
    let site = TestSite::spawn().await;
    let admin = site.user("root", true).await;
    site.user("victim", false).await;
    let c = site.client();
    let r = c
        .post_form(
            "/login",
            &[("login", s("victim")), ("password", s("wrong password"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("incorrect"));
    let r = c
        .post_form(
            "/login",
            &[("login", s("nobody")), ("password", s("wrong password"))],
        )
        .await;
    assert!(
        r.text().await.unwrap().contains("incorrect"),
        "the same message for unknown users"
    );

    let bearer = crate::support::bearer(&site.base, "victim").await;
    admin
        .post_form("/admin/users/victim", &[("change", s("deactivate"))])
        .await;
    let r = c
        .post_form(
            "/login",
            &[("login", s("victim")), ("password", s(PASSWORD))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("deactivated"));
    let r = reqwest::Client::new()
        .get(c.url("/api/enrollment/v1/enrollment"))
        .header("Authorization", bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "deactivation revokes tokens"
    );
    // The last admin cannot lock the site.
    let r = admin
        .post_form("/admin/users/root", &[("change", s("deactivate"))])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_setup_link_works_once() {
    let site = TestSite::spawn().await;
    let secret = site.app.setup_secret().await.unwrap().unwrap();
    let c = site.client();
    assert_eq!(
        c.get(&format!("/setup/{secret}")).await.status(),
        StatusCode::OK
    );
    let form = [
        ("username", s("first")),
        ("email", s("first@example.org")),
        ("name", s("First")),
        ("password", s(PASSWORD)),
    ];
    let r = c.post_form(&format!("/setup/{secret}"), &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().path().starts_with("/admin"));
    let other = site.client();
    assert_eq!(
        other.get(&format!("/setup/{secret}")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        site.app.setup_secret().await.unwrap().is_none(),
        "no new link once an admin exists"
    );
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let site = TestSite::spawn().await;
    let c = site.client();
    assert_eq!(c.get("/health/live").await.status(), StatusCode::OK);
    let ready = c.get("/health/ready").await;
    assert_eq!(ready.status(), StatusCode::OK);
    c.get("/courses").await;
    let (_, metrics) = c.text("/metrics").await;
    assert!(
        metrics.contains(
            "lectern_http_requests_total{method=\"GET\",route=\"/courses\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("lectern_http_request_duration_seconds_bucket"));
    assert!(metrics.trim_end().ends_with("# EOF"));
    site.state.begin_shutdown();
    let r = c.get("/health/ready").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(r).await["checks"]["shutdown"], "failing");
}
