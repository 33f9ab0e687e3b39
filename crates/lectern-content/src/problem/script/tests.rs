//! Scripted problems end to end through the real harness, run by the
//! machine's python3 without a sandbox (`script_testing`).

use std::collections::BTreeMap;

use crate::problem::script::{ScriptEnv, ScriptFiles};
use crate::problem::{Answer, Correctness, Grading, Problem};
use crate::script_testing::UnsandboxedRunner;

fn env<'a>(runner: &'a UnsandboxedRunner, files: &'a ScriptFiles) -> ScriptEnv<'a> {
    ScriptEnv {
        runner,
        files,
        anonymous_student_id: "anon",
        attempt: 1,
    }
}

/// Instantiates `xml` for `seed` and grades `answers` (input id → text).
fn grade(xml: &str, seed: u64, answers: &[(&str, &str)]) -> Result<Grading, String> {
    let runner = UnsandboxedRunner::new();
    let files = ScriptFiles::new();
    let env = env(&runner, &files);
    let p = Problem::parse(xml, "p").map_err(|e| e.to_string())?;
    let p = p.instantiate(&env, seed).map_err(|e| e.to_string())?;
    let answers: BTreeMap<String, Answer> = answers
        .iter()
        .map(|(k, v)| (k.to_string(), Answer::Single(v.to_string())))
        .collect();
    p.grade_scripted(&answers, seed, &env)
        .map_err(|e| e.message)
}

const RANDOM_SUM: &str = r#"<problem>
<script type="loncapa/python">
x = random.randint(0, 20)
y = random.randint(0, 20)
z = x + y
</script>
<p>Let x = $x and y = $y.</p>
<numericalresponse answer="$z"><textline/></numericalresponse>
<solution><p>x + y = $z</p></solution>
</problem>"#;

#[test]
fn without_a_runner_a_script_is_shown_but_not_gradable() {
    let p = Problem::parse(RANDOM_SUM, "p").unwrap();
    assert!(p.needs_python());
    assert!(!p.is_gradable());
    assert!(
        p.unsupported()[0].contains("Python"),
        "{:?}",
        p.unsupported()
    );
    assert!(p.unsupported_with_python().is_empty());
    assert!(p.grade(&BTreeMap::new(), 1).is_err());
}

#[test]
fn variables_follow_open_edx_random_and_reach_text_answers_and_solutions() {
    let runner = UnsandboxedRunner::new();
    let files = ScriptFiles::new();
    let p = Problem::parse(RANDOM_SUM, "p").unwrap();
    let p = p.instantiate(&env(&runner, &files), 1).unwrap();
    assert!(p.is_gradable(), "{:?}", p.unsupported());
    // random2's Random(1): randint(0, 20) twice is 2 then 17 (Python 3 says 4, 18).
    let html = p.render(&crate::problem::RenderView {
        show_answer: true,
        ..crate::problem::RenderView::new(1)
    });
    assert!(html.contains("Let x = 2 and y = 17."), "{html}");
    assert!(html.contains("x + y = 19"), "{html}");
    assert_eq!(
        p.correct_answers(1).get("p_2_1"),
        Some(&Answer::Single("19".into()))
    );
    assert!(grade(RANDOM_SUM, 1, &[("p_2_1", "19")])
        .unwrap()
        .is_correct());
    assert!(!grade(RANDOM_SUM, 1, &[("p_2_1", "18")])
        .unwrap()
        .is_correct());
}

#[test]
fn python_str_of_values_is_what_replaces_names() {
    let xml = r#"<problem><script type="loncapa/python">
a = 6/3
b = 0.1 + 0.2
c = 10.0**16
d = (3, 4)
e = True
f = lambda v: v
</script><p>[$a] [$b] [$c] [$d] [$e] [$f] [$seed]</p>
<stringresponse answer="$d"><textline/></stringresponse></problem>"#;
    let runner = UnsandboxedRunner::new();
    let files = ScriptFiles::new();
    let p = Problem::parse(xml, "p")
        .unwrap()
        .instantiate(&env(&runner, &files), 5)
        .unwrap();
    let html = p.render(&crate::problem::RenderView::new(5));
    assert!(
        html.contains("[2.0] [0.30000000000000004] [1e+16] [[3, 4]] [True] [$f] [5]"),
        "{html}"
    );
}

fn custom(check: &str, inputs: usize, extra: &str) -> String {
    let boxes = "<textline/>".repeat(inputs);
    format!(
        r#"<problem><script type="loncapa/python">
def check(expect, ans):
{check}
</script><customresponse cfn="check" expect="42"{extra}>{boxes}</customresponse></problem>"#
    )
}

fn marks(g: &Grading) -> Vec<(Correctness, f64)> {
    g.correct_map
        .values()
        .map(|r| (r.correctness, r.npoints))
        .collect()
}

