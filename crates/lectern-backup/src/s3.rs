//! Archives in S3-compatible object storage (AWS, MinIO, Garage, Ceph…),
//! through `object_store`.
//!
//! An archive is sent as one multipart upload straight to its final key,
//! and that upload is completed only when the archive has been written to
//! its end (manifest and trailer included): until then no object exists, so
//! a crash, a killed process or a server that goes away mid-upload leaves
//! nothing `list` shows. A failure aborts the upload so the server drops
//! its parts (an upload abandoned by a killed process is invisible, and a
//! bucket lifecycle rule for incomplete uploads removes it). After
//! completion the object is read back and compared with what was sent; a
//! mismatch deletes it.
//!
//! The `Target` trait is synchronous (archives are written on a blocking
//! thread), so this target owns a small runtime of its own and runs each
//! request on it from a short-lived thread: that works whatever thread the
//! caller is on, async or not.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, MultipartUpload, ObjectStore, PutPayload, RetryConfig};

use crate::target::{parse_name, Entry, Pending, Target};
use crate::BackupError;

/// Bytes sent per part (S3 wants at least 5 MiB for all parts but the last);
/// also the most memory an upload holds.
const PART_BYTES: usize = 8 * 1024 * 1024;

/// How to reach the object store.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// `https://…` or `http://…`; empty: AWS.
    pub endpoint: String,
    pub region: String,
    /// Empty: the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` variables.
    pub access_key_id: String,
    pub secret_access_key: String,
    /// How long one request may take before it is retried or given up.
    pub timeout: Duration,
    /// Retries of a failed request.
    pub max_retries: usize,
}

/// Runs futures on the target's own runtime from any thread.
struct Runner {
    rt: Option<tokio::runtime::Runtime>,
}

