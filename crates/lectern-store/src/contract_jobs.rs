//! The conformance suite of the job queue and named leases, generic over
//! `JobStore + LeaseStore` so it runs on every backend (the PostgreSQL
//! store implements these before the rest of `Store`). Times are passed in,
//! so expiry is tested without sleeping; races are tested with real
//! concurrent claimers.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use lectern_app::jobs::{JobState, JobStore, LeaseStore, NewJob};

/// Runs every check on a fresh, empty store.
pub async fn run<S>(store: &S)
where
    S: JobStore + LeaseStore + Clone + Send + Sync + 'static,
{
    let t0 = Utc::now();
    dedupe_claim_complete(store, t0).await;
    not_before_run_after(store, t0).await;
    expired_lease_is_reclaimed(store, t0).await;
    failures_back_off_then_fail(store, t0).await;
    release_and_last_attempt(store, t0).await;
    concurrent_claimers_never_share(store, t0).await;
    leases_are_exclusive(store, t0).await;
    listing_and_counts(store, t0).await;
    unknown_kinds_stay_queued(store, t0).await;
}

/// The kinds these checks enqueue: what their claimers know.
const KINDS: &[&str] = &[
    "a",
    "b",
    "dead-node",
    "drain",
    "early",
    "flaky",
    "last",
    "late",
    "m",
    "many",
    "n",
    "n1",
    "n2",
    "r",
    "x",
];

fn job(kind: &str, key: Option<&str>, run_after: DateTime<Utc>, max_attempts: i64) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: serde_json::json!({"k": kind}),
        dedupe_key: key.map(str::to_string),
        run_after,
        max_attempts,
    }
}

/// Claims until the queue has nothing due at `now`, completing each.
async fn drain<S: JobStore>(store: &S, now: DateTime<Utc>) {
    while let Some(j) = store
        .claim_job("drain", now, Duration::seconds(60), KINDS)
        .await
        .unwrap()
    {
        assert!(store.complete_job(j.id, "drain", now).await.unwrap());
    }
}

async fn dedupe_claim_complete<S: JobStore>(store: &S, t0: DateTime<Utc>) {
    let lease = Duration::seconds(30);
    let id = store
        .enqueue_job(&job("a", Some("k1"), t0, 3), t0)
        .await
        .unwrap();
    assert!(id.is_some());
    assert_eq!(
        store
            .enqueue_job(&job("a", Some("k1"), t0, 3), t0)
            .await
            .unwrap(),
        None,
        "queued twin"
    );
    let claimed = store
        .claim_job("n1", t0, lease, KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(claimed.id), id);
    assert_eq!((claimed.state, claimed.attempts), (JobState::Running, 1));
    assert_eq!(claimed.locked_by.as_deref(), Some("n1"));
    assert_eq!(
        claimed.locked_until.map(|t| t.timestamp_millis()),
        Some((t0 + lease).timestamp_millis())
    );
    assert_eq!(claimed.payload, serde_json::json!({"k": "a"}));
    assert_eq!(
        store
            .enqueue_job(&job("a", Some("k1"), t0, 3), t0)
            .await
            .unwrap(),
        None,
        "running twin"
    );
    assert!(
        store
            .claim_job("n2", t0, lease, KINDS)
            .await
            .unwrap()
            .is_none(),
        "nothing else is due"
    );
    assert!(
        !store.complete_job(claimed.id, "n2", t0).await.unwrap(),
        "not n2's job"
    );
    assert!(store.complete_job(claimed.id, "n1", t0).await.unwrap());
    assert_eq!(
        store.job(claimed.id).await.unwrap().unwrap().state,
        JobState::Done
    );
    let again = store
        .enqueue_job(&job("a", Some("k1"), t0, 3), t0)
        .await
        .unwrap();
    assert!(
        again.is_some() && again != id,
        "a done job does not block its key"
    );
    assert!(store
        .enqueue_job(&job("b", None, t0, 3), t0)
        .await
        .unwrap()
        .is_some());
    assert!(
        store
            .enqueue_job(&job("b", None, t0, 3), t0)
            .await
            .unwrap()
            .is_some(),
        "no key, no dedupe"
    );
    drain(store, t0).await;
}

