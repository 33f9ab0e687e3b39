//! The public value types of the problem engine: what a learner submits
//! ([`Answer`]), what grading says ([`Grading`], [`InputResult`]), what a page
//! needs to draw a form ([`InputSpec`]) and the two error kinds.
//!
//! Serde names follow Open edX (`correct`, `incorrect`, `partially-correct`)
//! so a stored correct map reads like the one Open edX keeps.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One input's submitted value: a text, a choice name or a dropdown option
/// text (`Single`), or the names of checked boxes (`Multiple`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Single(String),
    Multiple(Vec<String>),
}

impl Answer {
    /// The values as a list (a single value is a one-element list).
    pub fn as_list(&self) -> Vec<&str> {
        match self {
            Answer::Single(s) => vec![s.as_str()],
            Answer::Multiple(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Whether one input was answered right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Correctness {
    Correct,
    Incorrect,
    PartiallyCorrect,
}

impl Correctness {
    /// The Open edX spelling (`partially-correct`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Correctness::Correct => "correct",
            Correctness::Incorrect => "incorrect",
            Correctness::PartiallyCorrect => "partially-correct",
        }
    }
}

/// The grading of one input: its correctness, the points it earned and a
/// message (sanitized HTML, e.g. a choice hint) to show under it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputResult {
    pub correctness: Correctness,
    pub npoints: f64,
    pub msg: String,
}

impl InputResult {
    pub(crate) fn correct() -> Self {
        Self {
            correctness: Correctness::Correct,
            npoints: 1.0,
            msg: String::new(),
        }
    }
    pub(crate) fn incorrect() -> Self {
        Self {
            correctness: Correctness::Incorrect,
            npoints: 0.0,
            msg: String::new(),
        }
    }
    pub(crate) fn partial(points: f64) -> Self {
        Self {
            correctness: Correctness::PartiallyCorrect,
            npoints: points,
            msg: String::new(),
        }
    }
    pub(crate) fn of(correct: bool) -> Self {
        if correct {
            Self::correct()
        } else {
            Self::incorrect()
        }
    }
}

/// The result of grading a whole submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grading {
    /// Per input id, in id order.
    pub correct_map: BTreeMap<String, InputResult>,
    /// Sum of the inputs' points.
    pub raw_earned: f64,
    /// Sum of the inputs' maximum points (as [`super::Problem::raw_possible`]).
    pub raw_possible: f64,
}

impl Grading {
    /// True when every input earned full marks (`raw_earned == raw_possible`),
    /// Open edX's `is_correct`.
    pub fn is_correct(&self) -> bool {
        self.raw_earned == self.raw_possible
    }
}

/// How an input is drawn and what its answer looks like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// One of several choices (`choicegroup`, `radiogroup`); answer: a choice name.
    Radio,
    /// Any number of choices (`checkboxgroup`); answer: a list of choice names.
    Checkbox,
    /// A dropdown (`optioninput`); answer: the option's text.
    Dropdown,
    /// Free text (`stringresponse`).
    Text,
    /// A number or arithmetic expression (`numericalresponse`).
    Numeric,
    /// A formula in the problem's variables (`formularesponse`).
    Formula,
    /// An input type Lectern cannot grade (the tag, e.g. `jsinput`).
    Unsupported(String),
}

/// One choice of a radio, checkbox or dropdown input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceSpec {
    /// The submitted value: `choice_N` for radio and checkbox, the option
    /// text for a dropdown.
    pub name: String,
    /// The choice's label as sanitized HTML (choice hints removed).
    pub label_html: String,
}

/// One input of a problem, for the form and for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputSpec {
    /// `<problem id>_<response index + 2>_<input index + 1>`.
    pub id: String,
    pub kind: InputKind,
    /// Choices in document order (empty for text inputs). Radio choices may
    /// be displayed in another order; see [`super::Problem::display_order`].
    pub choices: Vec<ChoiceSpec>,
    /// The question text for this input, as plain text (may be empty).
    pub label: String,
    /// The question text as sanitized HTML (may be empty).
    pub label_html: String,
    /// The Open edX response tag this input belongs to.
    pub response_type: String,
}

/// The problem XML cannot be used at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProblemError {
    #[error("the problem XML is not well-formed: {0}")]
    Xml(String),
    #[error("the problem XML is empty")]
    Empty,
    /// The problem asks for more work than Lectern allows (see
    /// [`crate::limits`]); names the attribute.
    #[error("the problem asks for more than Lectern allows: {0}")]
    OverLimit(#[from] super::limits::LimitError),
}

/// A submission was refused without using an attempt: it names the input
/// and says why, in words a learner can act on.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{input_id}: {message}")]
pub struct InputError {
    pub input_id: String,
    pub message: String,
}

impl InputError {
    pub(crate) fn new(input_id: &str, message: impl Into<String>) -> Self {
        Self {
            input_id: input_id.to_string(),
            message: message.into(),
        }
    }
}
