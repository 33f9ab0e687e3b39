//! What the instance tests share: one deployment in a temporary folder (a
//! configuration file with a short registry refresh), the `lectern` CLI run
//! on it (`--instance NAME` or the deployment's), one `lectern serve`, and
//! HTTP clients that reach that one server under a host name of their choice
//! (`reqwest`'s `resolve`, so cookies are kept per host as a browser keeps
//! them).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::binary::free_port;
use crate::support::Client;

/// The registry refresh of the test deployments, in milliseconds.
pub const REFRESH_MS: u64 = 200;

pub struct Deploy {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub port: u16,
    server: Option<Child>,
}

impl Deploy {
    /// A deployment whose configuration file adds `extra` (TOML) after the
    /// `[instances]` section with the short refresh.
    pub fn new(extra: &str) -> Deploy {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("lectern.toml");
        std::fs::write(
            &config,
            format!("listen = \"127.0.0.1:{port}\"\n\n[instances]\nrefresh_ms = {REFRESH_MS}\n{extra}\n"),
        )
        .unwrap();
        Deploy {
            dir,
            config,
            port,
            server: None,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `lectern --config FILE ARGS`: (success, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        self.cli_with_stdin(args, "")
    }

    pub fn cli_with_stdin(&self, args: &[&str], stdin: &str) -> (bool, String, String) {
        let mut child = crate::backend::lectern_in(self.path())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run lectern");
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
        drop(input);
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs a command that must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.cli(args);
        assert!(ok, "lectern {args:?} failed:\n{out}\n{err}");
        out
    }

    /// `lectern instance create NAME --host HOST`.
    pub fn create_instance(&self, name: &str, host: &str) -> String {
        self.ok(&["instance", "create", name, "--host", host])
    }

    /// An account on `instance` (`None`: the default site) made with
    /// `lectern [--instance NAME] user create`, with its own password.
    pub fn user(&self, instance: Option<&str>, username: &str, password: &str, admin: bool) {
        let email = format!("{username}@example.org");
        let mut args: Vec<&str> = Vec::new();
        if let Some(name) = instance {
            args.extend(["--instance", name]);
        }
        args.extend(["user", "create", "--username", username, "--email", &email]);
        if admin {
            args.push("--admin");
        }
        args.extend(["--password-file", "-"]);
        let (ok, out, err) = self.cli_with_stdin(&args, password);
        assert!(ok, "creating {username}: {out}{err}");
    }

    /// Imports `archive` into `instance` with `owner` as its instructor;
    /// the command's output.
    pub fn import(&self, instance: &str, archive: &[u8], owner: &str) -> String {
        let path = self.path().join(format!("import-{instance}.tar.gz"));
        std::fs::write(&path, archive).unwrap();
        self.ok(&[
            "--instance",
            instance,
            "import",
            path.to_str().unwrap(),
            "--owner",
            owner,
        ])
    }

    /// Starts `lectern serve` and waits until it answers.
    pub fn serve(&mut self) {
        assert!(self.server.is_none(), "one server per deployment");
        let (child, _) =
            crate::tls_support::start_serve(self.path(), &self.config, Duration::from_secs(60));
        self.server = Some(child);
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path().join("serve.log")).unwrap_or_default()
    }

    /// A browser-like client of the site at `host` (cookies kept per host,
    /// redirects not followed, so each answer is seen as sent).
    pub fn client(&self, host: &str) -> Client {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .resolve(host, addr)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Client {
            http,
            jar,
            base: format!("http://{host}:{}", self.port),
        }
    }

    /// One plain request with `Host: host`: (status, whole response text
    /// with its headers).
    pub fn raw(&self, method: &str, host: &str, path: &str) -> (u16, String) {
        crate::tls_support::http_request(self.port, method, host, path, "")
    }

    /// `/metrics` (asked of the default site by address).
    pub fn metrics(&self) -> String {
        let (status, text) = self.raw("GET", "127.0.0.1", "/metrics");
        assert_eq!(status, 200, "{text}");
        text
    }
}

impl Drop for Deploy {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Signs in through the sign-in form: the answer's status (303 when signed in).
pub async fn sign_in(c: &Client, login: &str, password: &str) -> reqwest::Response {
    c.post_form(
        "/login",
        &[
            ("login", login.to_string()),
            ("password", password.to_string()),
        ],
    )
    .await
}

/// `POST /oauth2/access_token` on `c`'s host: (status, token when granted).
pub async fn token(c: &Client, username: &str, password: &str) -> (StatusCode, Option<String>) {
    let r = c
        .http
        .post(c.url("/oauth2/access_token"))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    let token = body["access_token"].as_str().map(|t| format!("Bearer {t}"));
    (status, token)
}

/// A request with a bearer token: (status, body text).
pub async fn with_bearer(
    c: &Client,
    method: reqwest::Method,
    path: &str,
    auth: &str,
    form: Option<&[(&str, &str)]>,
) -> (StatusCode, String) {
    let mut r = c
        .http
        .request(method, c.url(path))
        .header("Authorization", auth);
    if let Some(f) = form {
        r = r.form(f);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.text().await.unwrap_or_default())
}

/// Polls `check` every 100 ms until it answers `Some` or `secs` pass.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the one `/metrics` line that starts with `series`.
pub fn metric(text: &str, series: &str) -> Option<String> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l[series.len()..].split_whitespace().next())
        .map(str::to_string)
}

/// The `Set-Cookie` header lines of a raw response.
pub fn set_cookies(raw: &str) -> Vec<String> {
    raw.split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .map(str::to_string)
        .collect()
}
