//! Each chart's numbers as a table: the CSV download and the page's text
//! alternative are this one table, so they always agree. Cells are written
//! through the reports' CSV writer (quoting, formula escaping: problem and
//! video names are author-controlled).

use super::{ChartData, ChartKind, COMPLETED_SHARE};
use crate::reports::csv::push_record;

/// Rows of cells under a header.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartTable {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// A number with one decimal.
fn one(x: f64) -> String {
    format!("{x:.1}")
}

impl ChartTable {
    /// The table as CSV (RFC 4180, CRLF, cells made safe).
    pub fn csv(&self) -> Vec<u8> {
        let mut out = Vec::new();
        push_record(&mut out, &self.header);
        for row in &self.rows {
            push_record(&mut out, row);
        }
        out
    }
}

impl ChartKind {
    pub fn header(self) -> Vec<&'static str> {
        match self {
            Self::Enrollments => vec!["date", "new_enrollments", "total_active_enrollments"],
            Self::ActiveLearners => vec!["week_starting", "active_learners"],
            Self::Grades => vec![
                "grade_from_percent",
                "grade_to_percent",
                "learners",
                "pass_mark_percent",
            ],
            Self::Problems => vec![
                "position",
                "usage_key",
                "problem",
                "learners_attempted",
                "first_attempt_correct",
                "first_attempt_correct_percent",
            ],
            Self::Videos => vec![
                "position",
                "usage_key",
                "video",
                "learners_played",
                "mean_seconds_watched",
                "median_seconds_watched",
                "duration_seconds",
                "learners_completed",
            ],
        }
    }
}

impl ChartData {
    pub fn table(&self) -> ChartTable {
        let rows = match self {
            Self::Enrollments(points) => points
                .iter()
                .map(|p| {
                    vec![
                        p.day.to_string(),
                        p.new.to_string(),
                        p.total_active.to_string(),
                    ]
                })
                .collect(),
            Self::ActiveLearners(weeks) => weeks
                .iter()
                .map(|w| vec![w.week_start.to_string(), w.learners.to_string()])
                .collect(),
            Self::Grades { bins, pass_mark } => {
                let pass = pass_mark.map(|p| one(p * 100.0)).unwrap_or_default();
                bins.iter()
                    .map(|b| {
                        vec![
                            b.from.to_string(),
                            b.to.to_string(),
                            b.learners.to_string(),
                            pass.clone(),
                        ]
                    })
                    .collect()
            }
            Self::Problems(problems) => problems
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    vec![
                        (i + 1).to_string(),
                        p.usage_key.clone(),
                        p.name.clone(),
                        p.learners.to_string(),
                        p.first_correct.to_string(),
                        p.share().map(|s| one(s * 100.0)).unwrap_or_default(),
                    ]
                })
                .collect(),
            Self::Videos(videos) => videos
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    vec![
                        (i + 1).to_string(),
                        v.usage_key.clone(),
                        v.name.clone(),
                        v.learners.to_string(),
                        one(v.mean_seconds),
                        one(v.median_seconds),
                        v.duration.map(one).unwrap_or_default(),
                        if v.duration.is_some() {
                            v.completed.to_string()
                        } else {
                            String::new()
                        },
                    ]
                })
                .collect(),
        };
        ChartTable {
            header: self.kind().header(),
            rows,
        }
    }
}

/// What "completed" means, for the page's legend.
pub fn completed_note() -> String {
    format!(
        "reached {:.0} % of the video's length",
        COMPLETED_SHARE * 100.0
    )
}
