//! The grade report and the problem grade report: each learner's grade
//! computed from their problem states in the consistent read (the same
//! computation as the stored grade, `grades.rs`), a page of learners at a
//! time on the CPU pool, written as Open edX's columns.
//!
//! Grade report: `Student ID, Email, Username, Grade`, then per assignment
//! type its subsections (`"<type> <n>: <name>"`) and `"<type> (Avg)"` (a
//! type with one subsection: a single column named by the type, as Open
//! edX), then `Enrollment Track, Certificate Eligible, Enrollment Status`.
//! Problem grade report: `Student ID, Email, Username, Enrollment Status,
//! Grade`, then per problem of a graded subsection `"<subsection label> -
//! <problem> (Earned)"` and `"… (Possible)"`. `docs/reports.md` says which
//! of Open edX's columns are left out and why.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use lectern_content::grader::CourseGrade;

use super::csv::{py_float, ReportWriter};
use super::layout::AssignmentColumns;
use super::store::{LearnerRecord, LearnerSink};
use crate::cpu;
use crate::error::{AppError, StoreError};
use crate::grades::{Audience, GradeReport, StatesByProblem, SubsectionView};
use crate::learning::PublishedCourse;
use crate::store::StoreResult;
use crate::Lectern;

const NOT_ATTEMPTED: &str = "Not Attempted";
const NOT_AVAILABLE: &str = "Not Available";

/// Open edX's `Enrollment Status` values.
pub fn enrollment_status(active: bool) -> &'static str {
    if active {
        "ENROLLED"
    } else {
        "NOT ENROLLED"
    }
}

/// Which of the two reports a [`GradeSink`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradeCsv {
    Grades,
    ProblemGrades,
}

/// Writes one of the grade reports from pages of learners.
pub struct GradeSink {
    pub(super) app: Lectern,
    pub(super) course: PublishedCourse,
    pub(super) columns: Vec<AssignmentColumns>,
    /// The course team (they see unreleased content, so their grades count it).
    pub(super) team: HashSet<i64>,
    pub(super) writer: ReportWriter,
    pub(super) csv: GradeCsv,
}

impl GradeSink {
    pub fn header(&self) -> Vec<String> {
        let mut h: Vec<String> = ["Student ID", "Email", "Username"]
            .map(String::from)
            .to_vec();
        match self.csv {
            GradeCsv::Grades => {
                h.push("Grade".into());
                for t in &self.columns {
                    if t.separate_average() {
                        h.extend(t.subsections.iter().map(|s| s.label.clone()));
                    }
                    h.push(t.average_header());
                }
                h.extend(
                    [
                        "Enrollment Track",
                        "Certificate Eligible",
                        "Enrollment Status",
                    ]
                    .map(String::from),
                );
            }
            GradeCsv::ProblemGrades => {
                h.extend(["Enrollment Status", "Grade"].map(String::from));
                for s in self.columns.iter().flat_map(|t| &t.subsections) {
                    for (_, name) in &s.problems {
                        let label = format!("{} - {name}", s.label);
                        h.push(format!("{label} (Earned)"));
                        h.push(format!("{label} (Possible)"));
                    }
                }
            }
        }
        h
    }

    fn grade_row(&self, l: &LearnerRecord, report: &GradeReport) -> Vec<String> {
        let subs: HashMap<&str, &SubsectionView> = report
            .chapters
            .iter()
            .flat_map(|(_, s)| s.iter())
            .map(|s| (s.block_id.as_str(), s))
            .collect();
        let grade = &report.grade;
        let mut row = vec![
            l.user.id.to_string(),
            l.user.email.clone(),
            l.user.username.clone(),
            py_float(grade.percent),
        ];
        for t in &self.columns {
            let cells: Vec<String> = t
                .subsections
                .iter()
                .map(|s| subsection_cell(grade, subs.get(s.block_id.as_str()).copied()))
                .collect();
            if t.separate_average() {
                row.extend(cells);
                row.push(py_float(type_average(grade, t)));
            } else {
                row.extend(cells);
            }
        }
        row.push(l.enrollment.mode.clone());
        row.push(if grade.passed { "Y" } else { "N" }.into());
        row.push(enrollment_status(l.enrollment.is_active).into());
        row
    }

