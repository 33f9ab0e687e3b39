//! Writing and reading one archive as a stream: a header, one member per
//! table (its name and columns, then its rows), the manifest, and the hash of
//! the manifest. Nothing is held in memory but the row at hand, so a site of
//! any size backs up in the same memory.
//!
//! Layers, outermost first: the file, optional age encryption, zstd (with its
//! own checksum), the records below.
//!
//! ```text
//! header   "LECTERN-BACKUP\n" varint(format)
//! member   'T' name varint(n) column*n   ('R' value*n)*   'E'     (hashed: 'T' … 'E')
//! manifest 'M' json
//! trailer  'Z' hex(sha256(json))
//! ```

use std::io::{self, BufReader, BufWriter, Read, Write};

use chrono::{DateTime, Utc};
use lectern_app::backup::{TableSchema, Value};
use sha2::{Digest, Sha256};

use crate::crypt::{unseal, Encryption, Keys, Sealed};
use crate::error::reading;
use crate::manifest::{Manifest, TableEntry, FORMAT_VERSION};
use crate::wire::{WireIn, WireOut, MAX_COLUMNS, MAX_NAME};
use crate::BackupError;

const MAGIC: &[u8] = b"LECTERN-BACKUP\n";
const MAX_MANIFEST: u64 = 64 * 1024 * 1024;

/// Facts about the source that the manifest records.
#[derive(Debug, Clone)]
pub struct Origin {
    pub schema_version: i64,
    pub backend: String,
    pub site: String,
    pub created_at: DateTime<Utc>,
}

type Compressor<W> = BufWriter<zstd::stream::write::Encoder<'static, Sealed<W>>>;

/// Writes one archive, a table at a time.
pub struct ArchiveWriter<W: Write> {
    wire: WireOut<Compressor<W>>,
    tables: Vec<TableEntry>,
    current: Option<(TableSchema, u64)>,
    format: u32,
}

fn writing(e: io::Error) -> BackupError {
    BackupError::Io {
        context: "writing the backup".into(),
        source: e,
    }
}

impl<W: Write> ArchiveWriter<W> {
    pub fn new(out: W, enc: &Encryption) -> Result<Self, BackupError> {
        Self::with_format(out, enc, FORMAT_VERSION)
    }

    /// Writes a given format number; only tests write another than ours.
    #[doc(hidden)]
    pub fn with_format(out: W, enc: &Encryption, format: u32) -> Result<Self, BackupError> {
        let sealed = Sealed::new(out, enc)?;
        let mut z = zstd::stream::write::Encoder::new(sealed, 3).map_err(writing)?;
        z.include_checksum(true).map_err(writing)?;
        let mut wire = WireOut::new(BufWriter::with_capacity(256 * 1024, z));
        wire.bytes(MAGIC).map_err(writing)?;
        wire.varint(u64::from(format)).map_err(writing)?;
        wire.take_hash();
        Ok(Self {
            wire,
            tables: Vec::new(),
            current: None,
            format,
        })
    }

    pub fn begin_table(&mut self, t: &TableSchema) -> Result<(), BackupError> {
        if self.current.is_some() {
            return Err(BackupError::Usage("a table began inside another".into()));
        }
        self.wire.bytes(b"T").map_err(writing)?;
        self.wire.blob(t.name.as_bytes()).map_err(writing)?;
        self.wire.varint(t.columns.len() as u64).map_err(writing)?;
        for c in &t.columns {
            self.wire.blob(c.as_bytes()).map_err(writing)?;
        }
        self.current = Some((t.clone(), 0));
        Ok(())
    }

    pub fn row(&mut self, values: &[Value]) -> Result<(), BackupError> {
        let Some((t, rows)) = &mut self.current else {
            return Err(BackupError::Usage("a row came outside a table".into()));
        };
        if values.len() != t.columns.len() {
            return Err(BackupError::Usage(format!(
                "a row of {} has {} values for {} columns",
                t.name,
                values.len(),
                t.columns.len()
            )));
        }
        *rows += 1;
        self.wire.bytes(b"R").map_err(writing)?;
        for v in values {
            self.wire.value(v).map_err(writing)?;
        }
        Ok(())
    }

    pub fn end_table(&mut self) -> Result<(), BackupError> {
        let Some((t, rows)) = self.current.take() else {
            return Err(BackupError::Usage("a table ended that never began".into()));
        };
        self.wire.bytes(b"E").map_err(writing)?;
        self.tables.push(TableEntry {
            name: t.name,
            columns: t.columns,
            rows,
            sha256: self.wire.take_hash(),
        });
        Ok(())
    }

    /// Writes the manifest and closes every layer; returns the output.
    pub fn finish(mut self, origin: Origin) -> Result<(W, Manifest), BackupError> {
        if self.current.is_some() {
            return Err(BackupError::Usage("the last table never ended".into()));
        }
        let manifest = Manifest {
            format_version: self.format,
            schema_version: origin.schema_version,
            backend: origin.backend,
            site: origin.site,
            created_at: origin.created_at,
            lectern_version: env!("CARGO_PKG_VERSION").to_string(),
            tables: std::mem::take(&mut self.tables),
        };
        let json = serde_json::to_vec(&manifest)
            .map_err(|e| BackupError::Usage(format!("encoding the manifest: {e}")))?;
        self.wire.bytes(b"M").map_err(writing)?;
        self.wire.blob(&json).map_err(writing)?;
        self.wire.bytes(b"Z").map_err(writing)?;
        self.wire
            .blob(hex::encode(Sha256::digest(&json)).as_bytes())
            .map_err(writing)?;
        let z = self
            .wire
            .inner
            .into_inner()
            .map_err(|e| writing(e.into_error()))?;
        let sealed = z.finish().map_err(writing)?;
        let out = sealed.finish().map_err(writing)?;
        Ok((out, manifest))
    }
}

