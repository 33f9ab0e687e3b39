//! Which children of a randomizing container a learner is shown: a
//! `library_content` block shows `max_count` (default 1) of its children, a
//! `split_test` the one child of the learner's group in its partition.
//!
//! Open edX draws these at random once per learner and stores the draw.
//! Lectern stores nothing: the draw is a hash of the learner's user id, the
//! container's usage key and each child's id, so it is the same on every
//! request and every node, and changes only if the container's children (or,
//! for a split test, its groups) change. Staff in the LMS see their own draw,
//! as in Open edX. The unit page, problem access and grades all ask this one
//! module, so what a learner is graded on is exactly what they are shown.

use lectern_content::{Block, BlockRef, CourseTree};
use sha2::{Digest, Sha256};

/// How deep containers may nest inside a unit before the rest is ignored.
const MAX_DEPTH: usize = 16;

/// Whether a block type shows each learner only some of its children.
pub fn is_randomizing(block_type: &str) -> bool {
    matches!(block_type, "library_content" | "split_test")
}

/// A number drawn from the learner, the container and a label, stable forever.
fn draw(user_id: i64, tree: &CourseTree, container: &Block, label: &str) -> u64 {
    draw_from(draws_of(user_id, tree, container), label)
}

/// The hash of `user_id|container's usage key|`, which every draw of one
/// learner in one container starts with: made once per container, not once
/// per child (formatting the key per child was most of a draw's cost).
fn draws_of(user_id: i64, tree: &CourseTree, container: &Block) -> Sha256 {
    let mut h = Sha256::new();
    h.update(user_id.to_string().as_bytes());
    h.update(b"|");
    h.update(
        tree.usage_key(&container.block_ref())
            .to_string()
            .as_bytes(),
    );
    h.update(b"|");
    h
}

