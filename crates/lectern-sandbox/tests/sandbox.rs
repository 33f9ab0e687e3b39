//! The sandbox against hostile scripts, through the `PythonRunner` a grader
//! uses. Each test's harness executes the script it reads from standard
//! input, as a course script would be executed; the scripts try what the
//! issue lists (host files, writes, network, processes, CPU, memory) and
//! each must fail within its limit, with nothing of the host in the answer.

#![allow(clippy::unwrap_used)]

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lectern_sandbox::{Limits, PythonRunner, Refused, Sandbox, ScriptFailure, Settings};

/// Runs the script it is given; prints what the script prints.
const EXEC_HARNESS: &str = r#"import sys
source = sys.stdin.read()
exec(compile(source, "<script>", "exec"), {"__name__": "script"})
"#;

const SECRET: &str = "host-secret-7f3a9c";

fn limits() -> Limits {
    Limits {
        cpu_seconds: 1,
        // Generous: the test machine is shared; CPU limits are what bite.
        wall: Duration::from_secs(6),
        ..Limits::default()
    }
}

fn sandbox(pool_size: usize) -> Sandbox {
    Sandbox::new(
        EXEC_HARNESS,
        Settings {
            limits: limits(),
            pool_size,
            bwrap: None,
        },
    )
}

fn run(sandbox: &Sandbox, script: &str) -> Result<String, ScriptFailure> {
    sandbox
        .run(script.as_bytes())
        .map(|out| String::from_utf8_lossy(&out).into_owned())
}

/// A "data folder" outside /tmp with a secret in it, as Lectern's would be.
fn data_folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("data-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let secret = dir.path().join("lectern.db");
    std::fs::write(&secret, SECRET).unwrap();
    (dir, secret)
}

fn try_read(path: &str) -> String {
    format!(
        "try:\n    print('READ', open({path:?}).read())\nexcept OSError as e:\n    print('blocked', type(e).__name__)\n"
    )
}

fn assert_no_secret(answer: &Result<String, ScriptFailure>) {
    let shown = format!("{answer:?}");
    assert!(!shown.contains(SECRET), "the host's secret leaked: {shown}");
    assert!(!shown.contains("root:x:0:0"), "/etc/passwd leaked: {shown}");
}

#[test]
fn a_normal_script_runs_and_numpy_scipy_sympy_import() {
    let sandbox = sandbox(1);
    assert_eq!(run(&sandbox, "print(6 * 7)").unwrap(), "42\n");
    assert_eq!(
        run(&sandbox, "import sys\nprint('a')\nsys.exit(0)").unwrap(),
        "a\n"
    );
    let answer = run(&sandbox, "import sys\nsys.exit('bad input')");
    assert!(
        matches!(&answer, Err(ScriptFailure::Crashed { detail }) if detail.contains("bad input")),
        "{answer:?}"
    );
    let out = run(
        &sandbox,
        "import numpy, scipy.special, sympy\nprint(int(numpy.eye(3).sum()), sympy.simplify('x+x'))",
    )
    .unwrap();
    assert_eq!(out, "3 2*x\n");
}

#[test]
fn host_files_are_not_visible() {
    let sandbox = sandbox(1);
    let (_dir, secret) = data_folder();
    let secret = secret.to_string_lossy().into_owned();
    for path in [
        secret.as_str(),
        "/etc/passwd",
        "/etc/shadow",
        "/root/.bashrc",
        "/home",
        "/proc/1/environ",
        "/proc/self/environ",
        "/sys/kernel/notes",
    ] {
        let answer = run(&sandbox, &try_read(path));
        assert_no_secret(&answer);
        let out = answer.unwrap();
        assert!(out.starts_with("blocked"), "{path}: {out}");
    }
    // Nor listed: only what Python needs is there.
    let out = run(
        &sandbox,
        "import os\nprint(sorted(os.listdir('/')), sorted(os.listdir('/etc')))",
    )
    .unwrap();
    assert_eq!(
        out,
        "['bin', 'dev', 'etc', 'lib', 'lib64', 'sandbox', 'tmp', 'usr'] ['alternatives', 'ld.so.cache']\n"
    );
    // An uncaught failure's detail (for the log) holds nothing either.
    let answer = run(&sandbox, &format!("print(open({secret:?}).read())"));
    assert_no_secret(&answer);
    assert!(
        matches!(answer, Err(ScriptFailure::Crashed { .. })),
        "{answer:?}"
    );
}

