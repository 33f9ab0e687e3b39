//! Grading a course: subsection percents, per-type averages with padding and
//! drops, the weighted total, the rounded course percent, the letter grade
//! and pass/fail, the way Open edX's `WeightedSubsectionsGrader` of
//! `AssignmentFormatGrader`s and its `CourseGrade` compute them.
//!
//! Floating-point operations are done in Open edX's order (sums from zero in
//! course order, one division per average) so percents agree to the bit,
//! which matters at cutoff boundaries. The caller supplies already weighted
//! problem scores; deciding which blocks are graded problems is not done here.

use serde::{Deserialize, Serialize};

use super::rounding::{course_percent, numpy_around};
use super::GradingPolicy;

/// Decimal places a subsection percent is rounded to. Open edX rounded to 2
/// until late 2024, when edx-platform PR #27788 moved `compute_percent` to 4
/// (so the newest releases use 4); Lectern follows OPENEDX-NOTES.md and
/// uses 2.
/// [`grade_course_with_decimals`] takes the other value.
pub const SUBSECTION_PERCENT_DECIMALS: u32 = 2;

/// One problem's score, already weighted (`weight` applied).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProblemScore {
    pub earned: f64,
    pub possible: f64,
}

/// One subsection (sequential) of the course as the grader sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsectionInput {
    /// The subsection's usage key.
    pub id: String,
    pub display_name: String,
    /// The assignment type (`format` attribute), matched exactly against the
    /// policy's `type`.
    pub format: Option<String>,
    pub graded: bool,
    /// Scores of its graded problems.
    pub problems: Vec<ProblemScore>,
}

/// One column of the progress chart: a subsection of a type, or a
/// placeholder zero padding the type up to `min_count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentEntry {
    /// `"HW 01"`: the short label and the 1-based position, two digits; a
    /// type with a single entry is labelled with the short label alone.
    pub label: String,
    /// `None` for a placeholder (Open edX's "Unreleased - 0% (?/?)").
    pub subsection_id: Option<String>,
    pub display_name: Option<String>,
    /// The subsection's rounded percent, 0 for a placeholder.
    pub percent: f64,
    /// Weighted points earned and possible (0 and 0 for a placeholder).
    pub earned: f64,
    pub possible: f64,
    /// One of the lowest `drop_count`, left out of the average.
    pub dropped: bool,
}

/// How one assignment type of the policy came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentTypeResult {
    pub assignment_type: String,
    /// `short_label`, or the type when the policy gives none.
    pub short_label: String,
    pub weight: f64,
    /// Mean of the entries not dropped (0 when all are dropped).
    pub average: f64,
    /// `average × weight`, this type's share of the course total.
    pub weighted: f64,
    pub dropped_count: usize,
    pub entries: Vec<AssignmentEntry>,
}

/// A learner's course grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseGrade {
    /// Whole percent as a fraction (0.85 for 85%), rounded as Open edX does;
    /// may exceed 1 when the weights sum past 1.
    pub percent: f64,
    pub letter_grade: Option<String>,
    pub passed: bool,
    /// One result per `GRADER` entry, in policy order.
    pub by_type: Vec<AssignmentTypeResult>,
    /// Σ weight × average before rounding.
    pub total_raw: f64,
}

/// A subsection's percent: Σ earned / Σ possible rounded to 2 places as
/// `numpy.around` does; `None` when nothing is possible (the subsection is
/// then absent from grading, not a zero).
pub fn subsection_percent(problems: &[ProblemScore]) -> Option<f64> {
    subsection_percent_with_decimals(problems, SUBSECTION_PERCENT_DECIMALS)
}

/// [`subsection_percent`] rounded to `decimals` places.
pub fn subsection_percent_with_decimals(problems: &[ProblemScore], decimals: u32) -> Option<f64> {
    let (earned, possible) = totals(problems);
    (possible > 0.0).then(|| numpy_around(earned / possible, decimals))
}

fn totals(problems: &[ProblemScore]) -> (f64, f64) {
    problems
        .iter()
        .fold((0.0, 0.0), |(e, p), s| (e + s.earned, p + s.possible))
}

/// Grades a course: `subsections` in course order.
pub fn grade_course(policy: &GradingPolicy, subsections: &[SubsectionInput]) -> CourseGrade {
    grade_course_with_decimals(policy, subsections, SUBSECTION_PERCENT_DECIMALS)
}

/// [`grade_course`] with subsection percents rounded to `decimals` places.
pub fn grade_course_with_decimals(
    policy: &GradingPolicy,
    subsections: &[SubsectionInput],
    decimals: u32,
) -> CourseGrade {
    let mut total_raw = 0.0;
    let mut by_type = Vec::with_capacity(policy.graders.len());
    for grader in &policy.graders {
        let scored: Vec<AssignmentEntry> = subsections
            .iter()
            .filter(|s| s.graded && s.format.as_deref() == Some(grader.assignment_type.as_str()))
            .filter_map(|s| {
                let (earned, possible) = totals(&s.problems);
                let percent = subsection_percent_with_decimals(&s.problems, decimals)?;
                Some(AssignmentEntry {
                    label: String::new(),
                    subsection_id: Some(s.id.clone()),
                    display_name: Some(s.display_name.clone()),
                    percent,
                    earned,
                    possible,
                    dropped: false,
                })
            })
            .collect();
        let result = grade_type(grader, scored);
        total_raw += result.weighted;
        by_type.push(result);
    }
    let percent = course_percent(total_raw);
    CourseGrade {
        percent,
        letter_grade: policy.letter_grade(percent),
        passed: policy.passed(percent),
        by_type,
        total_raw,
    }
}

/// One `AssignmentFormatGrader`: pad, label, drop, average.
fn grade_type(
    grader: &super::AssignmentType,
    mut entries: Vec<AssignmentEntry>,
) -> AssignmentTypeResult {
    let short_label = grader.effective_short_label().to_string();
    let wanted = usize::try_from(grader.min_count).unwrap_or(usize::MAX);
    while entries.len() < wanted {
        entries.push(AssignmentEntry {
            label: String::new(),
            subsection_id: None,
            display_name: None,
            percent: 0.0,
            earned: 0.0,
            possible: 0.0,
            dropped: false,
        });
    }
    let count = entries.len();
    for (i, entry) in entries.iter_mut().enumerate() {
        entry.label = if count == 1 {
            short_label.clone()
        } else {
            format!("{short_label} {:02}", i + 1)
        };
    }

    // Highest first, stable, so among equal percents the later entries end
    // up last and are the ones dropped.
    let drop_count = usize::try_from(grader.drop_count).unwrap_or(usize::MAX);
    let mut order: Vec<usize> = (0..count).collect();
    order.sort_by(|&a, &b| {
        entries[b]
            .percent
            .partial_cmp(&entries[a].percent)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let dropped_count = drop_count.min(count);
    for &i in &order[count - dropped_count..] {
        entries[i].dropped = true;
    }

    let mut average = entries
        .iter()
        .filter(|e| !e.dropped)
        .fold(0.0, |sum, e| sum + e.percent);
    if count > drop_count {
        average /= (count - drop_count) as f64;
    }
    AssignmentTypeResult {
        assignment_type: grader.assignment_type.clone(),
        short_label,
        weight: grader.weight,
        average,
        weighted: average * grader.weight,
        dropped_count,
        entries,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
