//! The use cases: create (snapshot → archive under a temporary name → read
//! back → rename), verify (every member against the manifest), and restore
//! (verify first, then replace the database in one transaction).
//!
//! The database streams rows on the async side; compression, encryption and
//! file I/O run on a blocking thread, joined by a small bounded channel so
//! memory stays flat however large the site.

use std::io::{self, Read, Write};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use lectern_app::backup::{BackupStore, RestoreSource, SnapshotSink, TableSchema, Value};
use lectern_app::StoreError;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::archive::{ArchiveReader, ArchiveWriter, Event, Origin};
use crate::target::{archive_name, Pending, Target};
use crate::{BackupError, Encryption, Keys, Manifest};

/// Rows in flight between the database and the archive (a row may be a
/// 1 MiB blob chunk, so this bounds memory to a few MiB).
pub(crate) const IN_FLIGHT: usize = 8;

/// Where progress is reported (a progress bar in a terminal, or nothing).
pub trait Progress: Send + Sync {
    fn start(&self, _label: &str, _total_rows: u64) {}
    fn rows(&self, _n: u64) {}
    fn finish(&self) {}
}

/// Reports nothing.
pub struct Silent;
impl Progress for Silent {}

/// A finished backup.
#[derive(Debug)]
pub struct Created {
    pub location: String,
    pub manifest: Manifest,
    pub size: u64,
}

pub(crate) enum Ev {
    Begin(TableSchema),
    Row(Vec<Value>),
    End,
    Finish,
}

pub(crate) struct ChannelSink {
    pub(crate) tx: mpsc::Sender<Ev>,
}

fn writer_gone() -> StoreError {
    StoreError::Internal("the backup writer stopped".into())
}

#[async_trait]
impl SnapshotSink for ChannelSink {
    async fn begin_table(&mut self, t: &TableSchema) -> Result<(), StoreError> {
        self.tx
            .send(Ev::Begin(t.clone()))
            .await
            .map_err(|_| writer_gone())
    }
    async fn row(&mut self, values: Vec<Value>) -> Result<(), StoreError> {
        self.tx
            .send(Ev::Row(values))
            .await
            .map_err(|_| writer_gone())
    }
    async fn end_table(&mut self) -> Result<(), StoreError> {
        self.tx.send(Ev::End).await.map_err(|_| writer_gone())
    }
}

/// Counts and hashes the bytes of the file as they are written.
pub(crate) struct Tee<W: Write> {
    pub(crate) inner: W,
    pub(crate) hasher: Sha256,
    pub(crate) len: u64,
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The writer's error when the snapshot side went away without finishing:
/// then the snapshot's own error says why.
const STOPPED_EARLY: &str = "the snapshot stopped early";

pub(crate) fn write_archive<W: Write>(
    out: Tee<W>,
    enc: &Encryption,
    mut rx: mpsc::Receiver<Ev>,
    origin: Origin,
    progress: &dyn Progress,
) -> Result<(Tee<W>, Manifest), BackupError> {
    let mut w = ArchiveWriter::new(out, enc)?;
    loop {
        match rx.blocking_recv() {
            Some(Ev::Begin(t)) => w.begin_table(&t)?,
            Some(Ev::Row(v)) => {
                w.row(&v)?;
                progress.rows(1);
            }
            Some(Ev::End) => w.end_table()?,
            Some(Ev::Finish) => break,
            None => return Err(BackupError::Usage(STOPPED_EARLY.into())),
        }
    }
    w.finish(origin)
}

/// Reads the archive back from the target and checks it is byte for byte
/// what was written.
fn read_back(tee: &mut Tee<Box<dyn Pending>>) -> Result<(), BackupError> {
    let expected = std::mem::take(&mut tee.hasher).finalize();
    let mut r = tee.inner.read_back()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = r
            .read(&mut buf)
            .map_err(BackupError::io("reading the new backup back"))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        len += n as u64;
    }
    if len != tee.len || h.finalize() != expected {
        return Err(BackupError::Corrupt(
            "the archive read back from the target differs from what was written".into(),
        ));
    }
    Ok(())
}

