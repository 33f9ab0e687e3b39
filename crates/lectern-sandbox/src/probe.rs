//! Does a sandbox work on this machine? `lectern doctor` asks, and prints
//! the answer: `bwrap` present, user namespaces allowed, and Debian's
//! `python3` with numpy, scipy and sympy importable inside it.

use std::time::Duration;

use lectern_content::script_runner::PythonRunner;

use crate::{Limits, Sandbox, Settings};

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Scripted problems can run.
    pub works: bool,
    /// One line for the operator: versions when it works, the reason and
    /// the fix when it does not.
    pub detail: String,
}

/// A harness that imports what course scripts may import and echoes the
/// versions: proves the namespaces, the rlimits, the seccomp filter and the
/// libraries together, the way a real run uses them.
const PROBE: &str = r#"import sys
import numpy, scipy, sympy
sys.stdin.read()
print("python %d.%d, numpy %s, scipy %s, sympy %s" % (sys.version_info[0], sys.version_info[1], numpy.__version__, scipy.__version__, sympy.__version__))
"#;

/// Starts one sandboxed process with `limits` (the site's own, so a memory
/// limit too small for numpy shows here) and a generous wall time.
pub fn probe(limits: &Limits, bwrap: Option<&std::path::Path>) -> Probe {
    let limits = Limits {
        wall: limits.wall.max(Duration::from_secs(30)),
        cpu_seconds: limits.cpu_seconds.max(10),
        ..limits.clone()
    };
    let sandbox = Sandbox::new(
        PROBE,
        Settings {
            limits,
            pool_size: 0,
            bwrap: bwrap.map(ToOwned::to_owned),
        },
    );
    match sandbox.run(b"") {
        Ok(out) => Probe {
            works: true,
            detail: format!(
                "sandbox works (bubblewrap, user namespaces, seccomp): {}",
                String::from_utf8_lossy(&out).trim()
            ),
        },
        Err(failure) => Probe {
            works: false,
            detail: explain(&failure.to_string()),
        },
    }
}

/// Adds the usual fix to the usual failures.
fn explain(failure: &str) -> String {
    let hint = if failure.contains("not installed") {
        ""
    } else if failure.contains("namespace")
        || failure.contains("uid map")
        || failure.contains("Operation not permitted")
    {
        " (user namespaces are refused: allow them with `sysctl kernel.unprivileged_userns_clone=1` on Debian, or an AppArmor profile for bwrap on Ubuntu 24.04; see docs/sandbox.md)"
    } else if failure.contains("No module named") {
        " (install python3-numpy python3-scipy python3-sympy)"
    } else if failure.contains("memory") {
        " (raise [scripts] memory_mb)"
    } else {
        ""
    };
    let last = failure.lines().last().unwrap_or(failure).trim();
    format!("scripted problems cannot run: {last}{hint}")
}
