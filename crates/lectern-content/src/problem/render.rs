//! The learner page's HTML for a problem: the author's text and markup
//! (through the one sanitizer), a plain HTML form control per input (named by
//! input id; radio and checkbox values are choice names, dropdown values the
//! option texts), the learner's previous answers, correctness markers and
//! messages, and — only when the view allows — the solution and the correct
//! answers. Works without JavaScript.
//!
//! Author markup is sanitized as one document so tables and lists that
//! enclose inputs stay intact: each input is first written as a placeholder,
//! and the generated controls (built from sanitized fragments and escaped
//! values) replace the placeholders after sanitizing. A placeholder carries
//! a random number drawn for each render, so author text that imitates one
//! (to move an input, or to splice a control into an attribute) can never
//! match.

use super::types::{Answer, InputKind, InputResult, InputSpec};
use super::xml::{escape_attr, escape_text, push_escaped_attr, push_escaped_text, Element, Node};
use super::{Problem, INPUT_TAGS, RESPONSE_TAGS};
use crate::sanitize::clean_html;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What to show besides the question: set the fields that apply.
#[derive(Debug, Clone, Default)]
pub struct RenderView<'a> {
    /// The learner's seed (display order of shuffled choices).
    pub seed: u64,
    /// Answers to fill in (the last submission or saved answers).
    pub answers: Option<&'a BTreeMap<String, Answer>>,
    /// The last grading's per-input results, to mark inputs.
    pub results: Option<&'a BTreeMap<String, InputResult>>,
    /// `show_correctness` hides the results now: graded inputs are marked
    /// only as submitted, without correctness or messages.
    pub hide_correctness: bool,
    /// Show solutions and correct answers (see `settings::answer_available`).
    pub show_answer: bool,
    /// How many demand hints the learner has asked for.
    pub hints_shown: usize,
    /// Draw the controls disabled (the problem is closed).
    pub disabled: bool,
}

impl RenderView<'_> {
    /// A view with nothing but the seed.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            ..Default::default()
        }
    }
}

/// A response's question label and descriptions, taken out of the flow so
/// they render with the input.
#[derive(Debug, Clone, Default)]
pub(crate) struct Label {
    pub text: String,
    pub html: String,
    pub descriptions: Vec<String>,
    pub single_input: bool,
}

/// Open edX's label rules, per response in document order: a `<label>`
/// inside the response; else the input's `label` attribute (taking over the
/// `<p>` just before the response when its text is the same); else a
/// `<label>` just before the response. Taken-over siblings are removed.
pub(crate) fn extract_labels(root: &mut Element) -> Vec<Label> {
    let mut out = Vec::new();
    visit(root, &mut out);
    out
}

fn visit(parent: &mut Element, out: &mut Vec<Label>) {
    let mut i = 0;
    while i < parent.children.len() {
        let Node::Element(child) = &parent.children[i] else {
            i += 1;
            continue;
        };
        if RESPONSE_TAGS.contains(&child.tag.as_str()) {
            let inputs: Vec<&Element> = child
                .descendants()
                .into_iter()
                .filter(|e| INPUT_TAGS.contains(&e.tag.as_str()))
                .collect();
            let single = inputs.len() <= 1;
            let own_label = child.children_named("label").next();
            let descriptions: Vec<String> = child
                .children_named("description")
                .map(|d| clean_html(d.inner_xml_without(&[]).trim()))
                .collect();
            let prev = (0..i)
                .rev()
                .find(|j| matches!(parent.children[*j], Node::Element(_)));
            let prev_el = prev.and_then(|j| match &parent.children[j] {
                Node::Element(e) => Some(e),
                Node::Text(_) => None,
            });
            let mut label = Label {
                descriptions,
                single_input: single,
                ..Default::default()
            };
            let mut remove = None;
            if let Some(l) = own_label {
                label.text = l.text_content().trim().to_string();
                label.html = clean_html(l.inner_xml_without(&[]).trim());
            } else if single {
                if let Some(attr) = inputs.first().and_then(|inp| inp.attr("label")) {
                    label.text = attr.to_string();
                    label.html = escape_text(attr);
                    if let Some(p) = prev_el.filter(|p| p.tag == "p" && p.leading_text() == attr) {
                        label.html = clean_html(p.inner_xml_without(&[]).trim());
                        remove = prev;
                    }
                } else if let Some(l) = prev_el.filter(|p| p.tag == "label") {
                    label.text = l.text_content().trim().to_string();
                    label.html = clean_html(l.inner_xml_without(&[]).trim());
                    remove = prev;
                }
            }
            out.push(label);
            if let Some(j) = remove {
                parent.children.remove(j);
                i -= 1;
            }
        }
        if let Node::Element(child) = &mut parent.children[i] {
            visit(child, out);
        }
        i += 1;
    }
}

