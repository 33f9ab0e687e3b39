//! Backups that travel: `stream` writes a fresh archive of the database to
//! any writer (the HTTP snapshot a backup host pulls), and `file_copy` files
//! an archive read from anywhere (an HTTP body, another backup folder) into a
//! target under its temporary name, checks every hash of what the target
//! holds, and only then puts it in place.

use std::io::{self, Read, Write};

use chrono::Utc;
use lectern_app::backup::BackupStore;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::archive::{ArchiveReader, Origin};
use crate::ops::{write_archive, ChannelSink, Ev, Silent, Tee, IN_FLIGHT};
use crate::target::Target;
use crate::{BackupError, Encryption, Keys, Manifest};

/// Writes one consistent, unencrypted archive of `store` to `out`, which is
/// flushed at the end. An error midway leaves `out` with an archive that
/// every reader refuses (no trailer).
pub async fn stream<W: Write + Send + 'static>(
    store: &dyn BackupStore,
    out: W,
    site: &str,
) -> Result<Manifest, BackupError> {
    let origin = Origin {
        schema_version: store.schema_version().await?,
        backend: store.backend().to_string(),
        site: site.to_string(),
        created_at: Utc::now(),
    };
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    let writer = tokio::task::spawn_blocking(move || {
        let tee = Tee {
            inner: out,
            hasher: Sha256::new(),
            len: 0,
        };
        let (mut tee, manifest) = write_archive(tee, &Encryption::None, rx, origin, &Silent)?;
        tee.flush().map_err(BackupError::io("sending the backup"))?;
        Ok::<_, BackupError>(manifest)
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
    match (snapshot, written) {
        (Ok(()), Ok(m)) => Ok(m),
        (_, Err(e)) => Err(e),
        (Err(e), Ok(_)) => Err(e.into()),
    }
}

/// Copies the archive `src` into `target` as `name`: written under a
/// temporary name, read back from the target and checked member by member
/// against its manifest, then put in place. Returns its location and
/// manifest. Blocking: call it on a blocking thread.
pub fn file_copy(
    target: &dyn Target,
    name: &str,
    src: &mut dyn Read,
    keys: &Keys,
) -> Result<(String, Manifest, u64), BackupError> {
    let mut pending = target.begin(name)?;
    let mut size = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    let copied: Result<(), BackupError> = (|| loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(BackupError::io("receiving the backup")(e)),
        };
        pending
            .write_all(&buf[..n])
            .map_err(BackupError::io(format!("writing to {}", target.describe())))?;
        size += n as u64;
    })();
    let checked = copied.and_then(|()| {
        let back = pending.read_back()?;
        ArchiveReader::open(back, keys)?.verify_all(|| ())
    });
    match checked {
        Ok(manifest) => Ok((pending.commit()?, manifest, size)),
        Err(e) => {
            pending.abort();
            Err(e)
        }
    }
}
