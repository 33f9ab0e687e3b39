//! Discussion posts in the index: every thread, response and comment is a
//! document (title and body, its course, thread and topic), kept current on
//! every node from the database's post change log (`post_store.rs`).
//!
//! How: the store writes a change row in the same transaction as every
//! post created, edited or deleted. Each process keeps a cursor into that
//! log; [`Lectern::search_post_sync`] reads the changes past it (at most
//! [`CHANGES_PER_READ`] a read), re-reads those posts' text and applies
//! them to the index in one commit (a post that is gone is removed, a
//! thread with its comments). The watcher runs it every poll and at once
//! when this node wrote a post ([`Lectern::posts_changed`], after a short
//! [`BATCH_WINDOW`] so a burst of posts is one commit). So a post written
//! on any node is searchable on every node within one poll plus one batch.
//!
//! PostgreSQL hands out change ids before the transactions commit, so a
//! higher id can be visible before a lower one: an id missing below the
//! highest seen is a gap, asked for again by id at every sync for
//! [`GAP_WAIT`] (a transaction is never that long; a rolled-back one
//! leaves its id unused forever). The log keeps [`RETENTION`]; a process
//! that could not sync for half of it rebuilds its posts from the posts
//! themselves, as at start.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use super::documents;
use super::post_store::{PostSelection, PostText};
use super::{DocKind, IndexChange, SearchDoc};
use crate::discussions::PostId;
use crate::{AppResult, Lectern};

/// Changes read from the log at once.
pub const CHANGES_PER_READ: i64 = 1_000;
/// Posts' texts read from the database at once.
const TEXTS_PER_READ: i64 = 500;
/// Reads of the log in one sync, at most (then the next poll goes on).
const MAX_ROUNDS: usize = 20;
/// How long an id missing below the highest seen is waited for.
pub const GAP_WAIT: Duration = Duration::from_secs(10);
/// Missing ids tracked at most (the oldest are given up first).
const MAX_GAPS: usize = 1_000;
/// How long the change log keeps a change.
pub const RETENTION: Duration = Duration::from_secs(3_600);
/// How often a process prunes the log.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// How long the watcher waits after this node wrote a post, to take the
/// posts written meanwhile in the same commit.
pub const BATCH_WINDOW: Duration = Duration::from_millis(200);

/// Every post document is in this group: a rebuild removes them all first.
const ALL_POSTS: &str = "posts";

/// Where a process is in the change log.
#[derive(Debug, Default)]
pub(crate) struct PostCursor {
    /// Every change up to this id is applied; `None` before the first rebuild.
    done: Option<i64>,
    /// Changes above `done` already applied.
    seen: BTreeSet<i64>,
    /// Ids above `done` and below the highest seen not seen yet, with when
    /// they were first missed.
    gaps: BTreeMap<i64, Instant>,
    last_ok: Option<Instant>,
    last_prune: Option<Instant>,
}

impl PostCursor {
    /// Whether the index holds every post (the first rebuild is done).
    pub(crate) fn ready(&self) -> bool {
        self.done.is_some()
    }

    fn high(&self) -> i64 {
        let done = self.done.unwrap_or(0);
        self.seen.last().copied().unwrap_or(done).max(done)
    }

    /// Records applied change ids, notes the missing ones below them, and
    /// moves `done` over everything applied or given up.
    fn advance(&mut self, applied: &[i64], now: Instant) {
        let before = self.high();
        for id in applied {
            self.gaps.remove(id);
            if Some(*id) > self.done {
                self.seen.insert(*id);
            }
        }
        let mut id = before + 1;
        while id < self.high() {
            if !self.seen.contains(&id) {
                self.gaps.entry(id).or_insert(now);
            }
            id += 1;
        }
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
        let Some(mut done) = self.done else {
            return;
        };
        loop {
            let next = done + 1;
            if self.seen.remove(&next) {
                done = next;
            } else if self
                .gaps
                .get(&next)
                .is_some_and(|t| now.duration_since(*t) >= GAP_WAIT)
            {
                self.gaps.remove(&next);
                done = next;
            } else if self.seen.first().is_some_and(|s| *s > next) && !self.gaps.contains_key(&next)
            {
                // Given up on (past MAX_GAPS).
                done = next;
            } else {
                break;
            }
        }
        self.done = Some(done);
    }
}

