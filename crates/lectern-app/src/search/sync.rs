//! Keeping a process's index current with the database.
//!
//! The database is the truth; the index is derived from it. [`Lectern::search_sync`]
//! compares each course's newest publish id (one cheap read of the course
//! rows, no course content) with the one its documents came from, indexes
//! every course whose publish changed (or that is new) from that published
//! version, and drops courses that are gone or no longer published. The
//! first sync of a process, with nothing indexed yet, is the full rebuild.
//! A [`SearchWatcher`] runs it every `poll` on every node, so a publish on
//! one node reaches every node's index within one poll plus the time to
//! index that course.
//!
//! Posts follow the database's post change log (`posts.rs`), synced by the
//! same watcher every poll, and at once when this node wrote a post.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lectern_content::{transcript, BlockRef, CourseKey};
use tokio::sync::watch;
use tracing::Instrument;

use super::documents::{catalogue_doc, content_docs, video_transcript_file};
use super::{SearchIndex, SearchState};
use crate::{AppError, AppResult, Lectern};

/// How much transcript text of one course is read for the index, in all.
pub const MAX_TRANSCRIPT_BYTES_PER_COURSE: u64 = 32 * 1024 * 1024;

/// What one sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Courses (re)indexed.
    pub indexed: usize,
    /// Courses removed from the index.
    pub removed: usize,
    /// Courses that failed (left as they were; tried again next time).
    pub failed: usize,
}

/// Runs [`Lectern::search_sync`] and [`Lectern::search_post_sync`] every
/// `poll` until dropped (or [`SearchWatcher::stop`]): one per process.
/// Posts are also synced [`super::posts::BATCH_WINDOW`] after this node
/// writes one.
pub struct SearchWatcher {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl SearchWatcher {
    /// Starts the watcher; its first syncs are the full rebuild. Without a
    /// search index on `app` it does nothing.
    pub fn start(app: &Lectern, poll: Duration) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        if let Some(state) = app.search.clone() {
            tasks.push(tokio::spawn(
                courses(app.clone(), poll, stopped.clone()).in_current_span(),
            ));
            tasks.push(tokio::spawn(
                posts(app.clone(), state, poll, stopped).in_current_span(),
            ));
        }
        SearchWatcher { stop, tasks }
    }

    /// Stops the watcher and waits for a sync under way to end.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }
}

impl Drop for SearchWatcher {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The course half of the watcher: published versions.
async fn courses(app: Lectern, poll: Duration, mut stopped: watch::Receiver<bool>) {
    let mut first = true;
    loop {
        let started = std::time::Instant::now();
        let result = app.search_sync().await;
        if first && result.is_ok() {
            first = false;
            if let Some((stats, courses)) = app.search_stats() {
                tracing::info!(
                    courses,
                    documents = stats.documents,
                    bytes = stats.bytes,
                    ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    "search index rebuilt from the database"
                );
            }
        }
        match result {
            Ok(r) if r.indexed + r.removed + r.failed > 0 => {
                tracing::info!(
                    indexed = r.indexed,
                    removed = r.removed,
                    failed = r.failed,
                    "search index synced"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "search sync failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stopped.changed() => break,
        }
    }
}

/// The post half of the watcher: the post change log, every poll and
/// soon after this node writes a post.
async fn posts(
    app: Lectern,
    state: Arc<SearchState>,
    poll: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let started = std::time::Instant::now();
        match app.search_post_sync().await {
            Ok(r) if r.rebuilt => tracing::info!(
                posts = r.applied,
                ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "search index: posts rebuilt from the database"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "search post sync failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = state.posts_changed.notified() => {
                tokio::select! {
                    _ = tokio::time::sleep(super::posts::BATCH_WINDOW) => {}
                    _ = stopped.changed() => break,
                }
            }
            _ = stopped.changed() => break,
        }
    }
}

/// Applies `changes` in one commit, off the async workers.
pub(crate) async fn apply(
    index: &Arc<dyn SearchIndex>,
    changes: Vec<super::IndexChange>,
) -> AppResult<()> {
    blocking(index, move |i| i.apply(changes)).await
}

/// Runs blocking index work off the async workers.
async fn blocking<T: Send + 'static>(
    index: &Arc<dyn SearchIndex>,
    work: impl FnOnce(&dyn SearchIndex) -> Result<T, super::SearchError> + Send + 'static,
) -> AppResult<T> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || work(index.as_ref()))
        .await
        .map_err(|e| AppError::Internal(format!("search task: {e}")))?
        .map_err(|e| AppError::Internal(e.to_string()))
}

