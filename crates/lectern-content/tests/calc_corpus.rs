//! The `calc` fuzz target's committed corpus (`fuzz/corpus/calc/`: ordinary
//! answers, the hostile ones from issue 13, deep nesting, huge numbers,
//! unicode, bad bytes), replayed on stable in a child process (this test
//! binary again) held to an address-space and CPU-time limit: an input
//! that makes the evaluator run away with memory or time kills the child
//! and fails this test, not the machine. Every input must come back as a
//! value or a clean error (a panic fails the child too), and the named
//! seeds as the kind of answer written below.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use lectern_content::calc::{evaluate, variables_used, CalcError, Complex64};

/// Address space for the child: the evaluator's own bounds keep it far
/// below this (exact integers stop at 128 KiB each).
const MEMORY_LIMIT_KIB: u64 = 512 * 1024;
/// CPU seconds for the child, a guard against a hang only.
const CPU_LIMIT_SECONDS: u64 = 120;

fn corpus() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/calc");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                // As the fuzz target reads its input.
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Set in the child: run the replay itself instead of spawning it.
const CHILD: &str = "LECTERN_CALC_REPLAY_CHILD";
const PREFIX: &str = "calc-replay\t";

/// The child's work: every input through the evaluator (case-insensitively,
/// then case-sensitively, with the fuzz target's variables), one line
/// `calc-replay NAME MODE KIND` per evaluation. A blow-up kills the process.
#[test]
fn replay_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let vars: HashMap<String, Complex64> = [
        ("x", Complex64::new(2.0, 0.0)),
        ("y", Complex64::new(3.5, 0.0)),
        ("z", Complex64::new(1.0, 2.0)),
        ("R_1", Complex64::new(0.75, 0.0)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut out = std::io::stdout().lock();
    for (name, text) in corpus() {
        for cs in [false, true] {
            let kind = match evaluate(&text, &vars, cs) {
                Ok(_) => "ok",
                Err(e) => kind(&e),
            };
            writeln!(out, "{PREFIX}{name}\t{cs}\t{kind}").unwrap();
        }
        let _ = variables_used(&text);
    }
}

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

/// Runs [`replay_child`] in this test binary, held to the limits; returns
/// (input name, kind of answer) for each case-insensitive evaluation.
fn replay() -> BTreeMap<String, String> {
    let script = format!(
        r#"ulimit -v {MEMORY_LIMIT_KIB} && ulimit -t {CPU_LIMIT_SECONDS} && exec "$0" --exact replay_child --nocapture --test-threads=1"#
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .arg(std::env::current_exe().unwrap())
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the evaluator died under the limits ({}) after:\n{}\n{}",
        out.status,
        stdout.lines().rev().take(3).collect::<Vec<_>>().join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut kinds = BTreeMap::new();
    let mut answers = 0;
    // The harness may print "test replay_child ... " before the first line.
    for line in stdout
        .lines()
        .filter_map(|l| l.split_once(PREFIX).map(|(_, r)| r))
    {
        let parts: Vec<&str> = line.split('\t').collect();
        answers += 1;
        if let [name, "false", kind] = parts.as_slice() {
            kinds.insert(name.to_string(), kind.to_string());
        }
    }
    assert_eq!(answers, corpus().len() * 2, "one answer per input and mode");
    kinds
}

#[test]
fn calc_corpus_replays_under_a_memory_limit() {
    assert!(
        corpus().len() >= 40,
        "the seed corpus is {} files",
        corpus().len()
    );
    let kinds = replay();
    // What the named seeds are: values, Open edX's kinds of error, and
    // Lectern's own bound past which Open edX would run out of memory.
    let expected = [
        ("sum", "ok"),
        ("variables", "ok"),
        ("fact-ratio", "ok"),
        ("nesting-at-limit", "ok"),
        ("many-terms", "ok"),
        ("division-by-zero", "division_by_zero"),
        ("float-overflow", "overflow"),
        ("implicit-multiplication", "syntax"),
        ("unknown-function", "undefined_function"),
        ("nesting-past-limit", "syntax"),
        ("hostile-tower", "overflow"),
        ("hostile-factorial-of-factorial", "overflow"),
        ("hostile-factorial-tower", "overflow"),
        ("hostile-big-times-big", "overflow"),
        ("hostile-power-of-two", "overflow"),
        ("hostile-many-factorials", "too_complex"),
        ("hostile-factorial-products", "too_complex"),
        ("deep-parens-100k", "too_complex"),
        ("over-length", "too_complex"),
        ("unicode-pi", "syntax"),
        ("bytes-invalid-utf8", "syntax"),
    ];
    for (name, want) in expected {
        assert_eq!(kinds.get(name).map(String::as_str), Some(want), "{name}");
    }
}
