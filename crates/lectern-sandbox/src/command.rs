//! How one sandboxed `python3` is started: the files it is given, the
//! `bwrap` arguments (what it can see), the rlimits, and the small Python
//! prelude that arms the CPU limit once the harness starts reading input.
//!
//! Everything here is decided once per runner; starting a process is then
//! one `Command` built from the same pieces.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Limits;

/// Where the runner's files appear inside the sandbox (read-only).
const INSIDE: &str = "/sandbox";
/// Debian's interpreter; the sandbox only sees `/usr`, so it must live there.
pub const PYTHON: &str = "/usr/bin/python3";
/// util-linux's `prlimit` (Essential on Debian) sets the rlimits right
/// before `python3` starts, so no code of ours runs in the child.
pub const PRLIMIT: &str = "/usr/bin/prlimit";
/// CPU seconds allowed for interpreter start and the harness's imports,
/// before the prelude re-arms the limit at the first read of the input.
const STARTUP_CPU_SECONDS: u64 = 20;
/// Open files: Python and its libraries need a few dozen at most.
const MAX_OPEN_FILES: u64 = 128;

/// The prelude: runs the harness as `__main__`, and on the first read of
/// standard input (after the harness's imports, before the learner's code)
/// lowers `RLIMIT_CPU` to what was used so far plus the run's budget, so
/// the budget is the run's alone. Reads through `sys.stdin` and
/// `sys.stdin.buffer` arm it; a harness reading fd 0 directly is still held
/// by the start-up limit.
const BOOT: &str = r#"import io, os, resource, runpy, sys

# Descriptors Lectern's own parent left open without close-on-exec (a
# jobserver pipe, a socket) must not reach the script.
os.closerange(3, 1 << 20)

_budget = int(sys.argv[1])
_armed = False


def _arm():
    global _armed
    if _armed:
        return
    _armed = True
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + 1 + _budget
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))


class _Input(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, buffer):
        _arm()
        data = os.read(0, len(buffer))
        buffer[: len(data)] = data
        return len(data)


sys.stdin = io.TextIOWrapper(io.BufferedReader(_Input()), encoding="utf-8")
sys.argv = ["harness.py"]
try:
    runpy.run_path("/sandbox/harness.py", run_name="__main__")
    _code = 0
except SystemExit as _exit:
    _code = _exit.code if isinstance(_exit.code, int) else (0 if _exit.code is None else 1)
    if not isinstance(_exit.code, (int, type(None))):
        print(_exit.code, file=sys.stderr)
# Skip the interpreter's tear-down (hundreds of milliseconds with sympy
# loaded): the process is thrown away anyway. An uncaught exception never
# gets here and ends the usual way, with its traceback.
for _stream in (sys.stdout, sys.stderr):
    try:
        _stream.flush()
    except Exception:
        _code = _code or 1
os._exit(_code)
"#;

/// The runner's files on the host (a private temporary folder bound
/// read-only at `/sandbox`) and the fixed part of the command line.
pub struct Recipe {
    folder: tempfile::TempDir,
    bwrap: PathBuf,
    limits: Limits,
}

