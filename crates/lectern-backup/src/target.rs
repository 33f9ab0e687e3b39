//! Where archives live. A `Target` hands out a pending archive to write
//! under a temporary name and renames it into place only once it is
//! complete and read back; `list` shows finished archives only. The local
//! folder is the one target today; object storage plugs in behind the same
//! trait.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::BackupError;

/// Archive names: `lectern-20261129T054400.123Z.lbk`, the UTC time they began.
pub const PREFIX: &str = "lectern-";
pub const SUFFIX: &str = ".lbk";
const TEMP: &str = ".partial-";
const STAMP: &str = "%Y%m%dT%H%M%S%.3fZ";

/// The archive name for a backup begun at `at`.
pub fn archive_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format(STAMP))
}

/// The time in an archive name, or `None` when it is not one.
pub fn parse_name(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    NaiveDateTime::parse_from_str(stamp, STAMP)
        .ok()
        .map(|t| t.and_utc())
}

/// One finished archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub created: DateTime<Utc>,
    pub size: u64,
    /// What to pass to `verify` or `restore` (a path for a folder).
    pub location: String,
}

/// An archive being written: bytes go in, then `commit` or `abort`.
pub trait Pending: Write + Send {
    /// Makes the written bytes durable and reads them back from the target.
    fn read_back(&mut self) -> Result<Box<dyn Read + Send>, BackupError>;
    /// Puts the archive in place under its final name; returns its location.
    fn commit(self: Box<Self>) -> Result<String, BackupError>;
    /// Removes what was written.
    fn abort(self: Box<Self>);
}

/// A place that holds archives.
pub trait Target: Send + Sync {
    fn describe(&self) -> String;
    fn begin(&self, name: &str) -> Result<Box<dyn Pending>, BackupError>;
    /// Finished archives, oldest first.
    fn list(&self) -> Result<Vec<Entry>, BackupError>;
    fn delete(&self, entry: &Entry) -> Result<(), BackupError>;
}

/// A folder on this machine.
pub struct LocalTarget {
    dir: PathBuf,
}

impl LocalTarget {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

struct LocalPending {
    file: Option<File>,
    temp: PathBuf,
    dest: PathBuf,
    dir: PathBuf,
}

impl Write for LocalPending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(io::Error::other("the archive is closed")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Pending for LocalPending {
    fn read_back(&mut self) -> Result<Box<dyn Read + Send>, BackupError> {
        if let Some(f) = self.file.take() {
            f.sync_all()
                .map_err(BackupError::io(format!("syncing {}", self.temp.display())))?;
        }
        let f = File::open(&self.temp).map_err(BackupError::io(format!(
            "reading back {}",
            self.temp.display()
        )))?;
        Ok(Box::new(f))
    }

    fn commit(mut self: Box<Self>) -> Result<String, BackupError> {
        if let Some(f) = self.file.take() {
            f.sync_all()
                .map_err(BackupError::io(format!("syncing {}", self.temp.display())))?;
        }
        fs::rename(&self.temp, &self.dest).map_err(BackupError::io(format!(
            "renaming into {}",
            self.dest.display()
        )))?;
        sync_dir(&self.dir).map_err(BackupError::io(format!("syncing {}", self.dir.display())))?;
        Ok(self.dest.display().to_string())
    }

    fn abort(mut self: Box<Self>) {
        self.file = None;
        let _ = fs::remove_file(&self.temp);
    }
}

impl Target for LocalTarget {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn begin(&self, name: &str) -> Result<Box<dyn Pending>, BackupError> {
        let ctx = || format!("cannot write backups to {}", self.dir.display());
        fs::create_dir_all(&self.dir).map_err(BackupError::io(ctx()))?;
        if !self.dir.is_dir() {
            return Err(BackupError::Io {
                context: ctx(),
                source: io::Error::other("it is not a folder"),
            });
        }
        let temp = self.dir.join(format!("{TEMP}{name}"));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(BackupError::io(ctx()))?;
        Ok(Box::new(LocalPending {
            file: Some(file),
            temp,
            dest: self.dir.join(name),
            dir: self.dir.clone(),
        }))
    }

    fn list(&self) -> Result<Vec<Entry>, BackupError> {
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(BackupError::Io {
                    context: format!("listing {}", self.dir.display()),
                    source: e,
                })
            }
        };
        let mut out = Vec::new();
        for item in rd {
            let item = item.map_err(BackupError::io(format!("listing {}", self.dir.display())))?;
            let name = item.file_name().to_string_lossy().to_string();
            let Some(created) = parse_name(&name) else {
                continue;
            };
            let meta = item
                .metadata()
                .map_err(BackupError::io(format!("reading {name}")))?;
            if !meta.is_file() {
                continue;
            }
            out.push(Entry {
                location: item.path().display().to_string(),
                name,
                created,
                size: meta.len(),
            });
        }
        out.sort_by(|a, b| a.created.cmp(&b.created).then(a.name.cmp(&b.name)));
        Ok(out)
    }

    fn delete(&self, entry: &Entry) -> Result<(), BackupError> {
        let path = self.dir.join(&entry.name);
        fs::remove_file(&path).map_err(BackupError::io(format!("deleting {}", path.display())))?;
        sync_dir(&self.dir).map_err(BackupError::io(format!("syncing {}", self.dir.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_time_and_temporaries_are_not_listed() {
        let at = DateTime::parse_from_rfc3339("2026-11-29T05:04:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let name = archive_name(at);
        assert_eq!(name, "lectern-20261129T050400.123Z.lbk");
        assert_eq!(parse_name(&name), Some(at));
        let dir = tempfile::tempdir().unwrap();
        let target = LocalTarget::new(dir.path());
        let mut p = target.begin(&name).unwrap();
        p.write_all(b"x").unwrap();
        assert!(
            target.list().unwrap().is_empty(),
            "a pending archive is listed"
        );
        p.commit().unwrap();
        assert_eq!(target.list().unwrap().len(), 1);
    }

    #[test]
    fn a_file_where_the_folder_should_be_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        fs::write(&file, b"x").unwrap();
        let err = LocalTarget::new(&file)
            .begin("lectern-x.lbk")
            .err()
            .unwrap();
        assert!(err.to_string().contains("cannot write backups"), "{err}");
        assert_eq!(fs::read(&file).unwrap(), b"x");
    }
}
