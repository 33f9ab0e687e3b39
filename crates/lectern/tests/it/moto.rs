//! An S3-compatible server for the backup tests: moto's server mode (PyPI
//! `moto[server]`), started on a free port, state in memory. `scripts/test.sh`
//! installs it and sets `TEST_MOTO_PYTHON`; under plain `cargo test`
//! without it the S3 tests print a NOTE and skip, and in CI (`CI=true`) a
//! missing server is a failure. `CutProxy` stands between Lectern and the
//! server so a test can make the server go away mid-upload while it can
//! still ask the server what it holds.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::binary::free_port;

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub async fn start() -> Option<Moto> {
        let python = match std::env::var("TEST_MOTO_PYTHON") {
            Ok(p) if !p.is_empty() => p,
            _ => {
                assert!(
                    std::env::var("CI").map(|v| v != "true").unwrap_or(true),
                    "TEST_MOTO_PYTHON is not set in CI: scripts/test.sh must install moto[server]"
                );
                eprintln!("NOTE: TEST_MOTO_PYTHON is not set (run scripts/test.sh): the S3 backup test is skipped");
                return None;
            }
        };
        let port = free_port();
        let child = Command::new(&python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting moto with {python}: {e}"));
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto exited at start ({status}); is moto[server] installed for {python}?");
            }
            assert!(Instant::now() < deadline, "moto did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(moto)
    }

    /// Makes a bucket (moto takes unsigned requests).
    pub async fn bucket(&self, name: &str) {
        let r = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "creating bucket: {}", r.status());
    }

    /// The keys of the objects in a bucket.
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let text = self.get(&format!("{bucket}?list-type=2")).await;
        between(&text, "<Key>", "</Key>")
    }

    /// The multipart uploads begun and neither completed nor aborted.
    pub async fn open_uploads(&self, bucket: &str) -> Vec<String> {
        let text = self.get(&format!("{bucket}?uploads")).await;
        between(&text, "<UploadId>", "</UploadId>")
    }

    async fn get(&self, path: &str) -> String {
        reqwest::Client::new()
            .get(format!("{}/{path}", self.endpoint))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

fn between(text: &str, open: &str, close: &str) -> Vec<String> {
    text.split(open)
        .skip(1)
        .filter_map(|s| s.split(close).next())
        .map(str::to_string)
        .collect()
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy to `upstream` that can be cut: every connection through it is
/// dropped and new ones are refused, as if the server went away.
pub struct CutProxy {
    pub endpoint: String,
    cut: Arc<Notify>,
}

impl CutProxy {
    pub async fn start(upstream: &str) -> CutProxy {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let cut = Arc::new(Notify::new());
        let c = cut.clone();
        tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    _ = c.notified() => break,
                    accepted = listener.accept() => {
                        let Ok((mut inbound, _)) = accepted else { break };
                        let up = upstream.clone();
                        conns.spawn(async move {
                            if let Ok(mut out) = TcpStream::connect(up).await {
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                            }
                        });
                    }
                }
            }
            // Dropping the listener and the set closes everything.
            conns.abort_all();
        });
        CutProxy { endpoint, cut }
    }

    pub fn cut(&self) {
        self.cut.notify_one();
    }
}
