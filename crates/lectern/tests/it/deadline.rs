//! The request deadline: a request stuck on the database (here: a lock
//! held from outside, as a dead link to a partitioned primary would hold
//! it) ends with 503 and `Retry-After`, never a hang or a 408.

use std::time::Duration;

use lectern_web::WebConfig;
use reqwest::StatusCode;
use sqlx::Connection;

use crate::support::{json, TestSite, PASSWORD};

/// Holds the database's write lock (SQLite) or a lock on `users`
/// (PostgreSQL) until dropped.
enum Lock {
    Sqlite(#[allow(dead_code)] sqlx::SqliteConnection),
    Postgres(#[allow(dead_code)] sqlx::PgConnection),
}

async fn hold_users(site: &TestSite) -> Lock {
    match crate::backend::database_url_for(site.data_dir()) {
        Some(url) => {
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            Lock::Postgres(conn)
        }
        None => {
            let path = site.data_dir().join("lectern.db");
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .unwrap();
            Lock::Sqlite(conn)
        }
    }
}

#[tokio::test]
async fn a_request_stuck_on_the_database_ends_503_with_retry_after() {
    let site = TestSite::spawn_with(WebConfig {
        request_timeout_secs: 2,
        ..WebConfig::default()
    })
    .await;
    let c = site.client();
    let lock = hold_users(&site).await;
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        c.http
            .post(c.url("/api/user/v1/account/registration/"))
            .json(&serde_json::json!({"username": "stuck", "email": "stuck@example.org", "name": "S", "password": PASSWORD}))
            .send(),
    )
    .await
    .expect("the deadline must answer")
    .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(json(r).await["error"], "unavailable");
    // A page gets a page, with the same status and header.
    let r = c
        .post_form(
            "/register",
            &[
                ("username", "stuck2".to_string()),
                ("email", "stuck2@example.org".to_string()),
                ("name", "S".to_string()),
                ("password", PASSWORD.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get("retry-after").is_some());
    assert!(r.text().await.unwrap().contains("temporarily unavailable"));
    drop(lock);
}
