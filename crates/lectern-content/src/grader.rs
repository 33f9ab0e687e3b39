//! The course grader of Open edX's `grading_policy.json`.
//!
//! This module holds the policy's data (stored as it is, so its serde shape
//! must not change); reading and writing the file lives in
//! [`policy_json`], the grading algorithm in [`course_grade`] and the two
//! rounding rules Open edX applies in [`rounding`]. See OPENEDX-NOTES.md,
//! "Course grade".
//!
//! Details checked in Open edX's code (`xmodule/graders.py`,
//! `lms/djangoapps/grades/course_grade.py`, `scores.py`) beyond the notes:
//! - A missing `GRADER` or `GRADE_CUTOFFS` takes Open edX's default (the
//!   default's Lab entry has no short label); `min_count` is read as
//!   `int(float(x))`; `weight` defaults to 0; extra keys are ignored.
//! - Labels are `"{short_label} {n:02}"` from 1; a type with exactly one
//!   entry shows its short label alone; placeholders padding up to
//!   `min_count` get the same labels (Open edX's detail calls them
//!   "Unreleased").
//! - `passed` compares with the lowest cutoff greater than 0; with none,
//!   nobody passes. The letter is the highest cutoff reached, zero cutoffs
//!   included.
//! - Subsection percents were rounded to 2 places until late 2024, 4 since
//!   (edx-platform PR #27788; see [`SUBSECTION_PERCENT_DECIMALS`]).
//!
//! Pure code: the caller hands in the policy text and the learner's scores.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub mod course_grade;
pub mod policy_json;
pub mod rounding;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod fixture_tests;

pub use course_grade::{
    grade_course, grade_course_with_decimals, subsection_percent, subsection_percent_with_decimals,
    AssignmentEntry, AssignmentTypeResult, CourseGrade, ProblemScore, SubsectionInput,
    SUBSECTION_PERCENT_DECIMALS,
};
pub use policy_json::GradingPolicyError;

/// One entry of `GRADER` in `grading_policy.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentType {
    #[serde(rename = "type")]
    pub assignment_type: String,
    #[serde(default)]
    pub min_count: u32,
    #[serde(default)]
    pub drop_count: u32,
    #[serde(default)]
    pub weight: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_label: Option<String>,
}

impl AssignmentType {
    /// The label Open edX shows for this type: `short_label`, or the type
    /// itself when the label is missing or empty.
    pub fn effective_short_label(&self) -> &str {
        match self.short_label.as_deref() {
            Some(label) if !label.is_empty() => label,
            _ => &self.assignment_type,
        }
    }
}

/// `grading_policy.json`: assignment types and letter-grade cutoffs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradingPolicy {
    #[serde(rename = "GRADER", default)]
    pub graders: Vec<AssignmentType>,
    #[serde(rename = "GRADE_CUTOFFS", default)]
    pub grade_cutoffs: BTreeMap<String, f64>,
}

impl GradingPolicy {
    /// Open edX's default `GRADER` list (a course whose policy file has no
    /// `GRADER` key gets this).
    pub fn default_graders() -> Vec<AssignmentType> {
        let t = |ty: &str, min, drop, w, label: Option<&str>| AssignmentType {
            assignment_type: ty.to_string(),
            min_count: min,
            drop_count: drop,
            weight: w,
            short_label: label.map(str::to_string),
        };
        vec![
            t("Homework", 12, 2, 0.15, Some("HW")),
            // Open edX's default gives Lab no short label; it shows as "Lab".
            t("Lab", 12, 2, 0.15, None),
            t("Midterm Exam", 1, 0, 0.3, Some("Midterm")),
            t("Final Exam", 1, 0, 0.4, Some("Final")),
        ]
    }

    /// Open edX's default `GRADE_CUTOFFS`: `{"Pass": 0.5}`.
    pub fn default_grade_cutoffs() -> BTreeMap<String, f64> {
        BTreeMap::from([("Pass".to_string(), 0.5)])
    }

    /// The letter grade for a course percent: the cutoff with the highest
    /// value that `percent` reaches, else `None`. On equal cutoff values the
    /// name that sorts first wins (Open edX keeps the file's order; a
    /// `BTreeMap` cannot).
    pub fn letter_grade(&self, percent: f64) -> Option<String> {
        let mut best: Option<(&String, f64)> = None;
        for (name, &cutoff) in &self.grade_cutoffs {
            if percent >= cutoff && best.is_none_or(|(_, b)| cutoff > b) {
                best = Some((name, cutoff));
            }
        }
        best.map(|(name, _)| name.clone())
    }

    /// Whether a course percent passes: it reaches the lowest cutoff greater
    /// than zero. With no such cutoff nobody passes, as in Open edX.
    pub fn passed(&self, percent: f64) -> bool {
        let lowest = self
            .grade_cutoffs
            .values()
            .copied()
            .filter(|c| *c > 0.0)
            .reduce(f64::min);
        lowest.is_some_and(|cutoff| percent >= cutoff)
    }
}

impl Default for GradingPolicy {
    /// The policy Studio gives a new course (Open edX's defaults).
    fn default() -> Self {
        Self {
            graders: Self::default_graders(),
            grade_cutoffs: Self::default_grade_cutoffs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cutoffs(pairs: &[(&str, f64)]) -> GradingPolicy {
        GradingPolicy {
            graders: vec![],
            grade_cutoffs: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn letter_grade_and_passed() {
        let abc = [("A", 0.9), ("B", 0.8), ("C", 0.7)];
        type Cutoffs<'a> = &'a [(&'a str, f64)];
        // (cutoffs, percent, letter, passed)
        let cases: &[(Cutoffs, f64, Option<&str>, bool)] = &[
            (&abc, 0.95, Some("A"), true),
            (&abc, 0.9, Some("A"), true),
            (&abc, 0.89, Some("B"), true),
            (&abc, 0.8, Some("B"), true),
            (&abc, 0.7, Some("C"), true),
            (&abc, 0.69, None, false),
            (&abc, 1.2, Some("A"), true),
            (&[("Pass", 0.5)], 0.5, Some("Pass"), true),
            (&[("Pass", 0.5)], 0.49, None, false),
            // No cutoffs: never a letter, never passed.
            (&[], 1.0, None, false),
            // A zero cutoff gives its letter to everyone but is no pass mark.
            (&[("F", 0.0)], 0.0, Some("F"), false),
            (&[("F", 0.0)], 1.0, Some("F"), false),
            (&[("Pass", 0.6), ("F", 0.0)], 0.59, Some("F"), false),
            (&[("Pass", 0.6), ("F", 0.0)], 0.6, Some("Pass"), true),
        ];
        for (pairs, percent, letter, passed) in cases {
            let policy = cutoffs(pairs);
            assert_eq!(
                policy.letter_grade(*percent).as_deref(),
                *letter,
                "{pairs:?} {percent}"
            );
            assert_eq!(policy.passed(*percent), *passed, "{pairs:?} {percent}");
        }
    }

    #[test]
    fn effective_short_label_falls_back_to_type() {
        let mut t = GradingPolicy::default_graders().remove(1);
        assert_eq!(t.effective_short_label(), "Lab");
        t.short_label = Some(String::new());
        assert_eq!(t.effective_short_label(), "Lab");
        t.short_label = Some("L".into());
        assert_eq!(t.effective_short_label(), "L");
    }
}
