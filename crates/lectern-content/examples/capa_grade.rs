//! Grades CAPA problems for the differential test against Open edX
//! (`tests/oracle/capa_diff.py`): reads JSON lines
//! `{"xml", "problem_id", "answers": {id: "text" | ["names"]}, "seed"}` on
//! stdin and prints one JSON line per case:
//! `{"status": "graded", "earned", "possible", "correctness": {id: ...}, "npoints": {id: ...}}`,
//! `{"status": "rejected", "error"}` (no attempt used),
//! `{"status": "unsupported", "error"}` or `{"status": "parse_error", "error"}`.
//!
//! Problems that need Python run through `UnsandboxedRunner` (the machine's
//! python3, NO sandbox: a test tool only); a script that fails while the
//! problem is built answers `{"status": "script_error", "error"}`. A case
//! may give `anonymous_student_id` (default `student`), `attempt` and
//! `files` (course files for scripts, `{name: base64}`).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use base64::Engine;

use lectern_content::problem::script::{ScriptEnv, ScriptFiles};
use lectern_content::problem::{Answer, Problem};
use lectern_content::script_testing::UnsandboxedRunner;
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
    #[serde(default = "student")]
    anonymous_student_id: String,
    #[serde(default = "first")]
    attempt: u32,
    /// Course files for scripts (`python_lib.zip`), base64.
    #[serde(default)]
    files: BTreeMap<String, String>,
}

fn student() -> String {
    "student".into()
}

fn first() -> u32 {
    1
}

fn grade(line: &str, runner: &UnsandboxedRunner) -> serde_json::Value {
    let case: Case = match serde_json::from_str(line) {
        Ok(c) => c,
        Err(e) => return json!({"status": "bad_case", "error": e.to_string()}),
    };
    let problem = match Problem::parse(&case.xml, &case.problem_id) {
        Ok(p) => p,
        Err(e) => return json!({"status": "parse_error", "error": e.to_string()}),
    };
    let mut files = ScriptFiles::new();
    for (name, b64) in &case.files {
        match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(bytes) => {
                files.insert(name.clone(), std::sync::Arc::new(bytes));
            }
            Err(e) => return json!({"status": "bad_case", "error": e.to_string()}),
        }
    }
    let env = ScriptEnv {
        runner,
        files: &files,
        anonymous_student_id: &case.anonymous_student_id,
        attempt: case.attempt,
    };
    let problem = if problem.needs_python() && problem.unsupported_with_python().is_empty() {
        match problem.instantiate(&env, case.seed) {
            Ok(p) => p,
            Err(e) => return json!({"status": "script_error", "error": e.to_string()}),
        }
    } else {
        problem
    };
    if !problem.is_gradable() {
        return json!({"status": "unsupported", "error": problem.unsupported().join("; ")});
    }
    match problem.grade_scripted(&case.answers, case.seed, &env) {
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
    let runner = UnsandboxedRunner::new();
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        writeln!(out, "{}", grade(&line, &runner))?;
    }
    out.flush()
}
