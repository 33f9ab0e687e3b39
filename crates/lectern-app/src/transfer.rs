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

use serde::{Deserialize, Serialize};

use crate::cpu;
use crate::error::{AppError, AppResult};
use crate::idempotency::{from_answer, to_answer, IdempotencyKey, Keyed, Start};
use crate::model::{CourseRecord, User};
use crate::store::{BlobInfo, BlobSource, NewBlob};
use crate::Lectern;

/// The operation names in fingerprints of keyed imports and uploads.
const IMPORT_OPERATION: &str = "course_import";
const UPLOAD_OPERATION: &str = "static_upload";

/// What a keyed import stores as its answer.
#[derive(Serialize, Deserialize)]
struct StoredImport {
    course_key: CourseKey,
    version: i64,
    replaced: bool,
    report: ImportReport,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub course: CourseRecord,
    pub version: i64,
    /// Whether the course existed before (its draft was replaced).
    pub replaced: bool,
    pub report: ImportReport,
}

/// A static file's bytes as uploaded: where to read them, how many, and
/// their SHA-256 (computed while the upload arrived).
pub struct AssetUpload<'a> {
    pub sha256: String,
    pub size: u64,
    pub source: BlobSource<'a>,
}

/// Where an archive to import comes from.
pub enum ImportSource {
    /// A `.tar.gz` export.
    Archive(Vec<u8>),
    /// A `.tar.gz` export in a file (an upload spooled to disk, or the
    /// CLI's argument), read as a stream: never held in memory whole.
    ArchiveFile(std::fs::File),
    /// An unpacked course folder: relative path → bytes.
    Files(BTreeMap<String, Vec<u8>>),
}

fn olx_error(e: olx::OlxError) -> AppError {
    AppError::field("archive", format!("The course archive was refused: {e}"))
}

/// One line per problem Lectern shows but cannot grade (Python scripts
/// when this node has no script runner, `jsinput`, …), so authors learn it
/// at import, not from learners. With a runner, Python-scripted problems
/// are graded (in the sandbox) and not listed.
fn ungradable_problems(tree: &lectern_content::CourseTree, scripts: bool) -> Vec<String> {
    tree.walk()
        .into_iter()
        .filter(|b| b.block_type == "problem")
        .filter_map(|b| {
            match lectern_content::problem::Problem::parse(b.body.as_deref().unwrap_or(""), &b.id) {
                Ok(p) if p.is_gradable() => None,
                Ok(p) if scripts && p.unsupported_with_python().is_empty() => None,
                Ok(p) => Some(format!(
                    "problem/{} ({}): shown to learners but not graded by Lectern yet: {}",
                    b.id,
                    b.title(),
                    if scripts {
                        p.unsupported_with_python()
                    } else {
                        p.unsupported()
                    }
                    .join(", ")
                )),
                Err(e) => Some(format!(
                    "problem/{} ({}): cannot be shown: {e}",
                    b.id,
                    b.title()
                )),
            }
        })
        .collect()
}

/// One line per problem graded by its Python script (in the sandbox).
fn scripted_problems(tree: &lectern_content::CourseTree) -> Vec<String> {
    tree.walk()
        .into_iter()
        .filter(|b| b.block_type == "problem")
        .filter(|b| {
            lectern_content::problem::Problem::parse(b.body.as_deref().unwrap_or(""), &b.id)
                .is_ok_and(|p| p.needs_python() && p.unsupported_with_python().is_empty())
        })
        .map(|b| format!("problem/{} ({})", b.id, b.title()))
        .collect()
}