impl Runner {
    fn new() -> Result<Self, BackupError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("lectern-s3")
            .enable_all()
            .build()
            .map_err(BackupError::io("starting the S3 client"))?;
        Ok(Self { rt: Some(rt) })
    }

    fn run<F>(&self, fut: F) -> Result<F::Output, BackupError>
    where
        F: std::future::Future + Send,
        F::Output: Send,
    {
        let rt = self
            .rt
            .as_ref()
            .ok_or_else(|| BackupError::Usage("the S3 client stopped".into()))?;
        let handle = rt.handle().clone();
        std::thread::scope(|s| {
            s.spawn(move || handle.block_on(fut))
                .join()
                .map_err(|_| BackupError::Usage("the S3 client failed".into()))
        })
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which is refused on async threads.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// `s3://bucket/prefix`: a bucket and a key prefix (possibly empty).
pub struct S3Target {
    store: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
    runner: Arc<Runner>,
}

fn s3_error(context: impl Into<String>) -> impl FnOnce(object_store::Error) -> BackupError {
    let context = context.into();
    move |e| BackupError::Io {
        context,
        source: io::Error::other(e.to_string()),
    }
}

impl S3Target {
    /// `url` is `s3://bucket` or `s3://bucket/some/prefix`.
    pub fn new(url: &str, settings: &S3Settings) -> Result<Self, BackupError> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            BackupError::Usage(format!("{url:?} is not an s3://bucket/prefix address"))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BackupError::Usage(format!("{url:?} names no bucket")));
        }
        let prefix = prefix.trim_matches('/').to_string();
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(settings.timeout)
                    .with_connect_timeout(Duration::from_secs(10)),
            )
            .with_retry(RetryConfig {
                max_retries: settings.max_retries,
                retry_timeout: settings.timeout * 2,
                ..RetryConfig::default()
            });
        if !settings.endpoint.is_empty() {
            b = b
                .with_endpoint(settings.endpoint.trim_end_matches('/'))
                .with_allow_http(settings.endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if !settings.region.is_empty() {
            b = b.with_region(&settings.region);
        }
        if !settings.access_key_id.is_empty() {
            b = b
                .with_access_key_id(&settings.access_key_id)
                .with_secret_access_key(&settings.secret_access_key);
        }
        let store = b
            .build()
            .map_err(|e| BackupError::Usage(format!("cannot use {url}: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: bucket.to_string(),
            prefix,
            runner: Arc::new(Runner::new()?),
        })
    }

    fn key(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    fn location(&self, key: &ObjectPath) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// Opens a finished archive for reading, streamed.
    pub fn open(&self, location: &str) -> Result<Box<dyn Read + Send>, BackupError> {
        let key = location
            .strip_prefix(&format!("s3://{}/", self.bucket))
            .ok_or_else(|| {
                BackupError::Usage(format!("{location} is not in s3://{}", self.bucket))
            })?;
        open_reader(
            self.store.clone(),
            self.runner.clone(),
            ObjectPath::from(key),
        )
    }
}

fn open_reader(
    store: Arc<AmazonS3>,
    runner: Arc<Runner>,
    key: ObjectPath,
) -> Result<Box<dyn Read + Send>, BackupError> {
    let what = format!("reading {key}");
    let got = runner.run(async move { store.get(&key).await })?;
    let stream = got.map_err(s3_error(what))?.into_stream();
    Ok(Box::new(ObjectReader {
        stream: Some(stream),
        chunk: Bytes::new(),
        runner,
    }))
}

/// A `Read` over the body of a GET, a chunk at a time.
struct ObjectReader {
    stream: Option<BoxStream<'static, object_store::Result<Bytes>>>,
    chunk: Bytes,
    runner: Arc<Runner>,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            let Some(mut stream) = self.stream.take() else {
                return Ok(0);
            };
            let (stream, item) = self
                .runner
                .run(async move {
                    let item = stream.next().await;
                    (stream, item)
                })
                .map_err(io::Error::other)?;
            match item {
                Some(Ok(bytes)) => {
                    self.stream = Some(stream);
                    self.chunk = bytes;
                }
                Some(Err(e)) => return Err(io::Error::other(e.to_string())),
                None => return Ok(0),
            }
        }
        let n = self.chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

enum UploadState {
    Open(Box<dyn MultipartUpload>),
    Completed,
    Done,
}

struct S3Pending {
    store: Arc<AmazonS3>,
    runner: Arc<Runner>,
    key: ObjectPath,
    location: String,
    buf: Vec<u8>,
    state: UploadState,
}

impl S3Pending {
    fn send_part(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let UploadState::Open(upload) = &mut self.state else {
            return Err(io::Error::other("the upload is closed"));
        };
        let part = upload.put_part(PutPayload::from(std::mem::take(&mut self.buf)));
        self.runner
            .run(part)
            .map_err(io::Error::other)?
            .map_err(|e| io::Error::other(format!("uploading to {}: {e}", self.location)))
    }

    fn cleanup(&mut self) {
        match std::mem::replace(&mut self.state, UploadState::Done) {
            UploadState::Open(mut upload) => {
                let _ = self.runner.run(async move { upload.abort().await });
            }
            UploadState::Completed => {
                let (store, key) = (self.store.clone(), self.key.clone());
                let _ = self.runner.run(async move { store.delete(&key).await });
            }
            UploadState::Done => {}
        }
    }
}

impl Write for S3Pending {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = PART_BYTES - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= PART_BYTES {
            self.send_part()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Pending for S3Pending {
    /// Sends the last part, completes the upload (the archive is whole: the
    /// writer has finished it) and reads the object back.
    fn read_back(&mut self) -> Result<Box<dyn Read + Send>, BackupError> {
        self.send_part()
            .map_err(BackupError::io(format!("uploading {}", self.location)))?;
        let UploadState::Open(mut upload) = std::mem::replace(&mut self.state, UploadState::Done)
        else {
            return Err(BackupError::Usage("the upload is already closed".into()));
        };
        let done = self.runner.run(async move {
            let r = upload.complete().await;
            (upload, r)
        })?;
        match done {
            (_, Ok(_)) => self.state = UploadState::Completed,
            (upload, Err(e)) => {
                self.state = UploadState::Open(upload);
                return Err(s3_error(format!("completing {}", self.location))(e));
            }
        }
        open_reader(self.store.clone(), self.runner.clone(), self.key.clone())
    }

    fn commit(mut self: Box<Self>) -> Result<String, BackupError> {
        if !matches!(self.state, UploadState::Completed) {
            return Err(BackupError::Usage(
                "an S3 archive is committed only after it was read back".into(),
            ));
        }
        self.state = UploadState::Done;
        Ok(self.location.clone())
    }

    fn abort(mut self: Box<Self>) {
        self.cleanup();
    }
}

impl Drop for S3Pending {
    /// An archive dropped without `commit` (an error on the way) is removed.
    fn drop(&mut self) {
        self.cleanup();
    }
}

impl Target for S3Target {
    fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn begin(&self, name: &str) -> Result<Box<dyn Pending>, BackupError> {
        let key = self.key(name);
        let store = self.store.clone();
        let k = key.clone();
        let upload = self
            .runner
            .run(async move { store.put_multipart(&k).await })?
            .map_err(s3_error(format!(
                "cannot write backups to {}",
                self.describe()
            )))?;
        Ok(Box::new(S3Pending {
            store: self.store.clone(),
            runner: self.runner.clone(),
            location: self.location(&key),
            key,
            buf: Vec::with_capacity(PART_BYTES),
            state: UploadState::Open(upload),
        }))
    }

    fn list(&self) -> Result<Vec<Entry>, BackupError> {
        let store = self.store.clone();
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let metas = self
            .runner
            .run(async move {
                let mut out = Vec::new();
                let mut s = store.list(prefix.as_ref());
                while let Some(m) = s.next().await {
                    out.push(m?);
                }
                Ok::<_, object_store::Error>(out)
            })?
            .map_err(s3_error(format!("listing {}", self.describe())))?;
        let mut out: Vec<Entry> = metas
            .into_iter()
            .filter_map(|m| {
                let name = m.location.filename()?.to_string();
                // Only archives directly under the prefix.
                if m.location != self.key(&name) {
                    return None;
                }
                Some(Entry {
                    created: parse_name(&name)?,
                    location: self.location(&m.location),
                    name,
                    size: m.size,
                })
            })
            .collect();
        out.sort_by(|a, b| a.created.cmp(&b.created).then(a.name.cmp(&b.name)));
        Ok(out)
    }

    fn delete(&self, entry: &Entry) -> Result<(), BackupError> {
        let store = self.store.clone();
        let key = self.key(&entry.name);
        self.runner
            .run(async move { store.delete(&key).await })?
            .map_err(s3_error(format!("deleting {}", entry.location)))
    }
}
