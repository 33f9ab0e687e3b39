//! The problem engine: Open edX CAPA problem XML, parsed, rendered and graded.
//!
//! [`Problem::parse`] reads a problem's XML once (DTDs refused); the result
//! is immutable and can be cached with the course version. Grading and
//! rendering take the learner's seed (see [`settings::seed_for`]), which
//! only changes display order (shuffle, answer pools) and formula samples.
//!
//! Input ids follow Open edX: `<problem id>_<response index + 2>_<input
//! index + 1>`, so stored answers, correct maps and tracking events line up
//! with Open edX's. Supported responses: multiple choice (and true/false),
//! checkboxes, dropdowns, numerical, text and formula. Anything that needs
//! Python (a `loncapa/python` script, `customresponse`, …) parses into a
//! problem that can be shown but not graded; [`Problem::unsupported`] says
//! why. Nothing here panics on well-formed XML.
//!
//! Grading returns `Err(InputError)` when Open edX would refuse the
//! submission without using an attempt (an expression that does not
//! evaluate, an unknown variable in a formula, a misconfigured problem);
//! anything else is graded, blank answers included.

mod checkbox;
mod choice;
mod common;
mod formula;
mod limits;
mod numerical;
mod option;
mod pynum;
mod render;
pub mod script;
pub mod settings;
mod string;
mod types;
mod xml;

use crate::calc;

pub use limits::LimitError;
pub use render::RenderView;
pub use types::{
    Answer, ChoiceSpec, Correctness, Grading, InputError, InputKind, InputResult, InputSpec,
    ProblemError,
};

use rand::SeedableRng;
use script::{ScriptContext, ScriptEnv, ScriptError};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use xml::Element;

/// Every CAPA response tag Open edX registers; each takes a response index.
pub(crate) const RESPONSE_TAGS: &[&str] = &[
    "choiceresponse",
    "multiplechoiceresponse",
    "truefalseresponse",
    "optionresponse",
    "numericalresponse",
    "stringresponse",
    "customresponse",
    "symbolicresponse",
    "coderesponse",
    "externalresponse",
    "formularesponse",
    "schematicresponse",
    "imageresponse",
    "annotationresponse",
    "choicetextresponse",
];

/// Every CAPA input tag Open edX registers; each takes an input index.
pub(crate) const INPUT_TAGS: &[&str] = &[
    "optioninput",
    "choicegroup",
    "radiogroup",
    "checkboxgroup",
    "jsinput",
    "textline",
    "filesubmission",
    "codeinput",
    "textbox",
    "matlabinput",
    "schematic",
    "imageinput",
    "crystallography",
    "vsepr_input",
    "chemicalequationinput",
    "formulaequationinput",
    "drag_and_drop_input",
    "designprotein2dinput",
    "editageneinput",
    "annotationinput",
    "radiotextgroup",
    "checkboxtextgroup",
];

pub use crate::limits::{MAX_ANSWER_CHARS, MAX_ANSWER_VALUES};

#[derive(Debug, Clone)]
enum Kind {
    MultipleChoice(choice::MultipleChoice),
    Checkbox(checkbox::Checkbox),
    Dropdown(Vec<option::Dropdown>),
    Numerical(numerical::Numerical),
    Text(string::Text),
    Formula(formula::Formula),
    Custom(script::custom::Custom),
    Unsupported,
}

#[derive(Debug, Clone)]
struct Response {
    input_ids: Vec<String>,
    max_points: Vec<f64>,
    kind: Kind,
}

/// A parsed CAPA problem. Cheap to share; all methods take `&self`.
#[derive(Debug, Clone)]
pub struct Problem {
    problem_id: String,
    root: Element,
    responses: Vec<Response>,
    inputs: Vec<InputSpec>,
    unsupported: Vec<String>,
    demand_hints: Vec<String>,
    labels: Vec<render::Label>,
    scripted: Option<Arc<Scripted>>,
    /// The sanitized page markup, made on first use: without and with the
    /// solution (see [`render::Skeleton`]).
    skeletons: [OnceLock<render::Skeleton>; 2],
}