/// Takes one consistent backup of `store` into `target`.
pub async fn create(
    store: &dyn BackupStore,
    target: Arc<dyn Target>,
    site: &str,
    enc: Encryption,
    progress: Arc<dyn Progress>,
) -> Result<Created, BackupError> {
    let created_at = Utc::now();
    let origin = Origin {
        schema_version: store.schema_version().await?,
        backend: store.backend().to_string(),
        site: site.to_string(),
        created_at,
    };
    let estimate: u64 = store.row_counts().await?.iter().map(|(_, n)| n).sum();
    let pending = target.begin(&archive_name(created_at))?;
    progress.start("backing up", estimate);
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    let p = progress.clone();
    let writer = tokio::task::spawn_blocking(move || {
        let tee = Tee {
            inner: pending,
            hasher: Sha256::new(),
            len: 0,
        };
        // On failure the pending archive is dropped inside `tee`: abort it.
        let mut slot = Some(tee);
        let result = (|| {
            let tee = slot
                .take()
                .ok_or_else(|| BackupError::Usage("no archive".into()))?;
            let (mut tee, manifest) = write_archive(tee, &enc, rx, origin, p.as_ref())?;
            tee.flush().map_err(BackupError::io("writing the backup"))?;
            read_back(&mut tee)?;
            let size = tee.len;
            let location = tee.inner.commit()?;
            Ok(Created {
                location,
                manifest,
                size,
            })
        })();
        result
    });
    let mut sink = ChannelSink { tx };
    let snapshot = store.snapshot(&mut sink).await;
    if snapshot.is_ok() {
        let _ = sink.tx.send(Ev::Finish).await;
    }
    drop(sink);
    let written = writer
        .await
        .map_err(|e| BackupError::Usage(format!("the backup writer failed: {e}")))?;
    progress.finish();
    match (snapshot, written) {
        (Ok(()), Ok(created)) => Ok(created),
        (Err(e), Err(BackupError::Usage(m))) if m == STOPPED_EARLY => Err(e.into()),
        (_, Err(e)) => Err(e),
        (Err(e), Ok(_)) => Err(e.into()),
    }
}

/// Opens an archive for reading (a file path today).
pub type Opener = Arc<dyn Fn() -> Result<Box<dyn Read + Send>, BackupError> + Send + Sync>;

/// Re-reads every member and checks every hash against the manifest.
pub async fn verify(
    open: Opener,
    keys: Arc<Keys>,
    progress: Arc<dyn Progress>,
) -> Result<Manifest, BackupError> {
    progress.start("checking", 0);
    let p = progress.clone();
    let result = tokio::task::spawn_blocking(move || {
        ArchiveReader::open(open()?, &keys)?.verify_all(|| p.rows(1))
    })
    .await
    .map_err(|e| BackupError::Usage(format!("the check failed: {e}")))?;
    progress.finish();
    result
}

/// What a restore did or, in a dry run, would do.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Per table: rows now, rows in the backup.
    pub changes: Vec<(String, u64, u64)>,
    pub safety_backup: Option<String>,
    pub rows: u64,
    pub dry_run: bool,
}

pub struct RestoreOptions {
    pub dry_run: bool,
    pub force: bool,
    /// Where the safety backup of a non-empty database goes.
    pub safety_target: Option<Arc<dyn Target>>,
    pub site: String,
}

struct ChannelSource {
    rx: mpsc::Receiver<Result<Event, BackupError>>,
    failure: Option<BackupError>,
}

impl ChannelSource {
    async fn next(&mut self) -> Result<Event, StoreError> {
        match self.rx.recv().await {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => {
                let msg = e.to_string();
                self.failure = Some(e);
                Err(StoreError::Internal(msg))
            }
            None => Err(StoreError::Internal("the backup reader stopped".into())),
        }
    }
}

