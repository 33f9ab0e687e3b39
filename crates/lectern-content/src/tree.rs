//! The course tree: course → chapter (section) → sequential (subsection) →
//! vertical (unit) → leaf blocks (html, problem, video, and any other type).
//!
//! A `CourseTree` is one whole version of a course as plain data. Drafts and
//! published versions are both `CourseTree`s; the store keeps them as
//! documents, so a published version never changes once written.
//!
//! Settings are kept as text, exactly as OLX writes them in XML attributes
//! (policy JSON values that are not strings are kept as their JSON text), so
//! that an import followed by an export gives back what was read.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::grader::GradingPolicy;
use crate::keys::{BlockRef, CourseKey, UsageKey};

/// Settings that flow from a block to its descendants unless they set their own
/// (Open edX's inheritable fields).
pub const INHERITED_FIELDS: &[&str] = &[
    "start",
    "due",
    "graceperiod",
    "showanswer",
    "max_attempts",
    "rerandomize",
    "graded",
    "format",
    "visible_to_staff_only",
    "show_correctness",
    "days_early_for_beta",
    "static_asset_path",
    "group_access",
];

/// Why an edit to a tree was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("no block {0} in this course")]
    NoSuchBlock(String),
    #[error("a block {0} already exists in this course")]
    Duplicate(String),
    #[error("a {child} cannot go inside a {parent}")]
    BadNesting { parent: String, child: String },
    #[error("the course block cannot be removed")]
    RootRemoval,
}

/// One block of the course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    #[serde(rename = "type")]
    pub block_type: String,
    /// The url_name: unique among blocks of the same type in a course.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Settings (XML attributes and policy overrides), as text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<BlockRef>,
    /// The block's content: the HTML body of an html block, the `<problem>`
    /// XML of a problem, and for a type Lectern does not model, its whole XML
    /// element as read so that export gives it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl Block {
    pub fn new(block_type: &str, id: &str) -> Self {
        Self {
            block_type: block_type.to_string(),
            id: id.to_string(),
            display_name: None,
            fields: BTreeMap::new(),
            children: Vec::new(),
            body: None,
        }
    }

    pub fn block_ref(&self) -> BlockRef {
        BlockRef::new(&self.block_type, &self.id)
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The name shown to people: the display name, else a name for the type.
    pub fn title(&self) -> String {
        match &self.display_name {
            Some(n) if !n.trim().is_empty() => n.clone(),
            _ => default_display_name(&self.block_type).to_string(),
        }
    }
}

/// What Studio calls a block of this type when it has no display name.
pub fn default_display_name(block_type: &str) -> &str {
    match block_type {
        "chapter" => "Section",
        "sequential" => "Subsection",
        "vertical" => "Unit",
        "html" => "Text",
        "problem" => "Blank Advanced Problem",
        "video" => "Video",
        "discussion" => "Discussion",
        "course" => "Course",
        other => other,
    }
}

/// The structural level a block type sits at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Course,
    Section,
    Subsection,
    Unit,
    Leaf,
}

pub fn level_of(block_type: &str) -> Level {
    match block_type {
        "course" => Level::Course,
        "chapter" => Level::Section,
        "sequential" => Level::Subsection,
        "vertical" => Level::Unit,
        _ => Level::Leaf,
    }
}

/// A static file of the course (`/static/NAME`), stored as a content-addressed blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// Path below `static/`, e.g. `images/cat.png`.
    pub path: String,
    /// Hex SHA-256 of the bytes: the blob's address.
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}

/// One whole version of a course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseTree {
    pub key: CourseKey,
    /// Every block, the course block included under `course@course`.
    pub blocks: BTreeMap<BlockRef, Block>,
    #[serde(default)]
    pub grading_policy: GradingPolicy,
    /// Course-level policy settings Lectern keeps but does not model
    /// (`policies/RUN/policy.json` under `course/RUN`), as JSON.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub policy: serde_json::Map<String, serde_json::Value>,
    /// About pages (`about/NAME.html`): overview, short_description, …
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub about: BTreeMap<String, String>,
    /// Course info pages (`info/NAME.html`): handouts, updates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub info: BTreeMap<String, String>,
    /// Files kept as they are for export (`tabs/`, `policies/assets.json`, …):
    /// path in the archive → text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_files: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub assets: BTreeMap<String, Asset>,
    /// The child → parent map, once [`CourseTree::build_index`] has been
    /// called on a tree that will not change again (a published version).
    #[serde(skip)]
    index: ParentIndex,
}

/// A cache that takes no part in equality or serialisation.
#[derive(Default)]
struct ParentIndex(std::sync::OnceLock<HashMap<BlockRef, BlockRef>>);

