//! The conformance checks for a learner's state in a course (part of
//! [`crate::contract::run`]): problem states and submissions under
//! optimistic revisions, the stored grade and its subsection rows (only the
//! rows that changed are rewritten; stale ones go when the course version
//! moves), and a learner's progress read in one go.

use chrono::Utc;
use lectern_app::store::Store;
use lectern_app::StoreError;
use lectern_content::CourseKey;

use crate::contract::new_user;

/// Runs these checks on `store`.
pub(crate) async fn run(store: &dyn Store) {
    learner_state(store).await;
    subsection_grades(store).await;
    subsection_digests(store).await;
    course_progress(store).await;
}

/// A learner's first grade in a course (revision 0, nothing earned) with
/// these subsections.
pub(crate) fn first_grade(
    user_id: i64,
    course: &CourseKey,
    subsections: Vec<lectern_app::model::SubsectionGradeRecord>,
    at: chrono::DateTime<Utc>,
) -> lectern_app::model::GradeRecord {
    lectern_app::model::GradeRecord {
        user_id,
        course_key: course.clone(),
        revision: 0,
        course_version: 1,
        percent: 0.0,
        letter_grade: None,
        passed: false,
        detail: lectern_app::model::JsonText::of(&serde_json::json!({})).expect("a JSON value"),
        subsections,
        stored_subsections: Default::default(),
        updated_at: at,
    }
}

/// A grade's subsection rows after each write are exactly its subsections:
/// changed ones updated, unchanged ones kept, gone ones deleted, new ones
/// added; also for a course with more subsections than one statement
/// carries, and through the state writes of a check as through a grade
/// alone. (A course version has one set of subsections, so the set changes
/// only with the version, as here.)
async fn subsection_grades(store: &dyn Store) {
    use lectern_app::model::{GradeRecord, ProblemState, SubsectionGradeRecord};
    let fay = store.create_user(&new_user("Fay")).await.expect("fay");
    let course = CourseKey::new("Org", "S202", "R1").expect("key");
    let usage = course.usage_key("problem", "p1");
    let sub = |id: &str, earned: f64, possible: f64, graded: bool| SubsectionGradeRecord {
        block_id: id.into(),
        earned,
        possible,
        graded,
    };
    let stored = |g: &GradeRecord| {
        let mut subs: Vec<_> = g
            .subsections
            .iter()
            .map(|s| (s.block_id.clone(), s.earned, s.possible, s.graded))
            .collect();
        subs.sort_by(|a, b| a.0.cmp(&b.0));
        subs
    };
    let mut grade = first_grade(
        fay.id,
        &course,
        vec![
            sub("a", 1.0, 2.0, true),
            sub("b", 0.0, 1.0, true),
            sub("c", 0.0, 1.0, false),
        ],
        Utc::now(),
    );
    let mut state = ProblemState::fresh(fay.id, &usage);
    let write = |grade: &GradeRecord, state: &ProblemState| {
        let (grade, state) = (grade.clone(), state.clone());
        async move {
            store
                .save_problem_state(&state, None, Some(&grade))
                .await
                .expect("write");
            let back = store
                .course_grade(fay.id, &grade.course_key)
                .await
                .expect("read")
                .expect("stored");
            assert_eq!(stored(&back), stored(&grade), "the rows are the grade's");
            back.revision
        }
    };
    grade.revision = write(&grade, &state).await;
    state.revision += 1;
    // A new course version: a unchanged, b changed, c gone, d new.
    grade.course_version += 1;
    grade.subsections = vec![
        sub("a", 1.0, 2.0, true),
        sub("b", 1.0, 1.0, true),
        sub("d", 0.5, 1.0, true),
    ];
    grade.revision = write(&grade, &state).await;
    state.revision += 1;
    // Only a flag changes.
    grade.subsections[0].graded = false;
    grade.revision = write(&grade, &state).await;
    state.revision += 1;
    // More than one statement carries, then few again.
    grade.course_version += 1;
    grade.subsections = (0..1203)
        .map(|i| sub(&format!("s{i:04}"), (i % 3) as f64, 2.0, i % 2 == 0))
        .collect();
    grade.revision = write(&grade, &state).await;
    state.revision += 1;
    grade.course_version += 1;
    grade.subsections = vec![sub("s0001", 1.0, 2.0, false), sub("z", 0.0, 0.0, true)];
    grade.revision = write(&grade, &state).await;
    state.revision += 1;
    // None at all.
    grade.course_version += 1;
    grade.subsections.clear();
    grade.revision = write(&grade, &state).await;
    // A grade saved on its own follows the same rule.
    grade.course_version += 1;
    grade.subsections = vec![sub("a", 2.0, 2.0, true)];
    store.save_course_grade(&grade).await.expect("grade alone");
    let back = store
        .course_grade(fay.id, &course)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored(&back), stored(&grade));
}