/// What a problem that needs Python keeps: its code, the tree as written
/// (before `$name` substitution) and, once instantiated for a seed, the
/// script's variables.
#[derive(Debug)]
struct Scripted {
    code: String,
    source: Element,
    /// Reasons it cannot be graded other than needing Python.
    other_unsupported: Vec<String>,
    context: Option<ScriptContext>,
}

/// Why a problem that needs Python cannot be graded without a runner.
const NEEDS_PYTHON: &str = "Python (a <script type=\"loncapa/python\"> or a customresponse), which needs the script sandbox";

/// The problem id Open edX-style input ids start with: the url_name with
/// every character other than an ASCII letter, digit or `_` turned into `_`.
pub fn problem_html_id(url_name: &str) -> String {
    url_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Problem {
    /// Parses problem XML. `problem_id` is the block's url_name (it is
    /// passed through [`problem_html_id`]). Fails on XML that is not
    /// well-formed (or has a DTD) and on a problem that asks for more work
    /// than [`crate::limits`] allows ([`ProblemError::OverLimit`], naming
    /// the attribute); unsupported content is reported by
    /// [`Problem::unsupported`] instead.
    pub fn parse(xml: &str, problem_id: &str) -> Result<Problem, ProblemError> {
        let root = xml::parse(xml)?;
        limits::check(&root)?;
        Ok(Self::build(root, &problem_html_id(problem_id), None))
    }

    /// Reads a parsed tree into a problem. `context` is the script's
    /// variables once they are known (the tree is then already substituted).
    fn build(mut root: Element, problem_id: &str, context: Option<ScriptContext>) -> Problem {
        let problem_id = problem_id.to_string();
        let code = script::python_code(&root);
        let has_custom = std::iter::once(&root)
            .chain(root.descendants())
            .any(|e| e.tag == "customresponse");
        let source = (code.is_some() || has_custom).then(|| root.clone());
        let mut unsupported = Vec::new();
        let labels = render::extract_labels(&mut root);
        let mut responses = Vec::new();
        let mut inputs = Vec::new();
        let response_elems: Vec<&Element> = std::iter::once(&root)
            .chain(root.descendants())
            .filter(|e| RESPONSE_TAGS.contains(&e.tag.as_str()))
            .collect();
        for (index, resp) in response_elems.into_iter().enumerate() {
            let input_elems: Vec<&Element> = resp
                .descendants()
                .into_iter()
                .filter(|e| INPUT_TAGS.contains(&e.tag.as_str()))
                .collect();
            let input_ids: Vec<String> = (0..input_elems.len())
                .map(|k| format!("{problem_id}_{}_{}", index + 2, k + 1))
                .collect();
            let mut max_points = Vec::new();
            for inp in &input_elems {
                match inp.attr("points").map(|p| p.trim().parse::<i64>()) {
                    None => max_points.push(1.0),
                    Some(Ok(p)) => max_points.push(p as f64),
                    Some(Err(_)) => {
                        push_once(
                            &mut unsupported,
                            format!("{}: points must be a whole number", resp.tag),
                        );
                        max_points.push(1.0);
                    }
                }
            }
            let kind = match build_kind(resp, &input_elems) {
                Ok(k) => k,
                Err(why) => {
                    push_once(&mut unsupported, why);
                    Kind::Unsupported
                }
            };
            let label = labels.get(index).cloned().unwrap_or_default();

            for (k, (inp, id)) in input_elems.iter().zip(&input_ids).enumerate() {
                let (kind_of, choices) = input_kind(&kind, inp, k);
                let (label_text, label_html) = if input_elems.len() == 1 {
                    (label.text.clone(), label.html.clone())
                } else {
                    let l = inp.attr("label").unwrap_or("");
                    (l.to_string(), xml::escape_text(l))
                };
                inputs.push(InputSpec {
                    id: id.clone(),
                    kind: kind_of,
                    choices,
                    label: label_text,
                    label_html,
                    response_type: resp.tag.clone(),
                });
            }
            responses.push(Response {
                input_ids,
                max_points,
                kind,
            });
        }
        let needs_python =
            code.is_some() || responses.iter().any(|r| matches!(r.kind, Kind::Custom(_)));
        let scripted = source.filter(|_| needs_python).map(|source| {
            let other_unsupported = unsupported.clone();
            if context.is_none() {
                unsupported.insert(0, NEEDS_PYTHON.to_string());
            }
            Arc::new(Scripted {
                code: code.unwrap_or_default(),
                source,
                other_unsupported,
                context,
            })
        });
        let demand_hints = std::iter::once(&root)
            .chain(root.descendants())
            .filter(|e| e.tag == "demandhint")
            .flat_map(|d| {
                d.children_named("hint")
                    .map(common::hint_html)
                    .collect::<Vec<_>>()
            })
            .collect();
        Problem {
            problem_id,
            root,
            responses,
            inputs,
            unsupported,
            demand_hints,
            labels,
            scripted,
            skeletons: Default::default(),
        }
    }

    /// The problem's sanitized markup with a place for each input; made
    /// once, then shared by every rendering.
    fn skeleton(&self, show_solution: bool) -> &render::Skeleton {
        self.skeletons[usize::from(show_solution)]
            .get_or_init(|| render::Skeleton::build(self, show_solution))
    }

    /// Whether grading (and the `$name`s in the text) need the problem's
    /// Python to run: it has a script or a `customresponse`.
    pub fn needs_python(&self) -> bool {
        self.scripted.is_some()
    }

    /// Why this problem could not be graded even with Python available
    /// (empty when a runner makes it gradable).
    pub fn unsupported_with_python(&self) -> &[String] {
        match &self.scripted {
            Some(s) => &s.other_unsupported,
            None => &self.unsupported,
        }
    }

    /// The problem as the learner with this seed sees it: the script run
    /// (through `env.runner`) for its variables, every `$name` substituted,
    /// and `customresponse` checks ready to run. A problem that needs no
    /// Python comes back unchanged. Fails when the script does, or when its
    /// variables would make the problem larger than the XML limit.
    pub fn instantiate(&self, env: &ScriptEnv, seed: u64) -> Result<Problem, ScriptError> {
        let Some(scripted) = &self.scripted else {
            return Ok(self.clone());
        };
        let context = script::run_context(env, &scripted.code, seed)?;
        let vars = script::substitute::ordered(&context);
        let mut root = scripted.source.clone();
        let mut budget = crate::limits::MAX_PROBLEM_XML_BYTES;
        if !script::substitute::contextualize_tree(&mut root, &vars, &mut budget) {
            return Err(ScriptError::Invalid(
                "the script's variables make the problem larger than Lectern allows".into(),
            ));
        }
        Ok(Self::build(root, &self.problem_id, Some(context)))
    }

    /// The script's variables, once [`Problem::instantiate`] ran.
    pub fn script_context(&self) -> Option<&ScriptContext> {
        self.scripted.as_ref().and_then(|s| s.context.as_ref())
    }

    /// The problem id input ids start with.
    pub fn problem_id(&self) -> &str {
        &self.problem_id
    }

    /// Every input, in id order.
    pub fn inputs(&self) -> &[InputSpec] {
        &self.inputs
    }

    /// Why this problem cannot be graded; empty when it can.
    pub fn unsupported(&self) -> &[String] {
        &self.unsupported
    }

    /// Whether [`Problem::grade`] can be used.
    pub fn is_gradable(&self) -> bool {
        self.unsupported.is_empty()
    }

    /// The sum of every input's maximum points (1 each unless `points` says
    /// otherwise).
    pub fn raw_possible(&self) -> f64 {
        self.responses
            .iter()
            .flat_map(|r| r.max_points.iter())
            .sum()
    }

    /// The demand hints (`<demandhint><hint>`), as sanitized HTML, in order.
    pub fn demand_hints(&self) -> &[String] {
        &self.demand_hints
    }

    /// Grades a submission. Answers are keyed by input id; a missing input
    /// is graded as blank. `Err` means the submission is refused without
    /// using an attempt (also when the problem is not gradable).
    /// Whether grading costs next to nothing whatever is submitted: only
    /// choice, checkbox and dropdown responses (their work is a comparison
    /// per choice the author wrote, bounded by the parse limits), no script.
    /// Such a check needs no trip to the grading pool.
    pub fn grades_cheaply(&self) -> bool {
        self.scripted.is_none()
            && !self.responses.is_empty()
            && self.responses.iter().all(|r| {
                matches!(
                    r.kind,
                    Kind::MultipleChoice(_) | Kind::Checkbox(_) | Kind::Dropdown(_)
                )
            })
    }

    pub fn grade(
        &self,
        answers: &BTreeMap<String, Answer>,
        seed: u64,
    ) -> Result<Grading, InputError> {
        // Every expression this check evaluates draws on one budget.
        calc::Budget::new(crate::limits::MAX_GRADING_WORK)
            .scope(|| self.grade_within(answers, seed, None))
    }

    /// Grades a submission of an instantiated problem (see
    /// [`Problem::instantiate`]), running `customresponse` checks through
    /// `env.runner`. Same contract as [`Problem::grade`]; a check whose
    /// script fails refuses the submission (no attempt used), with the
    /// script's error message as Open edX shows it.
    pub fn grade_scripted(
        &self,
        answers: &BTreeMap<String, Answer>,
        seed: u64,
        env: &ScriptEnv,
    ) -> Result<Grading, InputError> {
        calc::Budget::new(crate::limits::MAX_GRADING_WORK)
            .scope(|| self.grade_within(answers, seed, Some(env)))
    }

    fn grade_within(
        &self,
        answers: &BTreeMap<String, Answer>,
        seed: u64,
        env: Option<&ScriptEnv>,
    ) -> Result<Grading, InputError> {
        if let Some(why) = self.unsupported.first() {
            let id = self
                .inputs
                .first()
                .map(|i| i.id.as_str())
                .unwrap_or(&self.problem_id);
            return Err(InputError::new(
                id,
                format!("this problem cannot be graded by Lectern: it uses {why}"),
            ));
        }
        for input in &self.inputs {
            if let Some(a) = answers.get(&input.id) {
                check_size(&input.id, a)?;
            }
        }
        let mut correct_map = BTreeMap::new();
        let mut formula_stream = 0u64;
        for r in &self.responses {
            let first = r.input_ids.first().map(String::as_str).unwrap_or("");
            let max_first = r.max_points.iter().sum::<f64>();
            let result = match &r.kind {
                Kind::MultipleChoice(m) => m.grade(first, answers)?,
                Kind::Checkbox(c) => c.grade(first, answers, max_first)?,
                Kind::Numerical(n) => n.grade(first, answers)?,
                Kind::Text(t) => t.grade(first, answers)?,
                Kind::Formula(f) => {
                    formula_stream += 1;
                    f.grade(first, answers, seed, formula_stream)?
                }
                Kind::Dropdown(ds) => {
                    for (d, id) in ds.iter().zip(&r.input_ids) {
                        correct_map.insert(id.clone(), d.grade(id, answers)?);
                    }
                    continue;
                }
                Kind::Custom(c) => {
                    let (Some(env), Some(scripted)) = (env, &self.scripted) else {
                        return Err(InputError::new(
                            first,
                            "this problem needs its Python script to run",
                        ));
                    };
                    let empty = ScriptContext::default();
                    let ctx = scripted.context.as_ref().unwrap_or(&empty);
                    let results = c.grade(
                        &r.input_ids,
                        &r.max_points,
                        answers,
                        env,
                        &scripted.code,
                        ctx,
                        seed,
                    )?;
                    correct_map.extend(results);
                    continue;
                }
                Kind::Unsupported => continue,
            };
            if !first.is_empty() {
                correct_map.insert(first.to_string(), result);
            }
        }
        let raw_earned = correct_map.values().map(|r: &InputResult| r.npoints).sum();
        Ok(Grading {
            correct_map,
            raw_earned,
            raw_possible: self.raw_possible(),
        })
    }

    /// Answers that grade correct, for "Show answer" (and for tests): the
    /// correct choice name(s), the correct option text, the numerical or
    /// formula answer, the accepted texts joined by " or ".
    pub fn correct_answers(&self, seed: u64) -> BTreeMap<String, Answer> {
        let orders = self.display_orders(seed);
        let mut out = BTreeMap::new();
        for (r, order) in self.responses.iter().zip(&orders) {
            let first = r.input_ids.first().cloned().unwrap_or_default();
            let answer = match &r.kind {
                Kind::MultipleChoice(m) => m.correct_answer(order),
                Kind::Checkbox(c) => Some(c.correct_answer()),
                Kind::Numerical(n) => Some(n.correct_answer()),
                Kind::Text(t) => Some(t.correct_answer()),
                Kind::Formula(f) => Some(f.correct_answer()),
                Kind::Dropdown(ds) => {
                    for (d, id) in ds.iter().zip(&r.input_ids) {
                        if let Some(c) = &d.correct {
                            out.insert(id.clone(), Answer::Single(c.clone()));
                        }
                    }
                    None
                }
                Kind::Custom(c) => {
                    out.extend(c.correct_answers(&r.input_ids));
                    None
                }
                Kind::Unsupported => None,
            };
            if let Some(a) = answer {
                out.insert(first, a);
            }
        }
        out
    }

    /// One answer per input that grades correct, to fill a form (a staff
    /// preview, tests): like [`Problem::correct_answers`] but a numerical
    /// range gives its midpoint and a text input its first accepted answer
    /// (a pattern, for regexp problems, which may not match itself).
    pub fn example_correct_answers(&self, seed: u64) -> BTreeMap<String, Answer> {
        let mut out = self.correct_answers(seed);
        for r in &self.responses {
            let Some(first) = r.input_ids.first() else {
                continue;
            };
            match &r.kind {
                Kind::Numerical(n) => {
                    out.insert(first.clone(), Answer::Single(n.sample_correct()));
                }
                Kind::Text(t) => {
                    out.insert(first.clone(), Answer::Single(t.first_answer().to_string()));
                }
                _ => {}
            }
        }
        out
    }

    /// For each response, the order its choices are shown in for this seed
    /// (indexes into the input's `choices`; identity unless the choice
    /// group shuffles or draws an answer pool). One shared generator for
    /// the whole problem, responses in order, as in Open edX.
    pub fn display_order(&self, input_id: &str, seed: u64) -> Vec<usize> {
        let shuffled = self
            .responses
            .iter()
            .zip(self.display_orders(seed))
            .find(|(r, _)| {
                matches!(r.kind, Kind::MultipleChoice(_))
                    && r.input_ids.first().is_some_and(|f| f == input_id)
            })
            .map(|(_, o)| o);
        // Only multiple choice reorders; every other input (checkboxes,
        // dropdowns) shows its choices in document order.
        shuffled.unwrap_or_else(|| {
            let n = self
                .inputs
                .iter()
                .find(|i| i.id == input_id)
                .map_or(0, |i| i.choices.len());
            (0..n).collect()
        })
    }

    fn display_orders(&self, seed: u64) -> Vec<Vec<usize>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        self.responses
            .iter()
            .map(|r| match &r.kind {
                Kind::MultipleChoice(m) => m.display_order(&mut rng),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The learner page's HTML for this problem; see [`RenderView`].
    pub fn render(&self, view: &RenderView) -> String {
        render::render(self, view)
    }
}

fn push_once(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn check_size(id: &str, answer: &Answer) -> Result<(), InputError> {
    let too_long = |s: &String| s.chars().count() > MAX_ANSWER_CHARS;
    match answer {
        Answer::Single(s) if too_long(s) => Err(InputError::new(
            id,
            format!("the answer is too long (at most {MAX_ANSWER_CHARS} characters)"),
        )),
        Answer::Multiple(v) if v.len() > MAX_ANSWER_VALUES || v.iter().any(too_long) => Err(
            InputError::new(id, "the answer has too many or too long values"),
        ),
        _ => Ok(()),
    }
}

/// Reads one response into its grader, checking its inputs as Open edX
/// does (allowed input tags, how many).
fn build_kind(resp: &Element, inputs: &[&Element]) -> Result<Kind, String> {
    let tag = resp.tag.as_str();
    let allowed: &[&str] = match tag {
        "multiplechoiceresponse" | "truefalseresponse" => &["choicegroup"],
        "choiceresponse" => &["checkboxgroup", "radiogroup"],
        "optionresponse" => &["optioninput"],
        "numericalresponse" | "formularesponse" => &["textline", "formulaequationinput"],
        "stringresponse" => &["textline"],
        "customresponse" => script::custom::CUSTOM_INPUTS,
        other => return Err(format!("{other} (not supported by Lectern yet)")),
    };
    if let Some(bad) = inputs.iter().find(|i| !allowed.contains(&i.tag.as_str())) {
        return Err(format!("{tag} with a <{}> input", bad.tag));
    }
    if tag != "optionresponse" && tag != "customresponse" && inputs.len() > 1 {
        return Err(format!("{tag} with more than one input"));
    }
    if inputs.is_empty() {
        return Err(format!("{tag} without an input"));
    }
    let why = |e: String| format!("{tag}: {e}");
    // Open edX cannot load a choice or option without `correct`.
    let marked = [
        "multiplechoiceresponse",
        "truefalseresponse",
        "choiceresponse",
    ]
    .contains(&tag);
    let needs_mark = |e: &&Element| {
        (marked && e.tag == "choice") || (tag == "optionresponse" && e.tag == "option")
    };
    if resp
        .descendants()
        .into_iter()
        .filter(needs_mark)
        .any(|e| e.attr("correct").is_none())
    {
        return Err(format!("{tag}: a choice without a correct attribute"));
    }
    Ok(match tag {
        "customresponse" => Kind::Custom(script::custom::Custom::parse(resp, inputs)),
        "multiplechoiceresponse" => {
            Kind::MultipleChoice(choice::MultipleChoice::parse(resp, false).map_err(why)?)
        }
        "truefalseresponse" => {
            Kind::MultipleChoice(choice::MultipleChoice::parse(resp, true).map_err(why)?)
        }
        "choiceresponse" => Kind::Checkbox(checkbox::Checkbox::parse(resp)),
        "optionresponse" => Kind::Dropdown(
            inputs
                .iter()
                .map(|i| option::Dropdown::parse(i).map_err(why))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        "numericalresponse" => Kind::Numerical(numerical::Numerical::parse(resp).map_err(why)?),
        "stringresponse" => Kind::Text(string::Text::parse(resp).map_err(why)?),
        _ => Kind::Formula(formula::Formula::parse(resp).map_err(why)?),
    })
}

fn input_kind(kind: &Kind, input: &Element, k: usize) -> (InputKind, Vec<ChoiceSpec>) {
    match kind {
        Kind::MultipleChoice(m) => (InputKind::Radio, m.specs()),
        Kind::Checkbox(c) if input.tag == "radiogroup" => (InputKind::Radio, c.specs()),
        Kind::Checkbox(c) => (InputKind::Checkbox, c.specs()),
        Kind::Dropdown(ds) => (
            InputKind::Dropdown,
            ds.get(k).map(|d| d.specs()).unwrap_or_default(),
        ),
        Kind::Numerical(_) => (InputKind::Numeric, vec![]),
        Kind::Text(_) => (InputKind::Text, vec![]),
        Kind::Formula(_) => (InputKind::Formula, vec![]),
        Kind::Custom(_) => (InputKind::Text, vec![]),
        Kind::Unsupported => (InputKind::Unsupported(input.tag.clone()), vec![]),
    }
}

#[cfg(test)]
mod tests;
