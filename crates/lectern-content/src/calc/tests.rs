//! Table tests of the evaluator. Every expected value and error below was
//! produced by Open edX's `openedx-calc` 4.0.3 (`calc.evaluator` with
//! x = 2.0, y = 3.5, z = 1+2j) and written here by hand; the differential
//! harness `tests/oracle/calc_diff.py` checks thousands more.

// The expected values are Open edX's outputs copied digit for digit, some
// of which happen to equal a std constant; naming the constant would hide
// where they came from.
#![allow(clippy::approx_constant)]

use super::*;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

fn vars() -> HashMap<String, Complex64> {
    HashMap::from([
        ("x".to_string(), Complex64::new(2.0, 0.0)),
        ("y".to_string(), Complex64::new(3.5, 0.0)),
        ("z".to_string(), Complex64::new(1.0, 2.0)),
    ])
}

/// Equal within 1e-12 relative, NaN matching NaN and infinities exact.
fn same(got: f64, want: f64, scale: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return want == got;
    }
    (got - want).abs() <= 1e-12 * scale
}

#[test]
fn values_match_open_edx() {
    let cases: &[(&str, f64, f64)] = &[
        ("-2^2", -4.0, 0.0),
        ("2^3^2", 512.0, 0.0),
        ("1||1", 0.5, 0.0),
        ("1||2||3", 0.5454545454545455, 0.0),
        ("0||1", NAN, 0.0),
        ("5%", 0.05, 0.0),
        ("1e3%", 10.0, 0.0),
        (".5", 0.5, 0.0),
        ("5.", 5.0, 0.0),
        ("1.5E+3", 1500.0, 0.0),
        ("2 e - 3", 0.002, 0.0),
        ("--2", 2.0, 0.0),
        ("2*-2^2", 8.0, 0.0),
        ("2^-1", 0.5, 0.0),
        ("0^0", 1.0, 0.0),
        ("10^400/10^399", 10.0, 0.0),
        ("fact(171)/fact(170)", 171.0, 0.0),
        ("fact(5)", 120.0, 0.0),
        ("factorial(0)", 1.0, 0.0),
        ("fact(abs(-4))", 24.0, 0.0),
        ("abs(-3)", 3.0, 0.0),
        ("abs(z)", 2.23606797749979, 0.0),
        ("abs(2^62)*4", 0.0, 0.0),
        ("sqrt(-1)", 0.0, 1.0),
        ("sqrt(-4)", 0.0, 2.0),
        ("(-8)^(1/3)", 1.0000000000000002, 1.7320508075688772),
        ("i^2", -1.0, 0.0),
        ("j*j", -1.0, 0.0),
        ("e^(i*pi)", -1.0, 1.2246467991473532e-16),
        ("exp(1)", 2.718281828459045, 0.0),
        ("ln(e)", 1.0, 0.0),
        ("ln(-1)", 0.0, 3.141592653589793),
        ("log10(1000)", 3.0, 0.0),
        ("log2(-8)", 2.9999999999999996, 4.532360141827193),
        ("sin(pi/6)", 0.49999999999999994, 0.0),
        ("Cos(PI)", -1.0, 0.0),
        ("tan(pi/4)", 0.9999999999999999, 0.0),
        ("sec(0)", 1.0, 0.0),
        ("csc(pi/2)", 1.0, 0.0),
        ("cot(pi/4)", 1.0000000000000002, 0.0),
        ("arcsin(2)", 1.5707963267948966, 1.3169578969248166),
        ("arccos(0.5)", 1.0471975511965976, 0.0),
        ("arctan(1)", 0.7853981633974483, 0.0),
        ("arcsec(2)", 1.0471975511965976, 0.0),
        ("arccsc(2)", 0.5235987755982989, 0.0),
        ("arccot(-1)", -0.7853981633974483, 0.0),
        ("arccot(0)", 1.5707963267948966, 0.0),
        ("sinh(1)", 1.1752011936438014, 0.0),
        ("cosh(1)", 1.5430806348152437, 0.0),
        ("tanh(1000)", 1.0, 0.0),
        ("sech(0)", 1.0, 0.0),
        ("csch(1)", 0.8509181282393216, 0.0),
        ("coth(1)", 1.3130352854993315, 0.0),
        ("arcsinh(1)", 0.881373587019543, 0.0),
        ("arccosh(0.5)", NAN, 0.0),
        ("arccosh(2)", 1.3169578969248168, 0.0),
        ("arctanh(2)", 0.5493061443340549, 1.5707963267948966),
        ("arcsech(0.5)", 1.3169578969248168, 0.0),
        ("arccsch(1)", 0.881373587019543, 0.0),
        ("arccoth(2)", 0.5493061443340549, 0.0),
        ("sin(z)", 3.165778513216168, 1.9596010414216063),
        ("arcsin(z)", 0.42707858639247614, 1.528570919480998),
        ("z^z", -0.22251715680177267, 0.10070913113607541),
        ("x*y-z", 6.0, -2.0),
        ("X+Y", 5.5, 0.0),
        ("1/sin(0)", INF, 0.0),
        ("1e999", INF, 0.0),
        ("1e999-1e999", NAN, 0.0),
        ("0||1", NAN, 0.0),
        ("(1e999*i)", NAN, NAN),
        ("sqrt(-1e999)", NAN, INF),
    ];
    let vars = vars();
    for (expr, re, im) in cases {
        let got = evaluate(expr, &vars, false).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let scale = [re.abs(), im.abs()]
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(1e-300, f64::max);
        assert!(
            same(got.re, *re, scale) && same(got.im, *im, scale),
            "{expr}: got {got}, Open edX gives {re}+{im}j"
        );
    }
}

