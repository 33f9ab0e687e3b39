//! The sandbox for Python-scripted problems as `serve` and `doctor` see it:
//! every command's app gets the runner (`open_app`); `doctor` probes
//! whether a sandbox works on this machine and says why not.

use std::sync::Arc;

use lectern_content::script_runner::PythonRunner;
use lectern_sandbox::Sandbox;

use crate::config::Config;

/// The runner every command's app gets: the sandbox (which starts no
/// process until a scripted problem is first shown or checked), or none
/// when scripts are switched off, so scripted problems are shown, named as
/// ungraded at import, and refused when checked.
pub fn runner(config: &Config) -> Option<Arc<dyn PythonRunner>> {
    if !config.scripts.enabled {
        tracing::info!("Python-scripted problems are switched off ([scripts] enabled = false)");
        return None;
    }
    Some(Arc::new(Sandbox::new(
        lectern_content::problem::script::HARNESS,
        config.scripts.sandbox(),
    )))
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
