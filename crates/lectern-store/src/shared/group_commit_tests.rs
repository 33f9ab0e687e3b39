//! The group commit's promises, on both backends, through one batch run
//! directly (so the writes are certainly in one transaction): a stale write
//! and a clashing key fail alone and the rest of the batch commits; a batch
//! whose connection is gone fails every waiter; a full queue is refused.

use chrono::Utc;
use lectern_app::idempotency::StoredResponse;
use lectern_app::model::{NewUser, ProblemState, Submission, UserId};
use lectern_app::store::{Store, UserStore};
use lectern_app::StoreError;
use lectern_content::{CourseKey, UsageKey};
use serde_json::json;
use sqlx::{Pool, Postgres, Sqlite};
use tokio::sync::oneshot;

use super::{GroupCommit, StateWrite, Waiter, QUEUE_FULL};
use crate::sqlite::state_writer::StateWriter;
use std::sync::Arc;

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

/// A check from `read` (one more attempt), keyed with `key`.
fn check(user: UserId, usage: &UsageKey, read: &ProblemState, key: &str) -> StateWrite {
    let mut state = read.clone();
    state.attempts += 1;
    state.ever_attempted = true;
    let now = Utc::now();
    StateWrite {
        submission: Some(Submission {
            user_id: user,
            usage_key: usage.clone(),
            attempt: state.attempts,
            answers: json!({"i": key}),
            correct_map: json!({}),
            earned: 1.0,
            possible: 1.0,
            created_at: now,
            idempotency_key: Some(key.to_string()),
        }),
        response: Some(StoredResponse {
            user_id: user,
            key: key.to_string(),
            fingerprint: "print".into(),
            status: 200,
            body: json!({"attempts": state.attempts}),
            created_at: now,
        }),
        grade: None,
        state,
    }
}

fn waiter(write: StateWrite) -> (Waiter, oneshot::Receiver<Result<(), StoreError>>) {
    let (reply, answer) = oneshot::channel();
    (
        Waiter {
            bytes: 0,
            write,
            reply,
        },
        answer,
    )
}

