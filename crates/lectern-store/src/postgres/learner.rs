//! Learner state, enrolments and health: the shared queries of
//! `shared::db_learning` on this backend's pools.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{
    Enrollment, GradeRecord, ProblemState, SiteStats, Submission, User, UserId,
};
use lectern_app::roster::EnrollmentQuery;
use lectern_app::store::{EnrollmentStore, HealthStore, LearnerStateStore, StoreResult};
use lectern_content::{CourseKey, UsageKey};

use super::PgStore;

#[async_trait]
impl LearnerStateStore for PgStore {
    async fn problem_state(
        &self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Option<ProblemState>> {
        self.db.problem_state(user, usage_key).await
    }

    async fn problem_states(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Vec<ProblemState>> {
        self.db.problem_states(user, course).await
    }

    async fn save_problem_state(
        &self,
        state: &ProblemState,
        submission: Option<&Submission>,
        grade: Option<&GradeRecord>,
    ) -> StoreResult<()> {
        self.db.save_problem_state(state, submission, grade).await
    }

    async fn submissions(
        &self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Vec<Submission>> {
        self.db.submissions(user, usage_key).await
    }

    async fn course_grade(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Option<GradeRecord>> {
        self.db.course_grade(user, course).await
    }

    async fn save_course_grade(&self, grade: &GradeRecord) -> StoreResult<()> {
        self.db.save_course_grade(grade).await
    }
}

#[async_trait]
impl EnrollmentStore for PgStore {
    async fn enroll(
        &self,
        user: UserId,
        key: &CourseKey,
        mode: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Enrollment> {
        self.db.enroll(user, key, mode, now).await
    }

    async fn unenroll(&self, user: UserId, key: &CourseKey) -> StoreResult<()> {
        self.db.unenroll(user, key).await
    }

    async fn enrollment(&self, user: UserId, key: &CourseKey) -> StoreResult<Option<Enrollment>> {
        self.db.enrollment(user, key).await
    }

    async fn enrollments_for_user(&self, user: UserId) -> StoreResult<Vec<Enrollment>> {
        self.db.enrollments_for_user(user).await
    }

    async fn count_enrollments(&self, key: &CourseKey) -> StoreResult<i64> {
        self.db.count_enrollments(key).await
    }

    async fn enrolled_users(&self, key: &CourseKey) -> StoreResult<Vec<User>> {
        self.db.enrolled_users(key).await
    }

    async fn list_enrollments(
        &self,
        query: &EnrollmentQuery,
    ) -> StoreResult<Vec<(Enrollment, String)>> {
        self.db.list_enrollments(query).await
    }
}

#[async_trait]
impl HealthStore for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db.ping().await
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn stats(&self, now: DateTime<Utc>) -> StoreResult<SiteStats> {
        self.db.stats(now).await
    }

    async fn close(&self) {
        Self::close(self).await;
    }
}
