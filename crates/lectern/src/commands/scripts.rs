//! The sandbox for Python-scripted problems as `serve` and `doctor` see it:
//! `serve` builds the runner once and hands it to the app; `doctor` probes
//! whether a sandbox works on this machine and says why not.

use std::sync::Arc;

use lectern_content::script_runner::PythonRunner;
use lectern_sandbox::{Refused, Sandbox};

use crate::config::Config;

/// The harness program every sandboxed run executes. Until scripted
/// grading lands in `lectern-content` (issue 19, the other half), this one
/// only echoes its input; that change replaces this constant with
/// lectern-content's harness.
const HARNESS: &str = "import sys\nsys.stdout.write(sys.stdin.read())\n";

/// The runner `serve` plugs into the app: the sandbox, or a refusal with
/// the reason when scripts are switched off.
pub fn runner(config: &Config) -> Arc<dyn PythonRunner> {
    if !config.scripts.enabled {
        tracing::info!("Python-scripted problems are switched off ([scripts] enabled = false)");
        return Arc::new(Refused {
            why: "Python-scripted problems are switched off on this site".into(),
        });
    }
    Arc::new(Sandbox::new(HARNESS, config.scripts.sandbox()))
}

/// `lectern doctor`'s line on scripted problems.
pub async fn check(config: &Config) -> Result<String, String> {
    if !config.scripts.enabled {
        return Ok(
            "switched off ([scripts] enabled = false): scripted problems are refused".into(),
        );
    }
    let settings = config.scripts.sandbox();
    let found = tokio::task::spawn_blocking(move || lectern_sandbox::probe(&settings.limits, None))
        .await
        .map_err(|e| e.to_string())?;
    if found.works {
        Ok(found.detail)
    } else {
        Err(found.detail)
    }
}
