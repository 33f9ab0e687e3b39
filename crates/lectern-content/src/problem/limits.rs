//! Refuses problem XML that asks for more work than [`crate::limits`]
//! allows: too many responses, inputs, choices, hints or samples, or
//! attributes (answers, patterns, tolerances) longer than a check can
//! afford. [`super::Problem::parse`] runs this on every problem, so Studio
//! and import (which both parse problems before saving them) refuse such a
//! problem with the attribute named, and a problem stored before a limit
//! existed cannot be graded either.
//!
//! The size and depth of the XML itself are checked earlier, in
//! [`super::xml::parse`], before the tree is built.

use super::xml::Element;
use crate::limits::*;

/// What in a problem is over a limit, and by how much, in words an author
/// can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{attribute}: {message}")]
pub struct LimitError {
    /// The attribute or element that asks too much (`samples`, `answer`,
    /// `<choice>`, …).
    pub attribute: String,
    pub message: String,
}

impl LimitError {
    pub(crate) fn new(attribute: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            attribute: attribute.into(),
            message: message.into(),
        }
    }
}

const HINT_TAGS: &[&str] = &[
    "choicehint",
    "optionhint",
    "compoundhint",
    "correcthint",
    "stringequalhint",
    "regexphint",
];

/// Checks a parsed problem against every limit; the first one exceeded is
/// the error.
pub(crate) fn check(root: &Element) -> Result<(), LimitError> {
    let all: Vec<&Element> = std::iter::once(root).chain(root.descendants()).collect();
    if all.len() > MAX_PROBLEM_ELEMENTS {
        return Err(LimitError::new(
            "elements",
            format!(
                "the problem has {} elements (at most {MAX_PROBLEM_ELEMENTS})",
                all.len()
            ),
        ));
    }
    for e in &all {
        for (name, value) in &e.attrs {
            let n = value.chars().count();
            if n > MAX_ATTRIBUTE_CHARS {
                return Err(LimitError::new(
                    name.as_str(),
                    format!(
                        "<{}> {name} is {n} characters long (at most {MAX_ATTRIBUTE_CHARS})",
                        e.tag
                    ),
                ));
            }
        }
    }
    count(
        &all,
        |e| super::RESPONSE_TAGS.contains(&e.tag.as_str()),
        MAX_RESPONSES,
        "responses",
        "response elements",
    )?;
    count(
        &all,
        |e| super::INPUT_TAGS.contains(&e.tag.as_str()),
        MAX_INPUTS,
        "inputs",
        "input elements",
    )?;
    let is_hint = |e: &Element| HINT_TAGS.contains(&e.tag.as_str());
    let demand_hints: usize = all
        .iter()
        .filter(|e| e.tag == "demandhint")
        .map(|d| d.children_named("hint").count())
        .sum();
    let hints = all.iter().filter(|e| is_hint(e)).count() + demand_hints;
    if hints > MAX_HINTS {
        return Err(LimitError::new(
            "hints",
            format!("the problem has {hints} hints (at most {MAX_HINTS})"),
        ));
    }
    let hint_bytes: usize = all
        .iter()
        .filter(|e| is_hint(e) || e.tag == "demandhint")
        .map(|e| e.inner_xml_without(&[]).len())
        .sum();
    if hint_bytes > MAX_HINT_TEXT_BYTES {
        return Err(LimitError::new(
            "hint text",
            format!("the problem's hints hold {hint_bytes} bytes of text (at most {MAX_HINT_TEXT_BYTES})"),
        ));
    }
    let mut samples_total = 0usize;
    for resp in all
        .iter()
        .filter(|e| super::RESPONSE_TAGS.contains(&e.tag.as_str()))
    {
        check_response(resp, &mut samples_total)?;
    }
    Ok(())
}

fn count(
    all: &[&Element],
    which: impl Fn(&Element) -> bool,
    max: usize,
    attribute: &str,
    what: &str,
) -> Result<(), LimitError> {
    let n = all.iter().filter(|e| which(e)).count();
    if n > max {
        return Err(LimitError::new(
            attribute,
            format!("the problem has {n} {what} (at most {max})"),
        ));
    }
    Ok(())
}

