//! Published course versions are immutable, so a parsed version can be kept
//! in memory by (course, version) and never needs invalidating; the only
//! question ever asked of the database is which version is newest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lectern_content::{CourseKey, CourseTree};

/// At most this many versions are kept; the oldest-used go first.
const CAPACITY: usize = 64;

/// (course, version) → (tree, last use).
type Entries = HashMap<(CourseKey, i64), (Arc<CourseTree>, u64)>;

#[derive(Default)]
pub struct CourseCache {
    inner: Mutex<Entries>,
    tick: std::sync::atomic::AtomicU64,
}

impl CourseCache {
    pub fn get(&self, key: &CourseKey, version: i64) -> Option<Arc<CourseTree>> {
        let tick = self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get_mut(&(key.clone(), version)).map(|entry| {
            entry.1 = tick;
            entry.0.clone()
        })
    }

    pub fn put(&self, key: &CourseKey, version: i64, tree: Arc<CourseTree>) {
        let tick = self.tick.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CAPACITY {
            if let Some(oldest) = map.iter().min_by_key(|(_, v)| v.1).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert((key.clone(), version), (tree, tick));
    }
}
