//! Server-drawn SVG charts (no scripts, no chart library): a category
//! axis with bars and/or a line with points, a value axis with ticks, an
//! optional vertical marker (a pass mark). This file turns a [`Spec`]
//! (numbers and words) into geometry; `templates/parts/chart.html` places
//! it, escaping every word as the templates escape everything (names come
//! from course authors). `analytics.rs` makes the instructor dashboard's
//! specs.
//!
//! Each chart is an `<svg role="img">` with `<title>` and `<desc>`, axis
//! titles, and a `<title>` per bar and point; the page puts the chart's
//! table beside it as its text alternative.

pub mod analytics;

use askama::Template;

use crate::blocks::render_part;

/// Plot width in pixels, whatever the number of categories.
const PLOT_WIDTH: f64 = 640.0;
const PLOT_HEIGHT: f64 = 200.0;
const LEFT: f64 = 56.0;
const TOP: f64 = 24.0;
const RIGHT: f64 = 24.0;
/// Room under the plot for (rotated) category labels and the axis title.
const BOTTOM: f64 = 96.0;
/// Category labels shown at most (every n-th beyond that).
const MAX_LABELS: usize = 14;
/// Characters of a category label shown (all of it is in the bar's title).
const LABEL_CHARS: usize = 18;

/// What a chart shows.
pub struct Spec {
    /// Unique on the page (element ids).
    pub id: String,
    pub title: String,
    pub desc: String,
    pub x_title: String,
    pub y_title: String,
    /// One per category, in order.
    pub labels: Vec<String>,
    /// Per category: the bar's value and its title, or no bar.
    pub bars: Vec<Option<(f64, String)>>,
    /// Per category: the line's value and the point's title (empty: no line).
    pub line: Vec<(f64, String)>,
    /// A fixed top of the value axis (percentages); else from the data.
    pub y_max: Option<f64>,
    /// Appended to tick labels (`%`).
    pub y_suffix: &'static str,
    /// A vertical marker at a position along the category axis (0 = the
    /// first category's left edge, 1 = one category further), and its label.
    pub marker: Option<(f64, String)>,
}

pub struct Tick {
    pub y: f64,
    pub label: String,
}

pub struct Label {
    pub x: f64,
    pub text: String,
}

pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub title: String,
}

pub struct Point {
    pub x: f64,
    pub y: f64,
    pub title: String,
}

pub struct Marker {
    pub x: f64,
    pub label: String,
}

/// The geometry the template places.
#[derive(Template)]
#[template(path = "parts/chart.html")]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub desc: String,
    pub x_title: String,
    pub y_title: String,
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub axis_y: f64,
    pub label_y: f64,
    pub x_title_x: f64,
    pub x_title_y: f64,
    pub y_title_y: f64,
    pub ticks: Vec<Tick>,
    pub labels: Vec<Label>,
    pub bars: Vec<Bar>,
    pub points: Vec<Point>,
    /// The line's `points` attribute.
    pub polyline: String,
    pub marker: Option<Marker>,
}

/// The smallest of 1, 2, 5 × 10ⁿ at least `x` (and at least 1).
fn nice_max(x: f64) -> f64 {
    let x = if x.is_finite() { x.max(1.0) } else { 1.0 };
    let mut step = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if m * step >= x {
                return m * step;
            }
        }
        step *= 10.0;
    }
}

