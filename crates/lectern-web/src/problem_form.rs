//! A problem on a unit page: the engine's HTML inside a form that works
//! without JavaScript (check, save, reset, show answer), with the attempts
//! and score the learner needs to see. Each rendering carries a fresh
//! idempotency key, so the same form sent twice (a double click, the
//! script's fallback re-post after a lost answer) is graded once.

use std::collections::BTreeMap;

use lectern_app::problems::ProblemView;
use lectern_content::problem::{Answer, InputKind, Problem, RenderView};
use lectern_content::CourseKey;

use crate::blocks::esc;
use crate::pages::RenderedBlock;

fn points(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A fresh key for one rendering of a problem form.
fn form_key() -> String {
    crate::idempotency::form_key()
}

/// What the learner asked for on this page load.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked {
    pub show_answer: bool,
    /// Demand hints revealed so far (hints are a page state, not a score).
    pub hints: usize,
}

pub fn render(
    key: &CourseKey,
    view: &ProblemView,
    asked: Asked,
    message: Option<&str>,
    csrf: &str,
) -> RenderedBlock {
    let show_answer = asked.show_answer;
    let answers = view.answers();
    let results = view.results();
    let rv = RenderView {
        seed: view.seed,
        answers: Some(&answers),
        results: Some(&results),
        hide_correctness: !view.correctness_available,
        show_answer,
        hints_shown: asked.hints,
        disabled: view.closed,
    };
    let body = view.problem.render(&rv);
    let id = &view.block.id;
    let possible = if view.state.ever_attempted {
        view.state.possible
    } else {
        lectern_content::problem::settings::weighted_score(
            0.0,
            view.problem.raw_possible(),
            view.settings.weight,
        )
        .1
    };
    let mut html = String::new();
    let plural = if possible == 1.0 { "" } else { "s" };
    let score = if let Some(earned) = view.visible_earned().filter(|_| view.state.ever_attempted) {
        format!(
            "{}/{} point{plural} (graded)",
            points(earned),
            points(possible)
        )
    } else if view.state.ever_attempted {
        format!(
            "{} point{plural} possible (graded, results hidden)",
            points(possible)
        )
    } else {
        format!(
            "{} point{} possible",
            points(possible),
            if possible == 1.0 { "" } else { "s" }
        )
    };
    html.push_str(&format!(r#"<p class="muted">{}</p>"#, esc(&score)));
    if let Some(n) = view.notification().filter(|_| message.is_none()) {
        let class = n.to_lowercase().replace([' ', '.'], "-");
        html.push_str(&format!(
            r#"<p class="notification {}" role="status">{}</p>"#,
            class.trim_end_matches('-'),
            esc(n)
        ));
    }
    if let Some(m) = message {
        html.push_str(&format!(r#"<p class="error" role="alert">{}</p>"#, esc(m)));
    }
    // The problem's script failed for this learner: say so (never the detail).
    if let Some(why) = view.script_error.as_deref().filter(|_| message.is_none()) {
        html.push_str(&format!(
            r#"<p class="error" role="alert">{}</p>"#,
            esc(why)
        ));
    }
    html.push_str(&format!(
        r#"<form method="post" action="/courses/{}/problem/{}"><input type="hidden" name="csrf_token" value="{}"><input type="hidden" name="idempotency_key" value="{}">"#,
        esc(&key.to_string()),
        esc(id),
        esc(csrf),
        form_key()
    ));
    html.push_str(&body);
    html.push_str(r#"<p class="row">"#);
    if view.problem.is_gradable() && !view.closed {
        html.push_str(r#"<button type="submit" name="action" value="check">Submit</button>"#);
        html.push_str(
            r#"<button class="secondary" type="submit" name="action" value="save">Save</button>"#,
        );
    }
    if view.state.ever_attempted && !view.closed {
        html.push_str(
            r#"<button class="secondary" type="submit" name="action" value="reset">Reset</button>"#,
        );
    }
    let hints = view.problem.demand_hints().len();
    if asked.hints < hints {
        html.push_str(&format!(
            r#"<input type="hidden" name="hints_shown" value="{}"><button class="secondary" type="submit" name="action" value="hint">Hint ({} of {})</button>"#,
            asked.hints,
            asked.hints + 1,
            hints
        ));
    }
    if view.answer_available && !show_answer {
        html.push_str(r#"<button class="secondary" type="submit" name="action" value="show">Show answer</button>"#);
    }
    match view.settings.max_attempts {
        Some(max) => html.push_str(&format!(
            r#"<span class="muted">You have used {} of {} attempts.</span>"#,
            view.state.attempts, max
        )),
        None if view.state.attempts > 0 => html.push_str(&format!(
            r#"<span class="muted">Attempts: {}.</span>"#,
            view.state.attempts
        )),
        None => {}
    }
    html.push_str("</p></form>");
    RenderedBlock {
        anchor: format!("problem-{id}"),
        title: Some(view.block.title()),
        html,
    }
}

/// Turns form pairs into answers: checkbox inputs collect every value (and
/// none is an empty list), other inputs take their first value.
pub fn answers_from_form(
    problem: &Problem,
    pairs: &[(String, String)],
) -> BTreeMap<String, Answer> {
    let mut out = BTreeMap::new();
    for input in problem.inputs() {
        let values: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| *k == input.id)
            .map(|(_, v)| v.clone())
            .collect();
        match input.kind {
            InputKind::Checkbox => {
                out.insert(input.id.clone(), Answer::Multiple(values));
            }
            _ => {
                if let Some(v) = values.into_iter().next() {
                    out.insert(input.id.clone(), Answer::Single(v));
                }
            }
        }
    }
    out
}

/// A problem whose learner state cannot be read (the database is
/// unreachable): the question as new and disabled, with a note saying why,
/// and no buttons, since nothing can be checked or saved.
pub fn render_without_state(view: &ProblemView) -> RenderedBlock {
    let rv = RenderView {
        seed: view.seed,
        answers: None,
        results: None,
        hide_correctness: true,
        show_answer: false,
        hints_shown: 0,
        disabled: true,
    };
    let html = format!(
        r#"<p class="notification unavailable" role="status">{}</p>{}"#,
        esc(crate::degraded::STATE_UNAVAILABLE),
        view.problem.render(&rv)
    );
    RenderedBlock {
        anchor: format!("problem-{}", view.block.id),
        title: Some(view.block.title()),
        html,
    }
}