#[async_trait]
impl RestoreSource for ChannelSource {
    async fn next_table(&mut self) -> Result<Option<TableSchema>, StoreError> {
        match self.next().await? {
            Event::Table(t) => Ok(Some(t)),
            Event::Done(_) => Ok(None),
            other => Err(StoreError::Internal(format!("unexpected {other:?}"))),
        }
    }
    async fn next_row(&mut self) -> Result<Option<Vec<Value>>, StoreError> {
        match self.next().await? {
            Event::Row(v) => Ok(Some(v)),
            Event::EndTable => Ok(None),
            other => Err(StoreError::Internal(format!("unexpected {other:?}"))),
        }
    }
}

/// Restores an archive into `store`: checks the whole archive first, then
/// replaces everything in one transaction (reading and checking it again as
/// it goes, so a file changed in between rolls back).
pub async fn restore(
    store: &dyn BackupStore,
    open: Opener,
    keys: Arc<Keys>,
    opts: RestoreOptions,
    progress: Arc<dyn Progress>,
) -> Result<Restored, BackupError> {
    let manifest = verify(open.clone(), keys.clone(), progress.clone()).await?;
    let here = store.schema_version().await?;
    if manifest.schema_version > here {
        return Err(BackupError::TooNew(format!(
            "this backup has database schema {} (Lectern {}), newer than this binary's {here}: restore it with a newer lectern",
            manifest.schema_version, manifest.lectern_version
        )));
    }
    if manifest.schema_version < here {
        return Err(BackupError::Usage(format!(
            "this backup has database schema {} (Lectern {}), older than this database's {here}: restore it with the Lectern version that wrote it, then upgrade",
            manifest.schema_version, manifest.lectern_version
        )));
    }
    let current = store.row_counts().await?;
    let mut changes: Vec<(String, u64, u64)> = manifest
        .tables
        .iter()
        .map(|t| {
            let now = current
                .iter()
                .find(|(n, _)| *n == t.name)
                .map_or(0, |c| c.1);
            (t.name.clone(), now, t.rows)
        })
        .collect();
    for (name, n) in &current {
        if !manifest.tables.iter().any(|t| &t.name == name) {
            changes.push((name.clone(), *n, 0));
        }
    }
    let occupied: u64 = current.iter().map(|(_, n)| n).sum();
    if opts.dry_run {
        return Ok(Restored {
            manifest,
            changes,
            safety_backup: None,
            rows: 0,
            dry_run: true,
        });
    }
    let mut safety_backup = None;
    if occupied > 0 {
        if !opts.force {
            return Err(BackupError::NotEmpty(format!(
                "the database is not empty ({occupied} rows): pass --force to replace it (a safety backup of it is taken first)"
            )));
        }
        if let Some(target) = &opts.safety_target {
            let made = create(
                store,
                target.clone(),
                &opts.site,
                Encryption::None,
                Arc::new(Silent),
            )
            .await?;
            safety_backup = Some(made.location);
        }
    }
    progress.start("restoring", manifest.total_rows());
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    let p = progress.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let mut r = match open().and_then(|f| ArchiveReader::open(f, &keys)) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        loop {
            let ev = r.next_event();
            let last = matches!(ev, Ok(Event::Done(_)) | Err(_));
            if matches!(ev, Ok(Event::Row(_))) {
                p.rows(1);
            }
            if tx.blocking_send(ev).is_err() || last {
                return;
            }
        }
    });
    let mut source = ChannelSource { rx, failure: None };
    let result = store.restore(&mut source).await;
    drop(source.rx);
    let _ = reader.await;
    progress.finish();
    let rows = match (result, source.failure) {
        (Ok(rows), _) => rows,
        (Err(_), Some(e)) => return Err(e),
        (Err(e), None) => return Err(e.into()),
    };
    Ok(Restored {
        manifest,
        changes,
        safety_backup,
        rows,
        dry_run: false,
    })
}
