//! The columns of the grade reports, from the published course alone (so
//! every row has the same columns whatever each learner was shown):
//! graded subsections in course order, grouped by assignment type in the
//! order the types first appear, numbered within their type as Open edX's
//! grade report numbers them, and the problems under each.

use lectern_content::{Block, CourseTree};

use crate::selection;

/// One graded subsection and the problems it may hold.
#[derive(Debug, Clone)]
pub struct GradedSubsection {
    pub block_id: String,
    /// `"Homework 2: Week 2 homework"`: type, 1-based index within the
    /// type, display name.
    pub label: String,
    /// Every problem it may show (all children of randomizing blocks),
    /// as (usage key, display name).
    pub problems: Vec<(String, String)>,
}

/// One assignment type's subsections.
#[derive(Debug, Clone)]
pub struct AssignmentColumns {
    pub assignment_type: String,
    pub subsections: Vec<GradedSubsection>,
}

impl AssignmentColumns {
    /// Open edX gives a type with one subsection a single column named by
    /// the type; with more, a column per subsection and `"<type> (Avg)"`.
    pub fn separate_average(&self) -> bool {
        self.subsections.len() > 1
    }

    pub fn average_header(&self) -> String {
        if self.separate_average() {
            format!("{} (Avg)", self.assignment_type)
        } else {
            self.assignment_type.clone()
        }
    }
}

/// Problems under `root` in course order: through units and into every
/// child of `library_content`/`split_test` (the report's columns cover what
/// any learner may be shown).
fn all_problems<'a>(tree: &'a CourseTree, root: &'a Block) -> Vec<&'a Block> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(b) = stack.pop() {
        if b.block_type == "problem" {
            out.push(b);
            continue;
        }
        if !matches!(b.block_type.as_str(), "sequential" | "vertical")
            && !selection::is_randomizing(&b.block_type)
        {
            continue;
        }
        let children: Vec<&Block> = tree.children(b).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// The graded subsections of `tree`, by assignment type.
pub fn graded_columns(tree: &CourseTree) -> Vec<AssignmentColumns> {
    let mut types: Vec<AssignmentColumns> = Vec::new();
    let chapters: Vec<&Block> = tree
        .root()
        .map(|r| tree.children(r).collect())
        .unwrap_or_default();
    for chapter in chapters {
        for seq in tree
            .children(chapter)
            .filter(|b| b.block_type == "sequential")
        {
            let r = seq.block_ref();
            if tree.effective_field(&r, "graded").as_deref() != Some("true") {
                continue;
            }
            let Some(format) = tree.effective_field(&r, "format").filter(|f| !f.is_empty()) else {
                continue;
            };
            let at = match types.iter().position(|t| t.assignment_type == format) {
                Some(i) => i,
                None => {
                    types.push(AssignmentColumns {
                        assignment_type: format.clone(),
                        subsections: Vec::new(),
                    });
                    types.len() - 1
                }
            };
            let index = types[at].subsections.len() + 1;
            let problems = all_problems(tree, seq)
                .into_iter()
                .map(|p| (tree.usage_key(&p.block_ref()).to_string(), p.title()))
                .collect();
            types[at].subsections.push(GradedSubsection {
                block_id: seq.id.clone(),
                label: format!("{format} {index}: {}", seq.title()),
                problems,
            });
        }
    }
    types
}

/// Every problem of the course in course order, graded or not, as
/// (usage key, display name): the answer distribution's rows.
pub fn every_problem(tree: &CourseTree) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let chapters: Vec<&Block> = tree
        .root()
        .map(|r| tree.children(r).collect())
        .unwrap_or_default();
    for chapter in chapters {
        for seq in tree
            .children(chapter)
            .filter(|b| b.block_type == "sequential")
        {
            for p in all_problems(tree, seq) {
                out.push((tree.usage_key(&p.block_ref()).to_string(), p.title()));
            }
        }
    }
    out
}
