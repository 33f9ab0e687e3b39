//! The progress page: an SVG chart of scores by assignment (no scripts, no
//! external service), the course grade against the cutoffs, and each
//! subsection's score.

use lectern_app::grades::GradeReport;
use lectern_content::grader::GradingPolicy;

use crate::blocks::esc;

fn pct(x: f64) -> String {
    format!("{:.0}%", (x * 100.0).round())
}

fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The chart: one bar per assignment entry, then one per type average, then the total.
fn chart(report: &GradeReport, policy: &GradingPolicy) -> String {
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
    let mut svg = format!(
        r#"<svg role="img" aria-label="Scores by assignment" width="{width}" height="{}" viewBox="0 0 {width} {}" xmlns="http://www.w3.org/2000/svg" class="chart">"#,
        h + bottom,
        h + bottom
    );
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let y = h - tick * (h - 10.0);
        svg.push_str(&format!(r##"<line x1="{left}" x2="{width}" y1="{y}" y2="{y}" stroke="#d9dde5"/><text x="4" y="{}" font-size="10" fill="#5b6475">{}</text>"##, y + 3.0, pct(tick)));
    }
    for (cut_name, cut) in &policy.grade_cutoffs {
        let y = h - cut.min(1.0) * (h - 10.0);
        svg.push_str(&format!(
            r##"<line x1="{left}" x2="{width}" y1="{y}" y2="{y}" stroke="#1b7f3b" stroke-dasharray="4 3"/><text x="{}" y="{}" font-size="10" fill="#1b7f3b">{} {}</text>"##,
            width - 70.0,
            y - 3.0,
            esc(cut_name),
            pct(*cut)
        ));
    }
    for (i, (label, value, dropped, hidden)) in bars.iter().enumerate() {
        let x = left + i as f64 * w + 6.0;
        let bh = value.clamp(0.0, 1.2) * (h - 10.0);
        let color = if *dropped {
            "#c8ccd4"
        } else if label == "Total" {
            "#1d2433"
        } else {
            "#0a5ec2"
        };
        svg.push_str(&format!(
            r#"<rect x="{x}" y="{}" width="{}" height="{bh}" fill="{color}"><title>{}: {}{}</title></rect>"#,
            h - bh,
            w - 10.0,
            esc(label),
            if *hidden { "hidden".to_string() } else { pct(*value) },
            if *dropped { " (dropped)" } else { "" }
        ));
        svg.push_str(&format!(
            r##"<text x="{}" y="{}" font-size="10" fill="#1d2433" transform="rotate(45 {} {})">{}</text>"##,
            x + 2.0,
            h + 12.0,
            x + 2.0,
            h + 12.0,
            esc(label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Why a subsection shows no scores (Open edX's wording on its progress page).
fn hidden_note(until: Option<&str>) -> String {
    match until {
        Some(d) => format!("Problem scores are hidden until the due date ({}).", esc(d)),
        None => "Problem scores are hidden.".to_string(),
    }
}

pub fn render(report: &GradeReport, policy: &GradingPolicy) -> String {
    let g = &report.grade;
    let mut out = String::new();
    out.push_str(&format!(
        r#"<p class="stat">{}</p><p>Course grade{}{}.</p>"#,
        pct(g.percent),
        g.letter_grade
            .as_ref()
            .map(|l| format!(": {}", esc(l)))
            .unwrap_or_default(),
        if g.passed {
            " — passing"
        } else {
            " — not passing yet"
        }
    ));
    out.push_str(&chart(report, policy));
    out.push_str("<h2>By assignment type</h2><table><thead><tr><th>Type</th><th>Weight</th><th>Average</th><th>Counts for</th></tr></thead><tbody>");
    for t in &g.by_type {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.assignment_type),
            pct(t.weight),
            pct(t.average),
            pct(t.weighted)
        ));
    }
    out.push_str("</tbody></table><h2>Subsections</h2>");
    for (chapter, subs) in &report.chapters {
        if subs.iter().all(|s| s.problems.is_empty()) {
            continue;
        }
        out.push_str(&format!("<h3>{}</h3><ul>", esc(chapter)));
        for s in subs.iter().filter(|s| !s.problems.is_empty()) {
            let kind = match (&s.format, s.graded) {
                (Some(f), true) => format!(r#" <span class="badge graded">{}</span>"#, esc(f)),
                _ => r#" <span class="badge">practice</span>"#.to_string(),
            };
            if s.hidden {
                out.push_str(&format!(
                    r#"<li><strong>{}</strong>{kind} <span class="muted">{}</span></li>"#,
                    esc(&s.display_name),
                    hidden_note(s.hidden_until.as_deref())
                ));
                continue;
            }
            out.push_str(&format!(
                "<li><strong>{}</strong>{kind} {}/{}<ul>",
                esc(&s.display_name),
                num(s.earned),
                num(s.possible)
            ));
            for p in &s.problems {
                out.push_str(&format!(
                    "<li>{}: {}/{}{}</li>",
                    esc(&p.display_name),
                    num(p.earned),
                    num(p.possible),
                    if p.attempted { "" } else { " (not attempted)" }
                ));
            }
            out.push_str("</ul></li>");
        }
        out.push_str("</ul>");
    }
    out
}