/// The run for one backend: `store` is fresh, `pool` its write pool, and
/// `run` runs one batch on it.
async fn one_failure_fails_alone<F, Fut>(store: &dyn Store, run: F)
where
    F: Fn(Vec<Waiter>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let a = store.create_user(&person("ga")).await.unwrap().id;
    let b = store.create_user(&person("gb")).await.unwrap().id;
    let c = store.create_user(&person("gc")).await.unwrap().id;
    let usage = CourseKey::new("Org", "GC", "R")
        .unwrap()
        .usage_key("problem", "p");
    let fresh = |u| ProblemState::fresh(u, &usage);
    // c has already answered once, with the key "used".
    let first = check(c, &usage, &fresh(c), "used");
    store
        .save_keyed_check(
            &first.state,
            first.submission.as_ref().unwrap(),
            None,
            first.response.as_ref().unwrap(),
        )
        .await
        .unwrap();
    let c_read = store.problem_state(c, &usage).await.unwrap().unwrap();

    let writes = vec![
        check(a, &usage, &fresh(a), "a1"),
        // From the same read as a1, which lands first in this batch.
        check(a, &usage, &fresh(a), "a-stale"),
        check(b, &usage, &fresh(b), "b1"),
        // The key c used before.
        check(c, &usage, &c_read, "used"),
        check(c, &usage, &c_read, "c2"),
    ];
    let (waiters, answers): (Vec<_>, Vec<_>) = writes.into_iter().map(waiter).unzip();
    run(waiters).await;
    let mut got = Vec::new();
    for a in answers {
        got.push(a.await.unwrap());
    }
    assert!(got[0].is_ok(), "{got:?}");
    assert!(matches!(got[1], Err(StoreError::StaleRevision)), "{got:?}");
    assert!(got[2].is_ok(), "{got:?}");
    assert!(
        matches!(&got[3], Err(StoreError::Conflict { field }) if field == "idempotency_key"),
        "{got:?}"
    );
    assert!(got[4].is_ok(), "{got:?}");

    let keys = |u| {
        let usage = usage.clone();
        async move {
            store
                .submissions(u, &usage)
                .await
                .unwrap()
                .into_iter()
                .map(|s| (s.attempt, s.idempotency_key.unwrap_or_default()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(keys(a).await, [(1, "a1".to_string())]);
    assert_eq!(keys(b).await, [(1, "b1".to_string())]);
    assert_eq!(
        keys(c).await,
        [(1, "used".to_string()), (2, "c2".to_string())]
    );
    assert!(store
        .idempotent_response(a, "a-stale")
        .await
        .unwrap()
        .is_none());
    let stored = store.idempotent_response(c, "used").await.unwrap().unwrap();
    assert_eq!(stored.body["attempts"], 1, "the first answer stays");
    for (u, attempts) in [(a, 1), (b, 1), (c, 2)] {
        let s = store.problem_state(u, &usage).await.unwrap().unwrap();
        assert_eq!(s.attempts, attempts);
    }
}

/// A batch on a closed pool: every waiter gets `Unavailable`, nothing is
/// written.
async fn broken_connection_fails_all<F, Fut>(store: &dyn Store, close: F)
where
    F: FnOnce(Vec<Waiter>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let a = store.create_user(&person("ba")).await.unwrap().id;
    let b = store.create_user(&person("bb")).await.unwrap().id;
    let usage = CourseKey::new("Org", "GB", "R")
        .unwrap()
        .usage_key("problem", "p");
    let writes = [a, b].map(|u| check(u, &usage, &ProblemState::fresh(u, &usage), "k"));
    let (waiters, answers): (Vec<_>, Vec<_>) = writes.into_iter().map(waiter).unzip();
    close(waiters).await;
    for a in answers {
        let got = a.await.unwrap();
        assert!(matches!(got, Err(StoreError::Unavailable(_))), "{got:?}");
    }
}

/// Both of SQLite's ways: through sqlx (an in-memory database's) and
/// through the rusqlite writer (a file's, `sqlite/state_writer.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_batch_failures_stay_with_their_write() {
    for through_rusqlite in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let store = crate::SqliteStore::open(&path).await.unwrap();
        let writer = through_rusqlite.then(|| Arc::new(StateWriter::for_file(&path)));
        let pool: Pool<Sqlite> = store.write.clone();
        one_failure_fails_alone(&store, |batch| {
            GroupCommit::<Sqlite>::run_batch(&pool, writer.as_ref(), batch)
        })
        .await;
        broken_connection_fails_all(&store, |batch| async move {
            pool.close().await;
            GroupCommit::<Sqlite>::run_batch(&pool, writer.as_ref(), batch).await
        })
        .await;
    }
}

#[tokio::test]
async fn postgres_batch_failures_stay_with_their_write() {
    let Some(url) = crate::testing::fresh_postgres_url().await else {
        return;
    };
    let store = crate::PgStore::open(&url).await.unwrap();
    let pool: Pool<Postgres> = store.write.clone();
    one_failure_fails_alone(&store, |batch| {
        GroupCommit::<Postgres>::run_batch(&pool, None, batch)
    })
    .await;
    broken_connection_fails_all(&store, |batch| async move {
        pool.close().await;
        GroupCommit::<Postgres>::run_batch(&pool, None, batch).await
    })
    .await;
}

#[tokio::test]
async fn a_full_queue_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::SqliteStore::open(&dir.path().join("l.db"))
        .await
        .unwrap();
    let a = store.create_user(&person("qa")).await.unwrap().id;
    let usage = CourseKey::new("Org", "GQ", "R")
        .unwrap()
        .usage_key("problem", "p");
    // A lane whose task never takes anything, with room for one write.
    let (lanes, _held) = GroupCommit::<Sqlite>::stalled(store.write.clone(), 1);
    let write = check(a, &usage, &ProblemState::fresh(a, &usage), "q1");
    let waiting = tokio::spawn({
        let (lanes, write) = (lanes.clone(), write.clone());
        async move { lanes.write(write).await }
    });
    tokio::task::yield_now().await;
    while lanes.queued() == 0 {
        tokio::task::yield_now().await;
    }
    let got = lanes.write(write).await;
    assert!(
        matches!(&got, Err(StoreError::Unavailable(m)) if m == QUEUE_FULL),
        "{got:?}"
    );
    waiting.abort();
}
