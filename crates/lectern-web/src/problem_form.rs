//! A problem on a unit page: the engine's HTML inside a form that works
//! without JavaScript (check, save, reset, show answer), with the attempts
//! and score the learner needs to see. Each rendering carries a fresh
//! idempotency key, so the same form sent twice (a double click, the
//! script's fallback re-post after a lost answer) is graded once.

use std::collections::BTreeMap;

use lectern_app::problems::ProblemView;
use lectern_content::problem::{Answer, InputKind, Problem, RenderView};
use lectern_content::CourseKey;

use askama::Template;

use crate::blocks::render_part;
use crate::pages::RenderedBlock;

fn points(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A fresh key for one rendering of a problem form.
fn form_key() -> String {
    crate::idempotency::form_key()
}

/// The attempts line under a problem's buttons.
enum Attempts {
    OfMax(u32, u32),
    Used(u32),
    None,
}

/// The form around a problem's HTML: score, messages, buttons.
#[derive(Template)]
#[template(path = "parts/problem_form.html")]
struct ProblemForm<'a> {
    score: String,
    /// (CSS class, text) of the state's notification.
    notification: Option<(String, &'a str)>,
    message: Option<&'a str>,
    /// The problem's script failed for this learner (the kind, never the
    /// detail); shown unless a message is.
    script_error: Option<&'a str>,
    course: String,
    id: &'a str,
    csrf: &'a str,
    form_key: String,
    /// The engine's HTML, already safe (it escapes what it writes).
    body: &'a str,
    can_check: bool,
    can_reset: bool,
    /// (hints shown so far, hints in all) while some remain.
    next_hint: Option<(usize, usize)>,
    can_show_answer: bool,
    attempts: Attempts,
}

/// A problem whose state cannot be read: the note, then the question.
#[derive(Template)]
#[template(path = "parts/without_state.html")]
struct WithoutState<'a> {
    note: &'a str,
    body: &'a str,
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
        format!("{} point{plural} possible", points(possible))
    };
    let notification = view.notification().filter(|_| message.is_none()).map(|n| {
        let class = n.to_lowercase().replace([' ', '.'], "-");
        (class.trim_end_matches('-').to_string(), n)
    });
    let hints = view.problem.demand_hints().len();
    let form = ProblemForm {
        score,
        notification,
        message,
        script_error: view.script_error.as_deref().filter(|_| message.is_none()),
        course: key.to_string(),
        id,
        csrf,
        form_key: form_key(),
        body: &body,
        can_check: view.problem.is_gradable() && !view.closed,
        can_reset: view.state.ever_attempted && !view.closed,
        next_hint: (asked.hints < hints).then_some((asked.hints, hints)),
        can_show_answer: view.answer_available && !show_answer,
        attempts: match view.settings.max_attempts {
            Some(max) => Attempts::OfMax(view.state.attempts, max),
            None if view.state.attempts > 0 => Attempts::Used(view.state.attempts),
            None => Attempts::None,
        },
    };
    let html = render_part(&form);
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
    let body = view.problem.render(&rv);
    let html = render_part(&WithoutState {
        note: crate::degraded::STATE_UNAVAILABLE,
        body: &body,
    });
    RenderedBlock {
        anchor: format!("problem-{}", view.block.id),
        title: Some(view.block.title()),
        html,
    }
}