#[test]
fn no_descriptor_of_the_host_reaches_the_script() {
    // Whatever this test process inherited without close-on-exec (cargo's
    // jobserver pipe, for one) would otherwise be open in the sandbox.
    let sandbox = sandbox(1);
    let out = run(
        &sandbox,
        "import os\nopen_fds = []\nfor fd in range(3, 4096):\n    try:\n        os.fstat(fd)\n        open_fds.append(fd)\n    except OSError:\n        pass\nprint(open_fds)",
    )
    .unwrap();
    assert_eq!(out, "[]\n");
}

#[test]
fn nothing_outside_scratch_is_writable() {
    let sandbox = sandbox(1);
    let (dir, _) = data_folder();
    let host = dir.path().join("planted");
    for path in [
        host.to_string_lossy().as_ref(),
        "/x",
        "/usr/x",
        "/etc/x",
        "/sandbox/harness.py",
        "/dev/shm/x",
        "/dev/x",
    ] {
        let script = format!(
            "try:\n    open({path:?}, 'w').write('x')\n    print('WROTE')\nexcept OSError as e:\n    print('blocked', type(e).__name__)\n"
        );
        let out = run(&sandbox, &script).unwrap();
        assert!(out.starts_with("blocked"), "{path}: {out}");
    }
    assert!(!host.exists());
    // The scratch space works, and is bounded (16 MiB by default).
    assert_eq!(
        run(
            &sandbox,
            "open('/tmp/a', 'w').write('x')\nprint(open('/tmp/a').read())"
        )
        .unwrap(),
        "x\n"
    );
    let answer = run(&sandbox, "open('/tmp/big', 'wb').write(b'x' * (64 << 20))");
    assert!(
        matches!(
            answer,
            Err(ScriptFailure::Crashed { .. }) | Err(ScriptFailure::TimedOut)
        ),
        "{answer:?}"
    );
}

#[test]
fn no_network_not_even_the_hosts_loopback() {
    let sandbox = sandbox(1);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!(
        "import socket\ntry:\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n    print('CONNECTED')\nexcept OSError as e:\n    print('blocked', type(e).__name__)\n"
    );
    let out = run(&sandbox, &script).unwrap();
    assert!(out.starts_with("blocked"), "{out}");
    // UDP and raw sockets too.
    let out = run(
        &sandbox,
        "import socket\ntry:\n    socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n    print('OPENED')\nexcept OSError as e:\n    print('blocked')\n",
    )
    .unwrap();
    assert_eq!(out, "blocked\n");
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("something reached the host's listener: {other:?}"),
    }
}

#[test]
fn no_further_process_can_start() {
    let sandbox = sandbox(1);
    for script in [
        "import os\nprint('blocked' if os.system('true') != 0 else 'RAN')",
        "import subprocess\ntry:\n    subprocess.run(['/usr/bin/true'])\n    print('RAN')\nexcept OSError:\n    print('blocked')",
        "import os\ntry:\n    pid = os.fork()\n    print('FORKED')\nexcept OSError:\n    print('blocked')",
    ] {
        let out = run(&sandbox, script).unwrap();
        assert_eq!(out, "blocked\n", "{script}");
    }
    // Threads still work (numpy's BLAS may use them).
    let out = run(&sandbox, "import threading\nt = threading.Thread(target=lambda: print('thread'))\nt.start(); t.join()").unwrap();
    assert_eq!(out, "thread\n");
}

