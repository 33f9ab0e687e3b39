//! Problems from the real course exports in the shared fixtures folder
//! (`LECTERN_OLX_FIXTURES`, default `tests/fixtures/olx` in the repository), graded with
//! answers written here; expected scores read off the XML by hand.

use super::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Every `problem/*.xml` of every fixture archive, keyed by
/// `<archive>/<path inside the top folder>`.
fn fixtures() -> &'static HashMap<String, String> {
    static FILES: OnceLock<HashMap<String, String>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = std::env::var_os("LECTERN_OLX_FIXTURES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../tests/fixtures/olx"
                ))
            });
        let mut out = HashMap::new();
        for archive in [
            "openedx-demo-course",
            "openedx-test-course",
            "mitx-grading-library-course",
            "openedx-demo-library",
            "openedx-test-problem-bank",
        ] {
            let path = dir.join(format!("{archive}.tar.gz"));
            let file = std::fs::File::open(&path).unwrap_or_else(|e| {
                panic!("fixture {} (set LECTERN_OLX_FIXTURES): {e}", path.display())
            });
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
            for entry in tar.entries().unwrap() {
                let mut entry = entry.unwrap();
                let name = entry.path().unwrap().to_string_lossy().into_owned();
                if name.contains("/problem/") && name.ends_with(".xml") {
                    let inner = name
                        .split_once('/')
                        .map_or(name.as_str(), |(_, rest)| rest)
                        .to_string();
                    let mut text = String::new();
                    entry.read_to_string(&mut text).unwrap();
                    out.insert(format!("{archive}/{inner}"), text);
                }
            }
        }
        out
    })
}

fn fixture(key: &str) -> Problem {
    let xml = fixtures()
        .get(key)
        .unwrap_or_else(|| panic!("no fixture {key}"));
    let url_name = key.rsplit('/').next().unwrap().trim_end_matches(".xml");
    Problem::parse(xml, url_name).unwrap()
}

fn one(v: &str) -> Answer {
    Answer::Single(v.into())
}

fn many(v: &[&str]) -> Answer {
    Answer::Multiple(v.iter().map(|s| s.to_string()).collect())
}

