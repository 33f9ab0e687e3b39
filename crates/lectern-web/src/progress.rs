//! The progress page: an SVG chart of scores by assignment (no scripts, no
//! external service), the course grade against the cutoffs, and each
//! subsection's score. The HTML is `templates/parts/progress.html`; this file
//! computes the chart's geometry and the rows.

use lectern_app::grades::GradeReport;
use lectern_content::grader::GradingPolicy;

use askama::Template;

use crate::blocks::render_part;

fn pct(x: f64) -> String {
    format!("{:.0}%", (x * 100.0).round())
}

fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A horizontal line of the chart (a tick or a grade cutoff) with its label.
struct Line {
    y: f64,
    label_y: f64,
    label: String,
}

struct Bar {
    x: f64,
    y: f64,
    height: f64,
    text_x: f64,
    color: &'static str,
    label: String,
    /// The bar's title: its percent, "hidden", and "(dropped)".
    value: String,
}

/// The chart's geometry, computed here so the template only places it.
struct Chart {
    width: f64,
    height: f64,
    left: f64,
    bar_width: f64,
    cutoff_x: f64,
    text_y: f64,
    ticks: Vec<Line>,
    cutoffs: Vec<Line>,
    bars: Vec<Bar>,
}

struct TypeRow {
    name: String,
    weight: String,
    average: String,
    weighted: String,
}

struct ProblemRow {
    name: String,
    earned: String,
    possible: String,
    attempted: bool,
}

enum Scores {
    /// Why no scores are shown (Open edX's wording).
    Hidden(String),
    Shown(String, String, Vec<ProblemRow>),
}

struct SubsectionRow {
    name: String,
    /// The assignment type of a graded subsection; practice otherwise.
    graded_as: Option<String>,
    scores: Scores,
}

struct ChapterRows {
    name: String,
    subsections: Vec<SubsectionRow>,
}

#[derive(Template)]
#[template(path = "parts/progress.html")]
struct Progress {
    percent: String,
    letter: Option<String>,
    passed: bool,
    chart: Chart,
    types: Vec<TypeRow>,
    chapters: Vec<ChapterRows>,
}

/// The chart: one bar per assignment entry, then one per type average, then the total.
fn chart(report: &GradeReport, policy: &GradingPolicy) -> Chart {
    // (label, value, dropped, hidden by show_correctness)
    let mut bars: Vec<(String, f64, bool, bool)> = Vec::new();
    for t in &report.grade.by_type {
        for e in &t.entries {
            let hidden = e
                .subsection_id
                .as_ref()
                .is_some_and(|id| report.hidden_subsections.contains(id));
            bars.push((e.label.clone(), e.percent, e.dropped, hidden));
        }
    }
    for t in &report.grade.by_type {
        let label = t.short_label.clone();
        bars.push((format!("{label} Avg"), t.average, false, false));
    }
    bars.push(("Total".into(), report.grade.percent, false, false));
    let (w, h, left, bottom) = (36.0_f64, 220.0_f64, 40.0_f64, 60.0_f64);
    let width = left + w * bars.len() as f64 + 20.0;
    let ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
        .into_iter()
        .map(|tick| {
            let y = h - tick * (h - 10.0);
            Line {
                y,
                label_y: y + 3.0,
                label: pct(tick),
            }
        })
        .collect();
    let cutoffs = policy
        .grade_cutoffs
        .iter()
        .map(|(name, cut)| {
            let y = h - cut.min(1.0) * (h - 10.0);
            Line {
                y,
                label_y: y - 3.0,
                label: format!("{name} {}", pct(*cut)),
            }
        })
        .collect();
    let bars = bars
        .into_iter()
        .enumerate()
        .map(|(i, (label, value, dropped, hidden))| {
            let x = left + i as f64 * w + 6.0;
            let height = value.clamp(0.0, 1.2) * (h - 10.0);
            let color = if dropped {
                "#c8ccd4"
            } else if label == "Total" {
                "#1d2433"
            } else {
                "#0a5ec2"
            };
            let value = format!(
                "{}{}",
                if hidden {
                    "hidden".to_string()
                } else {
                    pct(value)
                },
                if dropped { " (dropped)" } else { "" }
            );
            Bar {
                x,
                y: h - height,
                height,
                text_x: x + 2.0,
                color,
                label,
                value,
            }
        })
        .collect();
    Chart {
        width,
        height: h + bottom,
        left,
        bar_width: w - 10.0,
        cutoff_x: width - 70.0,
        text_y: h + 12.0,
        ticks,
        cutoffs,
        bars,
    }
}

/// Why a subsection shows no scores (Open edX's wording on its progress page).
fn hidden_note(until: Option<&str>) -> String {
    match until {
        Some(d) => format!("Problem scores are hidden until the due date ({d})."),
        None => "Problem scores are hidden.".to_string(),
    }
}

pub fn render(report: &GradeReport, policy: &GradingPolicy) -> String {
    let g = &report.grade;
    let types = g
        .by_type
        .iter()
        .map(|t| TypeRow {
            name: t.assignment_type.clone(),
            weight: pct(t.weight),
            average: pct(t.average),
            weighted: pct(t.weighted),
        })
        .collect();
    let chapters = report
        .chapters
        .iter()
        .filter(|(_, subs)| subs.iter().any(|s| !s.problems.is_empty()))
        .map(|(chapter, subs)| ChapterRows {
            name: chapter.clone(),
            subsections: subs
                .iter()
                .filter(|s| !s.problems.is_empty())
                .map(|s| SubsectionRow {
                    name: s.display_name.clone(),
                    graded_as: s.format.clone().filter(|_| s.graded),
                    scores: if s.hidden {
                        Scores::Hidden(hidden_note(s.hidden_until.as_deref()))
                    } else {
                        Scores::Shown(
                            num(s.earned),
                            num(s.possible),
                            s.problems
                                .iter()
                                .map(|p| ProblemRow {
                                    name: p.display_name.clone(),
                                    earned: num(p.earned),
                                    possible: num(p.possible),
                                    attempted: p.attempted,
                                })
                                .collect(),
                        )
                    },
                })
                .collect(),
        })
        .collect();
    render_part(&Progress {
        percent: pct(g.percent),
        letter: g.letter_grade.clone(),
        passed: g.passed,
        chart: chart(report, policy),
        types,
        chapters,
    })
}