#[test]
fn a_fork_bomb_ends_at_the_cpu_limit() {
    let sandbox = sandbox(0);
    let started = Instant::now();
    let answer = run(
        &sandbox,
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    );
    assert_eq!(answer, Err(ScriptFailure::TimedOut));
    assert!(started.elapsed() < limits().wall + Duration::from_secs(2));
}

#[test]
fn an_endless_loop_is_killed_at_the_cpu_limit_and_a_sleeper_at_the_wall_limit() {
    let sandbox = sandbox(0);
    let answer = run(&sandbox, "while True:\n    pass");
    assert_eq!(answer, Err(ScriptFailure::TimedOut));
    // Even when the script ignores SIGXCPU.
    let answer = run(
        &sandbox,
        "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass",
    );
    assert_eq!(answer, Err(ScriptFailure::TimedOut));
    let started = Instant::now();
    let answer = run(&sandbox, "import time\ntime.sleep(600)");
    assert_eq!(answer, Err(ScriptFailure::TimedOut));
    let took = started.elapsed();
    assert!(
        took >= limits().wall && took < limits().wall + Duration::from_secs(2),
        "{took:?}"
    );
}

#[test]
fn four_gigabytes_are_refused_at_the_memory_limit() {
    let sandbox = sandbox(0);
    for script in [
        "x = bytearray(4 << 30)",
        "x = ' ' * (4 << 30)",
        "import numpy\nx = numpy.ones(1 << 29)",
        "x = []\nwhile True:\n    x.append(bytearray(1 << 20))",
    ] {
        let answer = run(&sandbox, script);
        assert_eq!(answer, Err(ScriptFailure::OutOfMemory), "{script}");
    }
}

#[test]
fn too_much_output_is_refused() {
    let sandbox = sandbox(0);
    let answer = run(&sandbox, "import sys\nsys.stdout.write('x' * (8 << 20))");
    assert_eq!(answer, Err(ScriptFailure::OutputTooLarge));
}

#[test]
fn after_every_attack_the_runner_still_answers() {
    let sandbox = sandbox(2);
    let (_dir, secret) = data_folder();
    let attacks = [
        format!("print(open({:?}).read())", secret.to_string_lossy()),
        "open('/usr/x', 'w')".to_string(),
        "import socket\nsocket.create_connection(('127.0.0.1', 22))".to_string(),
        "import os\nos.fork()".to_string(),
        "while True:\n    pass".to_string(),
        "x = bytearray(4 << 30)".to_string(),
        "import os\nos.kill(os.getpid(), 9)".to_string(),
        "raise SystemExit(3)".to_string(),
        "import os\nos.close(1)\nwhile True: pass".to_string(),
    ];
    for attack in &attacks {
        let answer = run(&sandbox, attack);
        assert!(answer.is_err(), "{attack}: {answer:?}");
        assert_no_secret(&answer);
    }
    assert_eq!(
        run(&sandbox, "print('still here')").unwrap(),
        "still here\n"
    );
}

#[test]
fn no_state_carries_from_one_run_to_the_next() {
    let sandbox = sandbox(2);
    let first = "import builtins, os\nopen('/tmp/mark', 'w').write('x')\nbuiltins.MARK = 1\nprint(os.getpid())";
    let second =
        "import builtins, os\nprint(os.path.exists('/tmp/mark'), hasattr(builtins, 'MARK'))";
    assert!(run(&sandbox, first).is_ok());
    assert_eq!(run(&sandbox, second).unwrap(), "False False\n");
}

#[test]
fn eight_runs_at_once_with_a_pool_of_two_all_succeed() {
    let sandbox = Arc::new(sandbox(2));
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let sandbox = Arc::clone(&sandbox);
            std::thread::spawn(move || run(&sandbox, &format!("print({i} * 2)")))
        })
        .collect();
    for (i, handle) in runs.into_iter().enumerate() {
        assert_eq!(handle.join().unwrap().unwrap(), format!("{}\n", i * 2));
    }
    // The pool fills up again in the background.
    let deadline = Instant::now() + Duration::from_secs(20);
    while sandbox.waiting() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sandbox.waiting(), 2);
}

