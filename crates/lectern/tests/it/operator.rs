//! The operator role and console (`docs/operators.md`) through the binary:
//! `lectern operator grant|revoke`, `/operator` and
//! `/api/operator/v1/instances` on a `lectern serve` with instances. An
//! operator sees every instance with its hosts, state, whether it is open,
//! its health, size, last backup and certificate column; a site admin who
//! is not an operator, a visitor, and an instance's own admin on its host
//! do not.

use std::process::Output;

use reqwest::StatusCode;

use crate::backend::lectern_in;
use crate::backup::admin;
use crate::binary::{create_admin, free_port, serve, sigterm, wait_exit};
use crate::support::{bearer, Client, PASSWORD};

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    lectern_in(dir).args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bearer token for `username` signing in on `host`.
async fn bearer_on(base: &str, host: &str, username: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/oauth2/access_token"))
        .header("Host", host)
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "token for {username} on {host}");
    let body: serde_json::Value = r.json().await.unwrap();
    format!("Bearer {}", body["access_token"].as_str().unwrap())
}

async fn get(
    base: &str,
    path: &str,
    host: Option<&str>,
    auth: Option<&str>,
) -> (StatusCode, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.get(format!("{base}{path}"));
    if let Some(h) = host {
        req = req.header("Host", h);
    }
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_see_every_instance_and_no_one_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    admin(d); // "root": the default site's administrator, not an operator
    create_admin(lectern_in(d), "op");
    assert!(ok(&run(d, &["operator", "grant", "op"])).contains("op is now an operator"));
    assert!(ok(&run(d, &["operator", "list"]))
        .lines()
        .any(|l| l == "op"));
    // Operators are the deployment's: not an instance's.
    let refused = run(d, &["--instance", "acme", "operator", "grant", "op"]);
    assert!(!refused.status.success());
    let unknown = run(d, &["operator", "grant", "nobody"]);
    assert!(!unknown.status.success());

    ok(&run(
        d,
        &[
            "instance",
            "create",
            "acme",
            "--host",
            "acme.test",
            "--host",
            "www.acme.test",
        ],
    ));
    ok(&run(
        d,
        &["instance", "create", "beta", "--host", "beta.test"],
    ));
    ok(&run(d, &["instance", "disable", "beta"]));
    let mut on_acme = lectern_in(d);
    on_acme.args(["--instance", "acme"]);
    create_admin(on_acme, "boss");
    ok(&run(d, &["--instance", "acme", "backup", "create"]));

    let port = free_port();
    let (mut node, _) = serve(d, port);
    let base = format!("http://127.0.0.1:{port}");
    // One request opens acme on this node.
    let (status, _) = get(&base, "/courses", Some("acme.test"), None).await;
    assert_eq!(status, StatusCode::OK);

    // The operator's JSON: every instance, in name order.
    let op = bearer(&base, "op").await;
    let (status, body) = get(&base, "/api/operator/v1/instances", None, Some(&op)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["count"], 2, "{json}");
    let acme = &json["instances"][0];
    assert_eq!(acme["name"], "acme");
    assert_eq!(
        acme["hosts"],
        serde_json::json!(["acme.test", "www.acme.test"])
    );
    assert_eq!(acme["enabled"], true);
    assert_eq!(acme["open"], true);
    assert_eq!(acme["healthy"], true, "{acme}");
    assert!(acme["health_problem"].is_null());
    assert!(acme["size_bytes"].as_u64().unwrap() > 0, "{acme}");
    let backup = acme["last_backup"].as_str().expect("a last backup");
    let at = chrono::DateTime::parse_from_rfc3339(backup).unwrap();
    assert!(
        (chrono::Utc::now() - at.to_utc()).num_minutes() < 10,
        "{backup}"
    );
    assert!(acme["certificate_expiry"].is_null());
    assert_eq!(acme["certificate_note"], "no TLS");
    let beta = &json["instances"][1];
    assert_eq!(beta["name"], "beta");
    assert_eq!(beta["enabled"], false);
    assert_eq!(beta["open"], false);
    assert!(beta["last_backup"].is_null());
    assert_eq!(beta["backup_note"], "none yet");

    // The page, signed in with a session.
    let browser = Client::for_base(&base);
    let r = browser
        .post_form(
            "/login",
            &[("login", "op".into()), ("password", PASSWORD.into())],
        )
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let (status, page) = browser.text("/operator").await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "acme.test, www.acme.test",
        "beta.test",
        "enabled",
        "disabled",
        "open",
        "closed",
        "database answers",
        "none yet",
        "no TLS",
        &backup[..10],
    ] {
        assert!(page.contains(text), "{text:?} not on the page:\n{page}");
    }

    // A site admin who is not an operator: refused like a non-admin at /admin/.
    let root = bearer(&base, "root").await;
    let (status, body) = get(&base, "/operator", None, Some(&root)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("acme"), "{body}");
    let (status, body) = get(&base, "/api/operator/v1/instances", None, Some(&root)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains("acme.test"), "{body}");
    // A visitor: sent to sign in; the JSON says who is missing.
    let (status, _) = get(&base, "/operator", None, None).await;
    assert!(status.is_redirection(), "{status}");
    let (status, body) = get(&base, "/api/operator/v1/instances", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // On an instance's host there is no console at all, even for its admin.
    let boss = bearer_on(&base, "acme.test", "boss").await;
    for path in ["/operator", "/api/operator/v1/instances"] {
        for auth in [Some(boss.as_str()), None] {
            let (status, body) = get(&base, path, Some("acme.test"), auth).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(!body.contains("beta"), "{body}");
        }
    }

    // Revoked: refused at once.
    assert!(ok(&run(d, &["operator", "revoke", "op"])).contains("op is no longer an operator"));
    let (status, _) = get(&base, "/api/operator/v1/instances", None, Some(&op)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(ok(&run(d, &["operator", "revoke", "op"])).contains("was not an operator"));

    sigterm(&node);
    wait_exit(&mut node);
}
