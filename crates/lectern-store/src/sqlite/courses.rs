//! Courses, roles and blobs: the shared queries of `shared::db_courses`
//! on this backend's pools.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lectern_app::model::{CourseRecord, CourseRole, User, UserId};
use lectern_app::store::{BlobInfo, BlobSource, BlobStore, CourseStore, NewBlob, StoreResult};
use lectern_content::{CourseKey, CourseTree};

use super::SqliteStore;

#[async_trait]
impl CourseStore for SqliteStore {
    async fn create_course(
        &self,
        draft: &CourseTree,
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<CourseRecord> {
        self.db.create_course(draft, owner, now).await
    }

    async fn course(&self, key: &CourseKey) -> StoreResult<Option<CourseRecord>> {
        self.db.course(key).await
    }

    async fn list_courses(&self) -> StoreResult<Vec<CourseRecord>> {
        self.db.list_courses().await
    }

    async fn draft(&self, key: &CourseKey) -> StoreResult<Option<(CourseTree, i64)>> {
        self.db.draft(key).await
    }

    async fn save_draft(
        &self,
        tree: &CourseTree,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        self.db.save_draft(tree, expected_revision, now).await
    }

    async fn publish(
        &self,
        key: &CourseKey,
        expected_revision: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        self.db.publish(key, expected_revision, now).await
    }

    async fn published(&self, key: &CourseKey, version: i64) -> StoreResult<Option<CourseTree>> {
        self.db.published(key, version).await
    }

    async fn import_course(
        &self,
        tree: &CourseTree,
        blobs: &[NewBlob<'_>],
        owner: Option<UserId>,
        now: DateTime<Utc>,
    ) -> StoreResult<(CourseRecord, i64)> {
        self.db.import_course(tree, blobs, owner, now).await
    }

    async fn grant_course_role(
        &self,
        key: &CourseKey,
        user: UserId,
        role: CourseRole,
    ) -> StoreResult<()> {
        self.db.grant_course_role(key, user, role).await
    }

    async fn revoke_course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<()> {
        self.db.revoke_course_role(key, user).await
    }

    async fn course_role(&self, key: &CourseKey, user: UserId) -> StoreResult<Option<CourseRole>> {
        self.db.course_role(key, user).await
    }

    async fn courses_with_role(&self, user: UserId) -> StoreResult<Vec<(CourseKey, CourseRole)>> {
        self.db.courses_with_role(user).await
    }

    async fn course_team(&self, key: &CourseKey) -> StoreResult<Vec<(User, CourseRole)>> {
        self.db.course_team(key).await
    }
}

#[async_trait]
impl BlobStore for SqliteStore {
    async fn put_blob(&self, blob: &NewBlob<'_>) -> StoreResult<()> {
        self.db.put_blob(blob).await
    }

    async fn put_blob_stream(
        &self,
        sha256: &str,
        size: u64,
        source: BlobSource<'_>,
    ) -> StoreResult<()> {
        self.db.put_blob_stream(sha256, size, source).await
    }

    async fn blob(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        self.db.blob(sha256).await
    }

    async fn blob_info(&self, sha256: &str) -> StoreResult<Option<BlobInfo>> {
        self.db.blob_info(sha256).await
    }

    async fn blob_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> StoreResult<Option<Vec<u8>>> {
        self.db.blob_range(sha256, offset, len).await
    }
}