/// What a grading should come to: per-input correctness, earned, possible;
/// or `Rejected` (no attempt used).
#[derive(Debug, PartialEq)]
enum Want {
    Graded(Vec<&'static str>, f64, f64),
    Rejected,
}

fn outcome(p: &Problem, answers: &[(&str, Answer)]) -> Want {
    let answers: BTreeMap<String, Answer> = answers
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    match p.grade(&answers, 1) {
        Err(_) => Want::Rejected,
        Ok(g) => Want::Graded(
            g.correct_map
                .values()
                .map(|r| r.correctness.as_str())
                .collect(),
            g.raw_earned,
            g.raw_possible,
        ),
    }
}

const DEMO: &str = "openedx-demo-course/course/problem/";
const TEST: &str = "openedx-test-course/course/problem/";

#[test]
fn fixture_problems_grade_as_open_edx_does() {
    use Want::*;
    let huge = "9".repeat(MAX_ANSWER_CHARS + 1);
    // (fixture, answers, expected)
    type Case = (String, Vec<(&'static str, Answer)>, Want);
    let cases: Vec<Case> = vec![
        // Multiple choice: "B. Epiglottis" is the second choice.
        (
            format!("{DEMO}0895f1b6c0b329e50b90.xml"),
            vec![("0895f1b6c0b329e50b90_2_1", one("choice_1"))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}0895f1b6c0b329e50b90.xml"),
            vec![("0895f1b6c0b329e50b90_2_1", one("choice_0"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}0895f1b6c0b329e50b90.xml"),
            vec![],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}0895f1b6c0b329e50b90.xml"),
            vec![("0895f1b6c0b329e50b90_2_1", one("choice_17"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}0895f1b6c0b329e50b90.xml"),
            vec![("0895f1b6c0b329e50b90_2_1", one(&huge))],
            Rejected,
        ),
        // Checkboxes: the 2nd, 4th and 5th facts are true.
        (
            format!("{DEMO}0135258373e648f2b57a80ae06bade61.xml"),
            vec![(
                "0135258373e648f2b57a80ae06bade61_2_1",
                many(&["choice_1", "choice_3", "choice_4"]),
            )],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}0135258373e648f2b57a80ae06bade61.xml"),
            vec![(
                "0135258373e648f2b57a80ae06bade61_2_1",
                many(&["choice_1", "choice_3"]),
            )],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}0135258373e648f2b57a80ae06bade61.xml"),
            vec![("0135258373e648f2b57a80ae06bade61_2_1", many(&[]))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}0135258373e648f2b57a80ae06bade61.xml"),
            vec![(
                "0135258373e648f2b57a80ae06bade61_2_1",
                many(&["choice_1", "choice_3", "choice_4", "choice_x"]),
            )],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{TEST}c414277f90888e529175.xml"),
            vec![("c414277f90888e529175_2_1", many(&["choice_0", "choice_3"]))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{TEST}c414277f90888e529175.xml"),
            vec![("c414277f90888e529175_2_1", one("choice_0"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        // Dropdowns: new-style options and eight legacy ones in a table.
        (
            format!("{TEST}b44f525ef4601d0b9c64.xml"),
            vec![("b44f525ef4601d0b9c64_2_1", one("the correct answer"))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{TEST}b44f525ef4601d0b9c64.xml"),
            vec![("b44f525ef4601d0b9c64_2_1", one("an incorrect answer"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}c89f56c74a3a424dbffb665d4643b42f.xml"),
            vec![("c89f56c74a3a424dbffb665d4643b42f_2_1", one("Canberra"))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}85f3f7f9b72548af880975112f27817c.xml"),
            vec![
                (
                    "85f3f7f9b72548af880975112f27817c_2_1",
                    one("Albert Einstein"),
                ),
                ("85f3f7f9b72548af880975112f27817c_3_1", one("Germany")),
                (
                    "85f3f7f9b72548af880975112f27817c_4_1",
                    one("Dmitri Mendeleev"),
                ),
                ("85f3f7f9b72548af880975112f27817c_5_1", one("USA")),
                ("85f3f7f9b72548af880975112f27817c_9_1", one("USA")),
            ],
            Graded(
                vec![
                    "correct",
                    "correct",
                    "correct",
                    "incorrect",
                    "incorrect",
                    "incorrect",
                    "incorrect",
                    "correct",
                ],
                4.0,
                8.0,
            ),
        ),
        // Text: any dwarf, case-insensitive; the regexp "..bble".
        (
            format!("{DEMO}3e5a945f54374fc7ababadc080660f2d.xml"),
            vec![("3e5a945f54374fc7ababadc080660f2d_2_1", one(" sneezy "))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}3e5a945f54374fc7ababadc080660f2d.xml"),
            vec![("3e5a945f54374fc7ababadc080660f2d_2_1", one("Snow White"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}3e5a945f54374fc7ababadc080660f2d.xml"),
            vec![("3e5a945f54374fc7ababadc080660f2d_2_1", one(""))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}330956aa9c304a0a8e944d3caac15494.xml"),
            vec![("330956aa9c304a0a8e944d3caac15494_2_1", one("RUBBLE"))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}330956aa9c304a0a8e944d3caac15494.xml"),
            vec![("330956aa9c304a0a8e944d3caac15494_2_1", one("bubbles"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}7071a317a0744a37924ef5dea17d47e1.xml"),
            vec![(
                "7071a317a0744a37924ef5dea17d47e1_2_1",
                one("anything at all"),
            )],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}7071a317a0744a37924ef5dea17d47e1.xml"),
            vec![("7071a317a0744a37924ef5dea17d47e1_2_1", one(" "))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        // Numerical: 600 with absolute tolerance 5.
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", one("605"))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", one("595"))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", one("605.1"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", one(""))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", one("six hundred"))],
            Rejected,
        ),
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", many(&["600"]))],
            Rejected,
        ),
        // Numerical with partial_credit="list": 2 is right, 1 earns half.
        (
            format!("{DEMO}9f898b5307d841fcb03f5ee4eb206a9a.xml"),
            vec![("9f898b5307d841fcb03f5ee4eb206a9a_2_1", one("2"))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}9f898b5307d841fcb03f5ee4eb206a9a.xml"),
            vec![("9f898b5307d841fcb03f5ee4eb206a9a_2_1", one("1"))],
            Graded(vec!["partially-correct"], 0.5, 1.0),
        ),
        (
            format!("{DEMO}9f898b5307d841fcb03f5ee4eb206a9a.xml"),
            vec![("9f898b5307d841fcb03f5ee4eb206a9a_2_1", one("3"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}861cd64b013d1addc68f.xml"),
            vec![("861cd64b013d1addc68f_2_1", one("12.0001"))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}861cd64b013d1addc68f.xml"),
            vec![("861cd64b013d1addc68f_2_1", one("12.01"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        // Expressions go through the evaluator; a division by zero or an unknown name is refused.
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", one("120*5"))],
            Graded(vec!["correct"], 1.0, 1.0),
        ),
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", one("1e999"))],
            Graded(vec!["incorrect"], 0.0, 1.0),
        ),
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", one("1/0"))],
            Rejected,
        ),
        (
            format!("{DEMO}3b8100660f3947c198e0a9b35f7c6cf6.xml"),
            vec![("3b8100660f3947c198e0a9b35f7c6cf6_2_1", one("x"))],
            Rejected,
        ),
        // Formula (two responses, 1% tolerance, case-sensitive names).
        (
            format!("{DEMO}ced178178f4440e08f15a408ea14cbf1.xml"),
            vec![
                (
                    "ced178178f4440e08f15a408ea14cbf1_2_1",
                    one("rho*omega^2*L^2/E*(11*L/48 + 3*R/8)"),
                ),
                (
                    "ced178178f4440e08f15a408ea14cbf1_3_1",
                    one("rho*omega^2/E*L^3/3"),
                ),
            ],
            Graded(vec!["correct", "incorrect"], 1.0, 2.0),
        ),
        (
            format!("{DEMO}ced178178f4440e08f15a408ea14cbf1.xml"),
            vec![("ced178178f4440e08f15a408ea14cbf1_2_1", one("Rho*omega"))],
            Rejected,
        ),
        (
            format!("{DEMO}ced178178f4440e08f15a408ea14cbf1.xml"),
            vec![("ced178178f4440e08f15a408ea14cbf1_2_1", one(""))],
            Graded(vec!["incorrect", "incorrect"], 0.0, 2.0),
        ),
        // Problems that need Python are shown but refused for grading.
        (
            format!("{DEMO}720cac326b684155b4845d32af4aeef0.xml"),
            vec![("720cac326b684155b4845d32af4aeef0_2_1", one("5"))],
            Rejected,
        ),
        (
            format!("{DEMO}eb57b81093d048df975c957d005b1f74.xml"),
            vec![],
            Rejected,
        ),
    ];
    for (i, (key, answers, want)) in cases.into_iter().enumerate() {
        let p = fixture(&key);
        assert_eq!(outcome(&p, &answers), want, "case {i}: {key}");
    }
}

#[test]
fn unsupported_fixture_problems_say_why() {
    // (fixture, expected response types and input kinds, words expected in the reason)
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "openedx-demo-course/course/problem/0d127d7942ec4be7a464eabafb286d02.xml",
            &["customresponse"],
            "Python",
        ),
        (
            "openedx-demo-course/course/problem/dc37b89aade5444fbb1ecdaa0d22d180.xml",
            &["schematicresponse"],
            "schematicresponse",
        ),
        (
            "openedx-demo-course/course/problem/10d6abada29b45df87f3bd9a9af86e72.xml",
            &["imageresponse"],
            "imageresponse",
        ),
        (
            "openedx-demo-course/course/problem/29fb15ec7b5f462cab0a8216108df8dc.xml",
            &["annotationresponse"],
            "annotationresponse",
        ),
        (
            "openedx-demo-course/course/problem/58f6371c54254596ac91699557af449c.xml",
            &["customresponse"],
            "customresponse",
        ),
        (
            "mitx-grading-library-course/course/problem/formula1.xml",
            &["customresponse", "formularesponse"],
            "Python",
        ),
    ];
    for (key, types, why) in cases {
        let p = fixture(key);
        let got: Vec<&str> = p
            .inputs()
            .iter()
            .map(|i| i.response_type.as_str())
            .collect();
        assert_eq!(got, *types, "{key}");
        assert!(!p.is_gradable(), "{key}");
        assert!(
            p.unsupported().iter().any(|u| u.contains(why)),
            "{key}: {:?}",
            p.unsupported()
        );
        let html = p.render(&RenderView::new(1));
        assert!(html.contains("cannot be graded here"), "{key}");
    }
    // Input ids count every response, supported or not.
    let ids: Vec<String> = fixture("mitx-grading-library-course/course/problem/formula1.xml")
        .inputs()
        .iter()
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(ids, ["formula1_2_1", "formula1_3_1"]);
}

#[test]
fn every_fixture_problem_parses_and_renders() {
    let mut gradable = 0;
    for (key, xml) in fixtures() {
        let p = Problem::parse(xml, "p").unwrap_or_else(|e| panic!("{key}: {e}"));
        let html = p.render(&RenderView {
            show_answer: true,
            hints_shown: 9,
            ..RenderView::new(3)
        });
        assert!(html.starts_with("<div class=\"problem\""), "{key}");
        assert!(!html.contains("<script"), "{key}");
        if p.is_gradable() {
            gradable += 1;
            let answers = p.example_correct_answers(3);
            let Ok(g) = p.grade(&answers, 3) else {
                assert!(
                    xml.contains("formularesponse"),
                    "{key}: example answers refused"
                );
                continue;
            };
            // Regexp answers are patterns, not examples of what they match.
            let regexp = xml.contains("regexp");
            assert!(
                g.is_correct() || regexp,
                "{key}: example answers scored {}/{}",
                g.raw_earned,
                g.raw_possible
            );
        }
    }
    // 29 + 19 + 6 + 12 problems in the Open edX fixtures are gradable or not by
    // type; at least these are: every multiple choice, checkbox, dropdown,
    // text and plain numerical problem without a script.
    assert!(gradable >= 45, "only {gradable} gradable fixture problems");
}

#[test]
fn ids_labels_and_choices() {
    let p = fixture(&format!("{DEMO}ef8c3814d2ce47c6927a8310bba4b849.xml"));
    let input = &p.inputs()[0];
    assert_eq!(input.id, "ef8c3814d2ce47c6927a8310bba4b849_2_1");
    assert_eq!(input.kind, InputKind::Radio);
    assert_eq!(
        input.label,
        "In the traditional abacus shown above, what number is represented?"
    );
    let names: Vec<&str> = input.choices.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["choice_0", "choice_1", "choice_2", "choice_3", "choice_4"]
    );
    assert_eq!(p.demand_hints().len(), 2);
    assert_eq!(problem_html_id("my-problem.v2"), "my_problem_v2");
    let p = Problem::parse(
        "<problem><stringresponse answer='a'><textline/></stringresponse></problem>",
        "a-b",
    )
    .unwrap();
    assert_eq!(p.inputs()[0].id, "a_b_2_1");
}

#[test]
fn malformed_xml_is_an_error_and_odd_xml_is_not() {
    assert!(Problem::parse("<problem><p></problem>", "p").is_err());
    assert!(Problem::parse("", "p").is_err());
    // Well-formed but odd: each parses, reports unsupported where needed, and never panics.
    let odd = [
        ("<problem/>", true),
        ("<problem><numericalresponse><textline/></numericalresponse></problem>", false),
        ("<problem><numericalresponse answer='[5]'><textline/></numericalresponse></problem>", false),
        ("<problem><stringresponse answer='a'/></problem>", false),
        ("<problem><stringresponse answer='a'><textline/><textline/></stringresponse></problem>", false),
        ("<problem><multiplechoiceresponse><checkboxgroup/></multiplechoiceresponse></problem>", false),
        ("<problem><formularesponse answer='x'><textline/></formularesponse></problem>", false),
        ("<problem><choiceresponse><checkboxgroup><choice>no mark</choice></checkboxgroup></choiceresponse></problem>", false),
        ("<problem><optionresponse><optioninput/></optionresponse></problem>", true),
        ("<problem><customresponse><textline points='x'/></customresponse></problem>", false),
        ("<problem><multiplechoiceresponse><choicegroup><choice correct='true'><multiplechoiceresponse><choicegroup><choice>x</choice></choicegroup></multiplechoiceresponse></choice></choicegroup></multiplechoiceresponse></problem>", false),
    ];
    for (xml, gradable) in odd {
        let p = Problem::parse(xml, "p").unwrap_or_else(|e| panic!("{xml}: {e}"));
        assert_eq!(p.is_gradable(), gradable, "{xml}: {:?}", p.unsupported());
        let _ = p.render(&RenderView::new(1));
        let _ = p.grade(&BTreeMap::new(), 1);
    }
}

#[test]
fn points_and_multiple_responses() {
    let xml = r#"<problem>
        <p>Two questions.</p>
        <multiplechoiceresponse><label>First</label><choicegroup><choice correct="true">a</choice><choice correct="false">b</choice></choicegroup></multiplechoiceresponse>
        <numericalresponse answer="10"><label>Second</label><responseparam type="tolerance" default="10%"/><textline points="3"/></numericalresponse>
        </problem>"#;
    let p = Problem::parse(xml, "two").unwrap();
    assert_eq!(p.raw_possible(), 4.0);
    let a = |mc: &str, num: &str| [("two_2_1", one(mc)), ("two_3_1", one(num))];
    // A correct input earns 1 point whatever its `points` (Open edX's npoints rule).
    assert_eq!(
        outcome(&p, &a("choice_0", "11")),
        Want::Graded(vec!["correct", "correct"], 2.0, 4.0)
    );
    assert_eq!(
        outcome(&p, &a("choice_1", "11.1")),
        Want::Graded(vec!["incorrect", "incorrect"], 0.0, 4.0)
    );
    // One refused input refuses the whole submission.
    assert_eq!(outcome(&p, &a("choice_0", "ten")), Want::Rejected);
}

#[test]
fn every_choice_input_shows_every_choice() {
    let mut checked = 0;
    for (key, xml) in fixtures() {
        let p = Problem::parse(xml, "p").unwrap_or_else(|e| panic!("{key}: {e}"));
        let html = p.render(&RenderView::new(5));
        for input in p.inputs() {
            let ty = match input.kind {
                InputKind::Radio => "radio",
                InputKind::Checkbox => "checkbox",
                InputKind::Dropdown => "option",
                _ => continue,
            };
            assert!(!input.choices.is_empty(), "{key} {}: no choices", input.id);
            let mut order = p.display_order(&input.id, 5);
            assert!(!order.is_empty(), "{key} {}: nothing to show", input.id);
            order.sort_unstable();
            order.dedup();
            assert!(order.iter().all(|&i| i < input.choices.len()), "{key}");
            for &i in &order {
                let value = xml::escape_attr(&input.choices[i].name);
                let control = if ty == "option" {
                    format!(r#"<option value="{value}""#)
                } else {
                    format!(r#"type="{ty}" name="{}" value="{value}""#, input.id)
                };
                assert!(html.contains(&control), "{key}: no {control} in {html}");
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 30,
        "only {checked} choice inputs in the fixtures"
    );
}

#[test]
fn only_choice_checkbox_and_dropdown_problems_grade_cheaply() {
    let parse = |body: &str| Problem::parse(&format!("<problem>{body}</problem>"), "p").unwrap();
    let choice = r#"<multiplechoiceresponse><choicegroup><choice correct="true">a</choice><choice correct="false">b</choice></choicegroup></multiplechoiceresponse>"#;
    let checkbox = r#"<choiceresponse><checkboxgroup><choice correct="true">a</choice><choice correct="false">b</choice></checkboxgroup></choiceresponse>"#;
    let dropdown =
        r#"<optionresponse><optioninput options="('a','b')" correct="a"/></optionresponse>"#;
    let numerical = r#"<numericalresponse answer="3.14"><responseparam type="tolerance" default="1%"/><formulaequationinput/></numericalresponse>"#;
    let formula = r#"<formularesponse type="ci" samples="x@1:2#10" answer="x^2"><responseparam type="tolerance" default="0.01"/><formulaequationinput/></formularesponse>"#;
    let text = r#"<stringresponse answer="cat" type="regexp"><textline/></stringresponse>"#;
    let script = r#"<script type="loncapa/python">x = 1</script>"#;
    assert!(parse(choice).grades_cheaply());
    assert!(parse(checkbox).grades_cheaply());
    assert!(parse(dropdown).grades_cheaply());
    assert!(parse(&format!("{choice}{checkbox}{dropdown}")).grades_cheaply());
    for costly in [numerical, formula, text] {
        assert!(!parse(costly).grades_cheaply(), "{costly}");
        assert!(
            !parse(&format!("{choice}{costly}")).grades_cheaply(),
            "{costly}"
        );
    }
    assert!(!parse(&format!("{script}{choice}")).grades_cheaply());
    assert!(!parse("<p>no question</p>").grades_cheaply());
}
