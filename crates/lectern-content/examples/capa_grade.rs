//! Grades CAPA problems for the differential test against Open edX
//! (`tests/oracle/capa_diff.py`): reads JSON lines
//! `{"xml", "problem_id", "answers": {id: "text" | ["names"]}, "seed"}` on
//! stdin and prints one JSON line per case:
//! `{"status": "graded", "earned", "possible", "correctness": {id: ...}, "npoints": {id: ...}}`,
//! `{"status": "rejected", "error"}` (no attempt used),
//! `{"status": "unsupported", "error"}` or `{"status": "parse_error", "error"}`.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use lectern_content::problem::{Answer, Problem};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Case {
    xml: String,
    problem_id: String,
    #[serde(default)]
    answers: BTreeMap<String, Answer>,
    #[serde(default)]
    seed: u64,
}

fn grade(line: &str) -> serde_json::Value {
    let case: Case = match serde_json::from_str(line) {
        Ok(c) => c,
        Err(e) => return json!({"status": "bad_case", "error": e.to_string()}),
    };
    let problem = match Problem::parse(&case.xml, &case.problem_id) {
        Ok(p) => p,
        Err(e) => return json!({"status": "parse_error", "error": e.to_string()}),
    };
    if !problem.is_gradable() {
        return json!({"status": "unsupported", "error": problem.unsupported().join("; ")});
    }
    match problem.grade(&case.answers, case.seed) {
        Ok(g) => json!({
            "status": "graded",
            "earned": g.raw_earned,
            "possible": g.raw_possible,
            "correctness": g.correct_map.iter().map(|(k, v)| (k.clone(), v.correctness.as_str())).collect::<BTreeMap<_, _>>(),
            "npoints": g.correct_map.iter().map(|(k, v)| (k.clone(), v.npoints)).collect::<BTreeMap<_, _>>(),
        }),
        Err(e) => json!({"status": "rejected", "error": e.to_string()}),
    }
}

fn main() -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", grade(&line))?;
    }
    out.flush()
}