/// The stored grade's subsection digest is read back with the learner's
/// progress, as the write made it (course version, the revision it wrote,
/// every row); a grade that says which rows differ from those stored has
/// only those written, and none when it lists none; one that does not know
/// writes them all again.
async fn subsection_digests(store: &dyn Store) {
    use lectern_app::model::{ProblemState, StoredSubsections, SubsectionGradeRecord};
    let ida = store.create_user(&new_user("Ida")).await.expect("ida");
    let course = CourseKey::new("Org", "D505", "R1").expect("key");
    let sub = |id: &str, earned: f64| SubsectionGradeRecord {
        block_id: id.into(),
        earned,
        possible: 2.0,
        graded: true,
    };
    let rows = || async {
        let back = store
            .course_grade(ida.id, &course)
            .await
            .expect("read")
            .expect("stored");
        let mut rows: Vec<_> = back
            .subsections
            .iter()
            .map(|s| (s.block_id.clone(), s.earned))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    };
    let mut state = ProblemState::fresh(ida.id, &course.usage_key("problem", "p1"));
    let mut grade = first_grade(
        ida.id,
        &course,
        vec![sub("a", 0.0), sub("b", 0.0), sub("c", 0.0)],
        Utc::now(),
    );
    let mut write = |grade: &lectern_app::model::GradeRecord| {
        let (grade, written) = (grade.clone(), state.clone());
        state.revision += 1;
        async move {
            store
                .save_problem_state(&written, None, Some(&grade))
                .await
                .expect("write");
            let progress = store
                .course_progress(ida.id, &grade.course_key)
                .await
                .expect("read");
            assert_eq!(
                progress.subsections_digest,
                Some(grade.written_subsections_digest()),
                "the digest of the rows as written"
            );
            progress.grade_revision.expect("a grade")
        }
    };
    grade.revision = write(&grade).await;
    assert_eq!(grade.revision, 1);
    // b changes and is listed; c changes but is not listed, so is not written.
    grade.subsections[1].earned = 1.0;
    grade.subsections[2].earned = 2.0;
    grade.stored_subsections = StoredSubsections::DifferAt(vec![1]);
    grade.revision = write(&grade).await;
    let (a, b, c) = ("a".to_string(), "b".to_string(), "c".to_string());
    assert_eq!(
        rows().await,
        vec![(a.clone(), 0.0), (b.clone(), 1.0), (c.clone(), 0.0)]
    );
    // Nothing listed: no row written, the grade itself still is.
    grade.subsections[0].earned = 2.0;
    grade.stored_subsections = StoredSubsections::DifferAt(Vec::new());
    grade.percent = 0.25;
    grade.revision = write(&grade).await;
    assert_eq!(
        rows().await,
        vec![(a.clone(), 0.0), (b.clone(), 1.0), (c.clone(), 0.0)]
    );
    let back = store
        .course_grade(ida.id, &course)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!((back.percent, back.revision), (0.25, 3));
    // Unknown: every row again, and rows of another version go.
    grade.stored_subsections = StoredSubsections::Unknown;
    grade.course_version += 1;
    grade.subsections.pop();
    grade.revision = write(&grade).await;
    assert_eq!(rows().await, vec![(a, 2.0), (b, 1.0)]);
}

/// A learner's progress in a course is their states there (not another
/// course's, not another learner's) with their stored grade's revision; a
/// learner with neither gets an empty progress, not an error.
async fn course_progress(store: &dyn Store) {
    use lectern_app::model::ProblemState;
    let gil = store.create_user(&new_user("Gil")).await.expect("gil");
    let hal = store.create_user(&new_user("Hal")).await.expect("hal");
    let course = CourseKey::new("Org", "P303", "R1").expect("key");
    let other = CourseKey::new("Org", "P304", "R1").expect("key");
    let empty = store.course_progress(gil.id, &course).await.expect("read");
    assert_eq!(empty, Default::default());

    let mut first = ProblemState::fresh(gil.id, &course.usage_key("problem", "p1"));
    first.attempts = 2;
    first.answers = serde_json::json!({"p1_2_1": "choice_2"});
    store
        .save_problem_state(&first, None, None)
        .await
        .expect("state without a grade");
    let progress = store.course_progress(gil.id, &course).await.expect("read");
    assert_eq!(progress.grade_revision, None, "no grade stored yet");
    assert_eq!(progress.states.len(), 1);
    let read = progress
        .state_of(&first.usage_key)
        .expect("the state is found by its problem");
    assert_eq!(
        (read.attempts, &read.answers, read.revision),
        (2, &first.answers, 1)
    );

    let second = ProblemState::fresh(gil.id, &course.usage_key("problem", "p2"));
    let elsewhere = ProblemState::fresh(gil.id, &other.usage_key("problem", "p1"));
    let not_gils = ProblemState::fresh(hal.id, &course.usage_key("problem", "p1"));
    let grade = first_grade(gil.id, &course, Vec::new(), Utc::now());
    store
        .save_problem_state(&second, None, Some(&grade))
        .await
        .expect("state with a grade");
    for s in [&elsewhere, &not_gils] {
        store
            .save_problem_state(s, None, None)
            .await
            .expect("state");
    }
    let progress = store.course_progress(gil.id, &course).await.expect("read");
    assert_eq!(
        progress.grade_revision,
        Some(1),
        "the first grade's revision"
    );
    let mut keys: Vec<String> = progress
        .states
        .iter()
        .map(|s| s.usage_key.to_string())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            course.usage_key("problem", "p1").to_string(),
            course.usage_key("problem", "p2").to_string()
        ]
    );
    assert!(progress.states.iter().all(|s| s.user_id == gil.id));
}

