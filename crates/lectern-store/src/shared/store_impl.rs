//! The storage traits of `lectern_app::store`, implemented once for
//! [`Db`] over either sqlx driver: each method calls the query of the same
//! name in `db_accounts`, `db_courses` or `db_learning`. `SqliteStore` and
//! `PgStore` are `Db<Sqlite>` and `Db<Postgres>`.
//!
//! The `where` clause (repeated per trait, as Rust wants) names what the
//! code needs of a driver: both sqlx drivers meet it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{
    AuthToken, CourseRecord, CourseRole, Enrollment, GradeRecord, NewUser, ProblemState, SiteStats,
    Submission, TokenKind, User, UserId,
};
use lectern_app::profile::Profile;
use lectern_app::roster::EnrollmentQuery;
use lectern_app::store::{
    BlobInfo, BlobSource, BlobStore, CourseStore, EnrollmentStore, HealthStore, LearnerStateStore,
    NewBlob, PasswordReset, StoreResult, TokenStore, UserStore,
};
use lectern_content::{CourseKey, CourseTree, UsageKey};
use sqlx::{ColumnIndex, Database, Encode, Executor, FromRow, IntoArguments, Type};

use super::db::{Backend, Db};
use super::rows::{
    CourseRow, EnrollmentRow, GradeRow, LoginRow, ProfileRow, RosterRow, StateRow, StatsRow,
    SubmissionRow, SubsectionRow, TeamRow, TokenRow, UserRow,
};

#[async_trait]
impl<DB> UserStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
    for<'r> UserRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> LoginRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TokenRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> ProfileRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> CourseRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TeamRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StateRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubmissionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> GradeRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubsectionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> EnrollmentRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> RosterRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StatsRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, String): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, <DB as Database>::Row>,
{
    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        Db::create_user(self, new).await
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        Db::user_by_id(self, id).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        Db::user_by_username(self, username).await
    }

    async fn user_for_login(&self, login: &str) -> StoreResult<Option<(User, String)>> {
        Db::user_for_login(self, login).await
    }

    async fn search_users(&self, query: &str, limit: i64, offset: i64) -> StoreResult<Vec<User>> {
        Db::search_users(self, query, limit, offset).await
    }

    async fn set_user_active(&self, id: UserId, active: bool) -> StoreResult<()> {
        self.set_user_flag("is_active", id, active).await
    }

    async fn set_user_admin(&self, id: UserId, admin: bool) -> StoreResult<()> {
        self.set_user_flag("is_admin", id, admin).await
    }

    async fn set_user_course_creator(&self, id: UserId, creator: bool) -> StoreResult<()> {
        self.set_user_flag("is_course_creator", id, creator).await
    }

    async fn count_admins(&self) -> StoreResult<i64> {
        Db::count_admins(self).await
    }

    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        Db::set_password(self, id, password_hash, keep).await
    }

    async fn profile(&self, id: UserId) -> StoreResult<Profile> {
        Db::profile(self, id).await
    }

    async fn update_account(&self, id: UserId, name: &str, profile: &Profile) -> StoreResult<()> {
        Db::update_account(self, id, name, profile).await
    }
}

#[async_trait]
impl<DB> TokenStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
    for<'r> UserRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> LoginRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TokenRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> ProfileRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> CourseRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TeamRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StateRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubmissionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> GradeRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubsectionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> EnrollmentRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> RosterRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StatsRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, String): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, <DB as Database>::Row>,
{
    async fn insert_token(&self, token: &AuthToken) -> StoreResult<()> {
        Db::insert_token(self, token).await
    }

    async fn token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<AuthToken>> {
        Db::token(self, token_hash, now).await
    }

    async fn delete_token(&self, token_hash: &str) -> StoreResult<()> {
        Db::delete_token(self, token_hash).await
    }

    async fn delete_user_tokens(&self, user_id: UserId) -> StoreResult<()> {
        Db::delete_user_tokens(self, user_id).await
    }

    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        Db::delete_expired_tokens(self, now).await
    }

    async fn delete_user_tokens_of_kind(
        &self,
        user_id: UserId,
        kind: TokenKind,
    ) -> StoreResult<u64> {
        Db::delete_user_tokens_of_kind(self, user_id, kind).await
    }

    async fn insert_password_reset(&self, reset: &PasswordReset) -> StoreResult<()> {
        Db::insert_password_reset(self, reset).await
    }

    async fn count_password_resets(&self, user_id: UserId, now: DateTime<Utc>) -> StoreResult<i64> {
        Db::count_password_resets(self, user_id, now).await
    }

    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        Db::take_password_reset(self, token_hash, now).await
    }

    async fn peek_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        Db::peek_password_reset(self, token_hash, now).await
    }
}

