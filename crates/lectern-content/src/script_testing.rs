//! A [`PythonRunner`] for tests only: the harness run by the machine's
//! `python3` as a plain child process, with NO sandbox at all.
//!
//! It exists so the logic of scripted problems (parsing, `$var`
//! substitution, result shapes) can be tested, and so the differential test
//! can grade scripted problems, without the sandbox crate. It is compiled
//! only for this crate's tests and behind the `unsandboxed-runner` feature;
//! never hand it to a server that learners use.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::problem::script::HARNESS;
use crate::script_runner::{PythonRunner, ScriptFailure};

/// Runs `python3 -c HARNESS` in a fresh temporary directory per run.
pub struct UnsandboxedRunner {
    python: String,
}

impl UnsandboxedRunner {
    /// Uses `$TEST_PYTHON` when set, else `/usr/bin/python3` when it exists
    /// (Debian's, with numpy), else `python3` from `PATH`.
    pub fn new() -> Self {
        let python = std::env::var("TEST_PYTHON").unwrap_or_else(|_| {
            if std::path::Path::new("/usr/bin/python3").exists() {
                "/usr/bin/python3".to_string()
            } else {
                "python3".to_string()
            }
        });
        Self { python }
    }
}

impl Default for UnsandboxedRunner {
    fn default() -> Self {
        Self::new()
    }
}

impl PythonRunner for UnsandboxedRunner {
    fn run(&self, input: &[u8]) -> Result<Vec<u8>, ScriptFailure> {
        let crashed = |detail: String| ScriptFailure::Crashed { detail };
        let dir = std::env::temp_dir().join(format!(
            "lectern-harness-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| crashed(e.to_string()))?;
        let result = (|| {
            let mut child = Command::new(&self.python)
                .arg("-c")
                .arg(HARNESS)
                .current_dir(&dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| crashed(e.to_string()))?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(input).map_err(|e| crashed(e.to_string()))?;
            }
            let out = child
                .wait_with_output()
                .map_err(|e| crashed(e.to_string()))?;
            if !out.status.success() {
                return Err(crashed(String::from_utf8_lossy(&out.stderr).into_owned()));
            }
            Ok(out.stdout)
        })();
        let _ = std::fs::remove_dir_all(&dir);
        result
    }
}

static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
