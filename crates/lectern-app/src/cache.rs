//! Published course versions are immutable, so a parsed version can be kept
//! in memory and never needs invalidating; the only question asked of the
//! database on every request is which version is newest (so a node sees
//! another node's publish on its next request).
//!
//! Entries are keyed by the version's `publish_id`, a random identity stored
//! with the version, not by (course, version number): a restored backup, a
//! failover to another database or a course deleted and created again can
//! bring back a version number with different content, but never a
//! `publish_id`, so no request is ever answered from a stale entry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lectern_content::CourseTree;

/// At most this many versions are kept; the oldest-used go first.
const CAPACITY: usize = 64;

/// publish id → (tree, last use).
type Entries = HashMap<String, (Arc<CourseTree>, u64)>;

#[derive(Default)]
pub struct CourseCache {
    inner: Mutex<Entries>,
    tick: std::sync::atomic::AtomicU64,
}

impl CourseCache {
    pub fn get(&self, publish_id: &str) -> Option<Arc<CourseTree>> {
        let tick = self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get_mut(publish_id).map(|entry| {
            entry.1 = tick;
            entry.0.clone()
        })
    }

    pub fn put(&self, publish_id: &str, tree: Arc<CourseTree>) {
        let tick = self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CAPACITY {
            if let Some(oldest) = map.iter().min_by_key(|(_, v)| v.1).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(publish_id.to_string(), (tree, tick));
    }
}

/// Parsed problems of published versions, by (publish id, block).
/// Same reasoning: a published version's problem XML never changes.
#[derive(Default)]
pub struct ProblemCache {
    inner:
        Mutex<HashMap<(String, lectern_content::BlockRef), Arc<lectern_content::problem::Problem>>>,
}

/// Past this many parsed problems the cache starts over (a crude but bounded policy).
const PROBLEM_CAPACITY: usize = 20_000;

impl ProblemCache {
    /// The parsed problem if it is cached.
    pub fn get(
        &self,
        publish_id: &str,
        block: &lectern_content::Block,
    ) -> Option<Arc<lectern_content::problem::Problem>> {
        let k = (publish_id.to_string(), block.block_ref());
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&k)
            .cloned()
    }

    /// The cached problem, or parses and caches it. Parsing is CPU work: run
    /// it through [`crate::cpu::run`].
    pub fn get_or_parse(
        &self,
        publish_id: &str,
        block: &lectern_content::Block,
    ) -> Result<Arc<lectern_content::problem::Problem>, lectern_content::problem::ProblemError>
    {
        if let Some(p) = self.get(publish_id, block) {
            return Ok(p);
        }
        let k = (publish_id.to_string(), block.block_ref());
        let parsed = Arc::new(lectern_content::problem::Problem::parse(
            block.body.as_deref().unwrap_or(""),
            &block.id,
        )?);
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= PROBLEM_CAPACITY {
            map.clear();
        }
        map.insert(k, parsed.clone());
        Ok(parsed)
    }
}
