//! Random assignment, as Open edX does it: when a course uses cohorts, a
//! learner who enrols and is in no cohort yet is put in one of the
//! course's random cohorts, drawn uniformly; a course with no random
//! cohort gets a random cohort named "Default Group" first. Learners who
//! enrolled before cohorts were switched on are not swept up: the cohort
//! page counts them and the course team assigns them (by hand or CSV).

use lectern_content::CourseKey;

use crate::model::User;
use crate::Lectern;

impl Lectern {
    /// Called after `user` enrolled in `key` (the enrolment is committed):
    /// puts them in a random cohort when the course uses cohorts. A failure
    /// is logged, never the enrolment's failure; the course team sees the
    /// learner among those without a cohort.
    pub(crate) async fn cohort_after_enrolment(&self, user: &User, key: &CourseKey) {
        match self.cohorts_enabled(key).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(course = %key, user = %user.username, error = %e, "could not tell whether the course uses cohorts");
                return;
            }
        }
        let pick: u64 = rand::random();
        match self
            .store
            .assign_random_cohort(&key.to_string(), user.id, pick, self.now())
            .await
        {
            Ok(Some(c)) => {
                tracing::info!(course = %key, user = %user.username, cohort = c.id, "learner assigned to a random cohort")
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(course = %key, user = %user.username, error = %e, "random cohort assignment failed")
            }
        }
    }
}
