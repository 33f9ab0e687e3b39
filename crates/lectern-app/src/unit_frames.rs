//! The learner-free part of a unit page, worked out once and shared (issue
//! 18, third pass): where the unit sits (its ancestry), the units before and
//! after it, and the leaf blocks it shows. The profile of a unit page had
//! these tree walks (`CourseTree::ancestry`, called for every visibility
//! check of every unit of the course and every block of the page) among its
//! largest costs after the database; per request now remains what differs
//! per learner: their problems' states and the problem forms.
//!
//! What a frame may be reused for, so nobody is shown a part they must not
//! see:
//! - keyed by (publish id, unit, whether the viewer sees unreleased
//!   content): the team's frame (staff-only and unreleased blocks in it) is
//!   never a learner's, and a publish id never repeats (`cache.rs`);
//! - a learner's frame depends on the time only through block start dates:
//!   it is kept until the first start date after the moment it was made,
//!   then made again;
//! - a course with a `library_content` or `split_test` block draws blocks
//!   per learner (`selection.rs`): its frames are made per request and
//!   never kept.
//!
//! Bounded in entries and in (estimated) bytes; when either is reached the
//! cache starts over, which costs one recomputation per page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use lectern_content::problem::settings::ProblemSettings;
use lectern_content::{Block, BlockRef, CourseTree};

use crate::learning::parse_date;
use crate::visibility::Visibility;

/// At most this many frames are kept.
const MAX_FRAMES: usize = 4_096;
/// At most about this many bytes of frames are kept.
const MAX_FRAME_BYTES: usize = 4 << 20;
/// At most this many courses' facts are kept.
const MAX_COURSES: usize = 256;

/// Where a unit sits and what it shows, for one kind of viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFrame {
    /// Course → section → subsection → unit.
    pub ancestry: Vec<BlockRef>,
    pub previous: Option<BlockRef>,
    pub next: Option<BlockRef>,
    /// The leaf blocks the viewer is shown, in page order (children of
    /// library_content/split_test blocks as drawn for them).
    pub leaves: Vec<BlockRef>,
}

impl UnitFrame {
    fn bytes(&self) -> usize {
        let one = |r: &BlockRef| r.block_type.len() + r.id.len() + 64;
        self.ancestry
            .iter()
            .chain(&self.leaves)
            .map(one)
            .sum::<usize>()
            + 128
    }
}

/// What a frame's reuse depends on, once per published version.
struct CourseFacts {
    /// A library_content or split_test block anywhere: frames are per learner.
    randomizing: bool,
    /// Every block start date (not the course's own), sorted.
    starts: Vec<DateTime<Utc>>,
}

impl CourseFacts {
    fn of(tree: &CourseTree) -> Self {
        let mut starts: Vec<DateTime<Utc>> = tree
            .blocks
            .values()
            .filter(|b| b.block_type != "course")
            .filter_map(|b| b.field("start").and_then(parse_date))
            .collect();
        starts.sort_unstable();
        starts.dedup();
        CourseFacts {
            randomizing: tree
                .blocks
                .values()
                .any(|b| crate::selection::is_randomizing(&b.block_type)),
            starts,
        }
    }

    /// The first start date after `now`: a learner's frame made at `now`
    /// holds until then.
    fn next_start_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let i = self.starts.partition_point(|s| *s <= now);
        self.starts.get(i).copied()
    }
}

type FrameKey = (String, String, bool);