impl Clone for ParentIndex {
    fn clone(&self) -> Self {
        // A clone is usually about to be edited: it starts without an index.
        ParentIndex::default()
    }
}

impl PartialEq for ParentIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for ParentIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "indexed"
        } else {
            "not indexed"
        })
    }
}

impl CourseTree {
    /// An empty course with just its course block.
    pub fn new(key: CourseKey, display_name: &str) -> Self {
        let mut root = Block::new("course", "course");
        root.display_name = Some(display_name.to_string());
        let mut blocks = BTreeMap::new();
        blocks.insert(root.block_ref(), root);
        Self {
            key,
            blocks,
            grading_policy: GradingPolicy::default(),
            policy: serde_json::Map::new(),
            about: BTreeMap::new(),
            info: BTreeMap::new(),
            extra_files: BTreeMap::new(),
            assets: BTreeMap::new(),
            index: ParentIndex::default(),
        }
    }

    /// Computes the child → parent map once, for a tree that will only be
    /// read from now on (published versions): `ancestry` and
    /// `effective_field` then cost a walk up the tree instead of a pass over
    /// every block. Editing methods drop the index; do not change `blocks`
    /// directly after calling this.
    pub fn build_index(&self) {
        let _ = self.index.0.get_or_init(|| self.compute_parents());
    }

    pub fn root_ref() -> BlockRef {
        BlockRef::new("course", "course")
    }

    pub fn root(&self) -> Option<&Block> {
        self.blocks.get(&Self::root_ref())
    }

    pub fn display_name(&self) -> String {
        self.root()
            .map(Block::title)
            .unwrap_or_else(|| self.key.to_string())
    }

    pub fn block(&self, r: &BlockRef) -> Option<&Block> {
        self.blocks.get(r)
    }

    pub fn usage_key(&self, r: &BlockRef) -> UsageKey {
        UsageKey {
            course: self.key.clone(),
            block: r.clone(),
        }
    }

