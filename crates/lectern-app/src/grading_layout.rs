//! A published version's grading layout, worked out once and shared (issue
//! 18, sixth pass): its chapters and subsections with their grading fields,
//! and the problems each subsection counts with what grading needs of them
//! (points possible, effective settings, when the problem is released).
//!
//! Every answer check recomputes the learner's whole-course grade, and the
//! profile of a check had that walk of the course (each container's
//! children looked up block by block, inherited fields resolved up the
//! ancestry, each problem's release worked out from its ancestors) at a
//! sixth of the server's CPU. None of it depends on the learner except
//! their states, what they may see now, and — in a course with a
//! `library_content` or `split_test` block — which children they drew.
//! So:
//! - kept per publish id (versions are immutable and a publish id never
//!   repeats, `cache.rs`);
//! - a problem's visibility is left to each request: the layout holds its
//!   release (the latest start date on its way up, or never for learners
//!   when a block on that way is staff-only), which the request compares
//!   with its own time, exactly as `learning::released_to_learners` decides;
//! - in a course with `library_content` or `split_test` blocks, the layout
//!   holds every child of each such block, and each problem under one
//!   names the (container, branch) pairs on its way down; a request keeps
//!   only the problems on branches its learner drew (`selection.rs`).
//!   A draw is a pure function of the version and the learner, but costs a
//!   hash per child, and a check grades the whole course: so each learner's
//!   draws are kept with the layout (at most [`MAX_DRAWN_BYTES`] a layout).
//!   Without it a check hashed every child of every bank in the course:
//!   0.4 % of a check's CPU for the demo course's one bank of six, more for
//!   courses with large question banks (`bench/README.md`, "eleventh pass").
//!
//! Bounded: at most [`MAX_LAYOUTS`] versions and about [`MAX_LAYOUT_BYTES`];
//! when either is reached the cache starts over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use lectern_content::problem::settings::ProblemSettings;
use lectern_content::{Block, BlockRef, CourseTree, UsageKey};

use crate::learning::{parse_date, PublishedCourse};
use crate::problems::problem_settings;
use crate::selection;
use crate::visibility::Visibility;
use crate::Lectern;

/// At most this many versions' layouts are kept.
const MAX_LAYOUTS: usize = 64;
/// At most about this many bytes of layouts are kept.
const MAX_LAYOUT_BYTES: usize = 32 << 20;

/// When learners are shown a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// From this moment (`None`: always): the latest start date of the
    /// problem and its ancestors below the course.
    From(Option<DateTime<Utc>>),
    /// Never: it or an ancestor is staff-only.
    StaffOnly,
}

impl Release {
    fn of(tree: &CourseTree, r: &BlockRef) -> Release {
        let mut latest: Option<DateTime<Utc>> = None;
        let mut staff_only = false;
        let mut missing = false;
        tree.up_to_root(r, |a| {
            let Some(b) = tree.block(a) else {
                missing = true;
                return false;
            };
            if b.field("visible_to_staff_only") == Some("true") {
                staff_only = true;
                return false;
            }
            // The course's own start governs enrolment and the outline.
            if a.block_type != "course" {
                if let Some(start) = b.field("start").and_then(parse_date) {
                    latest = Some(latest.map_or(start, |l| l.max(start)));
                }
            }
            true
        });
        if staff_only || missing {
            Release::StaffOnly
        } else {
            Release::From(latest)
        }
    }

    /// Whether someone who sees what `sees` allows is shown the problem.
    pub(crate) fn shown(self, sees: &Visibility) -> bool {
        sees.sees_unreleased()
            || match self {
                Release::StaffOnly => false,
                Release::From(None) => true,
                Release::From(Some(start)) => start <= sees.now(),
            }
    }
}

/// One problem a subsection counts.
#[derive(Debug)]
pub(crate) struct ProblemSlot {
    pub usage: UsageKey,
    pub usage_text: String,
    pub title: String,
    pub release: Release,
    /// Raw points possible (the problem parsed).
    pub raw_possible: f64,
    pub settings: ProblemSettings,
    /// The randomizing containers on the way down from the subsection, each
    /// as its index in [`GradingLayout::containers`] with the position (in
    /// that container's children) of the child this problem is under; empty
    /// for most.
    draws: Vec<(usize, usize)>,
}

impl ProblemSlot {
    /// Whether a learner whose draws are `drawn` (from
    /// [`GradingLayout::drawn_for`]) drew every branch this problem is on.
    pub(crate) fn drawn_by(&self, drawn: Option<&Drawn>) -> bool {
        self.draws.iter().all(|&(container, child)| {
            drawn
                .and_then(|d| d.get(container))
                .is_some_and(|shown| shown.contains(&child))
        })
    }
}