/// The document of a thread, response or comment.
pub fn post_doc(p: PostText) -> SearchDoc {
    let body = documents::bounded_text(&p.body);
    let thread_group = format!("thread:{}", p.thread_id);
    let (id, title, location, mut groups) = match p.comment_id {
        None => (
            thread_group.clone(),
            documents::bounded_text(&p.title),
            Vec::new(),
            vec![thread_group],
        ),
        // A comment's own text is searched; its thread's title is where it is.
        Some(c) => (
            format!("comment:{c}"),
            String::new(),
            vec![p.title.clone()],
            vec![thread_group],
        ),
    };
    if let Some(parent) = p.parent_id {
        groups.push(format!("response:{parent}"));
    }
    groups.push(ALL_POSTS.into());
    let payload = serde_json::json!({
        "thread_id": p.thread_id.to_string(),
        "comment_id": p.comment_id.map(|c| c.to_string()),
        "topic_id": p.topic_id,
        "created": p.created.to_rfc3339(),
    })
    .to_string();
    SearchDoc {
        id,
        kind: DocKind::Post,
        url: format!("/courses/{}/discussion/threads/{}", p.course, p.thread_id),
        course: p.course,
        title,
        summary: documents::summary_of(&body),
        body,
        location,
        block_type: "post".into(),
        release: None,
        staff_only: false,
        payload,
        topic: Some(p.topic_id),
        groups,
    }
}

/// What one post sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostSyncReport {
    /// Whether it was a rebuild of every post.
    pub rebuilt: bool,
    /// Changes (or, in a rebuild, posts) applied.
    pub applied: usize,
}

impl Lectern {
    /// Tells this node's watcher that a post was written here, so it syncs
    /// posts now instead of at the next poll. Nothing without search.
    pub(crate) fn posts_changed(&self) {
        if let Some(s) = &self.search {
            s.posts_changed.notify_one();
        }
    }

    /// Whether the index holds every post, so a discussion text search may
    /// ask it.
    pub(crate) async fn posts_indexed(&self) -> bool {
        match &self.search {
            Some(s) => s.posts.lock().await.ready(),
            None => false,
        }
    }

    /// Brings the index's posts up to the database (see the module docs):
    /// the first call (or one after a long outage) rebuilds them all.
    pub async fn search_post_sync(&self) -> AppResult<PostSyncReport> {
        let state = self.search_state()?.clone();
        let mut cursor = state.posts.lock().await;
        let now = Instant::now();
        let stale = cursor
            .last_ok
            .is_none_or(|t| now.duration_since(t) > RETENTION / 2);
        let report = if cursor.done.is_none() || stale {
            let top = self.guarded(self.store.last_post_change()).await?;
            let applied = self.rebuild_posts().await?;
            *cursor = PostCursor {
                done: Some(top),
                ..PostCursor::default()
            };
            PostSyncReport {
                rebuilt: true,
                applied,
            }
        } else {
            let mut applied = 0;
            for _ in 0..MAX_ROUNDS {
                let gaps: Vec<i64> = cursor.gaps.keys().copied().collect();
                let changes = self
                    .guarded(
                        self.store
                            .post_changes(cursor.high(), &gaps, CHANGES_PER_READ),
                    )
                    .await?;
                let fresh: Vec<_> = changes
                    .iter()
                    .filter(|c| !cursor.seen.contains(&c.id))
                    .collect();
                let threads: BTreeSet<PostId> = fresh
                    .iter()
                    .filter(|c| c.comment_id.is_none())
                    .map(|c| c.thread_id)
                    .collect();
                let comments: BTreeSet<PostId> =
                    fresh.iter().filter_map(|c| c.comment_id).collect();
                self.apply_post_changes(threads, comments).await?;
                applied += fresh.len();
                let ids: Vec<i64> = changes.iter().map(|c| c.id).collect();
                cursor.advance(&ids, Instant::now());
                if i64::try_from(changes.len()).unwrap_or(i64::MAX) < CHANGES_PER_READ {
                    break;
                }
            }
            PostSyncReport {
                rebuilt: false,
                applied,
            }
        };
        cursor.last_ok = Some(now);
        if cursor
            .last_prune
            .is_none_or(|t| now.duration_since(t) >= PRUNE_EVERY)
        {
            cursor.last_prune = Some(now);
            let keep = chrono::Duration::from_std(RETENTION).unwrap_or(chrono::Duration::zero());
            if let Err(e) = self.store.prune_post_changes(self.now() - keep).await {
                tracing::warn!(error = %e, "pruning the post change log failed");
            }
        }
        Ok(report)
    }

