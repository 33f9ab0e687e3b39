//! The conformance checks for the keyed writes besides checks (publish and
//! enrolment here; draft save and import share the same claim-first code),
//! run through two store handles on one database (two nodes): of copies of
//! one keyed publish racing, exactly one makes a version and the others are
//! refused on the key, writing nothing; the stored answer is made from the
//! winner's result; a keyed unenrolment of nothing stores nothing; the
//! cleanup deletes answers older than its cut-off and keeps the others.

use chrono::{Duration, Utc};
use futures_util::future::join_all;
use lectern_app::idempotency::{KeyClaim, Keyed};
use lectern_app::model::Enrollment;
use lectern_app::store::Store;
use lectern_app::StoreError;
use serde_json::{json, Value};

use crate::contract::{dates, new_user, sample_tree};

/// Copies of one keyed publish racing.
const COPIES: usize = 8;

fn claim(user: i64, key: &str, age: Duration) -> KeyClaim {
    KeyClaim {
        user_id: user,
        key: key.to_string(),
        fingerprint: format!("print-{key}"),
        created_at: Utc::now() - age,
    }
}

fn version_answer(version: &i64) -> Result<Value, String> {
    Ok(json!({ "version": version }))
}

fn enrollment_answer(e: &Enrollment) -> Result<Value, String> {
    Ok(json!({ "active": e.is_active }))
}

/// Runs on a fresh database reached through two handles `a` and `b`.
pub async fn run(a: &dyn Store, b: &dyn Store) {
    let user = a.create_user(&new_user("keyedwriter")).await.expect("user");
    let tree = sample_tree("KEYED");
    let course = a
        .create_course(&tree, dates(), None, Utc::now())
        .await
        .expect("course");
    let revision = course.draft_revision;

    let race = claim(user.id, "publish-race", Duration::zero());
    let results = join_all((0..COPIES).map(|n| {
        let store = if n % 2 == 0 { a } else { b };
        let keyed = Keyed {
            claim: &race,
            answer: &version_answer,
        };
        store.publish_keyed(&course.key, revision, Utc::now(), keyed)
    }))
    .await;
    let mut versions = Vec::new();
    for r in results {
        match r {
            Ok(v) => versions.push(v),
            Err(StoreError::Conflict { field }) => assert_eq!(field, "idempotency_key"),
            Err(other) => panic!("a copy failed otherwise: {other:?}"),
        }
    }
    assert_eq!(versions, [1], "exactly one copy publishes");
    let record = b.course(&course.key).await.expect("read").expect("course");
    assert_eq!(record.published_version, Some(1));
    let stored = b
        .idempotent_response(user.id, "publish-race")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!((stored.status, stored.body), (200, json!({"version": 1})));

    // Unenrolling from nothing writes nothing, the key included.
    let none = claim(user.id, "unenrol-nothing", Duration::zero());
    let keyed = Keyed {
        claim: &none,
        answer: &enrollment_answer,
    };
    let out = a
        .enroll_keyed(user.id, &course.key, "audit", false, Utc::now(), keyed)
        .await
        .expect("unenrol");
    assert!(out.is_none());
    assert!(a
        .idempotent_response(user.id, "unenrol-nothing")
        .await
        .expect("read")
        .is_none());

    // Cleanup: answers older than the cut-off go, newer ones stay.
    let old = claim(user.id, "old", Duration::hours(30));
    let keyed = Keyed {
        claim: &old,
        answer: &enrollment_answer,
    };
    a.enroll_keyed(user.id, &course.key, "audit", true, Utc::now(), keyed)
        .await
        .expect("enrol");
    let deleted = b
        .delete_idempotent_responses(Utc::now() - Duration::hours(24))
        .await
        .expect("cleanup");
    assert_eq!(deleted, 1);
    assert!(a
        .idempotent_response(user.id, "old")
        .await
        .expect("read")
        .is_none());
    assert!(a
        .idempotent_response(user.id, "publish-race")
        .await
        .expect("read")
        .is_some());
    let enrolled = a.enrollment(user.id, &course.key).await.expect("read");
    assert!(
        enrolled.is_some_and(|e| e.is_active),
        "the write itself stays"
    );
}