/// One learner's draws in a version: for each of the layout's randomizing
/// containers, the positions of the children they are shown.
pub(crate) type Drawn = Vec<Vec<usize>>;

/// At most about this many bytes of learners' draws are kept per layout;
/// when reached, the memo starts over.
const MAX_DRAWN_BYTES: usize = 256 << 10;

/// Learners' draws in one version, kept because they are a pure function of
/// the version and the learner and cost a hash per child to make (see the
/// module docs).
#[derive(Debug, Default)]
struct DrawMemo {
    by_learner: HashMap<i64, Arc<Drawn>>,
    bytes: usize,
}

/// One subsection (sequential) and the problems it counts, in course order.
#[derive(Debug)]
pub(crate) struct SubsectionSlots {
    pub id: String,
    pub title: String,
    pub graded: bool,
    pub format: Option<String>,
    pub due: Option<String>,
    pub problems: Vec<ProblemSlot>,
}

/// A chapter's title and subsections.
#[derive(Debug)]
pub(crate) struct ChapterSlots {
    pub title: String,
    pub subsections: Vec<SubsectionSlots>,
}

/// What grading a version needs of its structure (see the module docs).
#[derive(Debug)]
pub(crate) struct GradingLayout {
    pub chapters: Vec<ChapterSlots>,
    bytes: usize,
    /// The randomizing containers problems are under, each once.
    containers: Vec<BlockRef>,
    drawn: Mutex<DrawMemo>,
}

/// The problems a learner may answer in a subsection, in course order: those
/// in its units, and inside `library_content` and `split_test` blocks every
/// child's, each with the (container, child position) pairs a learner must have
/// drawn to be shown it. Problems inside other containers (conditional) are
/// shown as placeholders and cannot be answered, so they are left out
/// rather than counted as zeros.
fn problems_under<'a>(
    tree: &'a CourseTree,
    root: &'a Block,
) -> Vec<(&'a Block, Vec<(BlockRef, usize)>)> {
    let mut out = Vec::new();
    let mut stack: Vec<(&Block, Vec<(BlockRef, usize)>)> = vec![(root, Vec::new())];
    while let Some((b, path)) = stack.pop() {
        if b.block_type == "problem" {
            out.push((b, path));
            continue;
        }
        let randomizing = selection::is_randomizing(&b.block_type);
        if !matches!(b.block_type.as_str(), "sequential" | "vertical") && !randomizing {
            continue;
        }
        for (at, c) in b.children.iter().enumerate().rev() {
            let Some(child) = tree.block(c) else { continue };
            let mut on_way = path.clone();
            if randomizing {
                on_way.push((b.block_ref(), at));
            }
            stack.push((child, on_way));
        }
    }
    out
}

impl GradingLayout {
    /// Works the layout out.
    fn make(app: &Lectern, course: &PublishedCourse) -> GradingLayout {
        let tree = &course.tree;
        let mut bytes = 0;
        let mut chapters = Vec::new();
        let mut containers: Vec<BlockRef> = Vec::new();
        let top: Vec<&Block> = tree
            .root()
            .map(|r| tree.children(r).collect())
            .unwrap_or_default();
        for chapter in top {
            let mut subsections = Vec::new();
            for seq in tree
                .children(chapter)
                .filter(|b| b.block_type == "sequential")
            {
                let r = seq.block_ref();
                let blocks = problems_under(tree, seq);
                let mut problems = Vec::with_capacity(blocks.len());
                for (p, path) in blocks {
                    let draws = path
                        .into_iter()
                        .map(|(container, child)| {
                            let at = match containers.iter().position(|c| *c == container) {
                                Some(at) => at,
                                None => {
                                    containers.push(container);
                                    containers.len() - 1
                                }
                            };
                            (at, child)
                        })
                        .collect();
                    // A problem that does not parse counts for nothing, as before.
                    let Ok(problem) = app.parsed_problem(course, p) else {
                        continue;
                    };
                    let pr = p.block_ref();
                    let usage = tree.usage_key(&pr);
                    let slot = ProblemSlot {
                        usage_text: usage.to_string(),
                        usage,
                        title: p.title(),
                        release: Release::of(tree, &pr),
                        raw_possible: problem.raw_possible(),
                        settings: app
                            .problem_settings
                            .get_or_make(&course.publish_id, p, || problem_settings(course, p)),
                        draws,
                    };
                    bytes +=
                        512 + 2 * slot.usage_text.len() + slot.title.len() + 16 * slot.draws.len();
                    problems.push(slot);
                }
                let sub = SubsectionSlots {
                    id: seq.id.clone(),
                    title: seq.title(),
                    graded: tree.effective_field(&r, "graded").as_deref() == Some("true"),
                    format: tree.effective_field(&r, "format").filter(|f| !f.is_empty()),
                    due: tree.effective_field(&r, "due"),
                    problems,
                };
                bytes += 256 + sub.id.len() + sub.title.len();
                subsections.push(sub);
            }
            chapters.push(ChapterSlots {
                title: chapter.title(),
                subsections,
            });
        }
        bytes += containers.iter().map(|c| 64 + c.id.len()).sum::<usize>();
        GradingLayout {
            chapters,
            bytes,
            containers,
            drawn: Mutex::new(DrawMemo::default()),
        }
    }

