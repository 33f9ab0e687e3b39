//! `customresponse`: a response graded by the author's Python, either a
//! check function named by `cfn` (defined in the problem's script) or
//! `<answer type="loncapa/python">` code inside the response.
//!
//! Open edX's rules, kept here: a single empty input is incorrect without
//! running anything; otherwise `cfn(expect, ans)` gets the one answer as a
//! string, or the list of answers when the response has several inputs;
//! `cfn_extra_args="attempt options"` adds those as keyword arguments. The
//! harness normalises what the check returns (bool, `{ok, msg}`,
//! `{input_list, overall_message}`, `grade_decimal`, `"Partial"`); points
//! are the input's points times its `grade_decimal`, else 1 / ½ / 0 by mark.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::super::types::{Answer, Correctness, InputError, InputResult};
use super::super::xml::Element;
use super::{run_answer_code, run_cfn, CfnCall, CheckResult, ScriptContext, ScriptEnv};
use crate::sanitize::clean_html;

/// Input tags a `customresponse` may hold that Lectern draws as a text box.
pub(crate) const CUSTOM_INPUTS: &[&str] = &["textline", "textbox", "formulaequationinput"];

/// Open edX's default share of the points for a "partially-correct" mark.
const DEFAULT_PARTIAL: f64 = 0.5;

#[derive(Debug, Clone)]
pub(crate) struct Custom {
    /// `expect`, else `answer`, already substituted.
    expect: Option<String>,
    cfn: Option<String>,
    answer_code: Option<String>,
    extra_args: Vec<String>,
    options: Option<String>,
    empty_answer_err: bool,
    /// Each input's `correct_answer` attribute (for "Show answer").
    input_answers: Vec<Option<String>>,
}

impl Custom {
    pub(crate) fn parse(resp: &Element, inputs: &[&Element]) -> Custom {
        let answer_code = resp
            .descendants()
            .into_iter()
            .find(|e| e.tag == "answer")
            .map(|a| a.leading_text());
        Custom {
            expect: resp
                .attr("expect")
                .filter(|s| !s.is_empty())
                .or_else(|| resp.attr("answer"))
                .map(str::to_string),
            cfn: resp
                .attr("cfn")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            answer_code,
            extra_args: resp
                .attr("cfn_extra_args")
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            options: resp.attr("options").map(str::to_string),
            empty_answer_err: resp.attr("empty_answer_err").is_some_and(|v| !v.is_empty()),
            input_answers: inputs
                .iter()
                .map(|i| {
                    i.attr("correct_answer")
                        .filter(|a| !a.is_empty())
                        .map(str::to_string)
                })
                .collect(),
        }
    }

    /// "Show answer": `expect` for a single input, else each input's
    /// `correct_answer`.
    pub(crate) fn correct_answers(&self, ids: &[String]) -> Vec<(String, Answer)> {
        if ids.len() == 1 {
            if let (Some(e), Some(id)) =
                (self.expect.as_ref().filter(|e| !e.is_empty()), ids.first())
            {
                return vec![(id.clone(), Answer::Single(e.clone()))];
            }
        }
        ids.iter()
            .zip(&self.input_answers)
            .filter_map(|(id, a)| a.clone().map(|a| (id.clone(), Answer::Single(a))))
            .collect()
    }