/// The kind of an error, named as in the table below.
fn kind(e: &CalcError) -> &'static str {
    match e {
        CalcError::Syntax { .. } => "syntax",
        CalcError::UndefinedVariable(_) => "undefined variable",
        CalcError::UndefinedFunction(_) => "undefined function",
        CalcError::DivisionByZero => "division by zero",
        CalcError::Domain(_) => "domain",
        CalcError::Overflow(_) => "overflow",
        CalcError::TooComplex(_) => "too complex",
    }
}

#[test]
fn errors_match_open_edx() {
    // (expression, kind of error Open edX raises: ParseException or
    // UnmatchedParenthesis, UndefinedVariable "as a variable" / "as a
    // function", ZeroDivisionError, ValueError or TypeError, OverflowError)
    let cases: &[(&str, &str)] = &[
        ("5k", "syntax"),
        ("2x", "syntax"),
        ("2 x", "syntax"),
        ("(2)(3)", "syntax"),
        ("2*-x", "syntax"),
        ("--x", "syntax"),
        ("1e", "syntax"),
        ("3%%", "syntax"),
        ("1.2.3", "syntax"),
        ("()", "syntax"),
        ("sin(x", "syntax"),
        (")(", "syntax"),
        ("1|2", "syntax"),
        ("2**3", "syntax"),
        ("x '", "syntax"),
        ("q", "undefined variable"),
        ("a_{1}", "undefined variable"),
        ("f'", "undefined variable"),
        ("x(2)", "undefined function"),
        ("foo(1)", "undefined function"),
        ("sin'(x)", "undefined function"),
        ("1/0", "division by zero"),
        ("1/0.0", "division by zero"),
        ("0^-1", "division by zero"),
        ("1||-1", "division by zero"),
        ("i/0", "division by zero"),
        ("(0*i)^-1", "division by zero"),
        ("fact(-1)", "domain"),
        ("fact(1.5)", "domain"),
        ("fact(3.0)", "domain"),
        ("abs(-3)^-1", "domain"),
        ("sin(2^70)", "domain"),
        ("10.0^400", "overflow"),
        ("(1e200)^2", "overflow"),
        ("10^400", "overflow"),
        ("abs(2^62)+2^70", "overflow"),
    ];
    let vars = vars();
    for (expr, want) in cases {
        match evaluate(expr, &vars, false) {
            Err(e) => assert_eq!(kind(&e), *want, "{expr}: {e:?}"),
            Ok(v) => panic!("{expr}: expected a {want} error, got {v}"),
        }
    }
}

#[test]
fn undefined_names_are_listed_sorted() {
    let e = evaluate("q + b*a + q", &vars(), false).unwrap_err();
    assert_eq!(e, CalcError::UndefinedVariable("a, b, q".to_string()));
    // Variables are checked before functions, and before evaluation.
    let e = evaluate("foo(1/0) + w", &vars(), false).unwrap_err();
    assert_eq!(e, CalcError::UndefinedVariable("w".to_string()));
    let e = evaluate("foo(1/0) + Bar(2)", &vars(), false).unwrap_err();
    assert_eq!(e, CalcError::UndefinedFunction("Bar, foo".to_string()));
}

#[test]
fn case_sensitivity() {
    let vars = vars();
    assert_eq!(
        evaluate("X", &vars, false).unwrap(),
        Complex64::new(2.0, 0.0)
    );
    assert_eq!(
        evaluate("X", &vars, true).unwrap_err(),
        CalcError::UndefinedVariable("X".to_string())
    );
    assert_eq!(
        evaluate("Sin(0)", &vars, true).unwrap_err(),
        CalcError::UndefinedFunction("Sin".to_string())
    );
    assert_eq!(
        evaluate("PI", &vars, true).unwrap_err(),
        CalcError::UndefinedVariable("PI".to_string())
    );
    // A caller's variable overrides a constant of the same name.
    let mut with_e = vars.clone();
    with_e.insert("E".to_string(), Complex64::new(5.0, 0.0));
    assert_eq!(
        evaluate("e", &with_e, false).unwrap(),
        Complex64::new(5.0, 0.0)
    );
}

