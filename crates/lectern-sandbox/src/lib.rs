//! The sandbox that runs Open edX's Python-scripted problems.
//!
//! `lectern-content` says what a scripted problem asks of Python (a harness
//! program, JSON in, JSON out) through the [`PythonRunner`] seam; this crate
//! is the one place that starts a process for it. Each run gets a fresh
//! `python3` that was started ahead of time (so interpreter start and the
//! harness's imports are off the request path), locked in with the kernel's
//! own mechanisms, used once, then killed:
//!
//! - bubblewrap (`bwrap`) for new user, PID, network, IPC, UTS and mount
//!   namespaces: the process sees `/usr` read-only, a small private tmpfs as
//!   its only writable place, and no network at all ([`command`]);
//! - rlimits set by `prlimit` just before `python3` starts: address space,
//!   CPU time, processes, file size, open files, no core dumps;
//! - a seccomp filter that refuses new processes, sockets other than Unix
//!   ones and the kernel's administrative calls ([`seccomp`]);
//! - a wall-clock deadline kept here, which kills the whole sandbox.
//!
//! Nothing runs unsandboxed: when `bwrap` is missing or the kernel refuses
//! it user namespaces, runs fail with [`ScriptFailure::Unavailable`] and
//! [`probe`] says why (`lectern doctor` prints it). See `docs/sandbox.md`.

mod command;
mod pool;
mod probe;
mod process;
pub mod seccomp;

use std::path::PathBuf;
use std::time::Duration;

pub use lectern_content::script_runner::{PythonRunner, ScriptFailure};
pub use pool::Sandbox;
pub use probe::{probe, Probe};

/// The bounds on one run. Defaults suit a grading script that imports
/// numpy, scipy and sympy (which need about 300 MB of address space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// CPU seconds a run may use once it has read its input.
    pub cpu_seconds: u64,
    /// Wall-clock time from handing over the input to the end of the run.
    pub wall: Duration,
    /// Address space of the Python process (`RLIMIT_AS`).
    pub memory_bytes: u64,
    /// Bytes of standard output kept; more makes the run fail.
    pub output_bytes: usize,
    /// Processes (threads included) the sandbox user may have
    /// (`RLIMIT_NPROC`; not enforced for root, hence the seccomp filter).
    pub max_processes: u64,
    /// Size of the private scratch tmpfs at `/tmp`, and of any one file
    /// (`RLIMIT_FSIZE`).
    pub scratch_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            cpu_seconds: 2,
            wall: Duration::from_secs(5),
            memory_bytes: 512 << 20,
            output_bytes: 1 << 20,
            max_processes: 16,
            scratch_bytes: 16 << 20,
        }
    }
}

/// Where the tools are and how many warm processes to keep.
#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: Limits,
    /// Warm processes kept ready; 0 starts one per run.
    pub pool_size: usize,
    /// `bwrap`; `None` looks it up on `PATH`.
    pub bwrap: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            pool_size: 2,
            bwrap: None,
        }
    }
}

/// The runner for a site where scripts are switched off or no sandbox
/// works: every run is refused, with the reason for the operator.
#[derive(Debug, Clone)]
pub struct Refused {
    pub why: String,
}

impl PythonRunner for Refused {
    fn run(&self, _input: &[u8]) -> Result<Vec<u8>, ScriptFailure> {
        Err(ScriptFailure::Unavailable {
            why: self.why.clone(),
        })
    }
}