/// One step of reading an archive.
#[derive(Debug)]
pub enum Event {
    Table(TableSchema),
    Row(Vec<Value>),
    EndTable,
    /// The end: every member's hash matched the manifest.
    Done(Manifest),
}

type Decompressor =
    BufReader<zstd::stream::read::Decoder<'static, BufReader<Box<dyn Read + Send>>>>;

/// Reads one archive, checking every member against the manifest as it goes.
/// `Done` comes only when everything matched.
pub struct ArchiveReader {
    wire: WireIn<Decompressor>,
    seen: Vec<TableEntry>,
    current: Option<(TableSchema, u64)>,
    finished: bool,
}

impl ArchiveReader {
    pub fn open<R: Read + Send + 'static>(input: R, keys: &Keys) -> Result<Self, BackupError> {
        let plain = unseal(BufReader::with_capacity(64 * 1024, input), keys)?;
        let z = zstd::stream::read::Decoder::new(plain).map_err(reading)?;
        let mut wire = WireIn::new(BufReader::with_capacity(256 * 1024, z));
        let mut magic = [0u8; MAGIC.len()];
        wire.exact(&mut magic).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                BackupError::Corrupt("it ends early (truncated)".into())
            }
            _ => BackupError::Corrupt(format!("this is not a Lectern backup ({e})")),
        })?;
        if magic != MAGIC {
            return Err(BackupError::Corrupt("this is not a Lectern backup".into()));
        }
        let format = wire.varint().map_err(reading)?;
        if format > u64::from(FORMAT_VERSION) {
            return Err(too_new_format(format));
        }
        wire.take_hash();
        Ok(Self {
            wire,
            seen: Vec::new(),
            current: None,
            finished: false,
        })
    }

    pub fn next_event(&mut self) -> Result<Event, BackupError> {
        if self.finished {
            return Err(BackupError::Usage("read past the end of the backup".into()));
        }
        let tag = self.wire.byte().map_err(reading)?;
        match (tag, &mut self.current) {
            (b'T', None) => {
                let name = self.wire.text(MAX_NAME).map_err(reading)?;
                let n = self.wire.varint().map_err(reading)?;
                if n > MAX_COLUMNS {
                    return Err(BackupError::Corrupt(format!(
                        "table {name:?} claims {n} columns"
                    )));
                }
                let columns = (0..n)
                    .map(|_| self.wire.text(MAX_NAME))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(reading)?;
                let t = TableSchema { name, columns };
                self.current = Some((t.clone(), 0));
                Ok(Event::Table(t))
            }
            (b'R', Some((t, rows))) => {
                let n = t.columns.len();
                *rows += 1;
                let values = (0..n)
                    .map(|_| self.wire.value())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(reading)?;
                Ok(Event::Row(values))
            }
            (b'E', Some(_)) => {
                if let Some((t, rows)) = self.current.take() {
                    self.seen.push(TableEntry {
                        name: t.name,
                        columns: t.columns,
                        rows,
                        sha256: self.wire.take_hash(),
                    });
                }
                Ok(Event::EndTable)
            }
            (b'M', None) => self.finish().map(Event::Done),
            (other, _) => Err(BackupError::Corrupt(format!(
                "unexpected record {:?} at this point",
                char::from(other)
            ))),
        }
    }

    fn finish(&mut self) -> Result<Manifest, BackupError> {
        let json = self.wire.blob(MAX_MANIFEST).map_err(reading)?;
        let tag = self.wire.byte().map_err(reading)?;
        let sum = self.wire.text(64).map_err(reading)?;
        if tag != b'Z' || sum != hex::encode(Sha256::digest(&json)) {
            return Err(BackupError::Corrupt(
                "the manifest does not match its hash".into(),
            ));
        }
        let mut rest = [0u8; 1];
        if self.wire.inner.read(&mut rest).map_err(reading)? != 0 {
            return Err(BackupError::Corrupt(
                "there is data after the manifest".into(),
            ));
        }
        let version: serde_json::Value = serde_json::from_slice(&json)
            .map_err(|e| BackupError::Corrupt(format!("the manifest is unreadable: {e}")))?;
        if let Some(v) = version.get("format_version").and_then(|v| v.as_u64()) {
            if v > u64::from(FORMAT_VERSION) {
                return Err(too_new_format(v));
            }
        }
        let manifest: Manifest = serde_json::from_value(version)
            .map_err(|e| BackupError::Corrupt(format!("the manifest is unreadable: {e}")))?;
        if manifest.tables.len() != self.seen.len() {
            return Err(BackupError::Corrupt(format!(
                "the manifest lists {} tables, the archive holds {}",
                manifest.tables.len(),
                self.seen.len()
            )));
        }
        for (listed, found) in manifest.tables.iter().zip(&self.seen) {
            if listed != found {
                return Err(BackupError::Corrupt(format!(
                    "table {:?} does not match the manifest (hash or row count differs)",
                    listed.name
                )));
            }
        }
        self.finished = true;
        Ok(manifest)
    }

    /// Reads to the end, checking every hash; returns the manifest.
    pub fn verify_all(mut self, mut on_row: impl FnMut()) -> Result<Manifest, BackupError> {
        loop {
            match self.next_event()? {
                Event::Done(m) => return Ok(m),
                Event::Row(_) => on_row(),
                _ => {}
            }
        }
    }
}

fn too_new_format(v: u64) -> BackupError {
    BackupError::TooNew(format!(
        "this backup was written in archive format {v} by a newer Lectern; this binary reads format {FORMAT_VERSION} and older: use a newer lectern to restore it"
    ))
}
