//! The instructor dashboard's five charts as [`Spec`]s: what each axis,
//! bar and point says. Problems and videos beyond [`MAX_BARS`] are left
//! out of the drawing (the page says how many; the table and CSV have
//! them all).

use lectern_app::analytics::{ChartData, ChartKind};

use super::Spec;

/// Bars a problem or video chart draws at most (the first in course order).
pub const MAX_BARS: usize = 40;

fn one(x: f64) -> String {
    format!("{x:.1}")
}

fn spec(kind: ChartKind, desc: String, x_title: &str, y_title: &str) -> Spec {
    Spec {
        id: format!("chart-{}", kind.as_str()),
        title: kind.title().to_string(),
        desc,
        x_title: x_title.to_string(),
        y_title: y_title.to_string(),
        labels: Vec::new(),
        bars: Vec::new(),
        line: Vec::new(),
        y_max: None,
        y_suffix: "",
        marker: None,
    }
}

/// The chart's spec and how many items it left out.
pub fn chart_spec(data: &ChartData) -> (Spec, usize) {
    let kind = data.kind();
    match data {
        ChartData::Enrollments(days) => {
            let (first, last) = (days.first(), days.last());
            let desc = match (first, last) {
                (Some(f), Some(l)) => format!(
                    "Bars: new enrolments per day from {} to {}; line: active enrolments in total, {} on the last day.",
                    f.day, l.day, l.total_active
                ),
                _ => "No enrolments yet.".to_string(),
            };
            let mut s = spec(kind, desc, "Day", "Enrolments");
            for d in days {
                s.labels.push(d.day.to_string());
                s.bars
                    .push(Some((d.new as f64, format!("{}: {} new", d.day, d.new))));
                s.line.push((
                    d.total_active as f64,
                    format!("{}: {} active in total", d.day, d.total_active),
                ));
            }
            (s, 0)
        }
        ChartData::ActiveLearners(weeks) => {
            let desc = match (weeks.first(), weeks.last()) {
                (Some(f), Some(l)) => format!(
                    "Bars: learners who answered a problem or used the course, per week (Monday to Sunday) from the week of {} to the week of {}.",
                    f.week_start, l.week_start
                ),
                _ => "No activity yet.".to_string(),
            };
            let mut s = spec(kind, desc, "Week starting", "Active learners");
            for w in weeks {
                s.labels.push(w.week_start.to_string());
                s.bars.push(Some((
                    w.learners as f64,
                    format!("Week of {}: {} learners", w.week_start, w.learners),
                )));
            }
            (s, 0)
        }
        ChartData::Grades { bins, pass_mark } => {
            let total: i64 = bins.iter().map(|b| b.learners).sum();
            let pass = pass_mark
                .map(|p| format!(" The pass mark is {} %.", one(p * 100.0)))
                .unwrap_or_default();
            let desc = format!(
                "Bars: enrolled learners by course grade in steps of 10 %, {total} learners in all.{pass}"
            );
            let mut s = spec(kind, desc, "Course grade (%)", "Learners");
            for b in bins {
                let range = format!("{}–{} %", b.from, b.to);
                s.labels.push(range.clone());
                s.bars.push(Some((
                    b.learners as f64,
                    format!("{range}: {} learners", b.learners),
                )));
            }
            s.marker = pass_mark.map(|p| (p * 10.0, format!("Pass {} %", one(p * 100.0))));
            (s, 0)
        }
        ChartData::Problems(problems) => {
            let left_out = problems.len().saturating_sub(MAX_BARS);
            let desc = format!(
                "Bars: for each graded problem in course order, the percentage of learners whose first attempt was correct; {} problems.",
                problems.len()
            );
            let mut s = spec(kind, desc, "Problem", "First attempt correct (%)");
            s.y_max = Some(100.0);
            s.y_suffix = "%";
            for p in problems.iter().take(MAX_BARS) {
                s.labels.push(p.name.clone());
                s.bars.push(p.share().map(|share| {
                    (
                        share * 100.0,
                        format!(
                            "{}: {} of {} learners correct at the first attempt ({} %)",
                            p.name,
                            p.first_correct,
                            p.learners,
                            one(share * 100.0)
                        ),
                    )
                }));
            }
            (s, left_out)
        }
        ChartData::Videos(videos) => {
            let left_out = videos.len().saturating_sub(MAX_BARS);
            let desc = format!(
                "Bars: for each video in course order, the learners who played it; {} videos.",
                videos.len()
            );
            let mut s = spec(kind, desc, "Video", "Learners who played it");
            for v in videos.iter().take(MAX_BARS) {
                s.labels.push(v.name.clone());
                s.bars.push(Some((
                    v.learners as f64,
                    format!(
                        "{}: {} learners, median {} s, mean {} s watched",
                        v.name,
                        v.learners,
                        one(v.median_seconds),
                        one(v.mean_seconds)
                    ),
                )));
            }
            (s, left_out)
        }
    }
}
