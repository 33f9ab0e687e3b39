//! Reads expressions from standard input, one per line, evaluates each with
//! `lectern_content::calc::evaluate` and prints one JSON object per line.
//! Used by the differential test `tests/oracle/calc_diff.py`.
//!
//! A line is either a bare expression (no variables, case-insensitive) or a
//! JSON object `{"expr": "...", "vars": {"x": [re, im]}, "cs": false}`
//! (a component may be a string: "inf", "-inf", "NaN").
//! Output: `{"ok": ["re", "im"]}` (floats as strings so NaN and infinity
//! survive) or `{"error": "<kind>", "message": "..."}`, where kind is one of
//! syntax, undefined_variable, undefined_function, division_by_zero,
//! domain, overflow, bad_request.

use lectern_content::calc::{evaluate, CalcError};
use num_complex::Complex64;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, Write};

fn kind(e: &CalcError) -> &'static str {
    match e {
        CalcError::Syntax { .. } => "syntax",
        CalcError::UndefinedVariable(_) => "undefined_variable",
        CalcError::UndefinedFunction(_) => "undefined_function",
        CalcError::DivisionByZero => "division_by_zero",
        CalcError::Domain(_) => "domain",
        CalcError::Overflow(_) => "overflow",
        CalcError::TooComplex(_) => "too_complex",
    }
}

/// A JSON number, or a string such as "inf", "-inf" or "nan".
fn number(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn request(line: &str) -> Result<(String, HashMap<String, Complex64>, bool), String> {
    if !line.trim_start().starts_with('{') {
        return Ok((line.to_string(), HashMap::new(), false));
    }
    let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let expr = v["expr"].as_str().ok_or("missing expr")?.to_string();
    let cs = v["cs"].as_bool().unwrap_or(false);
    let mut vars = HashMap::new();
    if let Some(map) = v["vars"].as_object() {
        for (name, val) in map {
            let re = number(&val[0]).ok_or("bad variable")?;
            let im = number(&val[1]).unwrap_or(0.0);
            vars.insert(name.clone(), Complex64::new(re, im));
        }
    }
    Ok((expr, vars, cs))
}

fn main() {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let answer = match request(&line) {
            Err(message) => json!({"error": "bad_request", "message": message}),
            Ok((expr, vars, cs)) => match evaluate(&expr, &vars, cs) {
                Ok(z) => json!({"ok": [format!("{:?}", z.re), format!("{:?}", z.im)]}),
                Err(e) => json!({"error": kind(&e), "message": e.to_string()}),
            },
        };
        if writeln!(out, "{answer}").is_err() {
            break;
        }
    }
    let _ = out.flush();
}
