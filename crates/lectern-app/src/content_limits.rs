//! The one check, shared by course import (archive, folder, CLI and HTTP)
//! and by Studio's block editor, that course content stays within the work
//! bounds of `lectern_content::limits` before it is saved. Over-limit
//! content is refused as a whole, with the problem (url_name and display
//! name) and the attribute named, so an author can fix it; nothing is
//! saved. Other problem faults (XML Lectern cannot grade) stay warnings at
//! import, as before.

use lectern_content::problem::{Problem, ProblemError};
use lectern_content::{Block, CourseTree};

/// Why a problem block is over a limit, as a sentence naming the problem
/// and the attribute; `None` when it is within every limit (or is not a
/// problem).
pub(crate) fn problem_over_limit(block: &Block) -> Option<String> {
    if block.block_type != "problem" {
        return None;
    }
    match Problem::parse(block.body.as_deref().unwrap_or(""), &block.id) {
        Err(ProblemError::OverLimit(e)) => Some(format!(
            "problem/{} ({}) asks for more than Lectern allows in {}: {}",
            block.id,
            block.title(),
            e.attribute,
            e.message
        )),
        _ => None,
    }
}

/// Every over-limit problem of a course, one sentence each (at most a
/// screenful: the first few are enough to act on).
pub(crate) fn course_over_limits(tree: &CourseTree) -> Vec<String> {
    // Every block, reachable or not: any of them can be asked for by key.
    tree.blocks
        .values()
        .filter_map(problem_over_limit)
        .take(20)
        .collect()
}