    /// The children of a block that exist, in order.
    pub fn children<'a>(&'a self, block: &'a Block) -> impl Iterator<Item = &'a Block> + 'a {
        block.children.iter().filter_map(|c| self.blocks.get(c))
    }

    /// Child → parent, for every block reachable from the root.
    pub fn parents(&self) -> HashMap<BlockRef, BlockRef> {
        match self.index.0.get() {
            Some(index) => index.clone(),
            None => self.compute_parents(),
        }
    }

    fn compute_parents(&self) -> HashMap<BlockRef, BlockRef> {
        let mut out = HashMap::new();
        for b in self.blocks.values() {
            for c in &b.children {
                out.entry(c.clone()).or_insert_with(|| b.block_ref());
            }
        }
        out
    }

    /// Every block reachable from the root, depth first in course order
    /// (each block once, even if a malformed tree lists it twice).
    pub fn walk(&self) -> Vec<&Block> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![Self::root_ref()];
        while let Some(r) = stack.pop() {
            if !seen.insert(r.clone()) {
                continue;
            }
            if let Some(b) = self.blocks.get(&r) {
                out.push(b);
                for c in b.children.iter().rev() {
                    stack.push(c.clone());
                }
            }
        }
        out
    }

    /// The chain from the root down to `r` (both included), or empty if `r`
    /// is not reachable.
    pub fn ancestry(&self, r: &BlockRef) -> Vec<BlockRef> {
        let computed;
        let parents = match self.index.0.get() {
            Some(index) => index,
            None => {
                computed = self.compute_parents();
                &computed
            }
        };
        let mut chain = vec![r.clone()];
        let mut cur = r.clone();
        while let Some(p) = parents.get(&cur) {
            if chain.contains(p) {
                break;
            }
            chain.push(p.clone());
            cur = p.clone();
        }
        chain.reverse();
        if chain.first() == Some(&Self::root_ref()) {
            chain
        } else {
            Vec::new()
        }
    }

    /// Calls `visit` on `r` and then on each ancestor, nearest first, until
    /// `visit` answers `false` or the root is passed. True when the walk
    /// reached the root with every answer `true`; false for a block with no
    /// path to the root (as [`Self::ancestry`] is empty for it) or a cycle.
    /// With the parent index built ([`Self::build_index`], done for every
    /// published course) it allocates nothing: grading and visibility call
    /// it for every problem of a course on each answer check.
    pub fn up_to_root(&self, r: &BlockRef, mut visit: impl FnMut(&BlockRef) -> bool) -> bool {
        let Some(parents) = self.index.0.get() else {
            let chain = self.ancestry(r);
            return !chain.is_empty() && chain.iter().rev().all(visit);
        };
        let mut cur = r;
        // A cycle would have more steps than there are parent links.
        for _ in 0..=parents.len() {
            if !visit(cur) {
                return false;
            }
            match parents.get(cur) {
                Some(p) => cur = p,
                None => return cur.block_type == "course" && cur.id == "course",
            }
        }
        false
    }

    /// A setting as it applies to `r`: its own, else the nearest ancestor's
    /// for inheritable fields.
    pub fn effective_field(&self, r: &BlockRef, name: &str) -> Option<String> {
        let own = self.blocks.get(r).and_then(|b| b.field(name));
        if own.is_some() || !INHERITED_FIELDS.contains(&name) {
            return own.map(str::to_string);
        }
        let mut found = None;
        let reached_root = self.up_to_root(r, |a| {
            if found.is_none() {
                found = self.blocks.get(a).and_then(|b| b.field(name));
            }
            true
        });
        found.filter(|_| reached_root).map(str::to_string)
    }

    /// Units in course order, for previous/next navigation.
    pub fn units(&self) -> Vec<&Block> {
        self.walk()
            .into_iter()
            .filter(|b| b.block_type == "vertical")
            .collect()
    }

    /// A block id not yet used for this type, derived from `hint`.
    pub fn fresh_id(&self, block_type: &str, hint: &str) -> String {
        let base = crate::keys::slugify_key_part(hint);
        if !self.blocks.contains_key(&BlockRef::new(block_type, &base)) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}_{n}"))
            .find(|id| !self.blocks.contains_key(&BlockRef::new(block_type, id)))
            .unwrap_or(base)
    }

    /// Adds `block` as a child of `parent` at `index` (or at the end).
    pub fn insert_child(
        &mut self,
        parent: &BlockRef,
        block: Block,
        index: Option<usize>,
    ) -> Result<(), TreeError> {
        self.index = ParentIndex::default();
        let child_ref = block.block_ref();
        if self.blocks.contains_key(&child_ref) {
            return Err(TreeError::Duplicate(child_ref.to_string()));
        }
        let p = self
            .blocks
            .get(parent)
            .ok_or_else(|| TreeError::NoSuchBlock(parent.to_string()))?;
        if !may_contain(&p.block_type, &block.block_type) {
            return Err(TreeError::BadNesting {
                parent: p.block_type.clone(),
                child: block.block_type.clone(),
            });
        }
        self.blocks.insert(child_ref.clone(), block);
        if let Some(p) = self.blocks.get_mut(parent) {
            let at = index.unwrap_or(p.children.len()).min(p.children.len());
            p.children.insert(at, child_ref);
        }
        Ok(())
    }

    /// Removes a block and everything below it.
    pub fn remove_subtree(&mut self, r: &BlockRef) -> Result<(), TreeError> {
        self.index = ParentIndex::default();
        if *r == Self::root_ref() {
            return Err(TreeError::RootRemoval);
        }
        if !self.blocks.contains_key(r) {
            return Err(TreeError::NoSuchBlock(r.to_string()));
        }
        for b in self.blocks.values_mut() {
            b.children.retain(|c| c != r);
        }
        let mut stack = vec![r.clone()];
        while let Some(cur) = stack.pop() {
            if let Some(b) = self.blocks.remove(&cur) {
                stack.extend(b.children);
            }
        }
        Ok(())
    }

    /// Moves a block one place up (`delta` = -1) or down (+1) among its siblings.
    pub fn move_among_siblings(&mut self, r: &BlockRef, delta: i64) -> Result<(), TreeError> {
        self.index = ParentIndex::default();
        let parent = self
            .parents()
            .get(r)
            .cloned()
            .ok_or_else(|| TreeError::NoSuchBlock(r.to_string()))?;
        let p = self
            .blocks
            .get_mut(&parent)
            .ok_or_else(|| TreeError::NoSuchBlock(parent.to_string()))?;
        if let Some(pos) = p.children.iter().position(|c| c == r) {
            let target = pos as i64 + delta;
            if target >= 0 && (target as usize) < p.children.len() {
                p.children.swap(pos, target as usize);
            }
        }
        Ok(())
    }
}