async fn not_before_run_after<S: JobStore>(store: &S, t0: DateTime<Utc>) {
    let later = t0 + Duration::seconds(100);
    let first = store
        .enqueue_job(&job("late", None, later, 1), t0)
        .await
        .unwrap();
    let second = store
        .enqueue_job(&job("early", None, t0, 1), t0)
        .await
        .unwrap();
    let got = store
        .claim_job("n", t0, Duration::seconds(5), KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Some(got.id),
        second,
        "the due one, not the older future one"
    );
    assert!(store.complete_job(got.id, "n", t0).await.unwrap());
    assert!(store
        .claim_job("n", t0, Duration::seconds(5), KINDS)
        .await
        .unwrap()
        .is_none());
    let got = store
        .claim_job("n", later, Duration::seconds(5), KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(Some(got.id), first);
    assert!(store.complete_job(got.id, "n", later).await.unwrap());
}

async fn expired_lease_is_reclaimed<S: JobStore>(store: &S, t0: DateTime<Utc>) {
    let lease = Duration::seconds(10);
    let id = store
        .enqueue_job(&job("x", Some("x"), t0, 5), t0)
        .await
        .unwrap()
        .unwrap();
    let a = store
        .claim_job("dead-node", t0, lease, KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.id, id);
    // Extended while it works: still held past the first expiry.
    assert!(store
        .extend_job(id, "dead-node", t0 + Duration::seconds(8), lease)
        .await
        .unwrap());
    assert!(store
        .claim_job("b", t0 + Duration::seconds(15), lease, KINDS)
        .await
        .unwrap()
        .is_none());
    // The node dies; its lease runs out at t0+18 s.
    let at = t0 + Duration::seconds(19);
    let b = store
        .claim_job("b", at, lease, KINDS)
        .await
        .unwrap()
        .expect("reclaimed");
    assert_eq!(
        (b.id, b.attempts, b.locked_by.as_deref()),
        (id, 2, Some("b"))
    );
    assert!(
        !store.extend_job(id, "dead-node", at, lease).await.unwrap(),
        "the old holder lost it"
    );
    assert!(!store.complete_job(id, "dead-node", at).await.unwrap());
    assert_eq!(
        store
            .fail_job(id, "dead-node", "late", at, at)
            .await
            .unwrap(),
        None
    );
    assert!(!store.release_job(id, "dead-node", at).await.unwrap());
    assert!(store.complete_job(id, "b", at).await.unwrap());
}

async fn failures_back_off_then_fail<S: JobStore>(store: &S, t0: DateTime<Utc>) {
    let lease = Duration::seconds(60);
    let id = store
        .enqueue_job(&job("flaky", None, t0, 2), t0)
        .await
        .unwrap()
        .unwrap();
    let j = store
        .claim_job("n", t0, lease, KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.id, id);
    let retry_at = t0 + Duration::seconds(20);
    assert_eq!(
        store
            .fail_job(id, "n", "boom 1", retry_at, t0)
            .await
            .unwrap(),
        Some(JobState::Queued)
    );
    let stored = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.last_error.as_deref()),
        (JobState::Queued, Some("boom 1"))
    );
    assert!(
        store
            .claim_job("n", t0 + Duration::seconds(19), lease, KINDS)
            .await
            .unwrap()
            .is_none(),
        "backing off"
    );
    let j = store
        .claim_job("n", retry_at, lease, KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((j.id, j.attempts), (id, 2));
    let long = "é".repeat(5000);
    assert_eq!(
        store
            .fail_job(id, "n", &long, retry_at, retry_at)
            .await
            .unwrap(),
        Some(JobState::Failed)
    );
    let stored = store.job(id).await.unwrap().unwrap();
    assert_eq!(stored.state, JobState::Failed, "kept for inspection");
    assert!(stored.last_error.unwrap().len() <= lectern_app::jobs::MAX_ERROR_BYTES);
    assert!(store
        .claim_job("n", t0 + Duration::days(1), lease, KINDS)
        .await
        .unwrap()
        .is_none());
}