/// A number as a tick shows it: whole numbers without decimals.
fn short(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// At most [`LABEL_CHARS`] characters, with an ellipsis when cut.
fn cut(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

/// Rounded to a tenth of a pixel (shorter SVG).
fn px(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Spec {
    /// The chart's geometry.
    pub fn draw(self) -> Chart {
        let n = self.labels.len().max(1);
        let slot = PLOT_WIDTH / n as f64;
        let axis_y = TOP + PLOT_HEIGHT;
        let data_max = self
            .bars
            .iter()
            .flatten()
            .map(|(v, _)| *v)
            .chain(self.line.iter().map(|(v, _)| *v))
            .fold(0.0_f64, f64::max);
        let y_max = self.y_max.unwrap_or_else(|| nice_max(data_max));
        let y_of = |v: f64| px(axis_y - (v.clamp(0.0, y_max) / y_max) * PLOT_HEIGHT);
        let ticks = (0..=4)
            .map(|i| {
                let v = y_max * f64::from(i) / 4.0;
                Tick {
                    y: y_of(v),
                    label: format!("{}{}", short(v), self.y_suffix),
                }
            })
            .collect();
        let every = self.labels.len().div_ceil(MAX_LABELS).max(1);
        let labels = self
            .labels
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(i, l)| Label {
                x: px(LEFT + (i as f64 + 0.5) * slot),
                text: cut(l),
            })
            .collect();
        let bar_width = px((slot * 0.8).max(1.0));
        let bars = self
            .bars
            .into_iter()
            .enumerate()
            .filter_map(|(i, b)| b.map(|b| (i, b)))
            .map(|(i, (v, title))| {
                let y = y_of(v);
                Bar {
                    x: px(LEFT + i as f64 * slot + (slot - bar_width) / 2.0),
                    y,
                    width: bar_width,
                    height: px(axis_y - y),
                    title,
                }
            })
            .collect();
        let points: Vec<Point> = self
            .line
            .into_iter()
            .enumerate()
            .map(|(i, (v, title))| Point {
                x: px(LEFT + (i as f64 + 0.5) * slot),
                y: y_of(v),
                title,
            })
            .collect();
        let polyline = points
            .iter()
            .map(|p| format!("{},{}", p.x, p.y))
            .collect::<Vec<_>>()
            .join(" ");
        let width = LEFT + PLOT_WIDTH + RIGHT;
        Chart {
            id: self.id,
            title: self.title,
            desc: self.desc,
            x_title: self.x_title,
            y_title: self.y_title,
            width,
            height: axis_y + BOTTOM,
            left: LEFT,
            right: LEFT + PLOT_WIDTH,
            top: TOP,
            axis_y,
            label_y: axis_y + 14.0,
            x_title_x: LEFT + PLOT_WIDTH / 2.0,
            x_title_y: axis_y + BOTTOM - 8.0,
            y_title_y: TOP + PLOT_HEIGHT / 2.0,
            ticks,
            labels,
            bars,
            points,
            polyline,
            marker: self.marker.map(|(at, label)| Marker {
                x: px(LEFT + at.clamp(0.0, n as f64) * slot),
                label,
            }),
        }
    }
}

impl Chart {
    /// The `<svg>` element.
    pub fn svg(&self) -> String {
        render_part(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(labels: usize) -> Spec {
        Spec {
            id: "c".into(),
            title: "T".into(),
            desc: "D".into(),
            x_title: "x".into(),
            y_title: "y".into(),
            labels: (0..labels).map(|i| format!("<b>{i}</b>")).collect(),
            bars: (0..labels)
                .map(|i| Some((i as f64, format!("bar {i}"))))
                .collect(),
            line: Vec::new(),
            y_max: None,
            y_suffix: "",
            marker: Some((1.5, "Pass & more".into())),
        }
    }

    #[test]
    fn the_value_axis_ends_at_a_round_number() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.0), 5.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(101.0), 200.0);
    }

    #[test]
    fn the_svg_is_well_formed_with_a_bar_per_value_and_words_escaped() {
        let svg = spec(30).draw().svg();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let rects = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("class") == Some("bar"))
            .count();
        assert_eq!(rects, 30);
        assert!(!svg.contains("<b>"), "{svg}");
        assert!(!svg.contains("Pass & more"), "{svg}");
        assert!(doc.descendants().any(|n| n.text() == Some("Pass & more")));
        // Labels are thinned out to at most MAX_LABELS.
        let labels = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("x-label"))
            .count();
        assert!(labels <= MAX_LABELS, "{labels}");
    }
}