struct Entry {
    frame: Arc<UnitFrame>,
    /// `None`: for as long as the version lives (the team's frames, and
    /// learners' when no start date lies ahead).
    until: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Inner {
    frames: HashMap<FrameKey, Entry>,
    bytes: usize,
    courses: HashMap<String, Arc<CourseFacts>>,
}

/// Unit frames by (publish id, unit, sees unreleased); see the module docs.
#[derive(Default)]
pub struct FrameCache {
    inner: Mutex<Inner>,
}

impl FrameCache {
    /// The frame of `unit` for this viewer, or `None` if they may not open
    /// it (hidden from them, or not a unit of this version).
    pub(crate) fn frame(
        &self,
        publish_id: &str,
        tree: &CourseTree,
        unit: &BlockRef,
        sees: &Visibility,
        user_id: i64,
    ) -> Option<Arc<UnitFrame>> {
        let now = sees.now();
        let key: FrameKey = (
            publish_id.to_string(),
            unit.id.clone(),
            sees.sees_unreleased(),
        );
        let facts = {
            let inner = self.lock();
            if let Some(e) = inner.frames.get(&key) {
                if e.until.is_none_or(|t| now < t) {
                    return Some(e.frame.clone());
                }
            }
            inner.courses.get(publish_id).cloned()
        };
        let facts = match facts {
            Some(f) => f,
            None => {
                let f = Arc::new(CourseFacts::of(tree));
                let mut inner = self.lock();
                if inner.courses.len() >= MAX_COURSES {
                    inner.courses.clear();
                }
                inner.courses.insert(publish_id.to_string(), f.clone());
                f
            }
        };
        let frame = Arc::new(make_frame(tree, unit, sees, user_id)?);
        if !facts.randomizing {
            let until = if sees.sees_unreleased() {
                None
            } else {
                facts.next_start_after(now)
            };
            let mut inner = self.lock();
            let bytes = frame.bytes();
            if inner.frames.len() >= MAX_FRAMES || inner.bytes + bytes > MAX_FRAME_BYTES {
                inner.frames.clear();
                inner.bytes = 0;
            }
            if let Some(old) = inner.frames.insert(
                key,
                Entry {
                    frame: frame.clone(),
                    until,
                },
            ) {
                inner.bytes = inner.bytes.saturating_sub(old.frame.bytes());
            }
            inner.bytes += bytes;
        }
        Some(frame)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// At most this many rendered leaf blocks are kept...
const MAX_LEAVES: usize = 8_192;
/// ...and at most about this many bytes of them.
const MAX_LEAF_BYTES: usize = 16 << 20;
/// A rendered block larger than this is rendered per request, not kept.
const MAX_LEAF: usize = 256 << 10;

/// Leaf blocks other than problems rendered to HTML, by (publish id,
/// block): the rendering depends on the block alone, and a published
/// version never changes. Only the rendering is shared; which blocks a
/// viewer is shown is their frame's answer, asked on every request.
#[derive(Default)]
pub struct LeafHtmlCache {
    inner: Mutex<LeafEntries>,
}

#[derive(Default)]
struct LeafEntries {
    map: HashMap<(String, BlockRef), Arc<str>>,
    bytes: usize,
}

impl LeafHtmlCache {
    /// The HTML of `block` of version `publish_id`, rendered by `render`
    /// the first time.
    pub fn get_or_render(
        &self,
        publish_id: &str,
        block: &BlockRef,
        render: impl FnOnce() -> String,
    ) -> Arc<str> {
        let key = (publish_id.to_string(), block.clone());
        if let Some(html) = self.lock().map.get(&key) {
            return html.clone();
        }
        let html: Arc<str> = render().into();
        if html.len() <= MAX_LEAF {
            let mut inner = self.lock();
            if inner.map.len() >= MAX_LEAVES || inner.bytes + html.len() > MAX_LEAF_BYTES {
                inner.map.clear();
                inner.bytes = 0;
            }
            inner.bytes += html.len();
            if let Some(old) = inner.map.insert(key, html.clone()) {
                inner.bytes = inner.bytes.saturating_sub(old.len());
            }
        }
        html
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LeafEntries> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// At most this many problems' settings are kept; then the cache starts over.
const MAX_SETTINGS: usize = 20_000;

/// Problems' effective settings (`problems::problem_settings`: inherited
/// fields walk the block's ancestry, each of them) by (publish id, block):
/// the same for every viewer of a published version.
#[derive(Default)]
pub struct SettingsCache {
    inner: Mutex<HashMap<(String, BlockRef), ProblemSettings>>,
}

impl SettingsCache {
    /// The settings of `block` of version `publish_id`, made by `make` the first time.
    pub(crate) fn get_or_make(
        &self,
        publish_id: &str,
        block: &Block,
        make: impl FnOnce() -> ProblemSettings,
    ) -> ProblemSettings {
        let key = (publish_id.to_string(), block.block_ref());
        if let Some(s) = self.lock().get(&key) {
            return s.clone();
        }
        let settings = make();
        let mut map = self.lock();
        if map.len() >= MAX_SETTINGS {
            map.clear();
        }
        map.insert(key, settings.clone());
        settings
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, BlockRef), ProblemSettings>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Works a frame out: the visibility rule (`visibility.rs`) and the
/// learner's draw (`selection.rs`) for the unit, its neighbours and leaves.
fn make_frame(
    tree: &CourseTree,
    unit: &BlockRef,
    sees: &Visibility,
    user_id: i64,
) -> Option<UnitFrame> {
    let visible =
        |r: &BlockRef| sees.shows(tree, r) && crate::selection::shown_to(tree, r, user_id);
    if !visible(unit) {
        return None;
    }
    let units: Vec<BlockRef> = tree
        .units()
        .into_iter()
        .map(Block::block_ref)
        .filter(|r| visible(r))
        .collect();
    let pos = units.iter().position(|u| u == unit);
    let previous = pos
        .and_then(|p| p.checked_sub(1))
        .and_then(|p| units.get(p))
        .cloned();
    let next = pos.and_then(|p| units.get(p + 1)).cloned();
    let leaves = tree
        .block(unit)
        .map(|b| {
            tree.children(b)
                .flat_map(|c| crate::selection::shown_leaves(tree, c, user_id))
                .map(Block::block_ref)
                .filter(|r| sees.shows(tree, r))
                .collect()
        })
        .unwrap_or_default();
    Some(UnitFrame {
        ancestry: tree.ancestry(unit),
        previous,
        next,
        leaves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_content::CourseKey;

    /// A course of two units in one subsection: `u1` (an html block and a
    /// staff-only html block), then `u2`, which opens at `u2_start`.
    fn course(u2_start: &str) -> CourseTree {
        let key = CourseKey::new("O", "F", "R").unwrap();
        let mut t = CourseTree::new(key, "C");
        let mut parent = CourseTree::root_ref();
        for (ty, id) in [("chapter", "c"), ("sequential", "s")] {
            t.insert_child(&parent, Block::new(ty, id), None).unwrap();
            parent = BlockRef::new(ty, id);
        }
        t.insert_child(&parent, Block::new("vertical", "u1"), None)
            .unwrap();
        let mut u2 = Block::new("vertical", "u2");
        u2.fields.insert("start".into(), u2_start.into());
        t.insert_child(&parent, u2, None).unwrap();
        let u1 = BlockRef::new("vertical", "u1");
        t.insert_child(&u1, Block::new("html", "open"), None)
            .unwrap();
        let mut hidden = Block::new("html", "hidden");
        hidden
            .fields
            .insert("visible_to_staff_only".into(), "true".into());
        t.insert_child(&u1, hidden, None).unwrap();
        t
    }

    fn ids(refs: &[BlockRef]) -> Vec<&str> {
        refs.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn the_teams_frame_is_never_a_learners() {
        let t = course("2000-01-01T00:00:00Z");
        let cache = FrameCache::default();
        let u1 = BlockRef::new("vertical", "u1");
        let now = Utc::now();
        let staff = Visibility::for_tests(true, now);
        let learner = Visibility::for_tests(false, now);
        let f = cache.frame("pub", &t, &u1, &staff, 1).unwrap();
        assert_eq!(ids(&f.leaves), ["open", "hidden"]);
        let f = cache.frame("pub", &t, &u1, &learner, 2).unwrap();
        assert_eq!(
            ids(&f.leaves),
            ["open"],
            "the staff-only block stays hidden"
        );
        // And the other way round, from a fresh cache.
        let cache = FrameCache::default();
        assert_eq!(
            ids(&cache.frame("pub", &t, &u1, &learner, 2).unwrap().leaves),
            ["open"]
        );
        assert_eq!(
            ids(&cache.frame("pub", &t, &u1, &staff, 1).unwrap().leaves),
            ["open", "hidden"]
        );
    }

    #[test]
    fn a_learners_frame_is_made_again_when_a_unit_opens() {
        let opens = Utc::now() + chrono::Duration::hours(1);
        let t = course(&opens.to_rfc3339());
        let cache = FrameCache::default();
        let u1 = BlockRef::new("vertical", "u1");
        let before = Visibility::for_tests(false, opens - chrono::Duration::minutes(1));
        let f = cache.frame("pub", &t, &u1, &before, 2).unwrap();
        assert_eq!(f.next, None, "u2 has not opened");
        let after = Visibility::for_tests(false, opens + chrono::Duration::minutes(1));
        let f = cache.frame("pub", &t, &u1, &after, 2).unwrap();
        assert_eq!(f.next.as_ref().map(|r| r.id.as_str()), Some("u2"));
        // The team saw it all along.
        let staff = Visibility::for_tests(true, opens - chrono::Duration::minutes(1));
        let f = cache.frame("pub", &t, &u1, &staff, 1).unwrap();
        assert_eq!(f.next.as_ref().map(|r| r.id.as_str()), Some("u2"));
    }

    #[test]
    fn hidden_units_have_no_frame() {
        let opens = Utc::now() + chrono::Duration::hours(1);
        let t = course(&opens.to_rfc3339());
        let cache = FrameCache::default();
        let u2 = BlockRef::new("vertical", "u2");
        let staff = Visibility::for_tests(true, Utc::now());
        assert!(cache.frame("pub", &t, &u2, &staff, 1).is_some());
        let learner = Visibility::for_tests(false, Utc::now());
        assert!(cache.frame("pub", &t, &u2, &learner, 2).is_none());
    }

    #[test]
    fn frames_with_draws_are_not_kept() {
        let mut t = course("2000-01-01T00:00:00Z");
        let u1 = BlockRef::new("vertical", "u1");
        t.insert_child(&u1, Block::new("library_content", "lib"), None)
            .unwrap();
        for i in 0..4 {
            t.insert_child(
                &BlockRef::new("library_content", "lib"),
                Block::new("html", &format!("x{i}")),
                None,
            )
            .unwrap();
        }
        let cache = FrameCache::default();
        let learner = Visibility::for_tests(false, Utc::now());
        let mut draws = std::collections::BTreeSet::new();
        for user in 1..20 {
            let f = cache.frame("pub", &t, &u1, &learner, user).unwrap();
            draws.insert(ids(&f.leaves).join(","));
        }
        assert!(draws.len() > 1, "each learner their own draw: {draws:?}");
        assert!(cache.lock().frames.is_empty());
    }
}
