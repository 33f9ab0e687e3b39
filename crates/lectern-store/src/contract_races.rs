//! The contract's concurrency half: the races two nodes (or two requests on
//! one node) run into, played with real parallelism (many tasks on a
//! multi-thread runtime; on PostgreSQL the pool gives each its own
//! connection). Backends call [`run`] after `contract::run`, from a
//! multi-thread `#[tokio::test]`.
//!
//! Also the portable behaviour that differs easily between SQL dialects:
//! case-insensitive search with `%`, `_` and `\` matched literally, and
//! unique clashes named by field.

use std::sync::Arc;

use chrono::Utc;
use lectern_app::model::{CourseRole, GradeRecord, ProblemState, Submission, UserId};
use lectern_app::store::{NewBlob, Store};
use lectern_app::StoreError;
use lectern_content::{CourseKey, UsageKey};

use crate::contract::{new_user, sample_tree};

/// How many tasks race in each check.
const RACERS: usize = 12;

/// Runs every race; panics on the first broken promise.
pub async fn run(store: Arc<dyn Store>) {
    portable_behaviour(&*store).await;
    parallel_publishes(store.clone()).await;
    parallel_imports(store.clone()).await;
    parallel_saves_from_one_revision(store.clone()).await;
    failed_import_leaves_nothing(&*store).await;
}

async fn portable_behaviour(store: &dyn Store) {
    for name in ["Lit_Tom", "LitXTom", "Pct%Ann", "Back\\Sl"] {
        let mut user = new_user(name);
        user.email = format!("{}@races.example.org", name.replace(['%', '\\'], "x"));
        store.create_user(&user).await.expect("create");
    }
    let names = |users: Vec<lectern_app::User>| -> Vec<String> {
        users.into_iter().map(|u| u.username).collect()
    };
    let hits = store.search_users("LIT_T", 10, 0).await.expect("search");
    assert_eq!(names(hits), ["Lit_Tom"], "case-insensitive, `_` literal");
    let hits = store.search_users("t%a", 10, 0).await.expect("search");
    assert_eq!(names(hits), ["Pct%Ann"], "`%` literal");
    let hits = store.search_users("k\\s", 10, 0).await.expect("search");
    assert_eq!(names(hits), ["Back\\Sl"], "`\\` literal");

    let tree = sample_tree("CLASH");
    store
        .create_course(&tree, crate::contract::dates(), None, Utc::now())
        .await
        .expect("create");
    let clash = store
        .create_course(&tree, crate::contract::dates(), None, Utc::now())
        .await;
    assert!(
        matches!(clash, Err(StoreError::Conflict { ref field }) if field == "course_key"),
        "{clash:?}"
    );
}

async fn parallel_publishes(store: Arc<dyn Store>) {
    let tree = sample_tree("PUB");
    let key = tree.key.clone();
    store
        .create_course(&tree, crate::contract::dates(), None, Utc::now())
        .await
        .expect("create");
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.publish(&key, 1, Utc::now()).await })
        })
        .collect();
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.expect("task").expect("publish"));
    }
    versions.sort_unstable();
    let expected: Vec<i64> = (1..=RACERS as i64).collect();
    assert_eq!(versions, expected, "distinct consecutive versions");
    let rec = store.course(&key).await.expect("course").expect("exists");
    assert_eq!(rec.published_version, Some(RACERS as i64));
    for v in expected {
        assert!(store.published(&key, v).await.expect("read").is_some());
    }
}

async fn parallel_imports(store: Arc<dyn Store>) {
    let owner = store
        .create_user(&new_user("Importer"))
        .await
        .expect("owner");
    let tree = sample_tree("IMPRACE");
    let key = tree.key.clone();
    // First a course nobody has yet, then the same one again, now existing.
    for round in 1..=2i64 {
        let tasks: Vec<_> = (0..RACERS)
            .map(|_| {
                let (store, tree) = (store.clone(), tree.clone());
                tokio::spawn(async move {
                    let blob = NewBlob {
                        sha256: "race-blob",
                        bytes: b"shared static file",
                    };
                    store
                        .import_course(
                            &tree,
                            crate::contract::dates(),
                            &[blob],
                            Some((owner.id, CourseRole::Instructor)),
                            Utc::now(),
                        )
                        .await
                        .map(|(_, v)| v)
                })
            })
            .collect();
        let mut versions = Vec::new();
        for t in tasks {
            versions.push(t.await.expect("task").expect("import"));
        }
        versions.sort_unstable();
        let first = (round - 1) * RACERS as i64 + 1;
        let expected: Vec<i64> = (first..first + RACERS as i64).collect();
        assert_eq!(versions, expected, "round {round}: one version per import");
        let rec = store.course(&key).await.expect("course").expect("exists");
        assert_eq!(rec.draft_revision, round * RACERS as i64);
        assert_eq!(rec.published_version, Some(round * RACERS as i64));
        let team = store.course_team(&key).await.expect("team");
        assert_eq!(team.len(), 1, "one role for the owner");
        assert_eq!(
            store.blob("race-blob").await.expect("blob").as_deref(),
            Some(&b"shared static file"[..])
        );
    }
    let listed = store.list_courses().await.expect("list");
    assert_eq!(listed.iter().filter(|c| c.key == key).count(), 1);
}