impl Lectern {
    /// Whether `user` may import courses at all. Upload handlers ask this
    /// before reading a byte of the archive, so a refused caller costs
    /// nothing; `import_course` asks again.
    pub fn may_import(&self, user: &User) -> AppResult<()> {
        if user.is_admin || user.is_course_creator {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Only course creators can import courses.".into(),
            ))
        }
    }

    /// Whether `user` may upload static files to `key` (its team), asked
    /// before the upload is read.
    pub async fn may_upload_asset(&self, user: &User, key: &CourseKey) -> AppResult<()> {
        if self.is_course_author(user, key).await? {
            Ok(())
        } else {
            Err(AppError::not_found(format!("course {key}")))
        }
    }

    /// Imports a course. `by` is the person importing (None: the operator's CLI).
    pub async fn import_course(
        &self,
        by: Option<&User>,
        source: ImportSource,
        limits: ImportLimits,
    ) -> AppResult<ImportOutcome> {
        self.import_course_keyed(by, source, limits, None).await
    }

    /// [`Self::import_course`] under `by`'s `Idempotency-Key`, the request
    /// named by the SHA-256 of its archive (computed while it was spooled):
    /// a retry imports nothing and answers with the first import's version.
    pub async fn import_course_keyed(
        &self,
        by: Option<&User>,
        source: ImportSource,
        limits: ImportLimits,
        idem: Option<(&IdempotencyKey, &str)>,
    ) -> AppResult<ImportOutcome> {
        if let Some(u) = by {
            self.may_import(u)?;
        }
        let claim = match (by, idem) {
            (Some(u), Some((key, archive_sha256))) => {
                match self
                    .start_keyed(u.id, Some(key), IMPORT_OPERATION, &[archive_sha256])
                    .await?
                {
                    Start::Replayed(answer) => return self.replayed_import(answer).await,
                    Start::Fresh(claim) => claim,
                }
            }
            _ => None,
        };
        let scripts = self.scripts_enabled();
        let imported = cpu::run(move || {
            let mut imported = match source {
                ImportSource::Archive(bytes) => olx::read_archive(&bytes, &limits),
                ImportSource::ArchiveFile(file) => olx::read_archive_from(file, &limits),
                ImportSource::Files(files) => olx::read_files(files, &limits),
            }
            .map_err(olx_error)?;
            // Work bounds first: an over-limit problem refuses the whole course.
            let over = crate::content_limits::course_over_limits(&imported.tree);
            if !over.is_empty() {
                return Err(AppError::field(
                    "archive",
                    format!("The course archive was refused: {}", over.join("; ")),
                ));
            }
            let warnings = ungradable_problems(&imported.tree, scripts);
            imported.report.warnings.extend(warnings);
            if scripts {
                imported.report.scripted = scripted_problems(&imported.tree);
            }
            Ok(imported)
        })
        .await??;
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
        // The importer becomes an instructor unless they already hold a role
        // (an instructor stays one, staff stay staff): decided here, written
        // by the store in the import's transaction.
        let grant = match by {
            Some(u) if self.store.course_role(&key, u.id).await?.is_none() => {
                Some((u.id, crate::model::CourseRole::Instructor))
            }
            _ => None,
        };
        let dates = crate::learning::course_dates(&imported.tree);
        let replaced = existing.is_some();
        let permit = self.admit_import(!replaced, &blobs).await?;
        let written = match &claim {
            Some(claim) => {
                let (course_key, report) = (key.clone(), imported.report.clone());
                let answer = move |version: &i64| {
                    to_answer(&StoredImport {
                        course_key: course_key.clone(),
                        version: *version,
                        replaced,
                        report: report.clone(),
                    })
                };
                let keyed = Keyed {
                    claim,
                    answer: &answer,
                };
                self.store
                    .import_course_keyed(&imported.tree, dates, &blobs, grant, self.now(), keyed)
                    .await
            }
            None => {
                self.store
                    .import_course(&imported.tree, dates, &blobs, grant, self.now())
                    .await
            }
        };
        drop(permit);
        let (course, version) = match written {
            Ok(written) => written,
            Err(e) => {
                let answer = self.on_clash(claim.as_ref(), e).await?;
                return self.replayed_import(answer).await;
            }
        };
        tracing::info!(course = %key, version, blocks = imported.tree.blocks.len(), assets = blobs.len(), "course imported");
        if existing.is_some() {
            // A re-import is a new published version: enrolled learners' grades follow it.
            self.enqueue_regrade(&key, version).await;
        }
        Ok(ImportOutcome {
            course,
            version,
            replaced,
            report: imported.report,
        })
    }

    /// The outcome of a keyed import answered from its stored answer (the
    /// course as it is now, the version and report of the first import).
    async fn replayed_import(&self, answer: serde_json::Value) -> AppResult<ImportOutcome> {
        let stored: StoredImport = from_answer(answer)?;
        let course = self
            .store
            .course(&stored.course_key)
            .await?
            .ok_or_else(|| AppError::not_found(format!("course {}", stored.course_key)))?;
        Ok(ImportOutcome {
            course,
            version: stored.version,
            replaced: stored.replaced,
            report: stored.report,
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
        cpu::run(move || olx::write_archive(&tree, &|a: &Asset| bytes.get(&a.sha256).cloned()))
            .await?
            .map_err(|e| AppError::Internal(format!("writing the export failed: {e}")))
    }

    /// A static file of a course, without its bytes: from the published
    /// version for everyone, or from the draft for the course's team (Studio
    /// previews). The bytes are read a range at a time (`asset_range`).
    pub async fn course_asset(
        &self,
        user: Option<&User>,
        key: &CourseKey,
        path: &str,
    ) -> AppResult<(Asset, BlobInfo)> {
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
        let info = self
            .store
            .blob_info(&asset.sha256)
            .await?
            .ok_or_else(not_found)?;
        Ok((asset, info))
    }

    /// Up to `len` bytes of an asset that `course_asset` returned, from `offset`.
    pub async fn asset_range(&self, asset: &Asset, offset: u64, len: u64) -> AppResult<Vec<u8>> {
        self.store
            .blob_range(&asset.sha256, offset, len)
            .await?
            .ok_or_else(|| AppError::not_found(format!("file {}", asset.path)))
    }
}

impl Lectern {
    /// Makes `user` an instructor of `key` (the operator's `import --owner`).
    pub async fn grant_instructor(&self, user: &User, key: &CourseKey) -> AppResult<()> {
        self.store
            .grant_course_role(key, user.id, crate::model::CourseRole::Instructor)
            .await?;
        self.forget_cached_user(user.id);
        Ok(())
    }
}

/// Whether a path under `static/` is one Lectern stores: relative, no `..`,
/// no empty or hidden segments, printable characters only.
pub fn valid_asset_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 255
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.starts_with('.'))
        && path.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ' ' | '(' | ')' | '+' | '@')
        })
}

