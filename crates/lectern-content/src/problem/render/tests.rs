use super::super::{Answer, Correctness, InputResult, Problem};
use super::RenderView;
use std::collections::BTreeMap;

const XML: &str = r#"<problem>
  <p>Intro <b>bold</b><script type="text/javascript">alert(1)</script></p>
  <table><tr><td><p onclick="x()">Capital?</p><optionresponse><optioninput label="Capital?" options="('Paris','Rome')" correct="Paris"/></optionresponse></td></tr></table>
  <multiplechoiceresponse>
    <label>Pick <i>one</i></label>
    <description>Only one.</description>
    <choicegroup><choice correct="false">A<choicehint>nope</choicehint></choice><choice correct="true">B <img src="/static/b.png" onerror="x()"/></choice></choicegroup>
  </multiplechoiceresponse>
  <stringresponse answer="cat"><label>Animal</label><textline/><correcthint>meow</correcthint></stringresponse>
  <solution><p>Because.</p></solution>
  <demandhint><hint>First hint</hint><hint>Second hint</hint></demandhint>
</problem>"#;

fn problem() -> Problem {
    Problem::parse(XML, "q1").unwrap()
}

#[test]
fn question_inputs_and_sanitizing() {
    let html = problem().render(&RenderView::new(1));
    for want in [
        "Intro <b>bold</b>",
        r#"<select name="q1_2_1" id="input_q1_2_1">"#,
        r#"<option value="Paris">Paris</option>"#,
        r#"<input type="radio" name="q1_3_1" value="choice_1">"#,
        r#"<img src="/static/b.png">"#,
        "Pick <i>one</i>",
        "Only one.",
        r#"<input type="text" name="q1_4_1" id="input_q1_4_1" value="""#,
        "<td>",
    ] {
        assert!(html.contains(want), "missing {want} in {html}");
    }
    for banned in [
        "<script",
        "alert",
        "onclick",
        "onerror",
        "Because.",
        "First hint",
        "nope",
        "meow",
        "Capital?</p>",
    ] {
        assert!(!html.contains(banned), "{banned} leaked into {html}");
    }
    // The paragraph that repeats the dropdown's label became its label.
    assert_eq!(html.matches("Capital?").count(), 1, "{html}");
}

