//! `lectern backup pull`: a backup host fetches a fresh archive from a
//! running node (`GET /api/backup/v1/snapshot` with a bearer token), or
//! copies the newest backup out of another backup folder (a laptop copy),
//! files it in its target under a temporary name, checks every hash of what
//! the target now holds, renames it into place, and prunes by the policy
//! given. Nothing is filed unless the whole archive arrived and checks out.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use lectern_backup::retention::{self, Policy};
use lectern_backup::target::{archive_name, parse_name};
use lectern_backup::transfer::file_copy;
use lectern_backup::{Keys, LocalTarget, Target};
use tokio::sync::mpsc;

/// A `Read` over chunks that arrive from the async side.
struct ChannelReader {
    rx: mpsc::Receiver<Result<Bytes, String>>,
    chunk: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.chunk = b,
                Some(Err(e)) => return Err(io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = self.chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// The snapshot address for `--from`: a node's base URL or the full path.
fn snapshot_url(from: &str) -> String {
    if from.contains("/api/backup/") {
        from.to_string()
    } else {
        format!("{}/api/backup/v1/snapshot", from.trim_end_matches('/'))
    }
}

/// The archive name a response carries, or one for now.
fn name_of(resp: &reqwest::Response) -> String {
    resp.headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("filename=\"").nth(1))
        .and_then(|v| v.split('"').next())
        .filter(|n| parse_name(n).is_some())
        .map(str::to_string)
        .unwrap_or_else(|| archive_name(chrono::Utc::now()))
}

async fn pull_http(
    from: &str,
    token_file: Option<&Path>,
    target: Arc<dyn Target>,
) -> anyhow::Result<(String, u64)> {
    let token_file = token_file.context("pulling from a node needs --token-file FILE")?;
    let token = std::fs::read_to_string(token_file)
        .with_context(|| format!("reading {}", token_file.display()))?;
    let token = token.lines().next().unwrap_or("").trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    anyhow::ensure!(!token.is_empty(), "{} is empty", token_file.display());
    let url = snapshot_url(from);
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(300))
        .build()
        .context("making the HTTP client")?;
    let resp = client
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    if !resp.status().is_success() {
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let why = body["message"].as_str().unwrap_or("no reason given");
        bail!("{url} refused the backup ({status}): {why}");
    }
    let name = name_of(&resp);
    let mut resp = resp;
    let (tx, rx) = mpsc::channel(4);
    let copy = tokio::task::spawn_blocking(move || {
        let mut reader = ChannelReader {
            rx,
            chunk: Bytes::new(),
        };
        file_copy(target.as_ref(), &name, &mut reader, &Keys::default())
    });
    loop {
        match resp.chunk().await {
            Ok(Some(b)) => {
                if tx.send(Ok(b)).await.is_err() {
                    break; // The copy stopped; its error says why.
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx
                    .send(Err(format!("the transfer from {url} broke off: {e}")))
                    .await;
                break;
            }
        }
    }
    drop(tx);
    let (location, _, size) = copy.await.context("the copy failed")??;
    Ok((location, size))
}

async fn pull_folder(
    from: &Path,
    keys: Keys,
    target: Arc<dyn Target>,
) -> anyhow::Result<(String, u64)> {
    let source = LocalTarget::new(from);
    let newest = source
        .list()?
        .pop()
        .with_context(|| format!("{} holds no backup", from.display()))?;
    let copy = tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&newest.location)
            .with_context(|| format!("opening {}", newest.location))?;
        Ok::<_, anyhow::Error>(file_copy(target.as_ref(), &newest.name, &mut file, &keys)?)
    });
    let (location, _, size) = copy.await.context("the copy failed")??;
    Ok((location, size))
}

/// Deletes what `policy` does not keep; prints what it deleted.
pub fn prune(target: &dyn Target, policy: &Policy) -> anyhow::Result<()> {
    let entries = target.list()?;
    let times: Vec<_> = entries.iter().map(|e| e.created).collect();
    for (e, keep) in entries.iter().zip(retention::keep(&times, policy)?) {
        if !keep {
            target.delete(e)?;
            eprintln!("deleted {}", e.location);
        }
    }
    Ok(())
}

/// `lectern backup pull`: prints the location of the filed backup.
pub async fn pull(
    from: &str,
    token_file: Option<PathBuf>,
    target: Arc<dyn Target>,
    keys: Keys,
    policy: Policy,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let (location, size) = if from.starts_with("http://") || from.starts_with("https://") {
        pull_http(from, token_file.as_deref(), target.clone()).await?
    } else {
        pull_folder(Path::new(from), keys, target.clone()).await?
    };
    eprintln!(
        "pulled {size} bytes from {from} in {:.1}s, checked",
        started.elapsed().as_secs_f64()
    );
    say!("{location}");
    if !policy.is_empty() {
        let t = target.clone();
        tokio::task::spawn_blocking(move || prune(t.as_ref(), &policy))
            .await
            .context("pruning failed")??;
    }
    Ok(())
}
