use super::*;

fn grade(xml: &str, given: &str) -> Result<(&'static str, f64), String> {
    let n = Numerical::parse(&super::super::xml::parse(xml).unwrap()).unwrap();
    let answers = BTreeMap::from([("i".to_string(), Answer::Single(given.to_string()))]);
    n.grade("i", &answers)
        .map(|r| (r.correctness.as_str(), r.npoints))
        .map_err(|e| e.message)
}

fn resp(attrs: &str, inner: &str) -> String {
    format!("<numericalresponse {attrs}>{inner}<textline/></numericalresponse>")
}

fn tol(t: &str) -> String {
    format!(r#"<responseparam type="tolerance" default="{t}"/>"#)
}

#[test]
fn grading_table() {
    let abs = resp(r#"answer="4""#, &tol("0.1"));
    let pct = resp(r#"answer="10""#, &tol("10%"));
    let default = resp(r#"answer="100""#, "");
    let explicit_default = resp(r#"answer="100""#, &tol("0.001%"));
    let half_open = resp(r#"answer="[5,10)""#, "");
    let open_closed = resp(r#"answer="(5, 10]""#, "");
    let range_close = resp(r#"answer="[5,10]" partial_credit="close""#, "");
    let extra = resp(
        r#"answer="5""#,
        &format!(r#"{}<additional_answer answer="7"/>"#, tol("0")),
    );
    let close = resp(r#"answer="10" partial_credit="close""#, &tol("1"));
    let close_default = resp(r#"answer="100" partial_credit="close""#, "");
    let close_pct = resp(
        r#"answer="100" partial_credit="close""#,
        &format!(r#"{}<responseparam partial_range="3"/>"#, tol("1%")),
    );
    let list_close = resp(
        r#"answer="10" partial_credit="list, close""#,
        &format!(r#"{}<responseparam partial_answers="20"/>"#, tol("1")),
    );
    let list = resp(
        r#"answer="2" partial_credit="list""#,
        r#"<responseparam partial_answers="1, 3"/>"#,
    );
    let bad_credit = resp(r#"answer="2" partial_credit="bogus""#, "");
    let bad_tolerance = resp(r#"answer="2""#, &tol("lots"));
    let staff_complex = resp(r#"answer="1+1j""#, "");
    let staff_bad = resp(r#"answer="two""#, "");
    // (problem, input, expected (correctness, points) or a refusal)
    let ok = |c: &'static str, p: f64| Ok::<_, ()>((c, p));
    let refused = Err::<(&str, f64), ()>(());
    let cases = vec![
        (&abs, "3.9", ok("correct", 1.0)),
        (&abs, "4.1", ok("correct", 1.0)),
        (&abs, "3.89", ok("incorrect", 0.0)),
        (&abs, "4", ok("correct", 1.0)),
        (&abs, "", ok("incorrect", 0.0)),
        (&abs, "   ", ok("incorrect", 0.0)),
        (&abs, "1e999", ok("incorrect", 0.0)),
        (&abs, "four", refused),
        (&pct, "9", ok("correct", 1.0)),
        (&pct, "11", ok("correct", 1.0)),
        (&pct, "11.01", ok("incorrect", 0.0)),
        (&pct, "-10", ok("incorrect", 0.0)),
        // 0.001% of the larger value.
        (&default, "100.001", ok("correct", 1.0)),
        (&default, "100.0011", ok("incorrect", 0.0)),
        (&default, "99.999", ok("correct", 1.0)),
        (&explicit_default, "100.001", ok("correct", 1.0)),
        (&half_open, "5", ok("correct", 1.0)),
        (&half_open, "10", ok("incorrect", 0.0)),
        (&half_open, "9.999", ok("correct", 1.0)),
        (&half_open, "4.999", ok("incorrect", 0.0)),
        (&open_closed, "5", ok("incorrect", 0.0)),
        (&open_closed, "10", ok("correct", 1.0)),
        (&open_closed, "", ok("incorrect", 0.0)),
        // Range widened by 2 × width (5) on each side, strict.
        (&range_close, "19", ok("partially-correct", 0.5)),
        (&range_close, "20", ok("incorrect", 0.0)),
        (&range_close, "-4.9", ok("partially-correct", 0.5)),
        (&extra, "7", ok("correct", 1.0)),
        (&extra, "7.0000001", ok("incorrect", 0.0)),
        (&extra, "5", ok("correct", 1.0)),
        (&close, "11", ok("correct", 1.0)),
        (&close, "12", ok("partially-correct", 0.5)),
        (&close, "12.1", ok("incorrect", 0.0)),
        // close with no tolerance: 0.002% of the answer (not relative).
        (&close_default, "100.002", ok("partially-correct", 0.5)),
        (&close_default, "100.0021", ok("incorrect", 0.0)),
        // 1% widened 3 times: 3% of 100.
        (&close_pct, "103", ok("partially-correct", 0.5)),
        (&close_pct, "103.01", ok("incorrect", 0.0)),
        // list,close: near a partial answer ½; near the answer widened ½; near the partial widened ¼.
        (&list_close, "20.5", ok("partially-correct", 0.5)),
        (&list_close, "12", ok("partially-correct", 0.5)),
        (&list_close, "22", ok("partially-correct", 0.25)),
        (&list_close, "23", ok("incorrect", 0.0)),
        (&list, "1", ok("partially-correct", 0.5)),
        (&list, "3", ok("partially-correct", 0.5)),
        (&list, "2", ok("correct", 1.0)),
        (&list, "4", ok("incorrect", 0.0)),
        (&bad_credit, "2", refused),
        (&bad_tolerance, "2", refused),
        (&staff_complex, "1", ok("incorrect", 0.0)),
        (&staff_bad, "2", refused),
    ];
    for (i, (xml, given, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            grade(xml, given).map_err(|_| ()),
            want,
            "case {i}: {given:?} for {xml}"
        );
    }
}

#[test]
fn a_missing_answer_or_a_list() {
    let n =
        Numerical::parse(&super::super::xml::parse(&resp(r#"answer="1""#, "")).unwrap()).unwrap();
    assert_eq!(
        n.grade("i", &BTreeMap::new()).unwrap().correctness.as_str(),
        "incorrect"
    );
    let list = BTreeMap::from([("i".to_string(), Answer::Multiple(vec!["1".into()]))]);
    assert!(n.grade("i", &list).is_err());
}

#[test]
fn python_float_repr() {
    let cases = [
        (0.002, "0.002"),
        (2e-5, "2e-05"),
        (1e16, "1e+16"),
        (5.0, "5.0"),
        (0.0001, "0.0001"),
        (123.5, "123.5"),
    ];
    for (x, want) in cases {
        assert_eq!(py_repr(x), want);
    }
}
