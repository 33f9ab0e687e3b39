//! The conformance checks for keyed writes (`IdempotencyStore`), run on both
//! backends through two store handles on one database (two nodes): of many
//! copies of one keyed check racing from one read state, exactly one is
//! stored and every other is refused on the key itself (never as a stale
//! revision, never written); the stored answer is the winner's; a key is
//! per user; a write that fails leaves its key unused.

use chrono::Utc;
use futures_util::future::join_all;
use lectern_app::idempotency::StoredResponse;
use lectern_app::model::{NewUser, ProblemState, Submission, UserId};
use lectern_app::store::Store;
use lectern_app::StoreError;
use lectern_content::{CourseKey, UsageKey};
use serde_json::json;

/// Copies of one request racing per round.
const COPIES: usize = 8;

fn person(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.org"),
        name: name.into(),
        password_hash: "h".into(),
        is_admin: false,
        is_course_creator: false,
    }
}

/// One copy of a keyed check: the next state, its submission and the answer
/// stored under `key`; `copy` marks the answer so the winner can be told.
fn keyed_check(
    user: UserId,
    usage: &UsageKey,
    read: &ProblemState,
    key: &str,
    copy: usize,
) -> (ProblemState, Submission, StoredResponse) {
    let mut next = read.clone();
    next.attempts += 1;
    next.ever_attempted = true;
    let now = Utc::now();
    let sub = Submission {
        user_id: user,
        usage_key: usage.clone(),
        attempt: next.attempts,
        answers: json!({"i": "same"}),
        correct_map: json!({}),
        earned: 1.0,
        possible: 1.0,
        created_at: now,
        idempotency_key: Some(key.to_string()),
    };
    let response = StoredResponse {
        user_id: user,
        key: key.to_string(),
        fingerprint: "print".into(),
        status: 200,
        body: json!({"attempts": next.attempts, "copy": copy}),
        created_at: now,
    };
    (next, sub, response)
}

/// Runs on a fresh database reached through two handles `a` and `b`.
pub async fn run(a: &dyn Store, b: &dyn Store) {
    let user = a.create_user(&person("keyed")).await.expect("user");
    let other = a.create_user(&person("keyed2")).await.expect("user");
    let course = CourseKey::new("Org", "IDEM", "R1").expect("key");
    let usage = course.usage_key("problem", "p");
    assert!(a
        .idempotent_response(user.id, "never-used")
        .await
        .expect("read")
        .is_none());

    let mut read = ProblemState::fresh(user.id, &usage);
    for round in 0..4 {
        let key = format!("key-{round}");
        let copies: Vec<_> = (0..COPIES)
            .map(|copy| keyed_check(user.id, &usage, &read, &key, copy))
            .collect();
        let results = join_all(copies.iter().enumerate().map(|(n, (s, sub, resp))| {
            let store = if n % 2 == 0 { a } else { b };
            store.save_keyed_check(s, sub, None, resp)
        }))
        .await;
        let mut winner = None;
        for (n, r) in results.into_iter().enumerate() {
            match r {
                Ok(()) => {
                    assert!(winner.is_none(), "round {round}: two copies stored");
                    winner = Some(n);
                }
                Err(StoreError::Conflict { field }) => assert_eq!(field, "idempotency_key"),
                Err(other) => panic!("round {round}: a copy failed otherwise: {other:?}"),
            }
        }
        let winner = winner.expect("one copy is stored");
        let stored = b
            .idempotent_response(user.id, &key)
            .await
            .expect("read")
            .expect("the winner's answer is stored");
        assert_eq!(stored.body["copy"], winner, "the answer is the winner's");
        assert_eq!((stored.status, stored.fingerprint.as_str()), (200, "print"));
        read = a
            .problem_state(user.id, &usage)
            .await
            .expect("state")
            .expect("stored");
        assert_eq!(read.attempts, round + 1, "one attempt per key");
    }
    let history = a.submissions(user.id, &usage).await.expect("history");
    let keys: Vec<_> = history
        .iter()
        .map(|s| s.idempotency_key.as_deref())
        .collect();
    assert_eq!(
        keys,
        [Some("key-0"), Some("key-1"), Some("key-2"), Some("key-3")]
    );

    // Keys are per user: another learner's "key-0" is a new request.
    let fresh = ProblemState::fresh(other.id, &usage);
    let (s, sub, resp) = keyed_check(other.id, &usage, &fresh, "key-0", 99);
    b.save_keyed_check(&s, &sub, None, &resp)
        .await
        .expect("another user's key");

    // A write refused for a stale state leaves its key unused.
    let (s, sub, resp) = keyed_check(user.id, &usage, &fresh, "key-stale", 0);
    assert!(matches!(
        a.save_keyed_check(&s, &sub, None, &resp).await,
        Err(StoreError::StaleRevision)
    ));
    assert!(a
        .idempotent_response(user.id, "key-stale")
        .await
        .expect("read")
        .is_none());
    assert_eq!(
        a.submissions(user.id, &usage).await.expect("h").len(),
        4,
        "nothing written"
    );
    crate::contract_keyed_writes::run(a, b).await;
}