    /// Which children of each randomizing container `user_id` is shown, for
    /// [`ProblemSlot::drawn_by`]; `None` when the version has none. Made
    /// once per learner and version, then kept (bounded by
    /// [`MAX_DRAWN_BYTES`]).
    pub(crate) fn drawn_for(&self, tree: &CourseTree, user_id: i64) -> Option<Arc<Drawn>> {
        if self.containers.is_empty() {
            return None;
        }
        let memo = || self.drawn.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = memo().by_learner.get(&user_id) {
            return Some(found.clone());
        }
        let drawn: Drawn = self
            .containers
            .iter()
            .map(|r| {
                let Some(block) = tree.block(r) else {
                    return Vec::new();
                };
                let shown = selection::shown_children(tree, block, user_id);
                block
                    .children
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| shown.contains(c))
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        let drawn = Arc::new(drawn);
        let size = 64 + drawn.iter().map(|d| 24 + 8 * d.len()).sum::<usize>();
        let mut kept = memo();
        if kept.bytes + size > MAX_DRAWN_BYTES {
            kept.by_learner.clear();
            kept.bytes = 0;
        }
        if kept.by_learner.insert(user_id, drawn.clone()).is_none() {
            kept.bytes += size;
        }
        Some(drawn)
    }

    /// How many problems the layout counts (every drawable one).
    pub(crate) fn problem_count(&self) -> usize {
        self.chapters
            .iter()
            .flat_map(|c| &c.subsections)
            .map(|s| s.problems.len())
            .sum()
    }
}

/// Layouts by publish id (see the module docs).
#[derive(Default)]
pub struct LayoutCache {
    inner: Mutex<Layouts>,
}

#[derive(Default)]
struct Layouts {
    by_publish: HashMap<String, Arc<GradingLayout>>,
    bytes: usize,
}

impl LayoutCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Layouts> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Lectern {
    /// The layout of version `publish_id` if it has been made and kept.
    pub(crate) fn kept_grading_layout(&self, publish_id: &str) -> Option<Arc<GradingLayout>> {
        self.layouts.lock().by_publish.get(publish_id).cloned()
    }