/// The draw for `label` from a container's [`draws_of`].
fn draw_from(mut h: Sha256, label: &str) -> u64 {
    h.update(label.as_bytes());
    let d = h.finalize();
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The last part of a location (`i4x://O/C/vertical/ID`, `block-v1:…@ID`).
fn location_id(location: &str) -> &str {
    location
        .rsplit(['/', '@'])
        .next()
        .unwrap_or(location)
        .trim()
}

/// The children of `block` that `user_id` is shown, in course order. Blocks
/// other than randomizing containers show all their children.
pub fn shown_children(tree: &CourseTree, block: &Block, user_id: i64) -> Vec<BlockRef> {
    match block.block_type.as_str() {
        "library_content" => {
            let max = block
                .field("max_count")
                .and_then(|v| v.trim().trim_matches('"').parse::<i64>().ok())
                .unwrap_or(1);
            // Open edX: -1 (or any count at least the number of children) shows all.
            let max = if max < 0 {
                block.children.len()
            } else {
                max as usize
            };
            let start = draws_of(user_id, tree, block);
            let mut ranked: Vec<(u64, usize)> = block
                .children
                .iter()
                .enumerate()
                .map(|(i, c)| (draw_from(start.clone(), &c.to_string()), i))
                .collect();
            ranked.sort_unstable();
            let mut keep: Vec<usize> = ranked.into_iter().take(max).map(|(_, i)| i).collect();
            keep.sort_unstable();
            keep.into_iter()
                .filter_map(|i| block.children.get(i).cloned())
                .collect()
        }
        "split_test" => {
            let groups: Vec<BlockRef> = block
                .field("group_id_to_child")
                .and_then(|j| {
                    serde_json::from_str::<std::collections::BTreeMap<String, String>>(j).ok()
                })
                .map(|m| {
                    m.values()
                        .filter_map(|loc| {
                            block
                                .children
                                .iter()
                                .find(|c| c.id == location_id(loc))
                                .cloned()
                        })
                        .collect()
                })
                .filter(|g: &Vec<BlockRef>| !g.is_empty())
                .unwrap_or_else(|| block.children.clone());
            if groups.is_empty() {
                return Vec::new();
            }
            let n = groups.len() as u64;
            let pick = draw(user_id, tree, block, "group") % n;
            groups.into_iter().skip(pick as usize).take(1).collect()
        }
        _ => block.children.clone(),
    }
}

/// Whether `user_id` is shown the block `r`: every randomizing container
/// above it selected the branch it is on.
pub fn shown_to(tree: &CourseTree, r: &BlockRef, user_id: i64) -> bool {
    let chain = tree.ancestry(r);
    chain.windows(2).all(|pair| match tree.block(&pair[0]) {
        Some(parent) if is_randomizing(&parent.block_type) => {
            shown_children(tree, parent, user_id).contains(&pair[1])
        }
        _ => true,
    })
}

/// The leaves a learner sees for one child of a unit, in order: the block
/// itself, or for a container (and the units inside it) the leaves of its
/// shown children.
pub fn shown_leaves<'a>(tree: &'a CourseTree, block: &'a Block, user_id: i64) -> Vec<&'a Block> {
    let mut out = Vec::new();
    collect_leaves(tree, block, user_id, 0, &mut out);
    out
}

fn collect_leaves<'a>(
    tree: &'a CourseTree,
    block: &'a Block,
    user_id: i64,
    depth: usize,
    out: &mut Vec<&'a Block>,
) {
    if !is_randomizing(&block.block_type) && block.block_type != "vertical" {
        out.push(block);
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    for c in shown_children(tree, block, user_id) {
        if let Some(child) = tree.block(&c) {
            collect_leaves(tree, child, user_id, depth + 1, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_content::CourseKey;

    fn course() -> CourseTree {
        let key = CourseKey::new("O", "N", "R").unwrap();
        let mut t = CourseTree::new(key, "C");
        let mut lib = Block::new("library_content", "lib");
        lib.fields.insert("max_count".into(), "2".into());
        let mut parent = CourseTree::root_ref();
        for (ty, id) in [("chapter", "c"), ("sequential", "s"), ("vertical", "v")] {
            t.insert_child(&parent, Block::new(ty, id), None).unwrap();
            parent = BlockRef::new(ty, id);
        }
        t.insert_child(&parent, lib, None).unwrap();
        for i in 0..4 {
            t.insert_child(
                &BlockRef::new("library_content", "lib"),
                Block::new("problem", &format!("p{i}")),
                None,
            )
            .unwrap();
        }
        t
    }

    #[test]
    fn library_content_shows_max_count_stably_and_varies_by_learner() {
        let t = course();
        let lib = t.block(&BlockRef::new("library_content", "lib")).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for user in 1..20 {
            let shown = shown_children(&t, lib, user);
            assert_eq!(shown.len(), 2);
            assert_eq!(shown, shown_children(&t, lib, user));
            for r in &lib.children {
                assert_eq!(shown_to(&t, r, user), shown.contains(r));
            }
            seen.extend(shown);
        }
        assert_eq!(seen.len(), 4, "every child is someone's");
    }

    /// A draw is stored nowhere, so its formula may never change: the first
    /// eight bytes (big-endian) of SHA-256 over `user|container's usage
    /// key|label`, however it is computed.
    #[test]
    fn a_draw_is_the_hash_of_the_learner_the_container_and_the_label() {
        let t = course();
        let lib = t.block(&BlockRef::new("library_content", "lib")).unwrap();
        let key = t.usage_key(&lib.block_ref()).to_string();
        for (user, label) in [(7, "problem/p0"), (12345, "group"), (1, "")] {
            let d = Sha256::digest(format!("{user}|{key}|{label}").as_bytes());
            let want = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
            assert_eq!(draw(user, &t, lib, label), want);
            assert_eq!(draw_from(draws_of(user, &t, lib), label), want);
        }
        let child = lib.children[0].to_string();
        let d = Sha256::digest(format!("3|{key}|{child}").as_bytes());
        let rank = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
        let mut ranks: Vec<(u64, String)> = lib
            .children
            .iter()
            .map(|c| {
                let d = Sha256::digest(format!("3|{key}|{c}").as_bytes());
                (
                    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]),
                    c.to_string(),
                )
            })
            .collect();
        ranks.sort();
        assert!(ranks.iter().any(|(r, _)| *r == rank));
        let mut want: Vec<String> = ranks.into_iter().take(2).map(|(_, c)| c).collect();
        want.sort_by_key(|c| lib.children.iter().position(|x| x.to_string() == *c));
        let shown: Vec<String> = shown_children(&t, lib, 3)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(shown, want, "the two lowest draws, in course order");
    }

    #[test]
    fn split_test_locations_name_children_by_id() {
        assert_eq!(location_id("i4x://O/C/vertical/abc"), "abc");
        assert_eq!(location_id("block-v1:O+C+R+type@vertical+block@abc"), "abc");
    }
}
