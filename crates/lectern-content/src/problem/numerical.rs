//! `numericalresponse`: the learner's expression is evaluated and compared
//! with the staff answer within a tolerance (absolute, `N%` of the answer, or
//! by default 0.001% relative), or against a range `[a,b)`; exact additional
//! answers; `partial_credit="close"` and `"list"`. Follows Open edX's order
//! of checks, because that order decides which inputs are refused without
//! using an attempt (any evaluation error) and which are graded incorrect
//! (empty input, NaN, infinities).

use super::calc;
use super::common::{credit_types, hint_div, hint_html, shorten, single};
use super::pynum::{py_abs, py_complex, py_float, py_max, within};
use super::types::{Answer, InputError, InputResult};
use super::xml::Element;
use num_complex::Complex64;
use std::collections::{BTreeMap, HashMap};

pub(crate) const DEFAULT_TOLERANCE: &str = "0.001%";

/// A tolerance as Open edX passes it around: the author's string, or a
/// number computed from it.
#[derive(Debug, Clone)]
pub(crate) enum Tol {
    Str(String),
    Num(f64),
}

#[derive(Debug, Clone)]
struct Range {
    inclusive: (bool, bool),
    bounds: (String, String),
}

#[derive(Debug, Clone)]
pub(crate) struct Numerical {
    answer: String,
    range: Option<Range>,
    tolerance: String,
    additional: Vec<String>,
    credit: Option<Vec<String>>,
    partial_range: Option<String>,
    partial_answers: Option<String>,
    correct_hint: Option<Element>,
}

impl Numerical {
    pub fn parse(resp: &Element) -> Result<Self, String> {
        let answer = super::common::required_attr(resp, "answer")?;
        let range = if answer.starts_with(['[', '('])
            && answer.ends_with([']', ')'])
            && answer.len() >= 2
        {
            let inner = &answer[1..answer.len() - 1];
            let parts: Vec<&str> = inner.split(',').collect();
            if parts.len() < 2 {
                return Err(format!("numerical answer {answer:?} is not a valid range"));
            }
            Some(Range {
                inclusive: (answer.starts_with('['), answer.ends_with(']')),
                bounds: (parts[0].to_string(), parts[1].to_string()),
            })
        } else {
            None
        };
        let tolerance =
            super::common::tolerance_param(resp).unwrap_or_else(|| DEFAULT_TOLERANCE.to_string());
        let param = |name: &str| {
            resp.children_named("responseparam")
                .find_map(|e| e.attr(name))
                .map(str::to_string)
        };
        Ok(Self {
            answer,
            range,
            tolerance,
            additional: resp
                .children_named("additional_answer")
                .filter_map(|e| e.attr("answer"))
                .map(String::from)
                .collect(),
            credit: credit_types(resp),
            partial_range: param("partial_range"),
            partial_answers: param("partial_answers"),
            correct_hint: resp.children_named("correcthint").next().cloned(),
        })
    }