#[test]
fn blank_expression_is_nan() {
    for expr in ["", "   ", "\t\n", "\u{a0}"] {
        assert!(
            evaluate(expr, &vars(), false).unwrap().re.is_nan(),
            "{expr:?}"
        );
    }
}

#[test]
fn variables_used_lists_names_not_functions_or_constants() {
    let cases: &[(&str, &[&str])] = &[
        ("x*y + sin(z) - pi*E + i + J", &["x", "y", "z"]),
        ("R_1 || R_2 + R_1", &["R_1", "R_2"]),
        ("a_{1}^{2} + f'", &["a_{1}^{2}", "f'"]),
        ("foo(q)", &["q"]),
        ("", &[]),
        ("3 + 4", &[]),
    ];
    for (expr, want) in cases {
        assert_eq!(variables_used(expr).unwrap(), *want, "{expr}");
    }
    assert!(matches!(
        variables_used("2x"),
        Err(CalcError::Syntax { .. })
    ));
}

#[test]
fn deep_nesting_is_refused_not_overflowing() {
    // Within the length limit: a syntax error, as Open edX's RecursionError.
    for deep in [
        format!("{}1{}", "(".repeat(500), ")".repeat(500)),
        format!("{}1{}", "sin(".repeat(300), ")".repeat(300)),
        format!("{}1", "(".repeat(999)),
    ] {
        assert!(
            matches!(
                evaluate(&deep, &HashMap::new(), false),
                Err(CalcError::Syntax { .. })
            ),
            "{}",
            &deep[..20]
        );
    }
    // Far past it (100,000 levels would overflow any recursive parser):
    // refused before parsing.
    let deeper = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(matches!(
        evaluate(&deeper, &HashMap::new(), false),
        Err(CalcError::TooComplex(_))
    ));
    let ok = format!("{}1{}", "(".repeat(30), ")".repeat(30));
    assert_eq!(
        evaluate(&ok, &HashMap::new(), false).unwrap(),
        Complex64::new(1.0, 0.0)
    );
}

#[test]
fn long_expressions_are_refused() {
    use crate::limits::MAX_EXPRESSION_CHARS;
    let at_limit = format!("1{}", "+1".repeat((MAX_EXPRESSION_CHARS - 1) / 2));
    assert!(at_limit.len() <= MAX_EXPRESSION_CHARS);
    let n = (at_limit.len() / 2 + 1) as f64;
    assert_eq!(
        evaluate(&at_limit, &HashMap::new(), false).unwrap(),
        Complex64::new(n, 0.0)
    );
    let over = format!("{at_limit}+1+1");
    let e = evaluate(&over, &HashMap::new(), false).unwrap_err();
    assert!(matches!(e, CalcError::TooComplex(_)), "{e}");
    assert!(e.to_string().contains("longer than"), "{e}");
    assert!(matches!(
        variables_used(&over),
        Err(CalcError::TooComplex(_))
    ));
}

#[test]
fn work_is_bounded_by_a_budget() {
    let vars = HashMap::new();
    // One large factorial is fine; many in one answer are refused, not computed.
    assert!(matches!(
        evaluate("fact(9999)/fact(9998)", &vars, false),
        Ok(z) if z.re == 9999.0
    ));
    // Only factorials pay per multiplication: a large argument elsewhere costs its size.
    assert!(evaluate("abs(2^64-1)/2", &vars, false).is_ok());
    let many = ["fact(9999)"; 8].join("+");
    assert!(matches!(
        evaluate(&many, &vars, false),
        Err(CalcError::TooComplex(_))
    ));
    // A shared budget bounds a run of evaluations, not just each one.
    let budget = Budget::new(2_000);
    let runs = (0..100)
        .take_while(|_| evaluate_within("1+2*3", &vars, false, &budget).is_ok())
        .count();
    assert!(runs > 10 && runs < 100, "{runs}");
    // And a scope hands its budget to evaluate().
    let used_up = Budget::new(3).scope(|| evaluate("1+2*3", &vars, false));
    assert!(matches!(used_up, Err(CalcError::TooComplex(_))));
    assert!(evaluate("1+2*3", &vars, false).is_ok());
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn on_arbitrary_text(s in "\\PC{0,40}") {
            let _ = evaluate(&s, &vars(), false);
            let _ = variables_used(&s);
        }

        #[test]
        fn on_expression_like_text(s in "[-+*/^|%().eE0-9xyzij a-z_{}']{0,40}") {
            let _ = evaluate(&s, &vars(), false);
            let _ = evaluate(&s, &vars(), true);
            let _ = variables_used(&s);
        }
    }
}
