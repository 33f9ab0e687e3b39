//! `stringresponse`: exact, case-sensitive match after trimming, unless
//! `type` lists `ci` or `regexp`; `<additional_answer>` adds answers.
//! With `regexp` the pattern is Open edX's literal
//! `'^' + '|'.join(answers) + '$'`, searched without a group: only the first alternative is anchored
//! at the start and only the last at the end. An `_or_` in `answer` is the
//! legacy list form; then regexp and additional answers are ignored.
//!
//! Patterns are Python `re` patterns, so they are matched by a backtracking
//! engine (`fancy-regex`: backreferences, lookaround, atomic groups) after
//! the few syntax differences are rewritten. An author's pattern could make
//! backtracking explode, so patterns are bounded in length and every match in
//! steps; a match that runs out of steps refuses the submission (no attempt
//! used) instead of spinning. A pattern Python cannot compile refuses every
//! non-blank answer, as Open edX's `ResponseError` does.

use super::common::{hint_div, hint_html, single};
use super::types::{Answer, InputError, InputResult};
use super::xml::Element;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub(crate) struct Text {
    answers: Vec<String>,
    backward: bool,
    case_insensitive: bool,
    regexp: Option<Result<fancy_regex::Regex, String>>,
    main_answer: String,
    correct_hint: Option<Element>,
    /// (answer, hint) for each `additional_answer` with a `correcthint`.
    additional_hints: Vec<(String, Element)>,
    /// (answer, is regexp, hint) for wrong-answer hints.
    wrong_hints: Vec<(String, bool, Element)>,
}

impl Text {
    pub fn parse(resp: &Element) -> Result<Self, String> {
        let answer = resp
            .attr("answer")
            .filter(|a| !a.is_empty())
            .ok_or("stringresponse has no answer attribute")?;
        let types: Vec<String> = resp
            .attr("type")
            .unwrap_or("")
            .to_lowercase()
            .split(' ')
            .map(String::from)
            .collect();
        let is_regexp = types.iter().any(|t| t == "regexp");
        let case_insensitive = types.iter().any(|t| t == "ci");
        let backward = answer.to_lowercase().contains("_or_");
        // An additional answer written as text (old format) counts as its answer.
        let additional: Vec<(String, &Element)> = resp
            .children_named("additional_answer")
            .filter_map(|a| {
                let text = a.leading_text();
                let ans = match a.attr("answer") {
                    Some(x) if !x.is_empty() => Some(x.to_string()),
                    _ if !text.is_empty() => Some(text),
                    Some(x) => Some(x.to_string()),
                    None => None,
                };
                ans.map(|s| (s, a))
            })
            .collect();
        let answers: Vec<String> = if backward {
            answer.split("_or_").map(|a| a.trim().to_string()).collect()
        } else {
            std::iter::once(answer.to_string())
                .chain(additional.iter().map(|(a, _)| a.clone()))
                .map(|a| a.trim().to_string())
                .collect()
        };
        let regexp =
            (is_regexp && !backward).then(|| compile(&answers.join("|"), case_insensitive));
        let additional_hints = additional
            .iter()
            .filter_map(|(a, el)| {
                el.children_named("correcthint")
                    .next()
                    .map(|h| (a.trim().to_string(), h.clone()))
            })
            .collect();
        let mut wrong_hints = Vec::new();
        for h in resp.elements() {
            let re = match h.tag.as_str() {
                "stringequalhint" => false,
                "regexphint" => true,
                _ => continue,
            };
            wrong_hints.push((
                h.attr("answer").unwrap_or("").trim().to_string(),
                re,
                h.clone(),
            ));
        }
        Ok(Self {
            answers,
            backward,
            case_insensitive,
            regexp,
            main_answer: answer.trim().to_string(),
            correct_hint: resp.children_named("correcthint").next().cloned(),
            additional_hints,
            wrong_hints,
        })
    }

    pub fn grade(
        &self,
        input_id: &str,
        answers: &BTreeMap<String, Answer>,
    ) -> Result<InputResult, InputError> {
        let Some(raw) = single(answers, input_id)? else {
            return Ok(InputResult::incorrect());
        };
        let given = raw.trim();
        let ok = self.check(input_id, given)?;
        let mut result = InputResult::of(ok);
        result.msg = self.hint(given);
        Ok(result)
    }

