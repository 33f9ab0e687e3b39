//! Small pieces the response types share: the partial-credit attribute,
//! Open edX's rounding, and the feedback ("extended hint") markup placed in
//! an input's message.

use super::types::{Answer, InputError};
use super::xml::Element;
use crate::sanitize::clean_html;
use std::collections::BTreeMap;

/// `partial_credit` as Open edX reads it: absent or `false` (any case, any
/// surrounding space) means none; otherwise the comma-separated, trimmed,
/// lower-cased list of schemes.
pub(crate) fn credit_types(resp: &Element) -> Option<Vec<String>> {
    let raw = resp.attr("partial_credit")?;
    if raw.trim().eq_ignore_ascii_case("false") {
        return None;
    }
    Some(raw.split(',').map(|w| w.trim().to_lowercase()).collect())
}

/// Picks the one partial-credit scheme a choice response allows, refusing
/// (as Open edX does, at grading time) a list or an unknown name.
pub(crate) fn single_scheme<'a>(
    types: &'a [String],
    allowed: &[&str],
    input_id: &str,
    what: &str,
) -> Result<&'a str, InputError> {
    if types.len() > 1 {
        return Err(InputError::new(
            input_id,
            format!("this problem is misconfigured: only one type of partial credit is allowed for {what} problems"),
        ));
    }
    let t = types.first().map(String::as_str).unwrap_or("");
    if !allowed.contains(&t) {
        return Err(InputError::new(
            input_id,
            format!(
                "this problem is misconfigured: partial_credit should be one of: {}",
                allowed.join(",")
            ),
        ));
    }
    Ok(t)
}

/// Open edX's `round_away_from_zero`, computed on doubles as it is there.
pub(crate) fn round_away_from_zero(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    if x >= 0.0 {
        ((x * p) + 0.5).floor() / p
    } else {
        ((x * p) - 0.5).ceil() / p
    }
}

/// A hint node's inner HTML, sanitized; empty when it has no content.
pub(crate) fn hint_html(node: &Element) -> String {
    clean_html(node.inner_xml_without(&[]).trim())
}

/// The feedback block Open edX appends to an input's message: a label
/// ("Correct:" / "Incorrect:" unless the author gave one; `Some("")` hides
/// it) and one or more hint texts (already sanitized HTML).
pub(crate) fn hint_div(
    correct: bool,
    label: Option<&str>,
    texts: &[String],
    multiline: bool,
) -> String {
    let texts: Vec<&String> = texts.iter().filter(|t| !t.is_empty()).collect();
    if texts.is_empty() {
        return String::new();
    }
    let label = match label {
        Some(l) => l.to_string(),
        None if correct => "Correct:".to_string(),
        None => "Incorrect:".to_string(),
    };
    let mut hints: String = texts
        .iter()
        .map(|t| format!(r#"<div class="hint-text">{t}</div>"#))
        .collect();
    if multiline {
        hints = format!(r#"<div class="feedback-hint-multi">{hints}</div>"#);
    }
    let label_html = if label.is_empty() {
        String::new()
    } else {
        format!(
            r#"<span class="hint-label">{} </span>"#,
            super::xml::escape_text(&label)
        )
    };
    let style = if correct {
        "feedback-hint-correct"
    } else {
        "feedback-hint-incorrect"
    };
    format!(
        r#"<div class="{style}"><div class="explanation-title">Answer</div>{label_html}{hints}</div>"#
    )
}

/// A single text value for a text input, refusing a list (Open edX fails
/// on one too, without using an attempt).
pub(crate) fn single<'a>(
    answers: &'a BTreeMap<String, Answer>,
    input_id: &str,
) -> Result<Option<&'a str>, InputError> {
    match answers.get(input_id) {
        None => Ok(None),
        Some(Answer::Single(s)) => Ok(Some(s.as_str())),
        Some(Answer::Multiple(_)) => Err(InputError::new(
            input_id,
            "expected a single value, not a list",
        )),
    }
}

/// Shortens a learner's input for an error message.
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// A response attribute that must be present and non-empty, e.g. `answer`.
pub(crate) fn required_attr(resp: &Element, name: &str) -> Result<String, String> {
    resp.attr(name)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("{} has no {name} attribute", resp.tag))
}

/// The `<responseparam type="tolerance" default="…"/>` of a response, trimmed.
pub(crate) fn tolerance_param(resp: &Element) -> Option<String> {
    resp.descendants()
        .into_iter()
        .filter(|e| e.tag == "responseparam" && e.attr("type") == Some("tolerance"))
        .find_map(|e| e.attr("default"))
        .map(|t| t.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_matches_open_edx() {
        // (value, expected) — floor(x*100 + 0.5)/100 on doubles.
        let cases = [
            (0.125, 0.13),
            (0.333333, 0.33),
            (0.666666, 0.67),
            (0.5, 0.5),
            (-0.125, -0.13),
            (0.0, 0.0),
        ];
        for (x, want) in cases {
            assert_eq!(round_away_from_zero(x, 2), want, "{x}");
        }
    }

    #[test]
    fn partial_credit_attribute() {
        let e = |v: &str| Element {
            tag: "r".into(),
            attrs: vec![("partial_credit".into(), v.into())],
            children: vec![],
        };
        assert_eq!(credit_types(&e(" False ")), None);
        assert_eq!(credit_types(&e("EDC")), Some(vec!["edc".to_string()]));
        assert_eq!(
            credit_types(&e("close, List")),
            Some(vec!["close".to_string(), "list".to_string()])
        );
        assert_eq!(
            credit_types(&Element {
                tag: "r".into(),
                attrs: vec![],
                children: vec![]
            }),
            None
        );
    }

    #[test]
    fn hint_div_labels() {
        assert_eq!(hint_div(true, None, &[], false), "");
        let d = hint_div(false, None, &["x".to_string()], false);
        assert!(
            d.contains("feedback-hint-incorrect") && d.contains("Incorrect: "),
            "{d}"
        );
        let d = hint_div(true, Some(""), &["x".to_string()], false);
        assert!(!d.contains("hint-label"), "{d}");
    }
}