async fn release_and_last_attempt<S: JobStore>(store: &S, t0: DateTime<Utc>) {
    let lease = Duration::seconds(10);
    let id = store
        .enqueue_job(&job("r", Some("r"), t0, 1), t0)
        .await
        .unwrap()
        .unwrap();
    let j = store
        .claim_job("n", t0, lease, KINDS)
        .await
        .unwrap()
        .unwrap();
    assert!(store.release_job(j.id, "n", t0).await.unwrap());
    let stored = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.attempts),
        (JobState::Queued, 0),
        "a release is no attempt"
    );
    // Its only attempt dies with its node: failed, not claimed forever.
    let j = store
        .claim_job("n", t0, lease, KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((j.id, j.attempts), (id, 1));
    assert!(store
        .claim_job("m", t0 + Duration::seconds(11), lease, KINDS)
        .await
        .unwrap()
        .is_none());
    let stored = store.job(id).await.unwrap().unwrap();
    assert_eq!(stored.state, JobState::Failed);
    assert!(stored.last_error.unwrap().contains("lease expired"));
}

async fn concurrent_claimers_never_share<S>(store: &S, t0: DateTime<Utc>)
where
    S: JobStore + Clone + Send + Sync + 'static,
{
    const JOBS: usize = 60;
    for i in 0..JOBS {
        store
            .enqueue_job(&job("many", Some(&format!("many-{i}")), t0, 3), t0)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let holder = format!("w{w}");
            let mut got = Vec::new();
            while let Some(j) = store
                .claim_job(&holder, t0, Duration::seconds(60), KINDS)
                .await
                .unwrap()
            {
                assert_eq!(j.locked_by.as_deref(), Some(holder.as_str()));
                got.push(j.id);
                tokio::task::yield_now().await;
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), JOBS, "every job claimed once: {all:?}");
    assert_eq!(unique.len(), JOBS, "no job claimed twice");
    for id in all {
        let holder = store.job(id).await.unwrap().unwrap().locked_by.unwrap();
        assert!(store.complete_job(id, &holder, t0).await.unwrap());
    }
}

async fn leases_are_exclusive<S>(store: &S, t0: DateTime<Utc>)
where
    S: LeaseStore + Clone + Send + Sync + 'static,
{
    let ttl = Duration::seconds(30);
    assert!(store
        .try_acquire_lease("backup", "a", t0, ttl)
        .await
        .unwrap());
    assert!(!store
        .try_acquire_lease("backup", "b", t0 + Duration::seconds(29), ttl)
        .await
        .unwrap());
    assert!(
        store
            .try_acquire_lease("backup", "a", t0, ttl)
            .await
            .unwrap(),
        "the holder again"
    );
    assert!(store
        .renew_lease("backup", "a", t0 + Duration::seconds(20), ttl)
        .await
        .unwrap());
    assert!(!store
        .renew_lease("backup", "b", t0 + Duration::seconds(20), ttl)
        .await
        .unwrap());
    // Renewed to t0+50 s: b waits until then.
    assert!(!store
        .try_acquire_lease("backup", "b", t0 + Duration::seconds(45), ttl)
        .await
        .unwrap());
    let later = t0 + Duration::seconds(51);
    assert!(
        store
            .try_acquire_lease("backup", "b", later, ttl)
            .await
            .unwrap(),
        "expired: b takes it"
    );
    assert!(
        !store.renew_lease("backup", "a", later, ttl).await.unwrap(),
        "a lost it"
    );
    store.release_lease("backup", "a").await.unwrap();
    assert!(
        !store
            .try_acquire_lease("backup", "a", later, ttl)
            .await
            .unwrap(),
        "a cannot release b's"
    );
    store.release_lease("backup", "b").await.unwrap();
    assert!(store
        .try_acquire_lease("backup", "a", later, ttl)
        .await
        .unwrap());
    // Many nodes at once: exactly one wins a fresh lease.
    let mut tasks = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .try_acquire_lease("race", &format!("n{n}"), t0, ttl)
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
}