    fn check(&self, input_id: &str, given: &str) -> Result<bool, InputError> {
        if given.is_empty() {
            return Ok(false);
        }
        if let Some(re) = &self.regexp {
            return match re {
                Ok(re) => re.is_match(given).map_err(|_| {
                    InputError::new(
                        input_id,
                        "this answer could not be checked: the problem's answer pattern needs too much work to match it",
                    )
                }),
                Err(e) => Err(InputError::new(
                    input_id,
                    format!("this problem is misconfigured: its answer pattern is not a valid regular expression ({e})"),
                )),
            };
        }
        Ok(if self.case_insensitive {
            let g = given.to_lowercase();
            self.answers.iter().any(|a| a.to_lowercase() == g)
        } else {
            self.answers.iter().any(|a| a == given)
        })
    }

    /// Open edX's extended hints, first match wins: the main answer's
    /// `correcthint`, an additional answer's, then wrong-answer hints.
    fn hint(&self, given: &str) -> String {
        let matches = |pattern: &str, re: bool| -> bool {
            if pattern.is_empty() {
                return false;
            }
            if re {
                compile(pattern, self.case_insensitive)
                    .is_ok_and(|r| r.is_match(given).unwrap_or(false))
            } else if self.case_insensitive {
                pattern.to_lowercase() == given.to_lowercase()
            } else {
                pattern == given
            }
        };
        let main_ok = if self.backward {
            self.check("", given).unwrap_or(false)
        } else if self.regexp.is_some() {
            matches(&self.main_answer, true)
        } else {
            !given.is_empty() && matches(&self.main_answer, false)
        };
        if main_ok {
            return self
                .correct_hint
                .as_ref()
                .map(|h| hint_div(true, h.attr("label"), &[hint_html(h)], false))
                .unwrap_or_default();
        }
        let re = self.regexp.is_some();
        if let Some((_, h)) = self.additional_hints.iter().find(|(a, _)| matches(a, re)) {
            return hint_div(true, h.attr("label"), &[hint_html(h)], false);
        }
        if let Some((_, _, h)) = self.wrong_hints.iter().find(|(a, r, _)| matches(a, *r)) {
            return hint_div(false, h.attr("label"), &[hint_html(h)], false);
        }
        String::new()
    }

    /// The accepted answers, joined with " or " as Open edX shows them.
    pub fn correct_answer(&self) -> Answer {
        Answer::Single(self.answers.join(" or "))
    }

    /// The first accepted answer (a value that grades correct unless it is
    /// a pattern).
    pub fn first_answer(&self) -> &str {
        self.answers.first().map(String::as_str).unwrap_or("")
    }
}

/// Longest answer pattern (all answers joined) compiled, in characters.
pub(crate) const MAX_PATTERN_CHARS: usize = 4_000;

/// Most backtracking steps one match may take (fancy-regex counts them); a
/// pattern needing more on some answer refuses that answer.
const BACKTRACK_LIMIT: usize = 200_000;

/// `^` + pattern + `$` as a search (Python `re.search` with `^`/`$` and no
/// MULTILINE behaves as Rust's default anchors; the learner's text is trimmed,
/// so Python's `$` before a final newline never differs).
fn compile(pattern: &str, case_insensitive: bool) -> Result<fancy_regex::Regex, String> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!(
            "the pattern is longer than {MAX_PATTERN_CHARS} characters"
        ));
    }
    let pattern = python_regex(pattern)?;
    // The flag is written into the pattern rather than set on the builder so
    // that backreferences compare case-insensitively too, as Python's do.
    let flags = if case_insensitive { "(?i)" } else { "" };
    fancy_regex::RegexBuilder::new(&format!("{flags}^{pattern}$"))
        .backtrack_limit(BACKTRACK_LIMIT)
        .delegate_size_limit(crate::limits::MAX_REGEX_COMPILED_BYTES)
        .delegate_dfa_size_limit(crate::limits::MAX_REGEX_COMPILED_BYTES)
        .build()
        .map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .to_string()
        })
}

