//! Password change, password reset by e-mail (through a real SMTP server),
//! token revocation and signing out everywhere, as a browser and an API
//! client see them.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use lectern_app::AppSettings;
use lectern_mail::{SmtpMailer, SmtpSettings, TlsMode};
use reqwest::StatusCode;
use serde_json::json;

use crate::smtp_sink::{reset_path, SmtpSink};
use crate::support::{bearer, json, s, Client, TestSite, PASSWORD};

const NEW_PASSWORD: &str = "a much better secret";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn signed_in(c: &Client) -> bool {
    let r = no_redirects()
        .get(c.url("/account/settings"))
        .header(
            "Cookie",
            format!(
                "lectern_session={}",
                c.cookie("lectern_session").unwrap_or_default()
            ),
        )
        .send()
        .await
        .unwrap();
    r.status() == StatusCode::OK
}

async fn me(site: &TestSite, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/mobile/v0.5/my_user_info", site.base))
        .header("Authorization", token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn sign_in(site: &TestSite, login: &str, password: &str) -> (StatusCode, Client) {
    let c = site.client();
    let r = c
        .post_form("/login", &[("login", s(login)), ("password", s(password))])
        .await;
    let status = r.status();
    (status, c)
}

async fn change(c: &Client, current: &str, new: &str, confirm: &str) -> reqwest::Response {
    c.post_form(
        "/account/password",
        &[
            ("current_password", s(current)),
            ("new_password", s(new)),
            ("new_password_confirm", s(confirm)),
        ],
    )
    .await
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session_and_token() {
    let site = TestSite::spawn().await;
    let first = site.user("ada", false).await;
    let (_, second) = sign_in(&site, "ada", PASSWORD).await;
    let token = bearer(&site.base, "ada").await;
    assert!(signed_in(&second).await);
    let (status, page) = first.text("/account/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"current_password\""), "{page}");

    // Refusals change nothing.
    let r = change(&first, "wrong password", NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("current password is incorrect"));
    let r = change(&first, PASSWORD, NEW_PASSWORD, "something else").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("match"));
    let r = change(&first, PASSWORD, "short", "short").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = first
        .post_form_no_csrf(
            "/account/password",
            &[
                ("current_password", s(PASSWORD)),
                ("new_password", s(NEW_PASSWORD)),
                ("new_password_confirm", s(NEW_PASSWORD)),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "CSRF-protected");
    assert!(signed_in(&second).await);
    assert_eq!(me(&site, &token).await, StatusCode::OK);

    let r = change(&first, PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Your password was changed"));
    assert!(
        signed_in(&first).await,
        "the browser that changed it stays in"
    );
    assert!(!signed_in(&second).await, "the other session ended");
    assert_eq!(me(&site, &token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in(&site, "ada", PASSWORD).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, fresh) = sign_in(&site, "ada", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert!(signed_in(&fresh).await);
}

#[tokio::test]
async fn revoked_tokens_and_signing_out_everywhere_end_access() {
    let site = TestSite::spawn().await;
    let browser = site.user("bo", false).await;
    let t1 = bearer(&site.base, "bo").await;
    let t2 = bearer(&site.base, "bo").await;
    let http = reqwest::Client::new();
    let revoke = |token: String| {
        let http = http.clone();
        let url = format!("{}/oauth2/revoke_token/", site.base);
        async move {
            http.post(url)
                .form(&[("token", token), ("client_id", s("mobile"))])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let secret1 = t1.trim_start_matches("Bearer ").to_string();
    assert_eq!(revoke(secret1).await, StatusCode::OK);
    assert_eq!(me(&site, &t1).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&site, &t2).await, StatusCode::OK, "only that token");
    assert_eq!(revoke(s("not-a-token")).await, StatusCode::OK, "RFC 7009");
    // A session secret is not a bearer token: revoking it does nothing.
    let session = browser.cookie("lectern_session").unwrap();
    assert_eq!(revoke(session).await, StatusCode::OK);
    assert!(signed_in(&browser).await);

    let r = browser.post_form("/account/logout_everywhere", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(me(&site, &t2).await, StatusCode::UNAUTHORIZED);
    assert!(!signed_in(&browser).await);
}

#[tokio::test]
async fn a_password_is_reset_through_a_mailed_link_once() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let offset_hours = Arc::new(AtomicI64::new(0));
    let clock_offset = offset_hours.clone();
    let mailer = SmtpMailer::new(&SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port,
        tls: TlsMode::None,
        from: "Lectern <no-reply@example.org>".into(),
        timeout_secs: 5,
        ..SmtpSettings::default()
    })
    .unwrap();
    let site = TestSite::spawn_custom(AppSettings::default(), move |app| {
        app.with_mailer(Arc::new(mailer)).with_clock(move || {
            chrono::Utc::now() + chrono::Duration::hours(clock_offset.load(Ordering::SeqCst))
        })
    })
    .await;
    let old_browser = site.user("cy", false).await;
    let token = bearer(&site.base, "cy").await;

    let visitor = site.client();
    let (_, login_page) = visitor.text("/login").await;
    assert!(
        login_page.contains("href=\"/password_reset\""),
        "Forgot password? link"
    );
    let ask = |email: &'static str| {
        let visitor = &visitor;
        async move {
            let r = visitor
                .post_form("/password_reset", &[("email", s(email))])
                .await;
            (r.status(), r.text().await.unwrap())
        }
    };
    // An unknown address gets the same answer, and no mail.
    let (unknown_status, unknown_page) = ask("nobody@example.org").await;
    let (known_status, known_page) = ask("cy@example.org").await;
    assert_eq!(unknown_status, StatusCode::OK);
    assert_eq!(known_status, StatusCode::OK);
    assert!(known_page.contains("If an account exists"));
    assert_eq!(unknown_page, known_page, "no way to tell accounts apart");
    let mails = sink.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 1, "only the real account got mail");
    assert!(mails[0].contains("To: cy@example.org"), "{}", mails[0]);
    assert!(!mails[0].contains("nobody@example.org"));

    let link = reset_path(&mails[0]);
    let (status, form) = visitor.text(&link).await;
    assert_eq!(status, StatusCode::OK, "{form}");
    assert!(form.contains("cy"));
    // A refused password keeps the link usable.
    let r = visitor
        .post_form(
            &link,
            &[
                ("new_password", s(NEW_PASSWORD)),
                ("new_password_confirm", s("other")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let set = |link: String| {
        let visitor = &visitor;
        async move {
            visitor
                .post_form(
                    &link,
                    &[
                        ("new_password", s(NEW_PASSWORD)),
                        ("new_password_confirm", s(NEW_PASSWORD)),
                    ],
                )
                .await
        }
    };
    let r = set(link.clone()).await;
    assert_eq!(r.status(), StatusCode::OK, "redirected to sign in");
    assert!(r.url().path().starts_with("/login"));
    assert!(!signed_in(&old_browser).await, "old sessions ended");
    assert_eq!(
        me(&site, &token).await,
        StatusCode::UNAUTHORIZED,
        "tokens ended"
    );
    assert_eq!(
        sign_in(&site, "cy", PASSWORD).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(sign_in(&site, "cy", NEW_PASSWORD).await.0, StatusCode::OK);
    // Used once: gone.
    assert_eq!(visitor.get(&link).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(set(link).await.status(), StatusCode::FORBIDDEN);

    // Open edX's API path asks the same way; an expired link is refused.
    let api = |email: &'static str| {
        let url = format!("{}/user_api/v1/account/password_reset/", site.base);
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .form(&[("email", email)])
                .send()
                .await
                .unwrap();
            (r.status(), json(r).await)
        }
    };
    let (status, body) = api("cy@example.org").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api("ghost@example.org").await, (status, body));
    let mails = sink.wait_for(2).await;
    let second = reset_path(&mails[1]);
    offset_hours.store(3, Ordering::SeqCst);
    assert_eq!(
        visitor.get(&second).await.status(),
        StatusCode::FORBIDDEN,
        "expired"
    );
    assert_eq!(set(second).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(sign_in(&site, "cy", NEW_PASSWORD).await.0, StatusCode::OK);
    let bad = reqwest::Client::new()
        .post(format!("{}/user_api/v1/account/password_reset/", site.base))
        .json(&json!({"email": "not an address"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_dead_mail_relay_changes_nothing_the_asker_sees() {
    // Nothing listens on port 9: every send fails (and is logged).
    let mailer = SmtpMailer::new(&SmtpSettings {
        host: "127.0.0.1".into(),
        port: 9,
        tls: TlsMode::None,
        timeout_secs: 2,
        ..SmtpSettings::default()
    })
    .unwrap();
    let site = TestSite::spawn_custom(AppSettings::default(), move |app| {
        app.with_mailer(Arc::new(mailer))
    })
    .await;
    site.user("di", false).await;
    let visitor = site.client();
    let known = visitor
        .post_form("/password_reset", &[("email", s("di@example.org"))])
        .await;
    assert_eq!(known.status(), StatusCode::OK);
    let known = known.text().await.unwrap();
    let unknown = visitor
        .post_form("/password_reset", &[("email", s("nobody@example.org"))])
        .await
        .text()
        .await
        .unwrap();
    assert!(known.contains("If an account exists"));
    assert_eq!(known, unknown);
    // The account still works as before.
    assert_eq!(sign_in(&site, "di", PASSWORD).await.0, StatusCode::OK);
}
