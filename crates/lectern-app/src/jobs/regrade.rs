//! The course regrade job: every enrolled learner's grade recomputed from
//! their stored problem states for one named published version.
//!
//! It is safe to run twice or to stop anywhere: each learner's grade is a
//! function of their states and the version, written in its own
//! transaction, so a rerun after a crash ends where a run from scratch
//! would. It never replaces a grade computed for a newer version: the store
//! refuses such a write (`course_version` guard) and the job then skips
//! that learner; a regrade whose version is no longer the newest is
//! skipped as a whole (the newer version's own job grades everyone).

use lectern_content::CourseKey;

use crate::error::{AppResult, StoreError};
use crate::reports::PROGRESS_EVERY;
use crate::Lectern;

/// How often one learner's grade write is retried when a concurrent answer
/// changes the grade between read and write.
const WRITE_RETRIES: usize = 5;

/// What a regrade did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegradeOutcome {
    Graded {
        /// Learners whose grade was written.
        learners: usize,
        /// Learners left alone because they already had a newer version's grade.
        newer: usize,
    },
    /// The course is gone or has a newer published version than this job's.
    Superseded,
}

impl Lectern {
    /// Regrades every enrolled learner of `key` for published `version`.
    pub async fn regrade_course_version(
        &self,
        key: &CourseKey,
        version: i64,
    ) -> AppResult<RegradeOutcome> {
        let Some(record) = self.store.course(key).await? else {
            return Ok(RegradeOutcome::Superseded);
        };
        let newest = record.published_version;
        if newest != Some(version) {
            tracing::info!(course = %key, version, ?newest, "regrade skipped: not the newest version");
            self.regrade_ended(key, version, "superseded", 0, 0).await;
            return Ok(RegradeOutcome::Superseded);
        }
        let result = self.regrade_learners(key, version, record).await;
        if result.is_err() {
            self.regrade_ended(key, version, "failed", 0, 0).await;
        }
        result
    }

    /// The regrade proper, recording its progress (`reports/regrades.rs`).
    async fn regrade_learners(
        &self,
        key: &CourseKey,
        version: i64,
        record: crate::model::CourseRecord,
    ) -> AppResult<RegradeOutcome> {
        // Graded against the named version: should a newer one be published
        // while this runs, the store refuses these older grades (see below).
        let course = self.course_at_version(record, version).await?;
        let (mut learners, mut newer) = (0, 0);
        let everyone = self.store.enrolled_users(key).await?;
        let total = everyone.len();
        self.regrade_started(key, version, total).await;
        'learners: for (done, learner) in everyone.into_iter().enumerate() {
            if done > 0 && done % PROGRESS_EVERY == 0 {
                self.regrade_advanced(key, version, done).await;
            }
            for _ in 0..WRITE_RETRIES {
                let record = self.grade_record_with(&learner, &course, None).await?;
                match self.store.save_course_grade(&record).await {
                    Ok(()) => {
                        learners += 1;
                        continue 'learners;
                    }
                    Err(StoreError::StaleRevision) => {
                        // Either an answer changed the grade meanwhile (retry),
                        // or it belongs to a newer version (leave it).
                        let stored = self.store.course_grade(learner.id, key).await?;
                        if stored.is_some_and(|g| g.course_version > version) {
                            newer += 1;
                            continue 'learners;
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            return Err(StoreError::StaleRevision.into());
        }
        tracing::info!(course = %key, version, learners, newer, "grades recomputed");
        self.regrade_ended(key, version, "done", total, total).await;
        Ok(RegradeOutcome::Graded { learners, newer })
    }
}