/// Whether Studio lets a `child` type go directly inside a `parent` type.
pub fn may_contain(parent: &str, child: &str) -> bool {
    match level_of(parent) {
        Level::Course => child == "chapter",
        Level::Section => child == "sequential",
        Level::Subsection => child == "vertical",
        Level::Unit => level_of(child) == Level::Leaf,
        // Containers such as split_test or library_content hold leaves or units.
        Level::Leaf => matches!(level_of(child), Level::Leaf | Level::Unit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CourseTree {
        let key = CourseKey::new("Org", "Num", "Run").unwrap();
        let mut t = CourseTree::new(key, "Sample");
        let root = CourseTree::root_ref();
        let mut ch = Block::new("chapter", "ch1");
        ch.fields
            .insert("due".into(), "2030-01-01T00:00:00Z".into());
        t.insert_child(&root, ch, None).unwrap();
        t.insert_child(
            &BlockRef::new("chapter", "ch1"),
            Block::new("sequential", "s1"),
            None,
        )
        .unwrap();
        t.insert_child(
            &BlockRef::new("sequential", "s1"),
            Block::new("vertical", "v1"),
            None,
        )
        .unwrap();
        t.insert_child(
            &BlockRef::new("sequential", "s1"),
            Block::new("vertical", "v2"),
            None,
        )
        .unwrap();
        t.insert_child(
            &BlockRef::new("vertical", "v1"),
            Block::new("problem", "p1"),
            None,
        )
        .unwrap();
        t
    }

    #[test]
    fn walk_is_in_course_order() {
        let t = sample();
        let ids: Vec<_> = t.walk().iter().map(|b| b.id.clone()).collect();
        assert_eq!(ids, ["course", "ch1", "s1", "v1", "p1", "v2"]);
    }

    #[test]
    fn inherited_settings_flow_down() {
        let t = sample();
        let p = BlockRef::new("problem", "p1");
        assert_eq!(
            t.effective_field(&p, "due").as_deref(),
            Some("2030-01-01T00:00:00Z")
        );
        assert_eq!(t.effective_field(&p, "display_only_here"), None);
    }

    #[test]
    fn nesting_rules_are_enforced() {
        let mut t = sample();
        let err = t.insert_child(&CourseTree::root_ref(), Block::new("html", "h"), None);
        assert!(matches!(err, Err(TreeError::BadNesting { .. })));
        let dup = t.insert_child(
            &BlockRef::new("vertical", "v2"),
            Block::new("problem", "p1"),
            None,
        );
        assert!(matches!(dup, Err(TreeError::Duplicate(_))));
    }

    #[test]
    fn the_index_answers_like_the_tree_and_edits_drop_it() {
        let mut t = sample();
        let p = BlockRef::new("problem", "p1");
        let plain = t.ancestry(&p);
        t.build_index();
        assert_eq!(t.ancestry(&p), plain);
        assert_eq!(
            t.effective_field(&p, "due").as_deref(),
            Some("2030-01-01T00:00:00Z")
        );
        assert_eq!(t.clone(), t, "the index takes no part in equality");
        // An edit after indexing is still seen.
        t.insert_child(
            &BlockRef::new("vertical", "v2"),
            Block::new("html", "h9"),
            None,
        )
        .unwrap();
        assert_eq!(t.ancestry(&BlockRef::new("html", "h9")).len(), 5);
    }

    #[test]
    fn the_walk_up_agrees_with_the_ancestry_with_and_without_the_index() {
        for indexed in [false, true] {
            let mut t = sample();
            // An orphan: in the tree's blocks but no parent links to it.
            t.blocks.insert(
                BlockRef::new("html", "orphan"),
                Block::new("html", "orphan"),
            );
            // A cycle that does not reach the root.
            let mut a = Block::new("vertical", "ca");
            a.children.push(BlockRef::new("vertical", "cb"));
            let mut b = Block::new("vertical", "cb");
            b.children.push(BlockRef::new("vertical", "ca"));
            t.blocks.insert(a.block_ref(), a);
            t.blocks.insert(b.block_ref(), b);
            if indexed {
                t.build_index();
            }
            let mut seen = Vec::new();
            assert!(t.up_to_root(&BlockRef::new("problem", "p1"), |r| {
                seen.push(r.id.clone());
                true
            }));
            assert_eq!(seen, ["p1", "v1", "s1", "ch1", "course"], "nearest first");
            let mut n = 0;
            assert!(!t.up_to_root(&BlockRef::new("problem", "p1"), |_| {
                n += 1;
                n < 3
            }));
            assert_eq!(n, 3, "stops at the first false");
            for r in [
                BlockRef::new("html", "orphan"),
                BlockRef::new("vertical", "ca"),
            ] {
                assert!(t.ancestry(&r).is_empty());
                assert!(!t.up_to_root(&r, |_| true), "{r:?} (indexed: {indexed})");
            }
            // An orphan inherits nothing, as its empty ancestry says.
            assert_eq!(
                t.effective_field(&BlockRef::new("html", "orphan"), "due"),
                None
            );
        }
    }

    #[test]
    fn remove_and_reorder() {
        let mut t = sample();
        t.move_among_siblings(&BlockRef::new("vertical", "v2"), -1)
            .unwrap();
        let s = t.block(&BlockRef::new("sequential", "s1")).unwrap();
        assert_eq!(s.children[0].id, "v2");
        t.remove_subtree(&BlockRef::new("vertical", "v1")).unwrap();
        assert!(t.block(&BlockRef::new("problem", "p1")).is_none());
        assert!(t.remove_subtree(&CourseTree::root_ref()).is_err());
    }
}
