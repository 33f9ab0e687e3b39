//! The session cache (`lectern_app::sessions`) seen from outside: two nodes
//! over one database, each trusting a confirmed session for a short TTL. A
//! revocation through a node applies there at once and on the other node
//! within the TTL (docs/cluster.md, "Sessions: how soon a sign-out reaches
//! every node"). No assertion here is about speed: the other node is
//! polled until it refuses, with a generous bound.

use std::time::{Duration, Instant};

use lectern_app::AppSettings;
use reqwest::StatusCode;

use crate::support::{s, TestSite};

const TTL: Duration = Duration::from_secs(1);

fn settings() -> AppSettings {
    AppSettings {
        session_cache_ttl: TTL,
        ..AppSettings::default()
    }
}

/// What `my_user_info` answers to a request carrying only `cookie`.
async fn who(site: &TestSite, cookie: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{}/api/mobile/v0.5/my_user_info", site.base))
        .header("cookie", format!("lectern_session={cookie}"))
        .send()
        .await
        .expect("GET")
        .status()
}

/// Polls `site` until it refuses `cookie`, for at most the TTL plus a
/// generous margin for a loaded machine; whether it ever refused.
async fn refused_within_ttl(site: &TestSite, cookie: &str) -> bool {
    let give_up = Instant::now() + TTL + Duration::from_secs(20);
    while Instant::now() < give_up {
        if who(site, cookie).await == StatusCode::UNAUTHORIZED {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_sign_out_on_one_node_ends_the_session_on_the_other_within_the_ttl() {
    let a = TestSite::spawn_custom(settings(), |app| app).await;
    let b = a.another_node_with(settings()).await;
    let ada = a.user("ada", false).await;
    let cookie = ada.cookie("lectern_session").expect("session cookie");
    // Both nodes confirm (and so cache) the session.
    assert_eq!(who(&a, &cookie).await, StatusCode::OK);
    assert_eq!(who(&b, &cookie).await, StatusCode::OK);

    let out = ada.post_form("/logout", &[]).await;
    assert!(out.status().is_success() || out.status().is_redirection());
    // The node that signed out forgot it before answering.
    assert_eq!(who(&a, &cookie).await, StatusCode::UNAUTHORIZED);
    // The other node stops trusting it once its cached answer is older
    // than the TTL.
    assert!(
        refused_within_ttl(&b, &cookie).await,
        "node b still accepts it"
    );
}

#[tokio::test]
async fn an_account_deactivated_on_one_node_is_refused_there_at_once_and_on_the_other_within_the_ttl(
) {
    let a = TestSite::spawn_custom(settings(), |app| app).await;
    let b = a.another_node_with(settings()).await;
    let root = a.user("root", true).await;
    let ada = a.user("ada", false).await;
    let cookie = ada.cookie("lectern_session").expect("session cookie");
    assert_eq!(who(&a, &cookie).await, StatusCode::OK);
    assert_eq!(who(&b, &cookie).await, StatusCode::OK);

    let r = root
        .post_form("/admin/users/ada", &[("change", s("deactivate"))])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(who(&a, &cookie).await, StatusCode::UNAUTHORIZED);
    assert!(
        refused_within_ttl(&b, &cookie).await,
        "node b still accepts it"
    );
}

#[tokio::test]
async fn a_team_role_granted_on_a_node_shows_studio_in_its_header_at_once() {
    let a = TestSite::spawn_custom(settings(), |app| app).await;
    let root = a.user("root", true).await;
    let ada = a.user("ada", false).await;
    let (key, _, _) = crate::journey::build_course(&root, "CACHE", "<p>Hi</p>").await;
    let (_, page) = ada.text("/dashboard").await;
    assert!(!page.contains("href=\"/studio/\""), "no Studio link yet");

    let r = root
        .post_form(
            "/admin/course-roles",
            &[
                ("username", s("ada")),
                ("course_key", key.clone()),
                ("role", s("staff")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, page) = ada.text("/dashboard").await;
    assert!(
        page.contains("href=\"/studio/\""),
        "the grant applies at once"
    );
}
