//! One sandboxed process, used once: started ahead of time (blocked on
//! its input), then fed, read (bounded), waited for (bounded) and reaped.
//! Dropping it kills and reaps it, whatever happened before.

use std::io::{self, Read, Write};
use std::process::{Child, ChildStderr, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lectern_content::script_runner::ScriptFailure;

use crate::command::Recipe;
use crate::Limits;

/// How much of standard error is kept for the operator's log.
const STDERR_TAIL: usize = 4096;
/// `bwrap` reports a command killed by signal N as exit status 128 + N.
const KILLED_BY_SIGXCPU: i32 = 128 + libc::SIGXCPU;
const KILLED_BY_SIGKILL: i32 = 128 + libc::SIGKILL;

pub struct Process {
    child: Child,
}

impl Process {
    pub fn start(recipe: &Recipe) -> io::Result<Self> {
        Ok(Self {
            child: recipe.command().spawn()?,
        })
    }

    /// Still waiting for its input (a process whose harness failed at start
    /// has exited and is not worth handing a run).
    pub fn is_waiting(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Feeds `input`, returns standard output of a clean exit.
    pub fn run(mut self, input: &[u8], limits: &Limits) -> Result<Vec<u8>, ScriptFailure> {
        let deadline = Instant::now() + limits.wall;
        let (Some(mut stdin), Some(stdout), Some(stderr)) = (
            self.child.stdin.take(),
            self.child.stdout.take(),
            self.child.stderr.take(),
        ) else {
            return Err(crashed("the sandbox's pipes were not set up"));
        };
        let bound = limits.output_bytes;
        std::thread::scope(|scope| {
            // A script that never reads its input must not block us.
            scope.spawn(move || {
                let _ = stdin.write_all(input);
            });
            let errors = scope.spawn(move || tail_of(stderr));
            let (sent, output) = mpsc::channel();
            scope.spawn(move || {
                let mut kept = Vec::new();
                let read = stdout.take(bound as u64 + 1).read_to_end(&mut kept);
                let _ = sent.send(read.map(|_| kept));
            });
            let outcome = self.finish(&output, deadline, bound);
            // Every pipe is closed now (the process is gone), so the
            // readers end and the scope can join them.
            self.kill();
            let tail = errors.join().unwrap_or_default();
            match outcome {
                Ok((status, kept)) => judge(status, kept, &tail),
                Err(failure) => Err(failure),
            }
        })
    }

    /// Waits for standard output to end and the process to exit, both by
    /// the deadline; kills it on any limit.
    fn finish(
        &mut self,
        output: &mpsc::Receiver<io::Result<Vec<u8>>>,
        deadline: Instant,
        bound: usize,
    ) -> Result<(ExitStatus, Vec<u8>), ScriptFailure> {
        let left = deadline.saturating_duration_since(Instant::now());
        let kept = match output.recv_timeout(left) {
            Ok(Ok(kept)) if kept.len() > bound => return Err(ScriptFailure::OutputTooLarge),
            Ok(Ok(kept)) => kept,
            Ok(Err(e)) => return Err(crashed(&format!("reading its output failed: {e}"))),
            Err(_) => return Err(ScriptFailure::TimedOut),
        };
        // Output has ended: the exit is usually a moment away.
        let mut pause = Duration::from_micros(200);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok((status, kept)),
                Ok(None) if Instant::now() >= deadline => return Err(ScriptFailure::TimedOut),
                Ok(None) => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(5));
                }
                Err(e) => return Err(crashed(&format!("waiting for it failed: {e}"))),
            }
        }
    }
}

impl Process {
    /// Kills and reaps the sandbox. `bwrap` leads its own process group,
    /// which holds it and the sandbox's init (PID 1 of the sandbox's PID
    /// namespace, whose death takes every process in it along); killing the
    /// group, not just `bwrap`, leaves nothing behind even when `bwrap` is
    /// killed before it has armed `--die-with-parent` in its child.
    fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let group = rustix::process::Pid::from_child(&self.child);
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The verdict on a process that exited by itself.
fn judge(status: ExitStatus, output: Vec<u8>, stderr: &str) -> Result<Vec<u8>, ScriptFailure> {
    if status.success() {
        return Ok(output);
    }
    if let Some(why) = stderr.lines().find_map(|l| l.strip_prefix("bwrap: ")) {
        // bwrap could not build the sandbox (no user namespaces, …).
        return Err(ScriptFailure::Unavailable {
            why: format!("bwrap: {why}"),
        });
    }
    match status.code() {
        Some(KILLED_BY_SIGXCPU) | Some(KILLED_BY_SIGKILL) => return Err(ScriptFailure::TimedOut),
        _ => {}
    }
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    if last.contains("MemoryError")
        || last.contains("Cannot allocate memory")
        || last.contains("failed to map segment")
    {
        return Err(ScriptFailure::OutOfMemory);
    }
    let detail = if stderr.trim().is_empty() {
        format!("exited with {status}")
    } else {
        stderr.trim().to_string()
    };
    Err(ScriptFailure::Crashed { detail })
}

fn crashed(detail: &str) -> ScriptFailure {
    ScriptFailure::Crashed {
        detail: detail.to_string(),
    }
}

/// Reads standard error to its end, keeping only the last few KiB.
fn tail_of(mut stderr: ChildStderr) -> String {
    let mut tail: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stderr.read(&mut chunk) {
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&chunk[..n]);
        if tail.len() > 2 * STDERR_TAIL {
            tail.drain(..tail.len() - STDERR_TAIL);
        }
    }
    if tail.len() > STDERR_TAIL {
        tail.drain(..tail.len() - STDERR_TAIL);
    }
    String::from_utf8_lossy(&tail).into_owned()
}