#[async_trait]
impl<DB> CourseStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
    for<'r> UserRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> LoginRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TokenRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> ProfileRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> CourseRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TeamRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StateRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubmissionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> GradeRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubsectionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> EnrollmentRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> RosterRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StatsRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, String): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, <DB as Database>::Row>,
{
    async fn create_course(
        &self,
        draft: &CourseTree,
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<CourseRecord> {
        Db::create_course(self, draft, owner, now).await
    }

    async fn course(&self, key: &CourseKey) -> StoreResult<Option<CourseRecord>> {
        Db::course(self, key).await
    }

    async fn list_courses(&self) -> StoreResult<Vec<CourseRecord>> {
        Db::list_courses(self).await
    }

    async fn draft(&self, key: &CourseKey) -> StoreResult<Option<(CourseTree, i64)>> {
        Db::draft(self, key).await
    }

    async fn save_draft(
        &self,
        tree: &CourseTree,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        Db::save_draft(self, tree, expected_revision, now).await
    }

    async fn publish(
        &self,
        key: &CourseKey,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        Db::publish(self, key, expected_revision, now).await
    }

    async fn published(&self, key: &CourseKey, version: i64) -> StoreResult<Option<CourseTree>> {
        Db::published(self, key, version).await
    }

    async fn import_course(
        &self,
        tree: &CourseTree,
        blobs: &[NewBlob<'_>],
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<(CourseRecord, i64)> {
        Db::import_course(self, tree, blobs, owner, now).await
    }

    async fn grant_course_role(
        &self,
        key: &CourseKey,
        user: UserId,
        role: CourseRole,
    ) -> StoreResult<()> {
        Db::grant_course_role(self, key, user, role).await
    }

    async fn revoke_course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<()> {
        Db::revoke_course_role(self, key, user).await
    }

    async fn course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<Option<CourseRole>> {
        Db::course_role(self, key, user).await
    }

    async fn courses_with_role(&self, user: UserId) -> StoreResult<Vec<(CourseKey, CourseRole)>> {
        Db::courses_with_role(self, user).await
    }

    async fn course_team(&self, key: &CourseKey) -> StoreResult<Vec<(User, CourseRole)>> {
        Db::course_team(self, key).await
    }
}

#[async_trait]
impl<DB> EnrollmentStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
    for<'r> UserRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> LoginRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TokenRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> ProfileRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> CourseRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TeamRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StateRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubmissionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> GradeRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubsectionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> EnrollmentRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> RosterRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StatsRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, String): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, <DB as Database>::Row>,
{
    async fn enroll(
        &self,
        user: UserId,
        key: &CourseKey,
        mode: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Enrollment> {
        Db::enroll(self, user, key, mode, now).await
    }

    async fn unenroll(&self, user: UserId, key: &CourseKey) -> StoreResult<()> {
        Db::unenroll(self, user, key).await
    }

    async fn enrollment(&self, user: UserId, key: &CourseKey) -> StoreResult<Option<Enrollment>> {
        Db::enrollment(self, user, key).await
    }

    async fn enrollments_for_user(&self, user: UserId) -> StoreResult<Vec<Enrollment>> {
        Db::enrollments_for_user(self, user).await
    }

    async fn count_enrollments(&self, key: &CourseKey) -> StoreResult<i64> {
        Db::count_enrollments(self, key).await
    }

    async fn enrolled_users(&self, key: &CourseKey) -> StoreResult<Vec<User>> {
        Db::enrolled_users(self, key).await
    }

    async fn list_enrollments(
        &self,
        query: &EnrollmentQuery,
    ) -> StoreResult<Vec<(Enrollment, String)>> {
        Db::list_enrollments(self, query).await
    }
}

#[async_trait]
impl<DB> LearnerStateStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
    for<'r> UserRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> LoginRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TokenRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> ProfileRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> CourseRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TeamRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StateRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubmissionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> GradeRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubsectionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> EnrollmentRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> RosterRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StatsRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, String): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, <DB as Database>::Row>,
{
    async fn problem_state(
        &self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Option<ProblemState>> {
        Db::problem_state(self, user, usage_key).await
    }

    async fn problem_states(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Vec<ProblemState>> {
        Db::problem_states(self, user, course).await
    }

    async fn save_problem_state(
        &self,
        state: &ProblemState,
        submission: Option<&Submission>,
        grade: Option<&GradeRecord>,
    ) -> StoreResult<()> {
        Db::save_problem_state(self, state, submission, grade).await
    }

    async fn submissions(
        &self,
        user: UserId,
        usage_key: &UsageKey,
    ) -> StoreResult<Vec<Submission>> {
        Db::submissions(self, user, usage_key).await
    }

    async fn course_grade(
        &self,
        user: UserId,
        course: &CourseKey,
    ) -> StoreResult<Option<GradeRecord>> {
        Db::course_grade(self, user, course).await
    }

    async fn save_course_grade(&self, grade: &GradeRecord) -> StoreResult<()> {
        Db::save_course_grade(self, grade).await
    }
}

#[async_trait]
impl<DB> BlobStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
    for<'r> UserRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> LoginRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TokenRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> ProfileRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> CourseRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TeamRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StateRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubmissionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> GradeRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubsectionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> EnrollmentRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> RosterRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StatsRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, String): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, <DB as Database>::Row>,
{
    async fn put_blob(&self, blob: &NewBlob<'_>) -> StoreResult<()> {
        Db::put_blob(self, blob).await
    }

    async fn put_blob_stream(
        &self,
        sha256: &str,
        size: u64,
        source: BlobSource<'_>,
    ) -> StoreResult<()> {
        Db::put_blob_stream(self, sha256, size, source).await
    }

    async fn blob(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        Db::blob(self, sha256).await
    }

    async fn blob_info(&self, sha256: &str) -> StoreResult<Option<BlobInfo>> {
        Db::blob_info(self, sha256).await
    }

    async fn blob_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> StoreResult<Option<Vec<u8>>> {
        Db::blob_range(self, sha256, offset, len).await
    }
}

#[async_trait]
impl<DB> HealthStore for Db<DB>
where
    DB: Backend,
    for<'c> &'c mut <DB as Database>::Connection: Executor<'c, Database = DB>,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<<DB as Database>::Row>,
    for<'r> UserRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> LoginRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TokenRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> ProfileRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> CourseRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> TeamRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StateRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubmissionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> GradeRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> SubsectionRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> EnrollmentRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> RosterRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> StatsRow: FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String,): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (String, String): FromRow<'r, <DB as Database>::Row>,
    for<'r> (i64, String, i64): FromRow<'r, <DB as Database>::Row>,
    for<'r> (Vec<u8>,): FromRow<'r, <DB as Database>::Row>,
{
    async fn ping(&self) -> StoreResult<()> {
        Db::ping(self).await
    }

    fn backend(&self) -> &'static str {
        <DB as Backend>::NAME
    }

    async fn stats(&self, now: DateTime<Utc>) -> StoreResult<SiteStats> {
        Db::stats(self, now).await
    }

    async fn close(&self) {
        Db::close(self).await
    }
}
