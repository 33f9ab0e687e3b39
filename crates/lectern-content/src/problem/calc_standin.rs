//! Temporary stand-in for `crate::calc` until the real evaluator lands:
//! plain numbers, a `%` suffix and bare variable names only. Same signatures.

use num_complex::Complex64;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum CalcError {
    #[error("Invalid Input: {0} not permitted in answer as a variable")]
    Undefined(String),
    #[error("Invalid math syntax: '{0}'")]
    Syntax(String),
}

pub fn evaluate(
    expr: &str,
    vars: &HashMap<String, Complex64>,
    case_sensitive: bool,
) -> Result<Complex64, CalcError> {
    let t = expr.trim();
    if t.is_empty() {
        return Ok(Complex64::new(f64::NAN, 0.0));
    }
    if let Some(p) = t.strip_suffix('%') {
        return evaluate(p, vars, case_sensitive).map(|v| v * 0.01);
    }
    if let Some(r) = t.strip_prefix('-') {
        return evaluate(r, vars, case_sensitive).map(|v| -v);
    }
    if t.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')
    {
        return t
            .parse::<f64>()
            .map(|v| Complex64::new(v, 0.0))
            .map_err(|_| CalcError::Syntax(t.into()));
    }
    let found = vars.iter().find(|(k, _)| {
        if case_sensitive {
            k.as_str() == t
        } else {
            k.eq_ignore_ascii_case(t)
        }
    });
    match found {
        Some((_, v)) => Ok(*v),
        None => Err(CalcError::Undefined(t.into())),
    }
}

pub fn variables_used(expr: &str) -> Result<Vec<String>, CalcError> {
    let t = expr.trim().trim_end_matches('%');
    if t.chars().next().is_some_and(|c| c.is_alphabetic()) {
        Ok(vec![t.to_string()])
    } else {
        Ok(vec![])
    }
}
