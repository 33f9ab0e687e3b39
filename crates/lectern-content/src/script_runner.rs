//! The seam between Open edX's Python-scripted problems and the sandbox
//! that runs them.
//!
//! This crate stays pure: it knows what a scripted problem asks of Python
//! (the harness program and the JSON it reads and writes) but never starts a
//! process. Whoever grades hands it a [`PythonRunner`]: in production the
//! sandbox of `lectern-sandbox` (a warm, single-use, locked-down `python3`
//! per run), in unit tests whatever the test needs.
//!
//! The protocol is deliberately small: the runner was built around one
//! program (the harness); each run writes one input document to that
//! program's standard input, closes it, and returns what the program wrote
//! to standard output. Nothing carries over from one run to the next.

use std::fmt;

/// Runs the harness program once, in isolation, on one input.
pub trait PythonRunner: Send + Sync {
    /// Writes `input` to a fresh run's standard input and returns its
    /// standard output once it exits with status 0. Blocks the calling
    /// thread for at most the runner's wall-time limit, so call it from a
    /// blocking pool, never from an async worker.
    fn run(&self, input: &[u8]) -> Result<Vec<u8>, ScriptFailure>;
}

/// Why a run produced no answer. The messages are for logs and operators;
/// a learner is only ever told the kind (see [`ScriptFailure::learner_message`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptFailure {
    /// The CPU-time or wall-time limit was reached and the run was killed.
    TimedOut,
    /// The memory limit was reached.
    OutOfMemory,
    /// The output exceeded the runner's bound.
    OutputTooLarge,
    /// The run ended with an error (a Python exception, a non-zero exit, a
    /// signal). `detail` may hold the end of standard error: never show it
    /// to a learner.
    Crashed { detail: String },
    /// No sandbox is available on this machine (or it is switched off):
    /// scripted problems are refused rather than run unsandboxed.
    Unavailable { why: String },
}

impl ScriptFailure {
    /// What a learner may be told: the kind of failure, never the detail.
    pub fn learner_message(&self) -> &'static str {
        match self {
            ScriptFailure::TimedOut => "This problem's script took too long to run.",
            ScriptFailure::OutOfMemory => "This problem's script used too much memory.",
            ScriptFailure::OutputTooLarge => "This problem's script produced too much output.",
            ScriptFailure::Crashed { .. } => "This problem's script failed.",
            ScriptFailure::Unavailable { .. } => {
                "This problem uses Python scripts, which this site cannot run safely right now."
            }
        }
    }
}

impl fmt::Display for ScriptFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScriptFailure::TimedOut => f.write_str("script timed out"),
            ScriptFailure::OutOfMemory => f.write_str("script ran out of memory"),
            ScriptFailure::OutputTooLarge => f.write_str("script output too large"),
            ScriptFailure::Crashed { detail } => write!(f, "script failed: {detail}"),
            ScriptFailure::Unavailable { why } => write!(f, "no sandbox: {why}"),
        }
    }
}

impl std::error::Error for ScriptFailure {}