async fn listing_and_counts<S: JobStore>(store: &S, t0: DateTime<Utc>) {
    let id = store
        .enqueue_job(&job("last", Some("last"), t0, 1), t0)
        .await
        .unwrap()
        .unwrap();
    let recent = store.recent_jobs(3).await.unwrap();
    assert_eq!(recent.len(), 3);
    assert_eq!(recent[0].id, id, "newest first");
    assert_eq!(store.count_jobs_with_key("last").await.unwrap(), 1);
    assert_eq!(store.count_jobs_with_key("nothing").await.unwrap(), 0);
    let counts = store.count_jobs().await.unwrap();
    let n = |s: JobState| counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
    assert_eq!(n(JobState::Queued), 1);
    assert_eq!(n(JobState::Failed), 2);
    assert_eq!(n(JobState::Running), 0);
    let done = n(JobState::Done);
    assert!(done >= 60, "{counts:?}");
    assert_eq!(
        store
            .delete_done_jobs(t0 + Duration::days(400))
            .await
            .unwrap(),
        done as u64
    );
    assert!(store
        .courses_with_stale_grades(10)
        .await
        .unwrap()
        .is_empty());
}

/// A grade computed for an older course version never replaces one of a
/// newer version (a late regrade), even at the right revision.
pub async fn grades_never_go_back_a_version<S>(store: &S)
where
    S: lectern_app::store::UserStore + lectern_app::store::LearnerStateStore + Sync,
{
    use lectern_app::model::{GradeRecord, NewUser};
    use lectern_app::StoreError;
    let user = store
        .create_user(&NewUser {
            username: "graded".into(),
            email: "graded@example.org".into(),
            name: "G".into(),
            password_hash: "h".into(),
            is_admin: false,
            is_course_creator: false,
        })
        .await
        .unwrap();
    let course: lectern_content::CourseKey = "course-v1:O+Grades+R".parse().unwrap();
    let grade = |version: i64, revision: i64, percent: f64| GradeRecord {
        user_id: user.id,
        course_key: course.clone(),
        revision,
        course_version: version,
        percent,
        letter_grade: None,
        passed: false,
        detail: lectern_app::model::JsonText::of(&serde_json::json!({})).expect("a JSON value"),
        subsections: Vec::new(),
        stored_subsections: Default::default(),
        updated_at: Utc::now(),
    };
    store.save_course_grade(&grade(2, 0, 0.5)).await.unwrap();
    let late = store.save_course_grade(&grade(1, 1, 0.1)).await;
    assert!(matches!(late, Err(StoreError::StaleRevision)), "{late:?}");
    let stored = store.course_grade(user.id, &course).await.unwrap().unwrap();
    assert_eq!(
        (stored.course_version, stored.percent, stored.revision),
        (2, 0.5, 1)
    );
    store.save_course_grade(&grade(2, 1, 0.6)).await.unwrap();
    store.save_course_grade(&grade(3, 2, 0.7)).await.unwrap();
    let stored = store.course_grade(user.id, &course).await.unwrap().unwrap();
    assert_eq!((stored.course_version, stored.percent), (3, 0.7));
}

/// A claimer takes only the kinds it knows: a job of a kind from a newer
/// binary stays queued, untouched, even when it is the oldest due job.
async fn unknown_kinds_stay_queued<S: JobStore>(store: &S, t0: DateTime<Utc>) {
    drain(store, t0 + Duration::days(30)).await;
    let newer = store
        .enqueue_job(&job("from_a_newer_binary", None, t0, 3), t0)
        .await
        .unwrap()
        .unwrap();
    let known = store
        .enqueue_job(&job("n", None, t0 + Duration::seconds(1), 3), t0)
        .await
        .unwrap()
        .unwrap();
    let at = t0 + Duration::seconds(2);
    let got = store
        .claim_job("old-node", at, Duration::seconds(60), KINDS)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got.id, known,
        "the known kind is claimed past the unknown one"
    );
    assert!(store.complete_job(got.id, "old-node", at).await.unwrap());
    assert!(
        store
            .claim_job("old-node", at, Duration::seconds(60), KINDS)
            .await
            .unwrap()
            .is_none(),
        "an unknown kind is never claimed"
    );
    assert!(
        store
            .claim_job("old-node", at, Duration::seconds(60), &[])
            .await
            .unwrap()
            .is_none(),
        "no kinds, no claim"
    );
    let left = store.job(newer).await.unwrap().unwrap();
    assert_eq!((left.state, left.attempts), (JobState::Queued, 0));
    let taken = store
        .claim_job(
            "new-node",
            at,
            Duration::seconds(60),
            &["from_a_newer_binary"],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.id, newer, "a node that knows the kind takes it");
    assert!(store.complete_job(taken.id, "new-node", at).await.unwrap());
}