impl Lectern {
    /// Brings the index up to the database's published versions (see the
    /// module docs). One sync runs at a time per process.
    pub async fn search_sync(&self) -> AppResult<SyncReport> {
        let state = self.search_state()?.clone();
        let _one = state.syncing.lock().await;
        let courses = self.guarded(self.store.list_courses()).await?;
        let held: HashMap<CourseKey, String> =
            state.indexed.lock().map(|m| m.clone()).unwrap_or_default();
        let mut report = SyncReport::default();
        let published: HashMap<&CourseKey, &str> = courses
            .iter()
            .filter_map(|c| c.publish_id.as_deref().map(|p| (&c.key, p)))
            .collect();
        for gone in held.keys().filter(|k| !published.contains_key(k)) {
            let key = gone.clone();
            blocking(&state.index, move |i| i.remove_course(&key)).await?;
            forget(&state, gone);
            report.removed += 1;
        }
        for course in courses.iter().filter(|c| c.publish_id.is_some()) {
            if held.get(&course.key).map(String::as_str) == course.publish_id.as_deref() {
                continue;
            }
            match self.index_course(&state, course.clone()).await {
                Ok(()) => report.indexed += 1,
                Err(e) => {
                    tracing::warn!(course = %course.key, error = %e, "indexing a course failed");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Indexes the published version `record` names, replacing the course's
    /// documents.
    async fn index_course(
        &self,
        state: &Arc<SearchState>,
        record: crate::CourseRecord,
    ) -> AppResult<()> {
        let Some(version) = record.published_version else {
            return Ok(());
        };
        let start = record.start;
        let course = self.course_at_version(record, version).await?;
        let tree = course.tree.clone();
        // Transcripts: read through the app's media path (size-checked
        // before loading), within a per-course budget.
        let mut transcripts: HashMap<BlockRef, String> = HashMap::new();
        let mut budget = MAX_TRANSCRIPT_BYTES_PER_COURSE;
        for video in tree.walk().into_iter().filter(|b| b.block_type == "video") {
            let Some(file) = video_transcript_file(&tree, video) else {
                continue;
            };
            let size = tree.assets.get(&file).map_or(0, |a| a.size);
            if size > budget.min(transcript::MAX_TRANSCRIPT_BYTES) {
                continue;
            }
            budget -= size;
            if let Ok(cues) = self.video_transcript(&tree, &file).await? {
                let text: Vec<&str> = cues.iter().map(|c| c.text.as_str()).collect();
                transcripts.insert(video.block_ref(), text.join(" "));
            }
        }
        let docs = crate::cpu::run(move || {
            let mut docs = content_docs(&tree, &transcripts);
            docs.push(catalogue_doc(&tree, start));
            docs
        })
        .await?;
        let key = course.record.key.clone();
        blocking(&state.index, move |i| i.replace_course(&key, docs)).await?;
        if let Ok(mut held) = state.indexed.lock() {
            held.insert(course.record.key.clone(), course.publish_id.clone());
        }
        Ok(())
    }
}

fn forget(state: &SearchState, key: &CourseKey) {
    if let Ok(mut held) = state.indexed.lock() {
        held.remove(key);
    }
}
