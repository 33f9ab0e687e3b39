//! The contract of `PageStore` (the reads a courseware page makes in one
//! statement each), on both backends: the joined read gives what the three
//! separate reads give, for every combination of role and enrolment, and
//! the batched state read what the one-by-one reads give.

use chrono::{Duration, Utc};
use lectern_app::model::{CourseRole, ProblemState};
use lectern_app::store::{Store, STATES_PER_READ};
use lectern_content::CourseKey;

use crate::contract::{dates, new_user, sample_tree};

/// Runs every check of the page reads.
pub async fn run(store: &dyn Store) {
    access(store).await;
    states(store).await;
}

async fn access(store: &dyn Store) {
    let owner = store
        .create_user(&new_user("PagePaula"))
        .await
        .expect("paula");
    let learner = store
        .create_user(&new_user("PageLena"))
        .await
        .expect("lena");
    let stranger = store.create_user(&new_user("PageSam")).await.expect("sam");
    let tree = sample_tree("Pages");
    let key = tree.key.clone();
    store
        .create_course(&tree, dates(), Some(owner.id), Utc::now())
        .await
        .expect("create");
    let missing = CourseKey::new("Org", "Nope", "R").expect("key");
    assert_eq!(
        store
            .courseware_access(&missing, owner.id)
            .await
            .expect("read"),
        None
    );

    let a = store
        .courseware_access(&key, owner.id)
        .await
        .expect("read")
        .expect("course");
    assert_eq!(
        Some(a.record.clone()),
        store.course(&key).await.expect("course")
    );
    assert_eq!(a.role, Some(CourseRole::Instructor));
    assert_eq!(a.enrollment, None);

    let a = store
        .courseware_access(&key, stranger.id)
        .await
        .expect("read")
        .expect("course");
    assert_eq!(
        (a.role, a.enrollment),
        (None, None),
        "someone else's rows never show"
    );

    let at = Utc::now() - Duration::hours(1);
    store
        .enroll(learner.id, &key, "audit", at)
        .await
        .expect("enroll");
    store
        .grant_course_role(&key, learner.id, CourseRole::Staff)
        .await
        .expect("grant");
    let a = store
        .courseware_access(&key, learner.id)
        .await
        .expect("read")
        .expect("course");
    assert_eq!(a.role, Some(CourseRole::Staff));
    assert_eq!(
        a.enrollment,
        store
            .enrollment(learner.id, &key)
            .await
            .expect("enrollment")
    );
    assert!(a.enrollment.as_ref().is_some_and(|e| e.is_active));

    store.unenroll(learner.id, &key).await.expect("unenroll");
    store
        .revoke_course_role(&key, learner.id)
        .await
        .expect("revoke");
    let a = store
        .courseware_access(&key, learner.id)
        .await
        .expect("read")
        .expect("course");
    assert_eq!(a.role, None);
    assert!(
        a.enrollment.as_ref().is_some_and(|e| !e.is_active),
        "an inactive enrolment is still returned: {:?}",
        a.enrollment
    );
}

async fn states(store: &dyn Store) {
    let ada = store.create_user(&new_user("PageAda")).await.expect("ada");
    let bob = store.create_user(&new_user("PageBob")).await.expect("bob");
    let course = CourseKey::new("Org", "States", "R").expect("key");
    // More keys than one statement takes, every third one saved for Ada,
    // and one of Bob's among them.
    let keys: Vec<_> = (0..STATES_PER_READ + 7)
        .map(|i| course.usage_key("problem", &format!("p{i}")))
        .collect();
    for (i, usage) in keys.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let mut s = ProblemState::fresh(ada.id, usage);
        s.attempts = u32::try_from(i).expect("small");
        store
            .save_problem_state(&s, None, None)
            .await
            .expect("save");
    }
    store
        .save_problem_state(&ProblemState::fresh(bob.id, &keys[1]), None, None)
        .await
        .expect("save bob's");

    assert!(store
        .problem_states_of(ada.id, &[])
        .await
        .expect("none asked")
        .is_empty());
    let mut got = store.problem_states_of(ada.id, &keys).await.expect("read");
    got.sort_by_key(|s| s.attempts);
    let mut expected = Vec::new();
    for usage in keys.iter().step_by(3) {
        expected.push(
            store
                .problem_state(ada.id, usage)
                .await
                .expect("one")
                .expect("saved"),
        );
    }
    assert_eq!(got, expected);
}