/// Author elements that never reach the page (answers, grading data,
/// scripts, hints shown elsewhere).
const HIDDEN: &[&str] = &[
    "additional_answer",
    "codeparam",
    "responseparam",
    "answer",
    "script",
    "style",
    "hintgroup",
    "openendedparam",
    "openendedrubric",
    "demandhint",
    "correcthint",
    "stringequalhint",
    "regexphint",
    "solutionset",
    "targetedfeedbackset",
];

const VOID: &[&str] = &[
    "area", "br", "col", "embed", "hr", "img", "source", "track", "wbr",
];

/// A problem's sanitized author markup, cut where its inputs go. It is the
/// same for every learner and every state (answers, marks and messages live
/// in the inputs), so it is made once per problem and per "solution shown or
/// not" ([`Problem::skeleton`]) instead of sanitizing the text on every page.
#[derive(Debug, Clone)]
pub(crate) struct Skeleton {
    /// Sanitized markup, each piece followed by the input drawn after it
    /// (an index into `inputs`), or by nothing (the last piece).
    parts: Vec<(String, Option<usize>)>,
    /// Per input in document order: its index in [`Problem::inputs`] and
    /// the label it is drawn with.
    inputs: Vec<(usize, Label)>,
}

impl Skeleton {
    /// Walks the author tree with a placeholder per input, sanitizes the
    /// whole document once (tables and lists around inputs stay intact),
    /// then cuts it at the placeholders. A placeholder carries a number
    /// drawn here and never shown, so author text can never imitate one;
    /// and since inputs are joined in by position, never by searching the
    /// finished page, nothing a learner typed can be mistaken for one.
    pub(crate) fn build(problem: &Problem, show_solution: bool) -> Skeleton {
        let mut walker = Walker {
            problem,
            show_solution,
            nonce: rand::random(),
            inputs: Vec::new(),
            response_index: 0,
            stack: Vec::new(),
        };
        let mut html = String::new();
        walk(&problem.root, &mut html, &mut walker);
        let page = clean_html(&html);
        let marker = placeholder_prefix(walker.nonce);
        let mut parts = Vec::new();
        let mut drawn = vec![false; walker.inputs.len()];
        let mut text = String::new();
        let mut rest = page.as_str();
        while let Some(at) = rest.find(&marker) {
            text.push_str(&rest[..at]);
            let after = &rest[at + marker.len()..];
            let Some(end) = after.find(PLACEHOLDER_END) else {
                rest = after;
                continue;
            };
            rest = &after[end + PLACEHOLDER_END.len_utf8()..];
            // The sanitizer never invents a placeholder; should it ever
            // repeat one, the input is still drawn once.
            if let Some(n) = after[..end]
                .parse::<usize>()
                .ok()
                .filter(|n| drawn.get(*n).is_some_and(|d| !d))
            {
                drawn[n] = true;
                parts.push((std::mem::take(&mut text), Some(n)));
            }
        }
        text.push_str(rest);
        parts.push((text, None));
        Skeleton {
            parts,
            inputs: walker.inputs,
        }
    }
}

/// The author tree's walk: everything but the inputs' state.
struct Walker<'a> {
    problem: &'a Problem,
    show_solution: bool,
    /// Drawn per skeleton; makes placeholders unguessable.
    nonce: u128,
    inputs: Vec<(usize, Label)>,
    response_index: usize,
    /// (response index, next input index) for the responses being walked.
    stack: Vec<(usize, usize)>,
}

/// What one input's drawing needs of the view.
struct InputCtx<'a> {
    problem: &'a Problem,
    view: &'a RenderView<'a>,
    correct: BTreeMap<String, Answer>,
}

