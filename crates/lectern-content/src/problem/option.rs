//! `optionresponse` (dropdowns): each `optioninput` is one input, correct iff
//! the submitted text equals the correct option. Options come from
//! `<option>` children (the text before any hint, trimmed; `correct="True"`)
//! or from the legacy `options="('a','b')"` attribute with `correct="a"`.

use super::common::{hint_div, hint_html};
use super::types::{Answer, ChoiceSpec, InputError, InputResult};
use super::xml::Element;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub(crate) struct Dropdown {
    pub options: Vec<String>,
    pub correct: Option<String>,
    hints: Vec<(String, bool, Element)>,
}

impl Dropdown {
    /// Reads one `optioninput`; `Err` when it marks more than one option correct.
    pub fn parse(input: &Element) -> Result<Self, String> {
        let children: Vec<&Element> = input.children_named("option").collect();
        if children.is_empty() {
            let options = input
                .attr("options")
                .map(parse_legacy_options)
                .unwrap_or_default();
            return Ok(Self {
                options,
                correct: input.attr("correct").map(str::to_string),
                hints: vec![],
            });
        }
        let mut options = Vec::new();
        let mut correct = input.attr("correct").map(str::to_string);
        let mut hints = Vec::new();
        let mut n_correct = 0;
        for o in children {
            let text = o.leading_text().trim().to_string();
            let is_correct = o.attr("correct").unwrap_or("").eq_ignore_ascii_case("true");
            if is_correct {
                n_correct += 1;
                correct = Some(text.clone());
            }
            if let Some(h) = o.children_named("optionhint").next() {
                hints.push((text.clone(), is_correct, h.clone()));
            }
            options.push(text);
        }
        if n_correct > 1 {
            return Err("dropdown questions can only have one correct answer".into());
        }
        Ok(Self {
            options,
            correct,
            hints,
        })
    }

    pub fn grade(
        &self,
        input_id: &str,
        answers: &BTreeMap<String, Answer>,
    ) -> Result<InputResult, InputError> {
        let given = match answers.get(input_id) {
            Some(Answer::Single(s)) => Some(s.as_str()),
            _ => None,
        };
        let mut result = InputResult::of(given.is_some() && given == self.correct.as_deref());
        if let Some(g) = given {
            if let Some((_, ok, h)) = self.hints.iter().find(|(t, _, _)| t == g.trim()) {
                result.msg = hint_div(*ok, h.attr("label"), &[hint_html(h)], false);
            }
        }
        Ok(result)
    }

    pub fn specs(&self) -> Vec<ChoiceSpec> {
        self.options
            .iter()
            .map(|o| ChoiceSpec {
                name: o.clone(),
                label_html: super::xml::escape_text(o),
            })
            .collect()
    }
}

/// The legacy `options` attribute: `('a','b', 'c d')` — single-quoted
/// values separated by commas or spaces, `\'` or a quote between letters
/// standing for an apostrophe (as in `'Don't'`).
pub(crate) fn parse_legacy_options(raw: &str) -> Vec<String> {
    // Open edX first protects apostrophes between two letters and escaped
    // quotes, then reads quoted tokens after dropping the outer brackets.
    const APOS: char = '\u{0}';
    let chars: Vec<char> = raw.chars().collect();
    let mut protected = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_alpha = i > 0 && chars[i - 1].is_ascii_alphabetic();
        if prev_alpha && c == '\'' && chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic()) {
            protected.push(APOS);
        } else if c == '\\' && chars.get(i + 1) == Some(&'\'') {
            protected.push(APOS);
            i += 1;
        } else {
            protected.push(c);
        }
        i += 1;
    }
    let inner: Vec<char> = protected.chars().collect();
    let inner = if inner.len() >= 2 {
        &inner[1..inner.len() - 1]
    } else {
        &inner[0..0]
    };
    let mut out = Vec::new();
    let mut tok = String::new();
    let mut in_quote = false;
    let mut has_tok = false;
    for &c in inner {
        if in_quote {
            tok.push(c);
            if c == '\'' {
                in_quote = false;
            }
        } else if c == ',' || c == ' ' {
            if has_tok {
                out.push(std::mem::take(&mut tok));
                has_tok = false;
            }
        } else {
            tok.push(c);
            has_tok = true;
            if c == '\'' {
                in_quote = true;
            }
        }
    }
    if has_tok {
        out.push(tok);
    }
    out.into_iter()
        .map(|t| {
            let t: String = t.chars().collect();
            let n = t.chars().count();
            let stripped: String = if n >= 2 {
                t.chars().skip(1).take(n - 2).collect()
            } else {
                String::new()
            };
            stripped.replace(APOS, "'")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_options_syntax() {
        let cases: &[(&str, &[&str])] = &[
            ("('a','b')", &["a", "b"]),
            (
                "('Dmitri Mendeleev','Albert Einstein','Jonas Salk', 'Sir Isaac Newton')",
                &[
                    "Dmitri Mendeleev",
                    "Albert Einstein",
                    "Jonas Salk",
                    "Sir Isaac Newton",
                ],
            ),
            ("('Don't','can\\'t')", &["Don't", "can't"]),
            ("('x' 'y')", &["x", "y"]),
            ("()", &[]),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_legacy_options(raw), *want, "{raw}");
        }
    }

    #[test]
    fn grading_by_option_text() {
        let parse = |xml: &str| Dropdown::parse(&super::super::xml::parse(xml).unwrap());
        let new_style = parse(
            r#"<optioninput><option correct="False">Sydney</option><option correct="True"> Canberra <optionhint>Yes</optionhint></option></optioninput>"#,
        )
        .unwrap();
        let legacy =
            parse(r#"<optioninput options="('USA','Germany')" correct="Germany"/>"#).unwrap();
        let no_correct = parse(r#"<optioninput options="('a','b')"/>"#).unwrap();
        let a = |s: &str| BTreeMap::from([("i".to_string(), Answer::Single(s.into()))]);
        let cases: Vec<(&Dropdown, BTreeMap<String, Answer>, &str)> = vec![
            (&new_style, a("Canberra"), "correct"),
            (&new_style, a(" Canberra"), "incorrect"),
            (&new_style, a("canberra"), "incorrect"),
            (&new_style, a("Sydney"), "incorrect"),
            (&new_style, BTreeMap::new(), "incorrect"),
            (&legacy, a("Germany"), "correct"),
            (&legacy, a("USA"), "incorrect"),
            (&no_correct, a("a"), "incorrect"),
        ];
        for (i, (d, ans, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                d.grade("i", &ans).unwrap().correctness.as_str(),
                want,
                "case {i}"
            );
        }
        assert_eq!(new_style.options, ["Sydney", "Canberra"]);
        assert!(new_style
            .grade("i", &a("Canberra"))
            .unwrap()
            .msg
            .contains("Yes"));
        assert!(parse(r#"<optioninput><option correct="true">a</option><option correct="true">b</option></optioninput>"#).is_err());
    }
}
