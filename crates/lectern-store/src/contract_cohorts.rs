//! The contract of `CohortStore`, on both backends: the stored switch,
//! unique names and the cap, placing learners by username or e-mail (added,
//! moved, present, unknown, not enrolled), one membership per learner also
//! when many place the same learner at once, the one-random-cohort rule,
//! random assignment (one "Default Group" however many enrol at once),
//! removal, member pages and learners without a cohort.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::Utc;
use lectern_app::cohorts::{AssignmentType, CreateOutcome, Placement, UpdateOutcome};
use lectern_app::model::User;
use lectern_app::store::Store;

use crate::contract::{dates, new_user, sample_tree};

async fn course(store: &dyn Store, run: &str) -> String {
    let tree = sample_tree(run);
    store
        .create_course(&tree, dates(), None, Utc::now())
        .await
        .unwrap();
    tree.key.to_string()
}

async fn created(store: &dyn Store, key: &str, name: &str, t: AssignmentType) -> i64 {
    match store
        .create_cohort(key, name, t, 10, Utc::now())
        .await
        .unwrap()
    {
        CreateOutcome::Created(c) => c.id,
        other => panic!("{other:?}"),
    }
}

async fn count(store: &dyn Store, key: &str, id: i64) -> i64 {
    store.cohort(key, id).await.unwrap().unwrap().user_count
}

pub async fn run(store: Arc<dyn Store>) {
    let key = course(&*store, "Cohorts").await;
    let mut users: Vec<User> = Vec::new();
    for i in 0..6 {
        let u = store
            .create_user(&new_user(&format!("Coh{i}")))
            .await
            .unwrap();
        if i < 4 {
            store
                .enroll(u.id, &key.parse().unwrap(), "audit", Utc::now())
                .await
                .unwrap();
        }
        users.push(u);
    }

    // The switch.
    assert_eq!(store.stored_cohorted(&key).await.unwrap(), None);
    store.set_cohorted(&key, true, Utc::now()).await.unwrap();
    store.set_cohorted(&key, false, Utc::now()).await.unwrap();
    assert_eq!(store.stored_cohorted(&key).await.unwrap(), Some(false));

    // Names are unique per course; the cap holds.
    let a = created(&*store, &key, "A", AssignmentType::Manual).await;
    let b = created(&*store, &key, "B", AssignmentType::Manual).await;
    let again = store
        .create_cohort(&key, "A", AssignmentType::Manual, 10, Utc::now())
        .await
        .unwrap();
    assert_eq!(again, CreateOutcome::NameTaken);
    let full = store
        .create_cohort(&key, "Z", AssignmentType::Manual, 2, Utc::now())
        .await
        .unwrap();
    assert_eq!(full, CreateOutcome::TooMany);
    let other = course(&*store, "Other").await;
    created(&*store, &other, "A", AssignmentType::Manual).await;

    // Placing: by username (any case) or e-mail (any case).
    let names = vec![
        "coh0".to_string(),
        "COH1@EXAMPLE.ORG".to_string(),
        "nobody".to_string(),
        "Coh4".to_string(),
    ];
    let placed = store
        .place_in_cohort(&key, a, &names, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        placed,
        vec![
            Placement::Added {
                username: "Coh0".into(),
                email: "coh0@example.org".into()
            },
            Placement::Added {
                username: "Coh1".into(),
                email: "coh1@example.org".into()
            },
            Placement::Unknown,
            Placement::NotEnrolled,
        ]
    );
    let moved = store
        .place_in_cohort(&key, b, &["Coh0".to_string()], Utc::now())
        .await
        .unwrap();
    assert_eq!(
        moved,
        vec![Placement::Moved {
            username: "Coh0".into(),
            email: "coh0@example.org".into(),
            from: "A".into()
        }]
    );
    let present = store
        .place_in_cohort(&key, b, &["Coh0".to_string()], Utc::now())
        .await
        .unwrap();
    assert_eq!(present, vec![Placement::Present]);
    assert_eq!(
        (count(&*store, &key, a).await, count(&*store, &key, b).await),
        (1, 1)
    );
    let listed = store.cohorts_of(&key).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["A", "B"]
    );

    // Many placing one learner at once: one membership in the end.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, key) = (store.clone(), key.clone());
        let target = if i % 2 == 0 { a } else { b };
        tasks.push(tokio::spawn(async move {
            store
                .place_in_cohort(&key, target, &["Coh2".to_string()], Utc::now())
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let (in_a, _) = store.cohort_members(&key, a, 0, 100).await.unwrap();
    let (in_b, _) = store.cohort_members(&key, b, 0, 100).await.unwrap();
    let coh2 = in_a
        .iter()
        .chain(in_b.iter())
        .filter(|m| m.username == "Coh2")
        .count();
    assert_eq!(coh2, 1, "one membership");

    // Rename and retype; the last random cohort stays random.
    let clash = store.update_cohort(&key, b, Some("A"), None).await.unwrap();
    assert_eq!(clash, UpdateOutcome::NameTaken);
    let UpdateOutcome::Updated(c) = store.update_cohort(&key, b, Some("C"), None).await.unwrap()
    else {
        panic!("renamed")
    };
    assert_eq!(c.name, "C");
    assert_eq!(
        store
            .update_cohort(&key, 999_999, Some("Q"), None)
            .await
            .unwrap(),
        UpdateOutcome::NotFound
    );
    let r = created(&*store, &key, "R", AssignmentType::Random).await;
    assert_eq!(
        store
            .update_cohort(&key, r, None, Some(AssignmentType::Manual))
            .await
            .unwrap(),
        UpdateOutcome::LastRandom
    );

    // Random assignment: into the one random cohort; nothing for someone
    // who has a cohort.
    assert_eq!(store.learners_without_cohort(&key).await.unwrap(), 1);
    let got = store
        .assign_random_cohort(&key, users[3].id, 7, Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, r);
    assert!(store
        .assign_random_cohort(&key, users[0].id, 7, Utc::now())
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.learners_without_cohort(&key).await.unwrap(), 0);

    // Removal and member pages.
    assert!(store
        .remove_from_cohort(&key, a, users[1].id)
        .await
        .unwrap());
    assert!(!store
        .remove_from_cohort(&key, a, users[1].id)
        .await
        .unwrap());
    let (page, total) = store.cohort_members(&key, r, 0, 1).await.unwrap();
    assert_eq!((page.len(), total), (1, 1));
    assert_eq!(page[0].username, "Coh3");

    // Many enrolling at once in a course without random cohorts: one
    // "Default Group", everyone in it.
    let fresh = course(&*store, "Fresh").await;
    let mut tasks = Vec::new();
    for u in users.iter().take(4) {
        let (store, fresh, id) = (store.clone(), fresh.clone(), u.id);
        tasks.push(tokio::spawn(async move {
            store.assign_random_cohort(&fresh, id, 3, Utc::now()).await
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().unwrap().is_some());
    }
    let groups = store.cohorts_of(&fresh).await.unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].name, "Default Group");
    assert_eq!(groups[0].assignment_type, AssignmentType::Random);
    let (_, total) = store
        .cohort_members(&fresh, groups[0].id, 0, 10)
        .await
        .unwrap();
    assert_eq!(total, 4);
}