/// Rewrites the parts of Python's `re` syntax that Rust's `regex` reads
/// differently: a `{` that is no quantifier is literal, `{,n}` means
/// `{0,n}`, `[`, `&` and `~` inside a class are literal, `\Z` is the end,
/// `(?#…)` is a comment. A global flag such as `(?i)` is an error — Python
/// refuses it once Open edX has put `^` in front. Backreferences,
/// lookaround and atomic groups pass through to fancy-regex.
/// Letters Python's `re` accepts after a backslash, outside and inside a class.
const ESCAPES: &str = "aAbBdDfnrsStvwWxuUNZ";
const CLASS_ESCAPES: &str = "abdDfnrsStvwWxuUN";

fn python_regex(p: &str) -> Result<String, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut in_class = false;
    let mut class_start = 0usize;
    // Named groups with their numbers, and how many groups have opened.
    let mut group_names: Vec<(String, usize)> = Vec::new();
    let mut groups = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err("pattern ends with a backslash".into());
                };
                // Python refuses an escaped ASCII letter it does not know
                // (Rust knows more: \k, \p, \z, …); `\b` in a class is a backspace.
                let known = if in_class { CLASS_ESCAPES } else { ESCAPES };
                if n.is_ascii_alphabetic() && !known.contains(n) {
                    return Err(format!("bad escape \\{n}"));
                }
                match n {
                    'Z' => out.push_str("\\z"),
                    'b' if in_class => out.push_str("\\x08"),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                i += 2;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i;
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            ']' if in_class => in_class = false,
            ']' => {
                out.push_str("\\]");
                i += 1;
                continue;
            }
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
                i += 1;
                continue;
            }
            '-' if in_class && i > class_start && chars.get(i - 1) == Some(&'-') => {
                out.push_str("\\-");
                i += 1;
                continue;
            }
            '{' if !in_class => {
                let rest: String = chars[i..].iter().collect();
                let quant = rest.find('}').map(|end| &rest[1..end]).filter(|body| {
                    let (a, b) = body.split_once(',').unwrap_or((body, ""));
                    let digits = |s: &str| s.chars().all(|d| d.is_ascii_digit());
                    !body.is_empty()
                        && digits(a)
                        && digits(b)
                        && !(body.contains(',') && a.is_empty() && b.is_empty())
                });
                match quant {
                    Some(body) => {
                        let body = if body.starts_with(',') {
                            format!("0{body}")
                        } else {
                            body.to_string()
                        };
                        out.push('{');
                        out.push_str(&body);
                        out.push('}');
                        i += rest[..=rest.find('}').unwrap_or(0)].chars().count();
                    }
                    None => {
                        out.push_str("\\{");
                        i += 1;
                    }
                }
                continue;
            }
            '}' if !in_class => {
                out.push_str("\\}");
                i += 1;
                continue;
            }
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                let next = chars.get(i + 2).copied().unwrap_or(')');
                if next == '<' && !matches!(chars.get(i + 3), Some('=' | '!')) {
                    return Err("unknown extension ?<".into());
                }
                if next == 'P' && chars.get(i + 3) == Some(&'<') {
                    let name: String = chars[i + 4..].iter().take_while(|c| **c != '>').collect();
                    let mut first = name.chars();
                    let identifier = first.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                        && first.all(|c| c.is_alphanumeric() || c == '_');
                    if !identifier {
                        return Err(format!("bad character in group name '{name}'"));
                    }
                    if group_names.iter().any(|(n, _)| *n == name) {
                        return Err(format!("redefinition of group name '{name}'"));
                    }
                    // Python numbers named groups too, and fancy-regex refuses
                    // numbered references once a group has a name: every
                    // group becomes a numbered one.
                    groups += 1;
                    i += 4 + name.chars().count() + 1;
                    group_names.push((name, groups));
                    out.push('(');
                    continue;
                }
                if next == 'P' && chars.get(i + 3) == Some(&'=') {
                    let name: String = chars[i + 4..].iter().take_while(|c| **c != ')').collect();
                    let Some((_, n)) = group_names.iter().find(|(g, _)| *g == name) else {
                        return Err(format!("unknown group name '{name}'"));
                    };
                    out.push_str(&format!("(?:\\{n})"));
                    i += 4 + name.chars().count() + 1;
                    continue;
                }
                if next == '(' {
                    let name: String = chars[i + 3..].iter().take_while(|c| **c != ')').collect();
                    if let Some((_, n)) = group_names.iter().find(|(g, _)| *g == name) {
                        out.push_str(&format!("(?({n})"));
                        i += 3 + name.chars().count() + 1;
                        continue;
                    }
                }
                if next == '#' {
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
                if next.is_ascii_alphabetic() && next != 'P' {
                    let flags: String = chars[i + 2..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphabetic() || **c == '-')
                        .collect();
                    if chars.get(i + 2 + flags.chars().count()) == Some(&')') {
                        return Err("global flags not at the start of the expression".into());
                    }
                }
            }
            '(' if !in_class => groups += 1,
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grade(xml: &str, given: Option<&str>) -> Result<&'static str, ()> {
        let t = Text::parse(&super::super::xml::parse(xml).unwrap()).unwrap();
        let mut a = BTreeMap::new();
        if let Some(g) = given {
            a.insert("i".to_string(), Answer::Single(g.into()));
        }
        t.grade("i", &a)
            .map(|r| r.correctness.as_str())
            .map_err(|_| ())
    }

    #[test]
    fn grading_table() {
        let dwarfs = r#"<stringresponse answer="Doc" type="ci"><additional_answer answer="Sleepy"/>
            <additional_answer>Dopey</additional_answer><textline/></stringresponse>"#;
        let exact = r#"<stringresponse answer=" Paris "><textline/></stringresponse>"#;
        let bble =
            r#"<stringresponse answer="..bble" type="ci regexp"><textline/></stringresponse>"#;
        let alt = r#"<stringresponse answer="cat" type="regexp"><additional_answer answer="dog"/><additional_answer answer="cow"/><textline/></stringresponse>"#;
        let legacy = r#"<stringresponse answer="red_or_blue" type="regexp ci"><additional_answer answer="green"/><textline/></stringresponse>"#;
        let broken = r#"<stringresponse answer="a(" type="regexp"><textline/></stringresponse>"#;
        let cases: Vec<(&str, Option<&str>, Result<&str, ()>)> = vec![
            (dwarfs, Some("doc"), Ok("correct")),
            (dwarfs, Some("  SLEEPY "), Ok("correct")),
            (dwarfs, Some("dopey"), Ok("correct")),
            (dwarfs, Some("Grumpy"), Ok("incorrect")),
            (dwarfs, Some(""), Ok("incorrect")),
            (dwarfs, Some("   "), Ok("incorrect")),
            (dwarfs, None, Ok("incorrect")),
            (exact, Some("Paris"), Ok("correct")),
            (exact, Some("paris"), Ok("incorrect")),
            (bble, Some("Bubble"), Ok("correct")),
            (bble, Some("bubbles"), Ok("incorrect")),
            (bble, Some("xbubble"), Ok("incorrect")),
            // ^cat|dog|cow$: "dog" unanchored in the middle, cat only at the start, cow only at the end.
            (alt, Some("cat"), Ok("correct")),
            (alt, Some("catalog"), Ok("correct")),
            (alt, Some("hotdogs"), Ok("correct")),
            (alt, Some("a cow"), Ok("correct")),
            (alt, Some("cows"), Ok("incorrect")),
            (alt, Some("Cat"), Ok("incorrect")),
            // _or_ ignores regexp and additional answers.
            (legacy, Some("BLUE"), Ok("correct")),
            (legacy, Some("green"), Ok("incorrect")),
            (legacy, Some("re."), Ok("incorrect")),
            (broken, Some("a"), Err(())),
            (broken, Some(""), Ok("incorrect")),
        ];
        for (i, (xml, given, want)) in cases.into_iter().enumerate() {
            assert_eq!(grade(xml, given), want, "case {i}: {given:?}");
        }
    }

    #[test]
    fn python_dialect_patterns_grade() {
        let cases = [
            (r"(\w)\1", "aa", Ok("correct")),
            (r"(\w)\1", "ab", Ok("incorrect")),
            ("(?P<c>[a-c])(?P=c)+", "bbb", Ok("correct")),
            (r"(?=.*\d)\w+", "abc1", Ok("correct")),
            (r"(?=.*\d)\w+", "abc", Ok("incorrect")),
            ("(?<![0-9])x", "x", Ok("correct")),
            ("a(?=b)", "a", Ok("incorrect")),
            // Python refuses these, so Open edX refuses every answer.
            (r"\k<x>", "k", Err(())),
            ("(?P<x>a)(?P<x>b)", "ab", Err(())),
        ];
        for (pattern, given, want) in cases {
            let xml = format!(
                r#"<stringresponse answer="{}" type="regexp"><textline/></stringresponse>"#,
                super::super::xml::escape_attr(pattern)
            );
            assert_eq!(grade(&xml, Some(given)), want, "{pattern} on {given}");
        }
        let ci = r#"<stringresponse answer="(a)\1" type="regexp ci"><textline/></stringresponse>"#;
        assert_eq!(
            grade(ci, Some("aA")),
            Ok("correct"),
            "backreferences ignore case too"
        );
    }

    #[test]
    fn hostile_patterns_are_bounded() {
        // Exponential backtracking (the backreference keeps the match in the
        // backtracking engine): the step limit refuses the answer, no attempt used.
        let blowup =
            r#"<stringresponse answer="(a*)*c\1" type="regexp"><textline/></stringresponse>"#;
        assert_eq!(grade(blowup, Some(&"a".repeat(40))), Err(()));
        assert_eq!(grade(blowup, Some("aac")), Ok("correct"));
        let long = format!(
            r#"<stringresponse answer="{}" type="regexp"><textline/></stringresponse>"#,
            "a".repeat(MAX_PATTERN_CHARS + 1)
        );
        assert_eq!(grade(&long, Some("a")), Err(()));
    }

    #[test]
    fn a_list_is_refused() {
        let t = Text::parse(&super::super::xml::parse(r#"<stringresponse answer="a"/>"#).unwrap())
            .unwrap();
        let a = BTreeMap::from([("i".to_string(), Answer::Multiple(vec!["a".into()]))]);
        assert!(t.grade("i", &a).is_err());
    }

    #[test]
    fn hints_follow_open_edx_order() {
        let t = Text::parse(
            &super::super::xml::parse(
                r#"<stringresponse answer="A" type="ci"><correcthint>main</correcthint>
                <additional_answer answer="B"><correcthint>extra</correcthint></additional_answer>
                <stringequalhint answer="C">close</stringequalhint><regexphint answer="F+">eff</regexphint></stringresponse>"#,
            )
            .unwrap(),
        )
        .unwrap();
        let cases = [
            ("a", "main"),
            ("b", "extra"),
            ("c", "close"),
            ("fff", "eff"),
            ("z", ""),
        ];
        for (given, want) in cases {
            let h = t.hint(given);
            assert!(h.contains(want), "{given}: {h}");
            if want.is_empty() {
                assert_eq!(h, "");
            }
        }
    }

    #[test]
    fn python_regex_syntax() {
        // (Python pattern, Rust pattern or None when refused) — Python's reading per the re docs.
        let cases: &[(&str, Option<&str>)] = &[
            ("a{", Some(r"a\{")),
            ("a{2}", Some("a{2}")),
            ("a{,3}", Some("a{0,3}")),
            ("a{2,}", Some("a{2,}")),
            ("a{x}", Some(r"a\{x\}")),
            ("[[:alpha:]]", Some(r"[\[:alpha:]\]")),
            ("[]a]", Some(r"[\]a]")),
            ("[a&&b]", Some(r"[a\&\&b]")),
            (r"\d+\Z", Some(r"\d+\z")),
            ("a(?#note)b", Some("ab")),
            ("(?i:ab)c", Some("(?i:ab)c")),
            ("(?P<x>a)", Some("(a)")),
            (r"(a)\1", Some(r"(a)\1")),
            ("a(?=b)", Some("a(?=b)")),
            ("(?<!a)b", Some("(?<!a)b")),
            ("(?i)abc", None),
            (r"\k<x>", None),
            (r"\p{L}", None),
            (r"[\b]", Some(r"[\x08]")),
            (r"[\Z]", None),
            ("(?<x>a)", None),
            ("(?P<1>a)", None),
            ("(?P<x>a)(?P<x>b)", None),
            ("(?P<x>a)(?P=x)", Some(r"(a)(?:\1)")),
            (r"(a)(?P<y>b)\1(?P=y)1", Some(r"(a)(b)\1(?:\2)1")),
            ("(?P<y>b)?(?(y)c|d)", Some("(b)?(?(1)c|d)")),
            ("(?P=z)", None),
        ];
        for (py, want) in cases {
            assert_eq!(python_regex(py).ok().as_deref(), *want, "{py}");
        }
    }
}