#[test]
fn cfn_return_shapes() {
    use Correctness::*;
    let one = |body: &str, ans: &str| grade(&custom(body, 1, ""), 1, &[("p_2_1", ans)]).unwrap();
    assert_eq!(
        marks(&one("    return ans == expect", "42")),
        [(Correct, 1.0)]
    );
    assert_eq!(
        marks(&one("    return ans == expect", "41")),
        [(Incorrect, 0.0)]
    );
    assert_eq!(marks(&one("    return 'False'", "x")), [(Incorrect, 0.0)]);
    assert_eq!(
        marks(&one("    return 'Partially'", "x")),
        [(PartiallyCorrect, 0.5)]
    );
    let g = one(
        "    return {'ok': True, 'msg': '&lt;b&gt;Nice&lt;/b&gt;'}",
        "x",
    );
    assert_eq!(marks(&g), [(Correct, 1.0)]);
    assert!(g.correct_map["p_2_1"].msg.contains("<b>Nice</b>"));
    assert_eq!(
        marks(&one(
            "    return {'ok': 'partial', 'grade_decimal': 0.3}",
            "x"
        )),
        [(PartiallyCorrect, 0.3)]
    );
    // A single empty input is incorrect without running the check.
    assert_eq!(
        marks(&one("    raise ValueError('never run')", "")),
        [(Incorrect, 0.0)]
    );
}

#[test]
fn cfn_with_several_inputs_gets_a_list() {
    use Correctness::*;
    let body = "    return {'overall_message': 'All: ' + ','.join(ans), 'input_list': [\n        {'ok': ans[0] == '1', 'msg': 'first'},\n        {'ok': 'Partial'},\n        {'ok': 1},\n        {'ok': False, 'grade_decimal': 0.25}]}";
    let g = grade(
        &custom(body, 4, ""),
        1,
        &[
            ("p_2_1", "1"),
            ("p_2_2", ""),
            ("p_2_3", "x"),
            ("p_2_4", "y"),
        ],
    )
    .unwrap();
    // `ok: 1` is marked correct but earns nothing: only "true" earns a point.
    assert_eq!(
        marks(&g),
        [
            (Correct, 1.0),
            (PartiallyCorrect, 0.5),
            (Correct, 0.0),
            (Incorrect, 0.25)
        ]
    );
    assert!(
        g.correct_map["p_2_1"].msg.contains("All: 1,,x,y"),
        "{:?}",
        g.correct_map
    );
}

#[test]
fn extra_args_and_script_errors() {
    let xml = r#"<problem><script type="loncapa/python">
def check(expect, ans, attempt, options):
    return attempt == 1 and options == 'o'
</script><customresponse cfn="check" cfn_extra_args="attempt options" options="o"><textline/></customresponse></problem>"#;
    assert!(grade(xml, 1, &[("p_2_1", "x")]).unwrap().is_correct());
    let err = grade(&custom("    return 1/0", 1, ""), 1, &[("p_2_1", "x")]).unwrap_err();
    assert!(err.contains("ZeroDivisionError"), "{err}");
    assert!(!err.contains("Traceback"), "{err}");
    let bad = grade(
        &custom("    return {'nothing': 1}", 1, ""),
        1,
        &[("p_2_1", "x")],
    )
    .unwrap_err();
    assert!(bad.contains("invalid dictionary"), "{bad}");
}

#[test]
fn answer_code_sets_correct_and_messages() {
    use Correctness::*;
    let xml = r#"<problem><script type="loncapa/python">
target = 7
</script><customresponse>
<textline/><textline/>
<answer type="loncapa/python">
if submission[0] == str(target):
    correct[0] = 'correct'
    messages[0] = 'yes'
else:
    correct[0] = 'incorrect'
correct[1] = 'partially-correct'
overall_message = 'seen'
</answer></customresponse></problem>"#;
    let g = grade(xml, 1, &[("p_2_1", "7"), ("p_2_2", "a")]).unwrap();
    assert_eq!(marks(&g), [(Correct, 1.0), (PartiallyCorrect, 0.5)]);
    assert!(g.correct_map["p_2_1"].msg.contains("seen"));
    let g = grade(xml, 1, &[("p_2_1", "8"), ("p_2_2", "a")]).unwrap();
    assert_eq!(marks(&g)[0], (Incorrect, 0.0));
}

#[test]
fn show_answer_of_a_customresponse_is_expect() {
    let runner = UnsandboxedRunner::new();
    let files = ScriptFiles::new();
    let xml = r#"<problem><script type="loncapa/python">
v = 3
def f(e, a):
    return a == e
</script><customresponse cfn="f" expect="$v"><textline/></customresponse></problem>"#;
    let p = Problem::parse(xml, "p")
        .unwrap()
        .instantiate(&env(&runner, &files), 1)
        .unwrap();
    assert_eq!(
        p.correct_answers(1).get("p_2_1"),
        Some(&Answer::Single("3".into()))
    );
}