/// Threads of this test process with the given name.
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

#[test]
fn pooled_processes_are_started_by_a_thread_that_outlives_them() {
    // `bwrap --die-with-parent` kills a process when the thread that forked
    // it exits: a pooled process must come from a thread that lives as long
    // as the pool, or it may be killed while it waits (CI saw a run "exited
    // with signal: 9").
    let sandbox = sandbox(2);
    sandbox.warm_up();
    let deadline = Instant::now() + Duration::from_secs(20);
    while sandbox.waiting() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sandbox.waiting(), 2);
    std::thread::sleep(Duration::from_millis(300));
    assert!(threads_named("sandbox-start") >= 1);
    assert_eq!(
        sandbox.waiting(),
        2,
        "a pooled process died while it waited"
    );
    assert_eq!(run(&sandbox, "print('warm')").unwrap(), "warm\n");
}

#[test]
fn the_cpu_budget_starts_when_the_input_is_read() {
    // A harness whose imports take longer than the run's whole CPU budget.
    let slow_start =
        "import time\nend = time.process_time() + 1.5\nwhile time.process_time() < end:\n    pass\n"
            .to_string() + EXEC_HARNESS;
    let sandbox = Sandbox::new(
        &slow_start,
        Settings {
            // The start (1.5 s of CPU) happens within the run here (no
            // pool): room for it on a busy machine.
            limits: Limits {
                wall: Duration::from_secs(30),
                ..limits()
            },
            pool_size: 0,
            bwrap: None,
        },
    );
    assert_eq!(run(&sandbox, "print('ran')").unwrap(), "ran\n");
    // The CPU limit in force once the input is read is the run's budget
    // (1 s) past what was used, not the start-up allowance.
    let headroom = run(
        &sandbox,
        "import resource\nu = resource.getrusage(resource.RUSAGE_SELF)\nprint(resource.getrlimit(resource.RLIMIT_CPU)[0] - int(u.ru_utime + u.ru_stime))",
    )
    .unwrap();
    let headroom: i64 = headroom.trim().parse().unwrap();
    assert!((1..=2).contains(&headroom), "{headroom}");
    assert_eq!(
        run(&sandbox, "while True:\n    pass"),
        Err(ScriptFailure::TimedOut)
    );
}

#[test]
fn without_a_working_bwrap_runs_are_refused_never_run_unsandboxed() {
    let missing = Sandbox::new(
        EXEC_HARNESS,
        Settings {
            bwrap: Some("/nonexistent/bwrap".into()),
            ..Settings::default()
        },
    );
    assert!(matches!(
        run(&missing, "print(1)"),
        Err(ScriptFailure::Unavailable { .. })
    ));
    // A kernel that refuses user namespaces: bwrap fails as it does there.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("bwrap");
    std::fs::write(&fake, "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n").unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&fake).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let refused = Sandbox::new(
        EXEC_HARNESS,
        Settings {
            bwrap: Some(fake),
            pool_size: 0,
            ..Settings::default()
        },
    );
    let answer = run(&refused, "print(1)");
    assert!(
        matches!(&answer, Err(ScriptFailure::Unavailable { why }) if why.contains("namespace")),
        "{answer:?}"
    );
    let off = Refused {
        why: "scripts are switched off".into(),
    };
    assert!(matches!(
        off.run(b""),
        Err(ScriptFailure::Unavailable { .. })
    ));
}

#[test]
fn the_probe_finds_a_working_sandbox_here() {
    let found = lectern_sandbox::probe(&Limits::default(), None);
    assert!(found.works, "{}", found.detail);
    assert!(found.detail.contains("numpy"), "{}", found.detail);
    let missing = lectern_sandbox::probe(&Limits::default(), Some("/nonexistent/bwrap".as_ref()));
    assert!(!missing.works);
}
