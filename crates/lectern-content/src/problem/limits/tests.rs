//! Each limit: a problem just within it parses, one just past it is refused
//! with the attribute named. Counts are written out from the limits'
//! values in `crate::limits`, which the cases name.

use super::super::{Problem, ProblemError};
use crate::limits::*;

fn formula(samples: &str) -> String {
    format!(
        r#"<formularesponse answer="x" samples="{samples}"><formulaequationinput/></formularesponse>"#
    )
}

fn problem(inner: &str) -> String {
    format!("<problem>{inner}</problem>")
}

fn choices(n: usize) -> String {
    let list: String = (0..n)
        .map(|i| format!(r#"<choice correct="{}">c{i}</choice>"#, i == 0))
        .collect();
    format!("<multiplechoiceresponse><choicegroup>{list}</choicegroup></multiplechoiceresponse>")
}

fn numerical_with(answer: &str, extra: &str) -> String {
    format!(r#"<numericalresponse answer="{answer}">{extra}<textline/></numericalresponse>"#)
}

fn regexp(answer: &str, extra: &str) -> String {
    format!(
        r#"<stringresponse type="regexp" answer="{answer}">{extra}<textline/></stringresponse>"#
    )
}

/// (what, XML within the limit, XML past it, attribute named).
fn cases() -> Vec<(&'static str, String, String, &'static str)> {
    let vars = |n: usize| {
        let names: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        let ones = vec!["1"; n].join(",");
        format!("{}@{ones}:{ones}#10", names.join(","))
    };
    let demand = |n: usize| {
        let hints: String = (0..n).map(|i| format!("<hint>h{i}</hint>")).collect();
        format!("<demandhint>{hints}</demandhint>")
    };
    let additional =
        |n: usize| numerical_with("1", &r#"<additional_answer answer="2"/>"#.repeat(n));
    let nested = |n: usize| format!("{}x{}", "<span>".repeat(n - 1), "</span>".repeat(n - 1));
    let options = |n: usize| {
        let list: Vec<String> = (0..n).map(|i| format!("'o{i}'")).collect();
        format!(
            r#"<optionresponse><optioninput options="({})" correct="o0"/></optionresponse>"#,
            list.join(",")
        )
    };
    vec![
        (
            "sample count (the attack)",
            formula(&format!("x@1:5#{MAX_FORMULA_SAMPLES}")),
            formula("x@1:5#100000000"),
            "samples",
        ),
        (
            "a sample count too large to read",
            formula("x@1:5#10"),
            formula("x@1:5#999999999999999999999999999999"),
            "samples",
        ),
        (
            "samples of all formula responses together",
            formula(&format!("x@1:5#{}", MAX_FORMULA_SAMPLES / 2)).repeat(2),
            formula(&format!("x@1:5#{}", MAX_FORMULA_SAMPLES / 2 + 1)).repeat(2),
            "samples",
        ),
        (
            "sample variables",
            formula(&vars(MAX_FORMULA_VARIABLES)),
            formula(&vars(MAX_FORMULA_VARIABLES + 1)),
            "samples",
        ),
        (
            "responses",
            numerical_with("1", "").repeat(MAX_RESPONSES),
            numerical_with("1", "").repeat(MAX_RESPONSES + 1),
            "responses",
        ),
        (
            "inputs",
            format!(
                "<optionresponse>{}</optionresponse>",
                r#"<optioninput options="('a')" correct="a"/>"#.repeat(MAX_INPUTS)
            ),
            format!(
                "<optionresponse>{}</optionresponse>",
                r#"<optioninput options="('a')" correct="a"/>"#.repeat(MAX_INPUTS + 1)
            ),
            "inputs",
        ),
        (
            "choices",
            choices(MAX_CHOICES),
            choices(MAX_CHOICES + 1),
            "choices",
        ),
        (
            "dropdown options",
            options(MAX_CHOICES),
            options(MAX_CHOICES + 1),
            "options",
        ),
        ("hints", demand(MAX_HINTS), demand(MAX_HINTS + 1), "hints"),
        (
            "hint text",
            format!(
                "<demandhint><hint>{}</hint></demandhint>",
                "h".repeat(MAX_HINT_TEXT_BYTES - 20)
            ),
            format!(
                "<demandhint><hint>{}</hint></demandhint>",
                "h".repeat(MAX_HINT_TEXT_BYTES)
            ),
            "hint text",
        ),
        (
            "additional answers",
            additional(MAX_ADDITIONAL_ANSWERS),
            additional(MAX_ADDITIONAL_ANSWERS + 1),
            "additional_answer",
        ),
        (
            "answer expression",
            numerical_with(
                &format!("1{}", "+1".repeat(MAX_ANSWER_EXPRESSION_CHARS / 2 - 1)),
                "",
            ),
            numerical_with(
                &format!("1{}", "+1".repeat(MAX_ANSWER_EXPRESSION_CHARS / 2)),
                "",
            ),
            "answer",
        ),
        (
            "partial-credit answers",
            numerical_with(
                "1",
                r#"<responseparam type="partial_answers" default="2"/>"#,
            ),
            numerical_with(
                "1",
                &format!(
                    r#"<responseparam type="partial_answers" default="{}"/>"#,
                    "2,".repeat(MAX_ANSWER_EXPRESSION_CHARS)
                ),
            ),
            "partial_answers",
        ),
        (
            "tolerance",
            numerical_with(
                "1",
                &format!(
                    r#"<responseparam type="tolerance" default="{}"/>"#,
                    "1".repeat(MAX_TOLERANCE_CHARS)
                ),
            ),
            numerical_with(
                "1",
                &format!(
                    r#"<responseparam type="tolerance" default="{}"/>"#,
                    "1".repeat(MAX_TOLERANCE_CHARS + 1)
                ),
            ),
            "tolerance",
        ),
        (
            "regexp pattern",
            regexp(&"a".repeat(MAX_REGEX_PATTERN_CHARS - 1), ""),
            regexp(
                &"a".repeat(MAX_REGEX_PATTERN_CHARS),
                r#"<additional_answer answer="b"/>"#,
            ),
            "answer",
        ),
        (
            "regexp hint pattern",
            regexp(
                "a",
                &format!(
                    r#"<regexphint answer="{}">h</regexphint>"#,
                    "b".repeat(MAX_REGEX_PATTERN_CHARS)
                ),
            ),
            regexp(
                "a",
                &format!(
                    r#"<regexphint answer="{}">h</regexphint>"#,
                    "b".repeat(MAX_REGEX_PATTERN_CHARS + 1)
                ),
            ),
            "answer",
        ),
        (
            "any attribute",
            format!(r#"<p title="{}">x</p>"#, "t".repeat(MAX_ATTRIBUTE_CHARS)),
            format!(
                r#"<p title="{}">x</p>"#,
                "t".repeat(MAX_ATTRIBUTE_CHARS + 1)
            ),
            "title",
        ),
        (
            "element nesting",
            nested(MAX_PROBLEM_XML_DEPTH),
            nested(MAX_PROBLEM_XML_DEPTH + 1),
            "nesting",
        ),
        (
            "elements",
            "<br/>".repeat(MAX_PROBLEM_ELEMENTS - 1),
            "<br/>".repeat(MAX_PROBLEM_ELEMENTS),
            "elements",
        ),
        (
            "XML size",
            format!("<p>{}</p>", "x".repeat(MAX_PROBLEM_XML_BYTES - 30)),
            format!("<p>{}</p>", "x".repeat(MAX_PROBLEM_XML_BYTES)),
            "size",
        ),
    ]
}

#[test]
fn every_limit_refuses_past_it_and_names_the_attribute() {
    for (what, within, past, attribute) in cases() {
        if let Err(e) = Problem::parse(&problem(&within), "p") {
            panic!("{what}: within the limit but refused: {e}");
        }
        match Problem::parse(&problem(&past), "p") {
            Err(ProblemError::OverLimit(e)) => {
                assert_eq!(e.attribute, attribute, "{what}: {e}");
                let message = ProblemError::OverLimit(e.clone()).to_string();
                assert!(message.contains(attribute), "{what}: {message}");
            }
            other => panic!("{what}: expected a limit error, got {other:?}"),
        }
    }
}

#[test]
fn deep_xml_is_refused_without_recursing() {
    // Far deeper than any recursive walk of the tree could survive.
    let deep = format!(
        "<problem>{}{}</problem>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    assert!(matches!(
        Problem::parse(&deep, "p"),
        Err(ProblemError::OverLimit(_))
    ));
}

#[test]
fn the_largest_sample_count_grades_within_one_shared_budget() {
    // The largest sample count allowed, with an answer that needs work:
    // grading finishes (bounded by the shared budget) and says why.
    let xml = problem(&formula(&format!("x@1:5#{MAX_FORMULA_SAMPLES}")));
    let p = Problem::parse(&xml, "p").unwrap();
    let answers = std::collections::BTreeMap::from([(
        "p_2_1".to_string(),
        super::super::Answer::Single(format!("x+0*({})", ["fact(999)"; 5].join("+"))),
    )]);
    let e = p.grade(&answers, 1).unwrap_err();
    assert!(e.message.contains("more computation"), "{e}");
    let right = std::collections::BTreeMap::from([(
        "p_2_1".to_string(),
        super::super::Answer::Single("x".into()),
    )]);
    assert!(p.grade(&right, 1).unwrap().is_correct());
}