fn check_response(resp: &Element, samples_total: &mut usize) -> Result<(), LimitError> {
    let tag = resp.tag.as_str();
    let inside = resp.descendants();
    let choices = inside
        .iter()
        .filter(|e| e.tag == "choice" || e.tag == "option")
        .count();
    if choices > MAX_CHOICES {
        return Err(LimitError::new(
            "choices",
            format!("<{tag}> has {choices} choices (at most {MAX_CHOICES})"),
        ));
    }
    for input in inside.iter().filter(|e| e.tag == "optioninput") {
        if let Some(options) = input.attr("options") {
            // A rough count of `('a','b',…)`: every separator can start one.
            let n = options.matches(',').count() + 1;
            if n > MAX_CHOICES {
                return Err(LimitError::new(
                    "options",
                    format!("<optioninput> options lists {n} choices (at most {MAX_CHOICES})"),
                ));
            }
        }
    }
    let additional: Vec<&Element> = resp.children_named("additional_answer").collect();
    if additional.len() > MAX_ADDITIONAL_ANSWERS {
        return Err(LimitError::new(
            "additional_answer",
            format!(
                "<{tag}> has {} additional answers (at most {MAX_ADDITIONAL_ANSWERS})",
                additional.len()
            ),
        ));
    }
    for param in inside
        .iter()
        .filter(|e| e.tag == "responseparam" && e.attr("type") == Some("tolerance"))
    {
        if let Some(t) = param.attr("default") {
            max_chars(
                "tolerance",
                "<responseparam> tolerance",
                t,
                MAX_TOLERANCE_CHARS,
            )?;
        }
    }
    match tag {
        "numericalresponse" | "formularesponse" => {
            if let Some(a) = resp.attr("answer") {
                max_chars("answer", "answer", a, MAX_ANSWER_EXPRESSION_CHARS)?;
            }
            for a in additional.iter().filter_map(|e| e.attr("answer")) {
                max_chars(
                    "answer",
                    "<additional_answer> answer",
                    a,
                    MAX_ANSWER_EXPRESSION_CHARS,
                )?;
            }
            for param in inside.iter().filter(|e| e.tag == "responseparam") {
                if let (Some(kind), Some(v)) = (param.attr("type"), param.attr("default")) {
                    if kind.starts_with("partial") {
                        max_chars(kind, kind, v, MAX_ANSWER_EXPRESSION_CHARS)?;
                    }
                }
            }
            if tag == "formularesponse" {
                check_samples(resp, samples_total)?;
            }
        }
        "stringresponse" => check_patterns(resp, &additional)?,
        _ => {}
    }
    Ok(())
}

fn max_chars(attribute: &str, what: &str, value: &str, max: usize) -> Result<(), LimitError> {
    let n = value.chars().count();
    if n > max {
        return Err(LimitError::new(
            attribute,
            format!("{what} is {n} characters long (at most {max})"),
        ));
    }
    Ok(())
}

/// `samples="x,y@1,2:3,4#10"`: the count after `#`, and the names before
/// `@`. A count too large to read is over the limit too.
fn check_samples(resp: &Element, total: &mut usize) -> Result<(), LimitError> {
    let Some(spec) = resp.attr("samples") else {
        return Ok(());
    };
    let names = spec.split('@').next().unwrap_or("");
    let variables = names.split(',').count();
    if variables > MAX_FORMULA_VARIABLES {
        return Err(LimitError::new(
            "samples",
            format!(
                "formularesponse samples names {variables} variables (at most {MAX_FORMULA_VARIABLES})"
            ),
        ));
    }
    let count_text = spec.split('#').nth(1).unwrap_or("").trim();
    if count_text.is_empty() || !count_text.bytes().all(|b| b.is_ascii_digit()) {
        // Malformed: the response reports it as ungradable.
        return Ok(());
    }
    let count = count_text.parse::<usize>().unwrap_or(usize::MAX);
    *total = total.saturating_add(count);
    if *total > MAX_FORMULA_SAMPLES {
        return Err(LimitError::new(
            "samples",
            format!(
                "formularesponse samples=\"{}\" asks for {count_text} samples \
                 (at most {MAX_FORMULA_SAMPLES} in one problem, all formula responses together)",
                super::common::shorten(spec)
            ),
        ));
    }
    Ok(())
}

/// A regexp text response's pattern (its answers joined) and every
/// regexp hint's pattern.
fn check_patterns(resp: &Element, additional: &[&Element]) -> Result<(), LimitError> {
    let is_regexp = resp
        .attr("type")
        .unwrap_or("")
        .to_lowercase()
        .split(' ')
        .any(|t| t == "regexp");
    if is_regexp {
        let joined: usize = std::iter::once(resp.attr("answer").unwrap_or(""))
            .map(|a| a.chars().count())
            .chain(additional.iter().map(|a| {
                a.attr("answer")
                    .map_or_else(|| a.leading_text().chars().count(), |t| t.chars().count())
            }))
            .map(|n| n + 1)
            .sum();
        if joined > MAX_REGEX_PATTERN_CHARS {
            return Err(LimitError::new(
                "answer",
                format!(
                    "the stringresponse regexp pattern (its answers joined) is {joined} characters long (at most {MAX_REGEX_PATTERN_CHARS})"
                ),
            ));
        }
    }
    for hint in resp.children_named("regexphint") {
        max_chars(
            "answer",
            "<regexphint> answer",
            hint.attr("answer").unwrap_or(""),
            MAX_REGEX_PATTERN_CHARS,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