pub(crate) fn render(problem: &Problem, view: &RenderView<'_>) -> String {
    let correct = if view.show_answer {
        problem.correct_answers(view.seed)
    } else {
        BTreeMap::new()
    };
    let ctx = InputCtx {
        problem,
        view,
        correct,
    };
    let skeleton = problem.skeleton(view.show_answer);
    // Sized once for the fixed text and about what an input's control
    // takes, so the page is not copied as it grows (issue 18).
    let fixed: usize = skeleton.parts.iter().map(|(text, _)| text.len()).sum();
    let mut out = String::with_capacity(fixed + 512 * skeleton.inputs.len() + 128);
    out.push_str(r#"<div class="problem" data-problem-id=""#);
    push_escaped_attr(&mut out, &problem.problem_id);
    out.push_str(r#"">"#);
    for (text, input) in &skeleton.parts {
        out.push_str(text);
        let drawn = input
            .and_then(|n| skeleton.inputs.get(n))
            .and_then(|(spec, label)| problem.inputs.get(*spec).map(|s| (s, label)));
        if let Some((spec, label)) = drawn {
            input_block(&mut out, spec, label, &ctx);
        }
    }
    if !problem.unsupported.is_empty() {
        out.push_str(r#"<div class="problem-unsupported"><p>This problem cannot be graded here yet. It uses:</p><ul>"#);
        for why in &problem.unsupported {
            out.push_str("<li>");
            push_escaped_text(&mut out, why);
            out.push_str("</li>");
        }
        out.push_str("</ul></div>");
    }
    let shown = view.hints_shown.min(problem.demand_hints.len());
    if shown > 0 {
        out.push_str(r#"<div class="problem-hints">"#);
        for (i, h) in problem.demand_hints.iter().take(shown).enumerate() {
            let _ = write!(
                out,
                r#"<div class="problem-hint"><strong>Hint ({} of {}): </strong>{h}</div>"#,
                i + 1,
                problem.demand_hints.len()
            );
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
    out
}

const PLACEHOLDER_END: char = '\u{E001}';

fn placeholder_prefix(nonce: u128) -> String {
    format!("\u{E000}lectern-input-{nonce:032x}-")
}

fn placeholder(nonce: u128, n: usize) -> String {
    format!("{}{n}{PLACEHOLDER_END}", placeholder_prefix(nonce))
}

fn walk(e: &Element, out: &mut String, ctx: &mut Walker<'_>) {
    let tag = e.tag.as_str();
    if HIDDEN.contains(&tag) {
        return;
    }
    if tag == "solution" {
        if ctx.show_solution {
            out.push_str(r#"<div class="solution">"#);
            children(e, out, ctx);
            out.push_str("</div>");
        }
        return;
    }
    if RESPONSE_TAGS.contains(&tag) {
        let index = ctx.response_index;
        ctx.response_index += 1;
        ctx.stack.push((index, 0));
        out.push_str(&format!(
            r#"<div class="problem-response" role="group" aria-label="Question {}">"#,
            index + 1
        ));
        let single = ctx.problem.labels.get(index).is_none_or(|l| l.single_input);
        for c in &e.children {
            match c {
                Node::Element(el) if single && (el.tag == "label" || el.tag == "description") => {}
                Node::Element(el) if el.tag == "label" || el.tag == "description" => {
                    out.push_str(r#"<p class="question-description">"#);
                    children(el, out, ctx);
                    out.push_str("</p>");
                }
                Node::Element(el) => walk(el, out, ctx),
                Node::Text(t) => out.push_str(&escape_text(t)),
            }
        }
        ctx.stack.pop();
        out.push_str("</div>");
        return;
    }
    if INPUT_TAGS.contains(&tag) {
        if let Some(top) = ctx.stack.last_mut() {
            let (resp, k) = *top;
            top.1 += 1;
            let problem = ctx.problem;
            let spec = problem
                .responses
                .get(resp)
                .and_then(|r| r.input_ids.get(k))
                .and_then(|id| problem.inputs.iter().position(|i| i.id == *id));
            if let Some(spec) = spec {
                let label = problem
                    .labels
                    .get(resp)
                    .filter(|l| l.single_input)
                    .cloned()
                    .unwrap_or_default();
                out.push_str(&placeholder(ctx.nonce, ctx.inputs.len()));
                ctx.inputs.push((spec, label));
            }
        }
        return;
    }
    let (name, attrs): (&str, &[(String, String)]) = match tag {
        "problem" => ("div", &[]),
        "text" | "math" => ("span", &[]),
        _ => (tag, &e.attrs),
    };
    out.push('<');
    out.push_str(name);
    for (k, v) in attrs {
        out.push_str(&format!(r#" {k}="{}""#, escape_attr(v)));
    }
    out.push('>');
    if VOID.contains(&name) {
        return;
    }
    children(e, out, ctx);
    out.push_str(&format!("</{name}>"));
}

fn children(e: &Element, out: &mut String, ctx: &mut Walker<'_>) {
    for c in &e.children {
        match c {
            Node::Element(el) => walk(el, out, ctx),
            Node::Text(t) => out.push_str(&escape_text(t)),
        }
    }
}

/// One input's label, control, marker, message and (when allowed) answer,
/// appended to `out`. (Writing to a `String` cannot fail, so `write!`'s
/// result is dropped.)
fn input_block(out: &mut String, spec: &InputSpec, label: &Label, ctx: &InputCtx<'_>) {
    let id = escape_attr(&spec.id);
    let view = ctx.view;
    let previous = view.answers.and_then(|a| a.get(&spec.id));
    let prev_list: Vec<&str> = previous.map(Answer::as_list).unwrap_or_default();
    let disabled = if view.disabled { " disabled" } else { "" };
    let _ = write!(out, r#"<div class="capa-input" id="inputtype_{id}">"#);
    let label_html = if label.html.is_empty() {
        spec.label_html.as_str()
    } else {
        label.html.as_str()
    };
    // Every control gets a name, even when the author wrote no label.
    let label_html = if label_html.trim().is_empty() {
        r#"<span class="visually-hidden">Your answer</span>"#
    } else {
        label_html
    };
    let descriptions = |out: &mut String| {
        for d in &label.descriptions {
            let _ = write!(out, r#"<p class="question-description">{d}</p>"#);
        }
    };
    // A control with an id of its own is labelled by a `<label for>`.
    let label_for_input = |out: &mut String| {
        let _ = write!(
            out,
            r#"<label class="question-label" for="input_{id}">{label_html}</label>"#
        );
        descriptions(out);
    };
    match &spec.kind {
        InputKind::Radio | InputKind::Checkbox => {
            let ty = if spec.kind == InputKind::Radio {
                "radio"
            } else {
                "checkbox"
            };
            let _ = write!(
                out,
                r#"<fieldset><legend class="question-label">{label_html}</legend>"#
            );
            descriptions(out);
            for i in ctx.problem.display_order(&spec.id, view.seed) {
                let Some(c) = spec.choices.get(i) else {
                    continue;
                };
                let checked = if prev_list.contains(&c.name.as_str()) {
                    " checked"
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    r#"<label class="choice"><input type="{ty}" name="{id}" value=""#
                );
                push_escaped_attr(out, &c.name);
                let _ = write!(out, r#""{checked}{disabled}> {}</label>"#, c.label_html);
            }
            out.push_str("</fieldset>");
        }
        InputKind::Dropdown => {
            label_for_input(out);
            let _ = write!(
                out,
                r#"<select name="{id}" id="input_{id}"{disabled}><option value="">Select an option</option>"#
            );
            for c in &spec.choices {
                let sel = if prev_list.first() == Some(&c.name.as_str()) {
                    " selected"
                } else {
                    ""
                };
                out.push_str(r#"<option value=""#);
                push_escaped_attr(out, &c.name);
                let _ = write!(out, r#""{sel}>{}</option>"#, c.label_html);
            }
            out.push_str("</select>");
        }
        InputKind::Text | InputKind::Numeric | InputKind::Formula => {
            let value = prev_list.first().copied().unwrap_or("");
            label_for_input(out);
            let _ = write!(
                out,
                r#"<input type="text" name="{id}" id="input_{id}" value=""#
            );
            push_escaped_attr(out, value);
            let _ = write!(out, r#"" autocomplete="off"{disabled}>"#);
        }
        InputKind::Unsupported(tag) => {
            let _ = write!(out, r#"<p class="question-label">{label_html}</p>"#);
            descriptions(out);
            out.push_str(r#"<p class="unsupported-input">This input ("#);
            push_escaped_text(out, tag);
            out.push_str(") cannot be answered here yet.</p>");
        }
    }
    if view.hide_correctness {
        if view.results.is_some_and(|m| m.contains_key(&spec.id)) {
            out.push_str(r#"<span class="status submitted">submitted</span>"#);
        }
    } else if let Some(r) = view.results.and_then(|m| m.get(&spec.id)) {
        let text = match r.correctness {
            super::Correctness::Correct => "correct",
            super::Correctness::Incorrect => "incorrect",
            super::Correctness::PartiallyCorrect => "partially correct",
        };
        let _ = write!(
            out,
            r#"<span class="status {}">{text}</span>"#,
            r.correctness.as_str()
        );
        if !r.msg.is_empty() {
            let _ = write!(out, r#"<div class="message">{}</div>"#, r.msg);
        }
    }
    if let Some(a) = ctx.correct.get(&spec.id) {
        out.push_str(r#"<div class="answer"><strong>Answer: </strong>"#);
        for (i, v) in a.as_list().iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match spec.choices.iter().find(|c| c.name == *v) {
                Some(c) if spec.kind != InputKind::Dropdown => out.push_str(&c.label_html),
                _ => push_escaped_text(out, v),
            }
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
}

#[cfg(test)]
mod tests;
