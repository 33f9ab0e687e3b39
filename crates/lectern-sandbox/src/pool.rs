//! [`Sandbox`]: the `PythonRunner` of production. It keeps a few processes
//! started and waiting (the pool), hands each run one of them, never
//! reuses a process, and starts a replacement in the background.
//!
//! Replacements are started by one long-lived thread per sandbox, never by
//! a thread that ends soon after: `bwrap --die-with-parent` arms
//! `PR_SET_PDEATHSIG`, which the kernel fires when the *thread* that forked
//! the process exits, not the process. A short-lived starter thread would
//! kill the very process it had just put in the pool (seen in CI as a run
//! "exited with signal: 9").

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use lectern_content::script_runner::{PythonRunner, ScriptFailure};

use crate::command::{self, Recipe};
use crate::process::Process;
use crate::Settings;

/// Runs one harness program in single-use sandboxed processes.
pub struct Sandbox {
    shared: Arc<Shared>,
}

struct Shared {
    /// `Err` when the sandbox cannot be built here (no `bwrap`, no
    /// temporary folder): every run is refused with the reason.
    recipe: Result<Recipe, String>,
    pool_size: usize,
    state: Mutex<PoolState>,
    /// Asks the starter thread for one more process; `None` until the
    /// first refill, and again once the sandbox is dropped (which ends the
    /// thread).
    starter: Mutex<Option<Sender<()>>>,
}

#[derive(Default)]
struct PoolState {
    waiting: Vec<Process>,
    /// Replacements being started in the background.
    starting: usize,
    closed: bool,
}

impl Sandbox {
    /// A runner for `harness` (Python source, run as `__main__` in every
    /// process; it should do its imports first, then read its input from
    /// standard input). Never fails: when no sandbox can be built, runs are
    /// refused. The pool fills on the first run (or [`Sandbox::warm_up`]),
    /// not here: a site whose courses have no scripted problem never starts
    /// a Python process.
    pub fn new(harness: &str, settings: Settings) -> Self {
        let recipe = command::find_bwrap(settings.bwrap.as_deref()).and_then(|bwrap| {
            Recipe::new(bwrap, harness, settings.limits.clone())
                .map_err(|e| format!("could not prepare the sandbox's files: {e}"))
        });
        if let Err(why) = &recipe {
            tracing::warn!(%why, "Python-scripted problems cannot run");
        }
        let shared = Arc::new(Shared {
            recipe,
            pool_size: settings.pool_size,
            state: Mutex::new(PoolState::default()),
            starter: Mutex::new(None),
        });
        Self { shared }
    }

    /// Starts filling the pool in the background now, so the first run is
    /// warm too.
    pub fn warm_up(&self) {
        refill(&self.shared);
    }

    /// Processes waiting for a run right now (for tests and metrics).
    pub fn waiting(&self) -> usize {
        self.shared.lock().waiting.len()
    }
}

impl PythonRunner for Sandbox {
    fn run(&self, input: &[u8]) -> Result<Vec<u8>, ScriptFailure> {
        let recipe = self
            .shared
            .recipe
            .as_ref()
            .map_err(|why| ScriptFailure::Unavailable { why: why.clone() })?;
        let warm = take_waiting(&self.shared);
        refill(&self.shared);
        let process = match warm {
            Some(process) => process,
            None => Process::start(recipe).map_err(|e| ScriptFailure::Unavailable {
                why: format!("could not start bwrap: {e}"),
            })?,
        };
        let outcome = process.run(input, recipe.limits());
        if let Err(failure) = &outcome {
            tracing::debug!(%failure, "sandboxed run failed");
        }
        outcome
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let waiting = {
            let mut state = self.shared.lock();
            state.closed = true;
            std::mem::take(&mut state.waiting)
        };
        drop(waiting); // kills and reaps each
                       // Ends the starter thread (it sees the channel close).
        self.shared
            .starter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // The state stays consistent under a panic (plain pushes and pops).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A waiting process that is still alive, if any.
fn take_waiting(shared: &Shared) -> Option<Process> {
    loop {
        let mut process = shared.lock().waiting.pop()?;
        if process.is_waiting() {
            return Some(process);
        }
        // It exited before its run (its harness failed at start, or the
        // sandbox cannot be built): drop it, try the next.
    }
}

/// Starts, in the background, as many processes as the pool lacks.
fn refill(shared: &Arc<Shared>) {
    if shared.recipe.is_err() {
        return;
    }
    let wanted = {
        let mut state = shared.lock();
        if state.closed {
            return;
        }
        let have = state.waiting.len() + state.starting;
        let wanted = shared.pool_size.saturating_sub(have);
        state.starting += wanted;
        wanted
    };
    for _ in 0..wanted {
        if !ask_starter(shared) {
            let mut state = shared.lock();
            state.starting = state.starting.saturating_sub(1);
        }
    }
}

/// Asks the sandbox's starter thread for one process, starting the thread
/// on first use. False when no thread could be started or the sandbox is
/// closing.
fn ask_starter(shared: &Arc<Shared>) -> bool {
    let mut starter = shared
        .starter
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if starter.is_none() {
        if shared.lock().closed {
            return false;
        }
        let (ask, asked) = mpsc::channel::<()>();
        // Weak: the thread must not keep the sandbox alive.
        let weak: Weak<Shared> = Arc::downgrade(shared);
        let spawned = std::thread::Builder::new()
            .name("sandbox-start".into())
            .spawn(move || {
                while asked.recv().is_ok() {
                    match weak.upgrade() {
                        Some(shared) => start_one(&shared),
                        None => return,
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the sandbox's starter thread");
            return false;
        }
        *starter = Some(ask);
    }
    starter.as_ref().is_some_and(|ask| ask.send(()).is_ok())
}

fn start_one(shared: &Shared) {
    let started = match &shared.recipe {
        Ok(recipe) => Process::start(recipe),
        Err(_) => return,
    };
    let mut state = shared.lock();
    state.starting = state.starting.saturating_sub(1);
    match started {
        Ok(process) if !state.closed => state.waiting.push(process),
        Ok(process) => drop(process),
        Err(e) => tracing::warn!(error = %e, "could not start a sandboxed python3"),
    }
}
