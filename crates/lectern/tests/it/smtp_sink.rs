//! A real SMTP server for the mail tests: Python's `aiosmtpd` with its
//! Maildir handler, started on a free port; each message lands as a file.
//! `scripts/test.sh` installs it and sets `TEST_SMTP_PYTHON`. Under
//! plain `cargo test` without it the mail tests print a NOTE and skip; in CI
//! (`CI=true`) a missing server is a failure, never a silent skip.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
    python: String,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> Option<SmtpSink> {
        let python = match std::env::var("TEST_SMTP_PYTHON") {
            Ok(p) if !p.is_empty() => p,
            _ => {
                assert!(
                    std::env::var("CI").map(|v| v != "true").unwrap_or(true),
                    "TEST_SMTP_PYTHON is not set in CI: scripts/test.sh must install aiosmtpd"
                );
                eprintln!("NOTE: TEST_SMTP_PYTHON is not set (run scripts/test.sh): the SMTP mail test is skipped");
                return None;
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("mail");
        let child = spawn(&python, port, &maildir);
        let mut sink = SmtpSink {
            child,
            port,
            maildir,
            python,
            _dir: dir,
        };
        sink.wait_listening();
        Some(sink)
    }

    fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "aiosmtpd exited at start ({status}); is it installed for {}?",
                    self.python
                );
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (SIGKILL): the relay is away; what it received stays.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port and mail folder.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.python, self.port, &self.maildir);
        self.wait_listening();
    }

    /// How many messages have arrived (cheap: counts files).
    pub fn count(&self) -> usize {
        std::fs::read_dir(self.maildir.join("new")).map_or(0, |d| d.count())
    }

    /// Every message received so far, oldest first, as text.
    pub fn messages(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = dir
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, p)| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Waits (up to 20 s) until `n` messages have arrived and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} mail(s), got {}",
                m.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// aiosmtpd with its Maildir handler on `port`, writing into `maildir`.
fn spawn(python: &str, port: u16, maildir: &std::path::Path) -> Child {
    Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting aiosmtpd with {python}: {e}"))
}

/// The value of the first `name:` header of a message (case-insensitive).
pub fn header(message: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    message
        .lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of a message with quoted-printable soft breaks and `=3D` undone.
pub fn decoded(message: &str) -> String {
    message
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The first `http…/password_reset_confirm/…/` link's path in a message.
pub fn reset_path(message: &str) -> String {
    let text = decoded(message);
    let start = text
        .find("/password_reset_confirm/")
        .unwrap_or_else(|| panic!("no reset link in:\n{text}"));
    let rest = &text[start..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    rest[..end].to_string()
}