    pub fn grade(
        &self,
        input_id: &str,
        answers: &BTreeMap<String, Answer>,
    ) -> Result<InputResult, InputError> {
        let Some(given) = single(answers, input_id)? else {
            return Ok(InputResult::incorrect());
        };
        let err = |m: String| InputError::new(input_id, m);
        let has = |t: &str| {
            self.credit
                .as_ref()
                .is_some_and(|c| c.iter().any(|x| x == t))
        };
        if let Some(types) = &self.credit {
            if let Some(bad) = types.iter().find(|t| *t != "list" && *t != "close") {
                return Err(err(format!(
                    "this problem is misconfigured: partial_credit {bad:?} should be one of: list,close"
                )));
            }
        }
        let student = evaluate(given).map_err(|e| {
            err(format!(
                "Could not interpret '{}' as a number: {e}",
                shorten(given)
            ))
        })?;
        let partial_range = match &self.partial_range {
            None => 2.0,
            Some(p) => py_float(p).ok_or_else(|| {
                err(format!(
                    "this problem is misconfigured: partial_range {p:?}"
                ))
            })?,
        };
        let partial_answers = match &self.partial_answers {
            None => None,
            Some(list) => Some(
                list.split(',')
                    .map(|w| staff_answer(w.trim()).map_err(err))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let mut correctness = "incorrect";
        let mut partial_score = 0.5;
        if let Some(range) = &self.range {
            if student.im != 0.0 || uses_imaginary_unit(given) {
                return Err(err(
                    "You may not use complex numbers in range tolerance problems".into(),
                ));
            }
            let mut bounds = Vec::new();
            let mut decided = false;
            for (inclusive, raw) in [
                (range.inclusive.0, &range.bounds.0),
                (range.inclusive.1, &range.bounds.1),
            ] {
                let b = staff_answer(raw).map_err(err)?;
                if b.im != 0.0 {
                    return Err(err("There was a problem with the staff answer to this problem: complex boundary.".into()));
                }
                if b.re.is_nan() {
                    return Err(err("There was a problem with the staff answer to this problem: empty boundary.".into()));
                }
                bounds.push(b.re);
                if compare(student, b, &Tol::Num(f64::EPSILON), true).map_err(err)? {
                    correctness = if inclusive { "correct" } else { "incorrect" };
                    decided = true;
                    break;
                }
            }
            if !decided {
                let (lo, hi) = (bounds[0], bounds[1]);
                let s = student.re;
                if lo < s && s < hi {
                    correctness = "correct";
                } else if has("close") {
                    let width = hi - lo;
                    if lo - partial_range * width < s && s < hi + partial_range * width {
                        correctness = "partially-correct";
                    }
                }
            }
        } else {
            let correct = staff_answer(&self.answer).map_err(err)?;
            let expanded = match self.tolerance.strip_suffix('%') {
                Some(p) => {
                    let v = py_float(p).ok_or_else(|| {
                        err(format!(
                            "this problem is misconfigured: tolerance {:?}",
                            self.tolerance
                        ))
                    })?;
                    Tol::Str(format!("{}%", py_repr(partial_range * v)))
                }
                None => Tol::Num(
                    partial_range
                        * py_float(&self.tolerance).ok_or_else(|| {
                            err(format!(
                                "this problem is misconfigured: tolerance {:?}",
                                self.tolerance
                            ))
                        })?,
                ),
            };
            let tol = Tol::Str(self.tolerance.clone());
            let cmp = |a: Complex64, b: Complex64, t: &Tol| compare(a, b, t, false).map_err(err);
            if cmp(student, correct, &tol)? {
                correctness = "correct";
            } else if self.credit.is_none() {
            } else if has("list") {
                let Some(values) = &partial_answers else {
                    return Err(err("this problem is misconfigured: partial_credit=\"list\" needs partial_answers".into()));
                };
                for value in values {
                    if cmp(student, *value, &tol)? {
                        correctness = "partially-correct";
                        break;
                    }
                    if has("close") {
                        if cmp(student, correct, &expanded)? {
                            correctness = "partially-correct";
                            break;
                        }
                        if cmp(student, *value, &expanded)? {
                            correctness = "partially-correct";
                            partial_score *= partial_score;
                            break;
                        }
                    }
                }
            } else if has("close") && cmp(student, correct, &expanded)? {
                correctness = "partially-correct";
            }
        }
        if correctness == "incorrect" {
            for extra in &self.additional {
                if student == staff_answer(extra).map_err(err)? {
                    correctness = "correct";
                    break;
                }
            }
        }
        let mut result = match correctness {
            "correct" => InputResult::correct(),
            "partially-correct" => InputResult::partial(partial_score),
            _ => InputResult::incorrect(),
        };
        if correctness == "correct" {
            if let Some(h) = &self.correct_hint {
                result.msg = hint_div(true, h.attr("label"), &[hint_html(h)], false);
            }
        }
        Ok(result)
    }

    /// The answer (and additional answers) as Open edX shows them.
    pub fn correct_answer(&self) -> Answer {
        let mut all = vec![self.display_answer()];
        all.extend(self.additional.iter().cloned());
        Answer::Single(all.join(" or "))
    }

    fn display_answer(&self) -> String {
        match &self.range {
            Some(r) => format!(
                "{}{}, {}{}",
                if r.inclusive.0 { '[' } else { '(' },
                r.bounds.0,
                r.bounds.1,
                if r.inclusive.1 { ']' } else { ')' }
            ),
            None => self.answer.clone(),
        }
    }

    /// A value that grades correct, for filling the form: the answer
    /// itself, or for a range its midpoint.
    pub fn sample_correct(&self) -> String {
        match &self.range {
            None => self.answer.clone(),
            Some(r) => match (staff_answer(&r.bounds.0), staff_answer(&r.bounds.1)) {
                (Ok(a), Ok(b)) => py_repr((a.re + b.re) / 2.0),
                _ => self.display_answer(),
            },
        }
    }
}

/// Evaluates a learner's numerical input (names case-insensitive, no variables).
fn evaluate(expr: &str) -> Result<Complex64, calc::CalcError> {
    calc::evaluate(expr, &HashMap::new(), false)
}

/// Whether an expression mentions `i` or `j`: Open edX's evaluator then
/// returns a Python complex even when the imaginary part is zero.
fn uses_imaginary_unit(expr: &str) -> bool {
    calc::variables_used(expr).is_ok_and(|vars| {
        vars.iter()
            .any(|v| v.eq_ignore_ascii_case("i") || v.eq_ignore_ascii_case("j"))
    })
}

/// The staff answer: Python's `complex()` first (`1+2j`), else evaluated.
pub(crate) fn staff_answer(answer: &str) -> Result<Complex64, String> {
    if let Some(c) = py_complex(answer) {
        return Ok(c);
    }
    evaluate(answer)
        .map_err(|_| "There was a problem with the staff answer to this problem.".to_string())
}

/// Open edX's `compare_with_tolerance`.
pub(crate) fn compare(
    student: Complex64,
    instructor: Complex64,
    tol: &Tol,
    relative: bool,
) -> Result<bool, String> {
    let mut relative = relative;
    let mut t = match tol {
        Tol::Num(x) => *x,
        Tol::Str(s) => {
            if s == DEFAULT_TOLERANCE {
                relative = true;
            }
            let (expr, percent) = match s.strip_suffix('%') {
                Some(p) => (p, true),
                None => (s.as_str(), false),
            };
            let v = evaluate(expr)
                .map_err(|e| format!("this problem is misconfigured: tolerance {s:?}: {e}"))?;
            if v.im != 0.0 {
                return Err(format!(
                    "this problem is misconfigured: tolerance {s:?} is complex"
                ));
            }
            let mut t = v.re;
            if percent {
                t *= 0.01;
                if !relative {
                    t *= py_abs(instructor);
                }
            }
            t
        }
    };
    if relative {
        t *= py_max(py_abs(student), py_abs(instructor));
    }
    Ok(within(student, instructor, t))
}

/// Python's `repr()` of a float (shortest round trip, Python's exponent form).
pub(crate) fn py_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = x.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        let s = format!("{x:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", e.abs());
    }
    let s = format!("{x}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests;
