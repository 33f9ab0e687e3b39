//! Any text as a learner's numerical or formula answer: the evaluator must
//! return a value or an error, never panic, overflow its stack or run away
//! with memory (run with `-rss_limit_mb` to catch the last). The same text
//! is tried with variables, case-sensitively and not, and for the names it
//! uses.
#![no_main]

use std::collections::HashMap;

use lectern_content::calc::{evaluate, variables_used, Complex64};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let vars: HashMap<String, Complex64> = [
        ("x", Complex64::new(2.0, 0.0)),
        ("y", Complex64::new(3.5, 0.0)),
        ("z", Complex64::new(1.0, 2.0)),
        ("R_1", Complex64::new(0.75, 0.0)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for case_sensitive in [false, true] {
        let _ = evaluate(&text, &vars, case_sensitive);
    }
    if let Ok(names) = variables_used(&text) {
        // Every name reported is one the text could use as a variable.
        for name in names {
            assert!(text.contains(name.as_str()), "{name} not in {text}");
        }
    }
});