impl Recipe {
    /// Writes the harness, the prelude and the seccomp filter into a fresh
    /// private folder.
    pub fn new(bwrap: PathBuf, harness: &str, limits: Limits) -> io::Result<Self> {
        let folder = tempfile::Builder::new()
            .prefix("lectern-sandbox-")
            .tempdir()?;
        std::fs::write(folder.path().join("harness.py"), harness)?;
        std::fs::write(folder.path().join("boot.py"), BOOT)?;
        std::fs::write(folder.path().join("filter.bpf"), crate::seccomp::program()?)?;
        Ok(Self {
            folder,
            bwrap,
            limits,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The command for one sandboxed process, pipes on all three streams.
    ///
    /// `bwrap --seccomp` reads the filter from an inherited descriptor;
    /// Rust opens every file close-on-exec and this workspace forbids the
    /// `unsafe` a `pre_exec` would need, so `sh` opens it as fd 3 and then
    /// becomes `bwrap` (`exec`), keeping the process id we wait on and kill.
    pub fn command(&self) -> Command {
        let filter = self.folder.path().join("filter.bpf");
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(r#"exec 3<"$0" && exec "$@""#)
            .arg(&filter)
            .arg(&self.bwrap)
            .args(bwrap_args(self.folder.path(), &self.limits))
            .env_clear()
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

/// What the sandbox sees and may do. Order matters to `bwrap`: mounts are
/// made in order, and `--remount-ro /` comes last.
fn bwrap_args(files: &Path, limits: &Limits) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    words(
        &mut a,
        &[
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--uid",
            "65534",
            "--gid",
            "65534",
            "--hostname",
            "sandbox",
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/bin",
            "--setenv",
            "HOME",
            "/tmp",
            "--setenv",
            "LANG",
            "C.UTF-8",
            "--setenv",
            "PYTHONDONTWRITEBYTECODE",
            "1",
            // One BLAS/OpenMP thread: less memory and no thread pool per run.
            "--setenv",
            "OPENBLAS_NUM_THREADS",
            "1",
            "--setenv",
            "OMP_NUM_THREADS",
            "1",
            "--ro-bind",
            "/usr",
            "/usr",
        ],
    );
    // Merged-/usr systems have /lib, /lib64 and /bin as links into /usr;
    // older ones have real folders, bound read-only like /usr.
    for top in ["/lib", "/lib64", "/bin"] {
        match std::fs::read_link(top) {
            Ok(target) => {
                a.push("--symlink".into());
                a.push(target.into_os_string());
                a.push(top.into());
            }
            Err(_) if Path::new(top).is_dir() => {
                a.extend(["--ro-bind", top, top].map(OsString::from));
            }
            Err(_) => {}
        }
    }
    let scratch = limits.scratch_bytes.to_string();
    words(
        &mut a,
        &[
            // The dynamic loader's cache and Debian's alternatives (libblas.so.3
            // and liblapack.so.3 resolve through /etc/alternatives): the only
            // parts of /etc numpy needs.
            "--ro-bind-try",
            "/etc/ld.so.cache",
            "/etc/ld.so.cache",
            "--ro-bind-try",
            "/etc/alternatives",
            "/etc/alternatives",
            // A minimal /dev (null, zero, random, urandom, tty), then read-only
            // so /dev/shm is no second, unbounded scratch space.
            "--dev",
            "/dev",
            "--remount-ro",
            "/dev",
            "--size",
            &scratch,
            "--tmpfs",
            "/tmp",
        ],
    );
    a.push("--ro-bind".into());
    a.push(files.as_os_str().to_owned());
    a.push(INSIDE.into());
    let cpu = limits.cpu_seconds + STARTUP_CPU_SECONDS;
    let budget = limits.cpu_seconds.to_string();
    let rlimits = [
        format!("--as={}", limits.memory_bytes),
        format!("--cpu={cpu}:{}", cpu + 1),
        format!("--nproc={}", limits.max_processes),
        format!("--fsize={}", limits.scratch_bytes),
        format!("--nofile={MAX_OPEN_FILES}"),
        "--core=0".to_string(),
    ];
    words(
        &mut a,
        &[
            "--chdir",
            "/tmp",
            "--remount-ro",
            "/",
            "--seccomp",
            "3",
            "--",
            PRLIMIT,
        ],
    );
    a.extend(rlimits.into_iter().map(OsString::from));
    words(
        &mut a,
        &["--", PYTHON, "-I", "-B", "/sandbox/boot.py", &budget],
    );
    a
}

fn words(a: &mut Vec<OsString>, items: &[&str]) {
    a.extend(items.iter().map(OsString::from));
}

/// `bwrap` on `PATH`, or where the settings say.
pub fn find_bwrap(configured: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = configured {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(format!("bwrap not found at {}", path.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            "bwrap (bubblewrap) is not installed: `apt-get install bubblewrap`".to_string()
        })
}
