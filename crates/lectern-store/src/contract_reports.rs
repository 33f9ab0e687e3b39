//! The contract of `ReportStore` on both backends: the consistent read
//! pages through every learner ever enrolled with their states and
//! profiles, and sees none of a write made while it runs; one pending
//! report per (course, kind); chunks round-trip; a finished report prunes
//! the course's older ones beyond `keep`; a failed one keeps no bytes;
//! regrade progress rows upsert.

use async_trait::async_trait;
use chrono::Utc;
use lectern_app::jobs::NewJob;
use lectern_app::model::ProblemState;
use lectern_app::profile::Profile;
use lectern_app::reports::store::{
    LearnerQuery, LearnerRecord, LearnerSink, NewReport, RegradeRun, ReportState,
};
use lectern_app::store::{Store, StoreResult};

use crate::contract::{dates, new_user, sample_tree};

pub async fn run(store: &dyn Store) {
    consistent_read(store).await;
    reports(store).await;
    regrade_runs(store).await;
}

/// Collects pages; after the first, writes a state for the last learner
/// (who is on a later page), which the read must not see.
struct Collect<'a> {
    store: &'a dyn Store,
    pages: Vec<Vec<LearnerRecord>>,
    late: Option<ProblemState>,
}

#[async_trait]
impl LearnerSink for Collect<'_> {
    async fn page(&mut self, learners: Vec<LearnerRecord>) -> StoreResult<()> {
        if self.pages.is_empty() {
            if let Some(state) = self.late.take() {
                self.store.save_problem_state(&state, None, None).await?;
            }
        }
        self.pages.push(learners);
        Ok(())
    }
}

async fn consistent_read(store: &dyn Store) {
    let tree = sample_tree("Reports");
    let key = tree.key.clone();
    store
        .create_course(&tree, dates(), None, Utc::now())
        .await
        .expect("course");
    let mut users = Vec::new();
    for i in 0..5 {
        let u = store
            .create_user(&new_user(&format!("Rep{i}")))
            .await
            .expect("user");
        store
            .enroll(u.id, &key, "audit", Utc::now())
            .await
            .expect("enroll");
        users.push(u);
    }
    store.unenroll(users[1].id, &key).await.expect("unenroll");
    let problem = key.usage_key("problem", "p1");
    let mut state = ProblemState::fresh(users[0].id, &problem);
    state.attempts = 1;
    state.answers = serde_json::json!({"p1_2_1": "x"});
    store
        .save_problem_state(&state, None, None)
        .await
        .expect("state");
    let profile = Profile {
        country: Some("FR".into()),
        ..Profile::default()
    };
    store
        .update_account(users[2].id, "Two", &profile)
        .await
        .expect("profile");
    let late = ProblemState::fresh(users[4].id, &problem);
    let mut sink = Collect {
        store,
        pages: Vec::new(),
        late: Some(late),
    };
    let query = LearnerQuery {
        course: key.clone(),
        page_size: 2,
        states: true,
        profiles: true,
    };
    store.read_learners(&query, &mut sink).await.expect("read");
    let sizes: Vec<usize> = sink.pages.iter().map(Vec::len).collect();
    assert_eq!(
        sizes,
        [2, 2, 1],
        "pages of two, every learner ever enrolled"
    );
    let all: Vec<&LearnerRecord> = sink.pages.iter().flatten().collect();
    let ids: Vec<i64> = all.iter().map(|l| l.user.id).collect();
    assert_eq!(ids, users.iter().map(|u| u.id).collect::<Vec<_>>());
    assert!(!all[1].enrollment.is_active && all[0].enrollment.is_active);
    assert_eq!(all[0].states.len(), 1);
    assert_eq!(all[0].states[0].answers["p1_2_1"], "x");
    assert_eq!(
        all[2].profile.as_ref().and_then(|p| p.country.as_deref()),
        Some("FR")
    );
    assert_eq!(all[2].user.name, "Two");
    assert!(
        all[4].states.is_empty(),
        "a state written during the read is not in it"
    );
    assert_eq!(
        store
            .problem_states(users[4].id, &key)
            .await
            .expect("states")
            .len(),
        1
    );
}