    /// Indexes every post of the site, a page at a time (one commit a
    /// page), after removing every post document.
    async fn rebuild_posts(&self) -> AppResult<usize> {
        let state = self.search_state()?.clone();
        let mut first = vec![IndexChange::RemoveGroup(ALL_POSTS.into())];
        let mut count = 0;
        for comments in [false, true] {
            let mut after = 0;
            loop {
                let page = if comments {
                    self.store
                        .comment_texts(&PostSelection::All, after, TEXTS_PER_READ)
                } else {
                    self.store
                        .thread_texts(&PostSelection::All, after, TEXTS_PER_READ)
                };
                let page = self.guarded(page).await?;
                let Some(last) = page.last() else { break };
                after = last.comment_id.unwrap_or(last.thread_id);
                let full = i64::try_from(page.len()).unwrap_or(i64::MAX) == TEXTS_PER_READ;
                count += page.len();
                let mut changes = std::mem::take(&mut first);
                changes.extend(
                    page.into_iter()
                        .map(|p| IndexChange::Upsert(Box::new(post_doc(p)))),
                );
                super::sync::apply(&state.index, changes).await?;
                if !full {
                    break;
                }
            }
        }
        if !first.is_empty() {
            super::sync::apply(&state.index, first).await?;
        }
        Ok(count)
    }

    /// Re-reads the changed threads (with their comments: a thread's topic
    /// is on its comments' documents too) and comments, and applies them
    /// in one commit; those gone are removed.
    async fn apply_post_changes(
        &self,
        threads: BTreeSet<PostId>,
        comments: BTreeSet<PostId>,
    ) -> AppResult<()> {
        if threads.is_empty() && comments.is_empty() {
            return Ok(());
        }
        let state = self.search_state()?.clone();
        let mut upserts: Vec<IndexChange> = Vec::new();
        let mut removals: Vec<IndexChange> = Vec::new();
        let found = self
            .texts(false, PostSelection::Ids(threads.iter().copied().collect()))
            .await?;
        let found_threads: HashSet<PostId> = found.iter().map(|t| t.thread_id).collect();
        for gone in threads.iter().filter(|t| !found_threads.contains(t)) {
            removals.push(IndexChange::RemoveGroup(format!("thread:{gone}")));
        }
        upserts.extend(
            found
                .into_iter()
                .map(|p| IndexChange::Upsert(Box::new(post_doc(p)))),
        );
        if !found_threads.is_empty() {
            let of_threads = self
                .texts(
                    true,
                    PostSelection::OfThreads(found_threads.iter().copied().collect()),
                )
                .await?;
            upserts.extend(
                of_threads
                    .into_iter()
                    .map(|p| IndexChange::Upsert(Box::new(post_doc(p)))),
            );
        }
        let found = self
            .texts(true, PostSelection::Ids(comments.iter().copied().collect()))
            .await?;
        let found_comments: HashSet<PostId> = found.iter().filter_map(|c| c.comment_id).collect();
        for gone in comments.iter().filter(|c| !found_comments.contains(c)) {
            removals.push(IndexChange::Remove(format!("comment:{gone}")));
            removals.push(IndexChange::RemoveGroup(format!("response:{gone}")));
        }
        upserts.extend(
            found
                .into_iter()
                .map(|p| IndexChange::Upsert(Box::new(post_doc(p)))),
        );
        removals.extend(upserts);
        super::sync::apply(&state.index, removals).await
    }

    /// Every text of `which`, read a page at a time.
    async fn texts(&self, comments: bool, which: PostSelection) -> AppResult<Vec<PostText>> {
        let mut out = Vec::new();
        if matches!(&which, PostSelection::Ids(v) | PostSelection::OfThreads(v) if v.is_empty()) {
            return Ok(out);
        }
        let mut after = 0;
        loop {
            let page = if comments {
                self.store.comment_texts(&which, after, TEXTS_PER_READ)
            } else {
                self.store.thread_texts(&which, after, TEXTS_PER_READ)
            };
            let page = self.guarded(page).await?;
            let full = i64::try_from(page.len()).unwrap_or(i64::MAX) == TEXTS_PER_READ;
            match page.last() {
                Some(last) => after = last.comment_id.unwrap_or(last.thread_id),
                None => break,
            }
            out.extend(page);
            if !full {
                break;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_waits_for_gaps_then_gives_them_up() {
        let t0 = Instant::now();
        let mut c = PostCursor {
            done: Some(0),
            ..PostCursor::default()
        };
        c.advance(&[1, 2, 4, 5], t0);
        assert_eq!(c.done, Some(2));
        assert_eq!(c.high(), 5);
        assert_eq!(c.gaps.keys().copied().collect::<Vec<_>>(), [3]);
        // 3 commits late: seen, and done moves past everything.
        c.advance(&[3, 6], t0);
        assert_eq!(c.done, Some(6));
        assert!(c.gaps.is_empty() && c.seen.is_empty());
        // 7 never comes (rolled back): given up after GAP_WAIT.
        c.advance(&[8], t0);
        assert_eq!(c.done, Some(6));
        c.advance(&[], t0 + GAP_WAIT);
        assert_eq!(c.done, Some(8));
        assert!(c.gaps.is_empty());
    }
}