#[test]
fn previous_answers_markers_answers_and_hints() {
    let p = problem();
    let answers = BTreeMap::from([
        ("q1_2_1".to_string(), Answer::Single("Rome".into())),
        ("q1_3_1".to_string(), Answer::Single("choice_0".into())),
        ("q1_4_1".to_string(), Answer::Single("a \"cat\" <b>".into())),
    ]);
    let grading = p.grade(&answers, 1).unwrap();
    assert_eq!(
        grading.correct_map["q1_3_1"].correctness,
        Correctness::Incorrect
    );
    let view = RenderView {
        seed: 1,
        answers: Some(&answers),
        results: Some(&grading.correct_map),
        show_answer: false,
        hints_shown: 1,
        disabled: true,
        hide_correctness: false,
    };
    let html = p.render(&view);
    for want in [
        r#"<option value="Rome" selected>"#,
        r#"value="choice_0" checked disabled>"#,
        r#"value="a &quot;cat&quot; &lt;b&gt;""#,
        r#"<span class="status incorrect">incorrect</span>"#,
        "nope",
        "Hint (1 of 2): </strong>First hint",
    ] {
        assert!(html.contains(want), "missing {want} in {html}");
    }
    assert!(!html.contains("Second hint") && !html.contains("Because."));
    let shown = p.render(&RenderView {
        show_answer: true,
        ..RenderView::new(1)
    });
    for want in [
        "Because.",
        "<strong>Answer: </strong>Paris",
        "<strong>Answer: </strong>B",
        "<strong>Answer: </strong>cat",
    ] {
        assert!(shown.contains(want), "missing {want} in {shown}");
    }
    let partial = BTreeMap::from([(
        "q1_4_1".to_string(),
        InputResult {
            correctness: Correctness::PartiallyCorrect,
            npoints: 0.5,
            msg: String::new(),
        },
    )]);
    let html = p.render(&RenderView {
        results: Some(&partial),
        ..RenderView::new(1)
    });
    assert!(html.contains(r#"<span class="status partially-correct">partially correct</span>"#));
}

#[test]
fn shuffled_choices_follow_the_seed() {
    let xml = r#"<problem><multiplechoiceresponse><choicegroup shuffle="true">
        <choice correct="true">c0</choice><choice correct="false">c1</choice><choice correct="false">c2</choice><choice correct="false">c3</choice><choice correct="false">c4</choice>
        </choicegroup></multiplechoiceresponse></problem>"#;
    let p = Problem::parse(xml, "s").unwrap();
    let order = |seed| {
        let html = p.render(&RenderView::new(seed));
        let mut pos: Vec<(usize, usize)> = (0..5)
            .map(|i| (html.find(&format!("> c{i}<")).unwrap(), i))
            .collect();
        pos.sort();
        pos.into_iter().map(|(_, i)| i).collect::<Vec<_>>()
    };
    assert_eq!(order(4), order(4));
    assert!((0..20).any(|s| order(s) != vec![0, 1, 2, 3, 4]));
    assert_eq!(p.display_order("s_2_1", 4), order(4));
}

#[test]
fn checked_boxes_and_hidden_correctness() {
    let p = Problem::parse(
        r#"<problem><choiceresponse><checkboxgroup><choice correct="true">a<choicehint selected="true">HINT-A</choicehint></choice><choice correct="false">b</choice><choice correct="true">c</choice></checkboxgroup></choiceresponse></problem>"#,
        "cb",
    )
    .unwrap();
    let answers = BTreeMap::from([(
        "cb_2_1".to_string(),
        Answer::Multiple(vec!["choice_0".into(), "choice_2".into()]),
    )]);
    let grading = p.grade(&answers, 1).unwrap();
    let mut view = RenderView {
        answers: Some(&answers),
        results: Some(&grading.correct_map),
        ..RenderView::new(1)
    };
    let html = p.render(&view);
    assert!(html.contains(r#"value="choice_0" checked>"#), "{html}");
    assert!(html.contains(r#"value="choice_1">"#), "{html}");
    assert!(html.contains(r#"value="choice_2" checked>"#), "{html}");
    assert!(
        html.contains("status correct") && html.contains("HINT-A"),
        "{html}"
    );
    view.hide_correctness = true;
    let html = p.render(&view);
    assert!(html.contains(r#"value="choice_2" checked>"#), "{html}");
    assert!(html.contains("status submitted"), "{html}");
    assert!(
        !html.contains("status correct") && !html.contains("HINT-A"),
        "{html}"
    );
}

#[test]
fn author_text_cannot_forge_an_input_placeholder() {
    // The text the renderer once used as a placeholder, written by an
    // author in text and in an attribute, with and without a guessed nonce.
    let forged = [
        "\u{E000}lectern-input-0\u{E001}",
        &format!("\u{E000}lectern-input-{:032x}-0\u{E001}", 0),
    ]
    .concat();
    let xml = format!(
        r#"<problem><p title="{forged}">Before {forged}</p><a href="/x" title="{forged}">link</a><stringresponse answer="cat"><textline/></stringresponse></problem>"#
    );
    let html = Problem::parse(&xml, "f")
        .unwrap()
        .render(&RenderView::new(1));
    // The input is drawn once, where the response is, and nowhere else.
    assert_eq!(html.matches("<input").count(), 1, "{html}");
    let control = html.find(r#"name="f_2_1""#).unwrap();
    assert!(html.find("link</a>").unwrap() < control, "{html}");
    // Nothing generated landed inside an attribute: every title holds only
    // the author's text.
    for title in html.split(r#"title=""#).skip(1) {
        let value = title.split('"').next().unwrap();
        assert!(!value.contains('<') && !value.contains("f_2_1"), "{value}");
    }
}

#[test]
fn one_problem_renders_each_learners_state_and_the_solution_only_when_asked() {
    // The sanitized markup is made once per problem and shared: what one
    // rendering shows (answers, the solution) must never reach the next.
    let p = problem();
    let first = BTreeMap::from([("q1_4_1".to_string(), Answer::Single("first-learner".into()))]);
    let second = BTreeMap::from([("q1_4_1".to_string(), Answer::Single("<second>".into()))]);
    let with_answer = RenderView {
        answers: Some(&first),
        show_answer: true,
        ..RenderView::new(1)
    };
    let html = p.render(&with_answer);
    assert!(html.contains(r#"value="first-learner""#), "{html}");
    assert!(html.contains("Because."), "{html}");
    let plain = RenderView {
        answers: Some(&second),
        ..RenderView::new(1)
    };
    let html = p.render(&plain);
    assert!(html.contains(r#"value="&lt;second&gt;""#), "{html}");
    assert!(
        !html.contains("first-learner") && !html.contains("Because."),
        "{html}"
    );
    assert_eq!(html.matches("<input").count(), 3, "{html}");
    // The same markup as a fresh parse of the same problem gives.
    assert_eq!(html, problem().render(&plain));
    assert_eq!(p.render(&with_answer), problem().render(&with_answer));
}