fn attempt(user: UserId, usage: &UsageKey, read: &ProblemState) -> (ProblemState, Submission) {
    let mut next = read.clone();
    next.attempts += 1;
    next.ever_attempted = true;
    next.updated_at = Utc::now();
    let sub = Submission {
        user_id: user,
        usage_key: usage.clone(),
        attempt: next.attempts,
        answers: serde_json::json!({}),
        correct_map: serde_json::json!({}),
        earned: 0.0,
        possible: 1.0,
        created_at: Utc::now(),
        idempotency_key: None,
    };
    (next, sub)
}

fn grade(user: UserId, course: &CourseKey, revision: i64) -> GradeRecord {
    GradeRecord {
        user_id: user,
        course_key: course.clone(),
        revision,
        course_version: 1,
        percent: 0.0,
        letter_grade: None,
        passed: false,
        detail: lectern_app::model::JsonText::of(&serde_json::json!({})).expect("a JSON value"),
        subsections: Vec::new(),
        stored_subsections: Default::default(),
        updated_at: Utc::now(),
    }
}

/// What `max_attempts` relies on: of many checks made from one read state,
/// exactly one is stored; the others are told the state moved on.
async fn parallel_saves_from_one_revision(store: Arc<dyn Store>) {
    let user = store.create_user(&new_user("Racer")).await.expect("user");
    let course = CourseKey::new("Org", "RACE", "R1").expect("key");
    let usage = course.usage_key("problem", "race");
    let mut read = ProblemState::fresh(user.id, &usage);
    // Round 1 writes no grade, so the state's own guard is what decides;
    // round 2 writes grades too (both guards, as a check does).
    for round in 1..=2i64 {
        let tasks: Vec<_> = (0..RACERS)
            .map(|_| {
                let store = store.clone();
                let (state, sub) = attempt(user.id, &usage, &read);
                let g = (round == 2).then(|| grade(user.id, &course, 0));
                tokio::spawn(async move {
                    store
                        .save_problem_state(&state, Some(&sub), g.as_ref())
                        .await
                })
            })
            .collect();
        let (mut won, mut stale) = (0, 0);
        for t in tasks {
            match t.await.expect("task") {
                Ok(()) => won += 1,
                Err(StoreError::StaleRevision) => stale += 1,
                Err(other) => panic!("round {round}: a racing save failed: {other:?}"),
            }
        }
        assert_eq!((won, stale), (1, RACERS - 1), "round {round}");
        read = store
            .problem_state(user.id, &usage)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!((read.revision, read.attempts), (round, round as u32));
        let subs = store.submissions(user.id, &usage).await.expect("subs");
        assert_eq!(subs.len(), round as usize, "one submission per winner");
    }
    let g = store
        .course_grade(user.id, &course)
        .await
        .expect("grade")
        .expect("stored");
    assert_eq!(g.revision, 1, "one grade written");
}

/// An import that fails part-way (its owner does not exist, so the role
/// insert after the course and blobs fails) leaves no trace.
async fn failed_import_leaves_nothing(store: &dyn Store) {
    let before = store.stats(Utc::now()).await.expect("stats");
    let tree = sample_tree("FAILED");
    let blob = NewBlob {
        sha256: "failed-import-blob",
        bytes: b"never stored",
    };
    let missing_user: UserId = 987_654_321;
    let result = store
        .import_course(
            &tree,
            crate::contract::dates(),
            &[blob],
            Some((missing_user, CourseRole::Instructor)),
            Utc::now(),
        )
        .await;
    assert!(result.is_err(), "{result:?}");
    assert!(store.course(&tree.key).await.expect("course").is_none());
    assert!(store
        .blob_info("failed-import-blob")
        .await
        .expect("blob")
        .is_none());
    assert!(store
        .courses_with_role(missing_user)
        .await
        .expect("roles")
        .is_empty());
    let after = store.stats(Utc::now()).await.expect("stats");
    assert_eq!(
        (after.courses, after.blobs, after.blob_bytes),
        (before.courses, before.blobs, before.blob_bytes)
    );
}
