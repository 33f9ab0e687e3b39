//! The course grader of Open edX's `grading_policy.json`.
//!
//! This module holds the policy's data; the grading algorithm lives in
//! `grader/` submodules (see OPENEDX-NOTES.md, "Course grade").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

/// `grading_policy.json`: assignment types and letter-grade cutoffs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradingPolicy {
    #[serde(rename = "GRADER", default)]
    pub graders: Vec<AssignmentType>,
    #[serde(rename = "GRADE_CUTOFFS", default)]
    pub grade_cutoffs: BTreeMap<String, f64>,
}

impl Default for GradingPolicy {
    /// The policy Studio gives a new course.
    fn default() -> Self {
        let t = |ty: &str, min, drop, w, label: &str| AssignmentType {
            assignment_type: ty.to_string(),
            min_count: min,
            drop_count: drop,
            weight: w,
            short_label: Some(label.to_string()),
        };
        Self {
            graders: vec![
                t("Homework", 12, 2, 0.15, "HW"),
                t("Lab", 12, 2, 0.15, "Lab"),
                t("Midterm Exam", 1, 0, 0.3, "Midterm"),
                t("Final Exam", 1, 0, 0.4, "Final"),
            ],
            grade_cutoffs: BTreeMap::from([("Pass".to_string(), 0.5)]),
        }
    }
}
