//! A problem on a unit page: the engine's HTML inside a form that works
//! without JavaScript (check, save, reset, show answer), with the attempts
//! and score the learner needs to see.

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

pub fn render(
    key: &CourseKey,
    view: &ProblemView,
    show_answer: bool,
    message: Option<&str>,
    csrf: &str,
) -> RenderedBlock {
    let answers = view.answers();
    let results = view.results();
    let rv = RenderView {
        seed: view.seed,
        answers: Some(&answers),
        results: view.correctness_available.then_some(&results),
        show_answer,
        hints_shown: 0,
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
    let score = if view.state.ever_attempted && view.correctness_available {
        format!(
            "{}/{} point{} (graded)",
            points(view.state.earned),
            points(possible),
            if possible == 1.0 { "" } else { "s" }
        )
    } else {
        format!(
            "{} point{} possible",
            points(possible),
            if possible == 1.0 { "" } else { "s" }
        )
    };
    html.push_str(&format!(r#"<p class="muted">{}</p>"#, esc(&score)));
    if let Some(m) = message {
        html.push_str(&format!(r#"<p class="error" role="alert">{}</p>"#, esc(m)));
    }
    html.push_str(&format!(
        r#"<form method="post" action="/courses/{}/problem/{}"><input type="hidden" name="csrf_token" value="{}">"#,
        esc(&key.to_string()),
        esc(id),
        esc(csrf)
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