    /// `course`'s grading layout: the shared one, or one made now and kept.
    /// Parses problems the first time: call it on the CPU pool.
    pub(crate) fn grading_layout(&self, course: &PublishedCourse) -> Arc<GradingLayout> {
        if let Some(found) = self.layouts.lock().by_publish.get(&course.publish_id) {
            return found.clone();
        }
        let layout = Arc::new(GradingLayout::make(self, course));
        if layout.bytes <= MAX_LAYOUT_BYTES {
            let mut kept = self.layouts.lock();
            if kept.by_publish.len() >= MAX_LAYOUTS || kept.bytes + layout.bytes > MAX_LAYOUT_BYTES
            {
                kept.by_publish.clear();
                kept.bytes = 0;
            }
            kept.bytes += layout.bytes;
            if let Some(old) = kept
                .by_publish
                .insert(course.publish_id.clone(), layout.clone())
            {
                kept.bytes = kept.bytes.saturating_sub(old.bytes);
            }
        }
        layout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    use lectern_content::CourseKey;

    /// A block with the given fields.
    fn block(ty: &str, id: &str, fields: &[(&str, &str)]) -> Block {
        let mut b = Block::new(ty, id);
        for (k, v) in fields {
            b.fields.insert((*k).into(), (*v).into());
        }
        b
    }

    /// A unit with a library block drawing 2 of 6 problems and a two-group
    /// split test, and a layout that knows only those two containers.
    fn drawing_course() -> (CourseTree, GradingLayout) {
        let mut t = CourseTree::new(CourseKey::new("O", "D", "1").unwrap(), "C");
        let mut parent = CourseTree::root_ref();
        for (ty, id) in [("chapter", "c"), ("sequential", "s"), ("vertical", "v")] {
            t.insert_child(&parent, Block::new(ty, id), None).unwrap();
            parent = BlockRef::new(ty, id);
        }
        t.insert_child(
            &parent,
            block("library_content", "lib", &[("max_count", "2")]),
            None,
        )
        .unwrap();
        t.insert_child(&parent, block("split_test", "ab", &[]), None)
            .unwrap();
        let (lib, ab) = (
            BlockRef::new("library_content", "lib"),
            BlockRef::new("split_test", "ab"),
        );
        for i in 0..6 {
            t.insert_child(&lib, Block::new("problem", &format!("p{i}")), None)
                .unwrap();
        }
        for g in ["a", "b"] {
            t.insert_child(&ab, Block::new("vertical", g), None)
                .unwrap();
        }
        let layout = GradingLayout {
            chapters: Vec::new(),
            bytes: 0,
            containers: vec![lib, ab],
            drawn: Mutex::new(DrawMemo::default()),
        };
        (t, layout)
    }

    /// The kept draws are the draws `selection` makes, learner by learner,
    /// and the memo stays within its bound however many learners come.
    #[test]
    fn kept_draws_are_each_learners_draws_and_stay_bounded() {
        let (t, layout) = drawing_course();
        let containers: Vec<&Block> = layout
            .containers
            .iter()
            .map(|r| t.block(r).unwrap())
            .collect();
        for user in 1..=20_000i64 {
            let drawn = layout.drawn_for(&t, user).unwrap();
            for (at, container) in containers.iter().enumerate() {
                let shown = selection::shown_children(&t, container, user);
                let kept: Vec<&BlockRef> =
                    drawn[at].iter().map(|&i| &container.children[i]).collect();
                assert_eq!(kept, shown.iter().collect::<Vec<_>>(), "learner {user}");
            }
            // Asked again, the kept draw is handed out, not made anew.
            assert!(Arc::ptr_eq(&drawn, &layout.drawn_for(&t, user).unwrap()));
            assert!(layout.drawn.lock().unwrap().bytes <= MAX_DRAWN_BYTES);
        }
        let memo = layout.drawn.lock().unwrap();
        assert!(
            memo.by_learner.len() > 100,
            "it keeps learners: {}",
            memo.by_learner.len()
        );
    }

    /// A version with no randomizing container keeps nothing per learner.
    #[test]
    fn a_version_without_draws_keeps_none() {
        let (t, mut layout) = drawing_course();
        layout.containers.clear();
        assert!(layout.drawn_for(&t, 7).is_none());
        assert!(layout.drawn.lock().unwrap().by_learner.is_empty());
    }

    #[test]
    fn a_problems_release_is_its_latest_start_or_never_when_staff_only() {
        let mut t = CourseTree::new(CourseKey::new("O", "R", "1").unwrap(), "C");
        let root = CourseTree::root_ref();
        t.insert_child(
            &root,
            block("chapter", "ch", &[("start", "2020-01-01T00:00:00Z")]),
            None,
        )
        .unwrap();
        let ch = BlockRef::new("chapter", "ch");
        t.insert_child(
            &ch,
            block("sequential", "sq", &[("start", "2021-06-01T00:00:00Z")]),
            None,
        )
        .unwrap();
        let sq = BlockRef::new("sequential", "sq");
        t.insert_child(&sq, block("vertical", "u", &[]), None)
            .unwrap();
        t.insert_child(
            &sq,
            block("vertical", "h", &[("visible_to_staff_only", "true")]),
            None,
        )
        .unwrap();
        let (u, h) = (
            BlockRef::new("vertical", "u"),
            BlockRef::new("vertical", "h"),
        );
        t.insert_child(
            &u,
            block("problem", "p1", &[("start", "2021-01-01T00:00:00Z")]),
            None,
        )
        .unwrap();
        t.insert_child(&h, block("problem", "p2", &[]), None)
            .unwrap();
        if let Some(course) = t.blocks.get_mut(&root) {
            course
                .fields
                .insert("start".into(), "2030-01-01T00:00:00Z".into());
        }
        let p1 = BlockRef::new("problem", "p1");
        let p2 = BlockRef::new("problem", "p2");
        let june = Utc.with_ymd_and_hms(2021, 6, 1, 0, 0, 0).unwrap();
        // The course's own start (2030) does not hold a block back.
        assert_eq!(Release::of(&t, &p1), Release::From(Some(june)));
        assert_eq!(Release::of(&t, &p2), Release::StaffOnly);
        for (now, staff) in [
            (june - chrono::Duration::seconds(1), false),
            (june, false),
            (june, true),
            (Utc::now(), false),
        ] {
            let sees = Visibility::for_tests(staff, now);
            for p in [&p1, &p2] {
                assert_eq!(
                    Release::of(&t, p).shown(&sees),
                    sees.shows(&t, p),
                    "{p} at {now}, staff {staff}"
                );
            }
        }
    }
}