impl Lectern {
    /// Adds (or replaces) a static file of the course's draft, its `size`
    /// bytes (whose SHA-256 the caller computed) read from `source` a chunk
    /// at a time.
    pub async fn upload_asset(
        &self,
        user: &User,
        key: &CourseKey,
        path: &str,
        upload: AssetUpload<'_>,
    ) -> AppResult<Asset> {
        self.upload_asset_keyed(user, key, path, upload, None).await
    }

    /// [`Self::upload_asset`] under an `Idempotency-Key`, the request named
    /// by the course, the path and the bytes' SHA-256 and size: a retry
    /// changes nothing and answers with the file the first stored.
    pub async fn upload_asset_keyed(
        &self,
        user: &User,
        key: &CourseKey,
        path: &str,
        upload: AssetUpload<'_>,
        idem: Option<&IdempotencyKey>,
    ) -> AppResult<Asset> {
        let path = path.trim().trim_start_matches("/static/").to_string();
        if !valid_asset_path(&path) {
            return Err(AppError::field("path", "File names use letters, digits, - _ . and / between folders; no .. or hidden names."));
        }
        self.may_upload_asset(user, key).await?;
        let (course, size) = (key.to_string(), upload.size.to_string());
        let parts = [
            course.as_str(),
            path.as_str(),
            upload.sha256.as_str(),
            &size,
        ];
        let claim = match self
            .start_keyed(user.id, idem, UPLOAD_OPERATION, &parts)
            .await?
        {
            Start::Replayed(answer) => return from_answer(answer),
            Start::Fresh(claim) => claim,
        };
        // The blob first: content-addressed, so an edit that fails leaves only an unused blob.
        let permit = self.admit_upload(&upload.sha256, upload.size).await?;
        self.store
            .put_blob_stream(&upload.sha256, upload.size, upload.source)
            .await?;
        drop(permit);
        let asset = Asset {
            path: path.clone(),
            sha256: upload.sha256,
            size: upload.size,
            content_type: olx::content_type(&path).to_string(),
        };
        let stored = asset.clone();
        let answer = |_: &i64| to_answer(&asset);
        let keyed = claim.as_ref().map(|claim| Keyed {
            claim,
            answer: &answer,
        });
        let edited = self
            .edit_draft_keyed(user, key, keyed, move |tree| {
                tree.assets.insert(stored.path.clone(), stored.clone());
                Ok(())
            })
            .await?;
        match edited {
            Ok(()) => Ok(asset),
            Err(e) => self.on_clash(claim.as_ref(), e).await,
        }
    }

    /// Removes a static file from the course's draft.
    pub async fn delete_asset(&self, user: &User, key: &CourseKey, path: &str) -> AppResult<()> {
        let path = path.to_string();
        self.edit_draft(user, key, move |tree| {
            tree.assets
                .remove(&path)
                .map(|_| ())
                .ok_or_else(|| AppError::not_found(format!("file {path}")))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::valid_asset_path;

    #[test]
    fn asset_paths_stay_inside_static() {
        for ok in ["cat.png", "images/cat.png", "Week 1/notes (v2).pdf"] {
            assert!(valid_asset_path(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            ".hidden",
            "a/.git/x",
            "x\0y",
            "a\\b",
            "<script>.png",
        ] {
            assert!(!valid_asset_path(bad), "{bad}");
        }
    }
}