async fn learner_state(store: &dyn Store) {
    use lectern_app::model::{GradeRecord, ProblemState, Submission, SubsectionGradeRecord};
    let eve = store.create_user(&new_user("Eve")).await.expect("eve");
    let course = CourseKey::new("Org", "C101", "R1").expect("key");
    let usage = course.usage_key("problem", "p1");
    assert!(store
        .problem_state(eve.id, &usage)
        .await
        .expect("get")
        .is_none());
    let mut state = ProblemState::fresh(eve.id, &usage);
    state.attempts = 1;
    state.earned = 1.0;
    state.possible = 2.0;
    state.ever_attempted = true;
    state.answers = serde_json::json!({"p1_2_1": "choice_1"});
    let sub = Submission {
        user_id: eve.id,
        usage_key: usage.clone(),
        attempt: 1,
        answers: state.answers.clone(),
        correct_map: serde_json::json!({}),
        earned: 1.0,
        possible: 2.0,
        created_at: Utc::now(),
        idempotency_key: None,
    };
    let grade = GradeRecord {
        user_id: eve.id,
        course_key: course.clone(),
        revision: 0,
        course_version: 2,
        percent: 0.5,
        letter_grade: Some("Pass".into()),
        passed: true,
        detail: lectern_app::model::JsonText::of(&serde_json::json!({"percent": 0.5}))
            .expect("a JSON value"),
        subsections: vec![SubsectionGradeRecord {
            block_id: "s1".into(),
            earned: 1.0,
            possible: 2.0,
            graded: true,
        }],
        stored_subsections: Default::default(),
        updated_at: Utc::now(),
    };
    store
        .save_problem_state(&state, Some(&sub), Some(&grade))
        .await
        .expect("first save");
    // The same revision again loses: nothing of it is written.
    let mut stale = state.clone();
    stale.attempts = 99;
    let mut sub2 = sub.clone();
    sub2.attempt = 99;
    assert!(matches!(
        store.save_problem_state(&stale, Some(&sub2), None).await,
        Err(StoreError::StaleRevision)
    ));
    let stored = store
        .problem_state(eve.id, &usage)
        .await
        .expect("get")
        .expect("saved");
    assert_eq!(
        (stored.revision, stored.attempts, stored.earned),
        (1, 1, 1.0)
    );
    assert_eq!(stored.answers, serde_json::json!({"p1_2_1": "choice_1"}));
    assert_eq!(
        store.submissions(eve.id, &usage).await.expect("subs").len(),
        1,
        "the refused write left no submission"
    );
    // A stale grade revision refuses the whole write, state included.
    let mut next = stored.clone();
    next.attempts = 2;
    assert!(matches!(
        store.save_problem_state(&next, None, Some(&grade)).await,
        Err(StoreError::StaleRevision)
    ));
    assert_eq!(
        store
            .problem_state(eve.id, &usage)
            .await
            .expect("get")
            .expect("kept")
            .attempts,
        1
    );
    let saved = store
        .course_grade(eve.id, &course)
        .await
        .expect("grade")
        .expect("saved");
    assert_eq!(
        (saved.revision, saved.percent, saved.course_version),
        (1, 0.5, 2)
    );
    assert_eq!(saved.subsections.len(), 1);
    let mut newer = saved.clone();
    newer.percent = 0.75;
    store
        .save_problem_state(&next, None, Some(&newer))
        .await
        .expect("fresh revisions write");
    assert_eq!(
        store
            .course_grade(eve.id, &course)
            .await
            .expect("grade")
            .expect("saved")
            .percent,
        0.75
    );
    assert_eq!(
        store
            .problem_states(eve.id, &course)
            .await
            .expect("all")
            .len(),
        1
    );
    assert!(
        store.save_course_grade(&saved).await.is_err(),
        "an old grade revision cannot overwrite"
    );
    store
        .enroll(eve.id, &course, "audit", Utc::now())
        .await
        .expect("enroll");
    assert!(store
        .enrolled_users(&course)
        .await
        .expect("enrolled")
        .iter()
        .any(|u| u.id == eve.id));
}
