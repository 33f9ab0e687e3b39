//! Reads expressions from standard input, one per line, evaluates each with
//! `lectern_content::calc::evaluate` and prints one JSON object per line.
//! Used by the differential test `tests/oracle/calc_diff.py`.
//!
//! A line is either a bare expression (no variables, case-insensitive) or a
//! JSON object `{"expr": "...", "vars": {"x": [re, im]}, "cs": false}`.
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
    }
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
            let re = val[0].as_f64().ok_or("bad variable")?;
            let im = val[1].as_f64().unwrap_or(0.0);
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