fn job(id: i64, now: chrono::DateTime<Utc>) -> NewJob {
    NewJob {
        kind: "course_report".into(),
        payload: serde_json::json!({"report_id": id}),
        dedupe_key: Some(format!("course_report:{id}")),
        run_after: now,
        max_attempts: 3,
    }
}

async fn reports(store: &dyn Store) {
    let new = |kind: &str| NewReport {
        course_key: "course-v1:Org+Rep+R".into(),
        kind: kind.into(),
        requested_by: 1,
        file_name: format!("{kind}.csv"),
        created_at: Utc::now(),
    };
    let (first, created) = store
        .create_report(&new("grade"), job)
        .await
        .expect("create");
    assert!(created);
    let (again, created) = store
        .create_report(&new("grade"), job)
        .await
        .expect("again");
    assert_eq!(
        (again, created),
        (first, false),
        "one pending report per kind"
    );
    store
        .put_report_chunk(first, 0, b"a,b\r\n")
        .await
        .expect("chunk");
    store
        .put_report_chunk(first, 1, b"1,2\r\n")
        .await
        .expect("chunk");
    store
        .finish_report(first, 10, 1, 2, Utc::now(), 2)
        .await
        .expect("finish");
    let info = store.report(first).await.expect("read").expect("there");
    assert_eq!(
        (info.state, info.size, info.rows, info.chunks),
        (ReportState::Ready, 10, 1, 2)
    );
    assert_eq!(
        store
            .report_chunk(first, 1)
            .await
            .expect("chunk")
            .as_deref(),
        Some(&b"1,2\r\n"[..])
    );

    let (second, _) = store
        .create_report(&new("grade"), job)
        .await
        .expect("second");
    assert_ne!(second, first, "a finished report leaves room for a new one");
    store
        .put_report_chunk(second, 0, b"x")
        .await
        .expect("chunk");
    store
        .fail_report(second, "boom", Utc::now())
        .await
        .expect("fail");
    let failed = store.report(second).await.expect("read").expect("there");
    assert_eq!(
        (failed.state, failed.error.as_deref()),
        (ReportState::Failed, Some("boom"))
    );
    assert_eq!(store.report_chunk(second, 0).await.expect("chunk"), None);

    let (third, _) = store
        .create_report(&new("enrollment"), job)
        .await
        .expect("third");
    store
        .finish_report(third, 0, 0, 0, Utc::now(), 2)
        .await
        .expect("finish");
    let left: Vec<i64> = store
        .reports_of_course("course-v1:Org+Rep+R", 10)
        .await
        .expect("list")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [third, second], "the oldest beyond two is gone");
    assert_eq!(store.report_chunk(first, 0).await.expect("chunk"), None);
}

async fn regrade_runs(store: &dyn Store) {
    let now = Utc::now();
    let mut run = RegradeRun {
        course_key: "course-v1:Org+Rep+R".into(),
        version: 3,
        state: "queued".into(),
        requested_by: Some(1),
        learners_total: 0,
        learners_done: 0,
        created_at: now,
        updated_at: now,
    };
    store.save_regrade_run(&run).await.expect("save");
    store
        .regrade_progress(&run.course_key, 3, 5, now)
        .await
        .expect("progress");
    let runs = store.regrade_runs(&run.course_key, 10).await.expect("runs");
    assert_eq!(runs[0].learners_done, 0, "only a running regrade advances");
    run.state = "running".into();
    run.learners_total = 10;
    store.save_regrade_run(&run).await.expect("save");
    store
        .regrade_progress(&run.course_key, 3, 5, now)
        .await
        .expect("progress");
    let runs = store.regrade_runs(&run.course_key, 10).await.expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (
            runs[0].state.as_str(),
            runs[0].learners_done,
            runs[0].learners_total
        ),
        ("running", 5, 10)
    );
}
