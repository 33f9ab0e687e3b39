//! Where grading finds the sandbox for Python-scripted problems: the binary
//! plugs one in at start (`lectern-sandbox`), tests plug in whatever they
//! need; without one, scripted problems are refused, never run unsandboxed.

use std::sync::Arc;

use lectern_content::script_runner::PythonRunner;

use crate::Lectern;

impl Lectern {
    /// Runs Python-scripted problems with `runner`.
    pub fn with_python_runner(mut self, runner: Arc<dyn PythonRunner>) -> Self {
        self.python = Some(runner);
        self
    }

    /// The runner for Python-scripted problems, if this site has one.
    pub fn python_runner(&self) -> Option<&Arc<dyn PythonRunner>> {
        self.python.as_ref()
    }
}
