//! Course import and export (Open edX OLX archives) and serving a course's
//! static files.
//!
//! Import is all-or-nothing: the archive is parsed and checked completely in
//! memory first, then the blobs, the draft and the new published version go
//! to the store in one transaction. Re-importing an existing course replaces
//! its draft and publishes it, as Open edX's re-import does; learner state is
//! keyed by usage key and untouched, so it is kept for blocks that still exist.

use std::collections::{BTreeMap, HashMap};

use lectern_content::olx::{self, ImportLimits, ImportReport};
use lectern_content::{Asset, CourseKey};

use crate::error::{AppError, AppResult};
use crate::model::{CourseRecord, User};
use crate::store::NewBlob;
use crate::Lectern;

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub course: CourseRecord,
    pub version: i64,
    /// Whether the course existed before (its draft was replaced).
    pub replaced: bool,
    pub report: ImportReport,
}

/// Where an archive to import comes from.
pub enum ImportSource {
    /// A `.tar.gz` export.
    Archive(Vec<u8>),
    /// An unpacked course folder: relative path → bytes.
    Files(BTreeMap<String, Vec<u8>>),
}

fn olx_error(e: olx::OlxError) -> AppError {
    AppError::field("archive", format!("The course archive was refused: {e}"))
}

impl Lectern {
    /// Imports a course. `by` is the person importing (None: the operator's CLI).
    pub async fn import_course(
        &self,
        by: Option<&User>,
        source: ImportSource,
        limits: ImportLimits,
    ) -> AppResult<ImportOutcome> {
        if let Some(u) = by {
            if !(u.is_admin || u.is_course_creator) {
                return Err(AppError::Forbidden(
                    "Only course creators can import courses.".into(),
                ));
            }
        }
        let imported = tokio::task::spawn_blocking(move || match source {
            ImportSource::Archive(bytes) => olx::read_archive(&bytes, &limits),
            ImportSource::Files(files) => olx::read_files(files, &limits),
        })
        .await
        .map_err(|e| AppError::Internal(format!("import task failed: {e}")))?
        .map_err(olx_error)?;
        let key = imported.tree.key.clone();
        let existing = self.store.course(&key).await?;
        if let (Some(u), Some(_)) = (by, &existing) {
            // Replacing a course needs a role in it, like any other edit.
            if !self.is_course_author(u, &key).await? {
                return Err(AppError::Forbidden(format!(
                    "{key} exists and you are not on its team."
                )));
            }
        }
        let blobs: Vec<NewBlob<'_>> = imported
            .tree
            .assets
            .values()
            .filter_map(|a| {
                imported.asset_bytes.get(&a.path).map(|b| NewBlob {
                    sha256: &a.sha256,
                    bytes: b,
                })
            })
            .collect();
        let (course, version) = self
            .store
            .import_course(&imported.tree, &blobs, by.map(|u| u.id), self.now())
            .await?;
        tracing::info!(course = %key, version, blocks = imported.tree.blocks.len(), assets = blobs.len(), "course imported");
        if existing.is_some() {
            // A re-import is a new published version: enrolled learners' grades follow it.
            if let Err(e) = self.recompute_course_grades(&key).await {
                tracing::warn!(course = %key, error = %e, "recomputing grades after import failed");
            }
        }
        Ok(ImportOutcome {
            course,
            version,
            replaced: existing.is_some(),
            report: imported.report,
        })
    }

    /// Exports the course's current draft as an OLX `.tar.gz`. `by` None is the operator's CLI.
    pub async fn export_course(&self, by: Option<&User>, key: &CourseKey) -> AppResult<Vec<u8>> {
        if let Some(u) = by {
            if !self.is_course_author(u, key).await? {
                return Err(AppError::not_found(format!("course {key}")));
            }
        }
        let (tree, _) = self
            .store
            .draft(key)
            .await?
            .ok_or_else(|| AppError::not_found(format!("course {key}")))?;
        let mut bytes: HashMap<String, Vec<u8>> = HashMap::new();
        for asset in tree.assets.values() {
            if let Some(b) = self.store.blob(&asset.sha256).await? {
                bytes.insert(asset.sha256.clone(), b);
            }
        }
        tokio::task::spawn_blocking(move || {
            olx::write_archive(&tree, &|a: &Asset| bytes.get(&a.sha256).cloned())
        })
        .await
        .map_err(|e| AppError::Internal(format!("export task failed: {e}")))?
        .map_err(|e| AppError::Internal(format!("writing the export failed: {e}")))
    }

    /// A static file of a course: from the published version for everyone,
    /// or from the draft for the course's team (Studio previews).
    pub async fn course_asset(
        &self,
        user: Option<&User>,
        key: &CourseKey,
        path: &str,
    ) -> AppResult<(Asset, Vec<u8>)> {
        let not_found = || AppError::not_found(format!("file {path}"));
        let mut asset = match self.published_course(key).await {
            Ok(c) => c.tree.assets.get(path).cloned(),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        if asset.is_none() {
            if let Some(u) = user {
                if self.is_course_author(u, key).await? {
                    if let Some((draft, _)) = self.store.draft(key).await? {
                        asset = draft.assets.get(path).cloned();
                    }
                }
            }
        }
        let asset = asset.ok_or_else(not_found)?;
        let bytes = self
            .store
            .blob(&asset.sha256)
            .await?
            .ok_or_else(not_found)?;
        Ok((asset, bytes))
    }
}

impl Lectern {
    /// Makes `user` an instructor of `key` (the operator's `import --owner`).
    pub async fn grant_instructor(&self, user: &User, key: &CourseKey) -> AppResult<()> {
        Ok(self
            .store
            .grant_course_role(key, user.id, crate::model::CourseRole::Instructor)
            .await?)
    }
}