    fn problem_row(&self, l: &LearnerRecord, report: &GradeReport) -> Vec<String> {
        let scores: HashMap<&str, (f64, f64, bool)> = report
            .chapters
            .iter()
            .flat_map(|(_, s)| s.iter())
            .flat_map(|s| s.problems.iter())
            .map(|p| (p.usage_key.as_str(), (p.earned, p.possible, p.attempted)))
            .collect();
        let mut row = vec![
            l.user.id.to_string(),
            l.user.email.clone(),
            l.user.username.clone(),
            enrollment_status(l.enrollment.is_active).into(),
            py_float(report.grade.percent),
        ];
        for s in self.columns.iter().flat_map(|t| &t.subsections) {
            for (usage, _) in &s.problems {
                match scores.get(usage.as_str()) {
                    Some((earned, possible, true)) => {
                        row.push(py_float(*earned));
                        row.push(py_float(*possible));
                    }
                    Some((_, possible, false)) => {
                        row.push(NOT_ATTEMPTED.into());
                        row.push(py_float(*possible));
                    }
                    None => {
                        row.push(NOT_AVAILABLE.into());
                        row.push(NOT_AVAILABLE.into());
                    }
                }
            }
        }
        row
    }
}

/// A subsection's cell: its graded percent, "Not Attempted" when none of
/// its problems was answered, "Not Available" when the learner is not
/// shown it.
fn subsection_cell(grade: &CourseGrade, view: Option<&SubsectionView>) -> String {
    let Some(view) = view else {
        return NOT_AVAILABLE.into();
    };
    if !view.problems.iter().any(|p| p.attempted) {
        return NOT_ATTEMPTED.into();
    }
    let graded = grade
        .by_type
        .iter()
        .flat_map(|t| &t.entries)
        .find(|e| e.subsection_id.as_deref() == Some(view.block_id.as_str()));
    match graded {
        Some(e) => py_float(e.percent),
        None if view.possible > 0.0 => py_float(view.earned / view.possible),
        None => py_float(0.0),
    }
}

/// The type's average after drops, as the grader computed it (0 for a
/// format the policy does not grade).
fn type_average(grade: &CourseGrade, t: &AssignmentColumns) -> f64 {
    grade
        .by_type
        .iter()
        .find(|r| r.assignment_type == t.assignment_type)
        .map_or(0.0, |r| r.average)
}

#[async_trait]
impl LearnerSink for GradeSink {
    async fn page(&mut self, learners: Vec<LearnerRecord>) -> StoreResult<()> {
        let (app, course, team) = (self.app.clone(), self.course.clone(), self.team.clone());
        let (learners, reports) = cpu::run(move || {
            let reports: Vec<GradeReport> = learners
                .iter()
                .map(|l| {
                    let states: StatesByProblem = l
                        .states
                        .iter()
                        .map(|s| (s.usage_key.clone(), s.clone()))
                        .collect();
                    let sees = app.visibility_of_member(&l.user, team.contains(&l.user.id));
                    app.grade_report(&l.user, &course, &states, None, sees, Audience::Record)
                })
                .collect();
            (learners, reports)
        })
        .await
        .map_err(|e| match e {
            AppError::Unavailable(m) => StoreError::Unavailable(m),
            other => StoreError::Internal(format!("grading a page of learners: {other}")),
        })?;
        for (l, report) in learners.iter().zip(&reports) {
            let row = match self.csv {
                GradeCsv::Grades => self.grade_row(l, report),
                GradeCsv::ProblemGrades => self.problem_row(l, report),
            };
            self.writer.row(&row).await?;
        }
        Ok(())
    }
}