    /// Grades the response: one result per input id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn grade(
        &self,
        ids: &[String],
        max_points: &[f64],
        answers: &BTreeMap<String, Answer>,
        env: &ScriptEnv,
        code: &str,
        ctx: &ScriptContext,
        seed: u64,
    ) -> Result<Vec<(String, InputResult)>, InputError> {
        let first = ids.first().map(String::as_str).unwrap_or("");
        let mut submission = Vec::with_capacity(ids.len());
        for id in ids {
            match answers.get(id) {
                Some(Answer::Single(s)) => submission.push(json!(s)),
                Some(Answer::Multiple(v)) => submission.push(json!(v)),
                // Open edX cannot read a submission that lacks an input.
                None => return Err(InputError::new(id, "no answer was sent for this input")),
            }
        }
        if ids.len() == 1 && submission.first().is_some_and(is_empty) {
            let mut r = InputResult::incorrect();
            if self.empty_answer_err {
                r.msg = r#"<span class="inline-error">No answer entered!</span>"#.to_string();
            }
            return Ok(vec![(first.to_string(), r)]);
        }
        let response = self.response_globals(ids, &submission, answers, env, code);
        let failed = |e: super::ScriptError| InputError::new(first, e.learner_message());
        let result = if let Some(answer_code) = &self.answer_code {
            let mut globals = ctx.globals.clone();
            globals.insert("script_code".into(), json!(code));
            globals.extend(response);
            run_answer_code(env, answer_code, globals, seed).map_err(failed)?
        } else if let Some(cfn) = &self.cfn {
            let mut kwargs = Map::new();
            for name in &self.extra_args {
                let v = response
                    .get(name)
                    .or_else(|| ctx.globals.get(name))
                    .cloned()
                    .unwrap_or(Value::Null);
                kwargs.insert(name.clone(), v);
            }
            let ans = if ids.len() == 1 {
                submission.first().cloned().unwrap_or(Value::Null)
            } else {
                Value::Array(submission)
            };
            let call = CfnCall {
                code,
                cfn,
                expect: self.expect.clone().map_or(Value::Null, Value::String),
                ans,
                kwargs,
                inputs: ids.len(),
            };
            run_cfn(env, call, seed).map_err(failed)?
        } else {
            // No check at all: Open edX leaves every mark "unknown".
            CheckResult::default()
        };
        to_results(ids, max_points, &result).map_err(|m| InputError::new(first, m))
    }

    /// The names Open edX adds to a check's context for this response.
    fn response_globals(
        &self,
        ids: &[String],
        submission: &[Value],
        answers: &BTreeMap<String, Answer>,
        env: &ScriptEnv,
        code: &str,
    ) -> Map<String, Value> {
        let response_id = ids
            .first()
            .and_then(|id| id.rsplit_once('_').map(|(head, _)| head.to_string()))
            .unwrap_or_default();
        let mut m = Map::new();
        m.insert("response_id".into(), json!(response_id));
        m.insert("expect".into(), json!(self.expect));
        m.insert("submission".into(), json!(submission));
        m.insert("idset".into(), json!(ids));
        m.insert("dynamath".into(), json!(vec![Value::Null; ids.len()]));
        m.insert("answers".into(), json!(answers));
        m.insert("correct".into(), json!(vec!["unknown"; ids.len()]));
        m.insert("messages".into(), json!(vec![""; ids.len()]));
        m.insert("overall_message".into(), json!(""));
        m.insert("options".into(), json!(self.options));
        m.insert("testdat".into(), json!("hello world"));
        m.insert("debug".into(), json!(false));
        m.insert("attempt".into(), json!(env.attempt));
        m.insert("script_code".into(), json!(code));
        m
    }
}

/// Python truthiness of one submitted value.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// Marks and points per input from a normalised check result.
fn to_results(
    ids: &[String],
    max_points: &[f64],
    result: &CheckResult,
) -> Result<Vec<(String, InputResult)>, String> {
    let decimals = result.grade_decimals.as_ref().filter(|d| !d.is_empty());
    let mut out = Vec::with_capacity(ids.len());
    for (k, id) in ids.iter().enumerate() {
        let max = max_points.get(k).copied().unwrap_or(1.0);
        let mark = match result.correct.get(k) {
            Some(m) => m.as_str(),
            None if result.correct.is_empty() => "unknown",
            None => {
                return Err(format!(
                    "the check gave {} marks for {} inputs",
                    result.correct.len(),
                    ids.len()
                ))
            }
        };
        let correctness = match mark {
            "correct" => Correctness::Correct,
            "partially-correct" => Correctness::PartiallyCorrect,
            _ => Correctness::Incorrect,
        };
        let npoints = match decimals {
            Some(d) => {
                let Some(x) = d.get(k) else {
                    return Err(format!(
                        "the check gave {} grades for {} inputs",
                        d.len(),
                        ids.len()
                    ));
                };
                max * x
            }
            None => match correctness {
                Correctness::Correct => max,
                Correctness::PartiallyCorrect => max * DEFAULT_PARTIAL,
                Correctness::Incorrect => 0.0,
            },
        };
        let mut msg = result
            .messages
            .get(k)
            .map(|m| clean_html(m))
            .unwrap_or_default();
        if k == 0 && !result.overall_message.is_empty() {
            let overall = clean_html(&result.overall_message);
            msg = format!(r#"<div class="overall-message">{overall}</div>{msg}"#);
        }
        out.push((
            id.clone(),
            InputResult {
                correctness,
                npoints: if npoints.is_finite() { npoints } else { 0.0 },
                msg,
            },
        ));
    }
    Ok(out)
}
