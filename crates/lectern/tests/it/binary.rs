//! Tests of the compiled `lectern` binary: zero-config start, the CLI, and
//! graceful shutdown that loses no acknowledged write.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_lectern");

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `lectern serve` in `dir`; returns it with the lines it printed
/// within its first moments (the URL, and the setup link if there is one).
pub(crate) fn serve(dir: &std::path::Path, port: u16) -> (Child, Vec<String>) {
    let mut child = crate::backend::lectern_in(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lectern");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("lectern printed its URL");
    let mut lines = vec![first];
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        lines.push(line);
    }
    (child, lines)
}

/// Makes `username` a site administrator (email `username@example.org`,
/// password `support::PASSWORD` on stdin) through `lectern user create`,
/// run as `lectern` (the binary as the test runs it: its data folder,
/// backend, limits).
pub(crate) fn create_admin(mut lectern: Command, username: &str) {
    let email = format!("{username}@example.org");
    let mut child = lectern
        .args(["user", "create", "--username", username, "--email", &email])
        .args(["--admin", "--password-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(crate::support::PASSWORD.as_bytes())
        .unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success(), "creating {username}");
}

pub(crate) fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

pub(crate) fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "lectern did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

#[test]
fn zero_config_start_prints_the_url_and_a_setup_link() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, lines) = serve(dir.path(), port);
    assert!(
        lines[0].contains(&format!("http://127.0.0.1:{port}/")),
        "{lines:?}"
    );
    assert!(lines[1].contains("/setup/"), "{lines:?}");
    assert!(
        crate::backend::on_postgres() || dir.path().join("lectern-data/lectern.db").exists(),
        "data folder and database created"
    );
    let setup = lines[1]
        .split_whitespace()
        .find(|w| w.contains("/setup/"))
        .unwrap();
    let path = setup.trim_start_matches(&format!("http://127.0.0.1:{port}"));
    assert_eq!(http_get(port, path).0, 200);
    assert_eq!(http_get(port, "/health/ready").0, 200);
    sigterm(&child);
    assert!(wait_exit(&mut child).success());
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, _) = serve(dir.path(), port);

    // A registration whose body arrives slowly: SIGTERM lands mid-request.
    let body =
        "username=slowpoke&email=slow%40example.org&name=Slow&password=correct+horse+battery";
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /api/user/v1/account/registration/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&child);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still serving the request in flight"
    );
    s.write_all(&body.as_bytes()[10..]).unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"success\":true"), "{reply}");
    let status = wait_exit(&mut child);
    assert_eq!(status.code(), Some(0));

    // The next start finds the acknowledged account.
    let port = free_port();
    let (mut child, _) = serve(dir.path(), port);
    let login = "grant_type=password&username=slowpoke&password=correct+horse+battery";
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /oauth2/access_token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{login}",
        login.len()
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.contains("access_token"), "{reply}");
    sigterm(&child);
    assert!(wait_exit(&mut child).success());
}

#[test]
fn user_create_makes_an_admin_from_a_password_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let doctor = || {
        crate::backend::lectern_in(dir.path())
            .arg("doctor")
            .output()
            .unwrap()
    };
    let out = doctor();
    assert!(!out.status.success(), "no administrator yet");
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL  administrator"));
    let mut child = crate::backend::lectern_in(dir.path())
        .args([
            "user",
            "create",
            "--username",
            "ops",
            "--email",
            "ops@example.org",
            "--password-file",
            "-",
            "--admin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("created ops (site administrator)"));
    let out = doctor();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // It also builds the search index as `serve` does at start.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ok    search index: rebuilds in"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Now there is an admin: serve prints no setup link.
    let port = free_port();
    let (mut child, lines) = serve(dir.path(), port);
    assert!(!lines.iter().any(|l| l.contains("/setup/")), "{lines:?}");
    sigterm(&child);
    assert!(wait_exit(&mut child).success());
    // A second account with the same name is refused with the reason.
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "another long password").unwrap();
    let out = crate::backend::lectern_in(dir.path())
        .args([
            "user",
            "create",
            "--username",
            "OPS",
            "--email",
            "x@example.org",
            "--password-file",
        ])
        .arg(&pw)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("username"));
}

#[test]
fn unknown_settings_are_reported() {
    let out = Command::new(BIN)
        .args(["migrate"])
        .env("LECTERN_LISTNE", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("LECTERN_LISTNE"));
}

#[test]
fn output_to_a_reader_that_has_gone_ends_quietly() {
    // `lectern config example | head -0`: the reading end is closed before
    // the command writes a byte, so every write fails with a broken pipe.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let dir = tempfile::tempdir().unwrap();
    for args in [&["config", "example"][..], &["instance", "list"][..]] {
        let out = Command::new(BIN)
            .args(["--data"])
            .arg(dir.path())
            .args(args)
            .stdout(writer.try_clone().unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
