//! The `.tar.gz` container: unpacking an upload into memory under limits,
//! and packing a course folder back up.
//!
//! Nothing here touches the file system. Unpacking refuses what could hurt a
//! later step that does: absolute paths, `..`, hard links, links that leave
//! the archive, device files; and what could exhaust memory: every entry's
//! declared size is checked against the limits *before* its data is read, and
//! the decompressed stream as a whole is capped, so a gzip bomb stops early.
//! The tar reader runs in raw mode so that GNU long names and PAX headers are
//! read here, with their own small caps, instead of being buffered unchecked.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};

use super::error::OlxError;
use super::ImportLimits;

/// Longest GNU long name / PAX header Lectern reads.
const MAX_META_ENTRY: u64 = 64 * 1024;

/// What unpacking gives: files by path inside the archive, and warnings.
pub struct Unpacked {
    pub files: BTreeMap<String, Vec<u8>>,
    pub warnings: Vec<String>,
}

/// A reader that fails once more than `left` bytes have come through.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self
            .left
            .checked_sub(n as u64)
            .ok_or_else(|| io::Error::other(CAP_MESSAGE))?;
        Ok(n)
    }
}

const CAP_MESSAGE: &str = "decompressed size cap reached";

/// Unpacks a `.tar.gz` into memory. Only the files themselves are held,
/// never the compressed stream, and each file only once its declared size
/// has passed the limits.
pub fn unpack(tar_gz: impl Read, limits: &ImportLimits) -> Result<Unpacked, OlxError> {
    let mut input = io::BufReader::new(tar_gz);
    let head = input.fill_buf().map_err(|e| io_error(None, &e, limits))?;
    if head.len() < 2 || head[..2] != [0x1f, 0x8b] {
        return Err(OlxError::NotGzip);
    }
    // Headers and padding take up to ~1.5 KiB per entry on top of the data.
    let overhead = (limits.max_files as u64 + 16).saturating_mul(2048);
    let capped = Capped {
        inner: flate2::bufread::GzDecoder::new(input),
        left: limits.max_total_bytes.saturating_add(overhead),
    };
    let mut archive = tar::Archive::new(capped);
    let mut out = Unpacked {
        files: BTreeMap::new(),
        warnings: Vec::new(),
    };
    let mut total: u64 = 0;
    let mut text = TextTally::default();
    {
        let entries = archive.entries().map_err(|e| io_error(None, &e, limits))?;
        let mut pending = PendingMeta::default();
        let mut last_path: Option<String> = None;
        for entry in entries.raw(true) {
            let mut entry = entry.map_err(|e| io_error(last_path.clone(), &e, limits))?;
            let header = entry.header();
            let kind = header.entry_type();
            let declared = entry.size();
            if kind.is_gnu_longname()
                || kind.is_gnu_longlink()
                || kind.is_pax_local_extensions()
                || kind.is_pax_global_extensions()
            {
                let shown = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                last_path = Some(shown.clone());
                if declared > MAX_META_ENTRY {
                    return Err(OlxError::FileTooLarge {
                        path: shown,
                        size: declared,
                        limit: MAX_META_ENTRY,
                    });
                }
                let mut data = Vec::new();
                entry
                    .read_to_end(&mut data)
                    .map_err(|e| io_error(Some(shown.clone()), &e, limits))?;
                if kind.is_gnu_longname() {
                    pending.path = Some(trim_nul(data));
                } else if kind.is_gnu_longlink() {
                    pending.link = Some(trim_nul(data));
                } else if kind.is_pax_local_extensions() {
                    pending.apply_pax(&data, &shown)?;
                }
                continue;
            }

            let raw_path = pending
                .path
                .take()
                .unwrap_or_else(|| entry.path_bytes().into_owned());
            let shown = String::from_utf8_lossy(&raw_path).into_owned();
            last_path = Some(shown.clone());
            let link = pending.link.take();
            let pax_size = pending.size.take();
            if let Some(s) = pax_size {
                if s != declared {
                    return Err(OlxError::Corrupt {
                        path: Some(shown),
                        detail: "a PAX header and the tar header disagree about the size".into(),
                    });
                }
            }
            let path = safe_path(&raw_path)?;
            if kind.is_dir() {
                continue;
            }
            if kind.is_hard_link() {
                let target = link.unwrap_or_else(|| {
                    entry
                        .link_name_bytes()
                        .map(|c| c.into_owned())
                        .unwrap_or_default()
                });
                return Err(OlxError::Link {
                    path,
                    kind: "a hard link",
                    target: String::from_utf8_lossy(&target).into_owned(),
                });
            }
            if kind.is_symlink() {
                let target = link.unwrap_or_else(|| {
                    entry
                        .link_name_bytes()
                        .map(|c| c.into_owned())
                        .unwrap_or_default()
                });
                let target = String::from_utf8_lossy(&target).into_owned();
                check_symlink(&path, &target)?;
                out.warnings.push(format!(
                    "{path}: a symbolic link (to {target}) was skipped: links are never followed"
                ));
                continue;
            }
            if !(kind.is_file() || kind.is_contiguous()) {
                return Err(OlxError::UnsupportedEntry {
                    path,
                    kind: format!("{kind:?}"),
                });
            }
            if out.files.len() >= limits.max_files {
                return Err(OlxError::TooManyFiles {
                    path: Some(path),
                    limit: limits.max_files,
                });
            }
            if declared > limits.max_file_bytes {
                return Err(OlxError::FileTooLarge {
                    path,
                    size: declared,
                    limit: limits.max_file_bytes,
                });
            }
            total = total.saturating_add(declared);
            if total > limits.max_total_bytes {
                return Err(OlxError::TotalTooLarge {
                    path: Some(path),
                    limit: limits.max_total_bytes,
                });
            }
            if !in_static(&path) {
                text.add(&path, declared, limits)?;
            }
            if out.files.contains_key(&path) {
                return Err(OlxError::DuplicateEntry { path });
            }
            let mut data = Vec::with_capacity(declared.min(1 << 20) as usize);
            entry
                .read_to_end(&mut data)
                .map_err(|e| io_error(Some(path.clone()), &e, limits))?;
            if data.len() as u64 != declared {
                return Err(OlxError::Corrupt {
                    path: Some(path),
                    detail: "the file ends before its declared size".into(),
                });
            }
            out.files.insert(path, data);
        }
        if pending.path.is_some() || pending.link.is_some() {
            return Err(OlxError::Corrupt {
                path: last_path,
                detail: "a long-name header with no entry after it".into(),
            });
        }
    }
    // Read the rest of the gzip stream so that a cut-off or corrupted end
    // (checked by gzip's trailer) is noticed, not silently accepted.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| io_error(None, &e, limits))?;
    Ok(out)
}

/// Whether an archive member is a course's static file: under `static/` of
/// the top folder or of a folder one level down (where a course folder may
/// be). Everything else is course text, held to the `max_text_*` caps.
fn in_static(path: &str) -> bool {
    path.starts_with("static/")
        || path
            .split_once('/')
            .is_some_and(|(_, rest)| rest.starts_with("static/"))
}

/// The files outside `static/` seen so far, against their caps.
#[derive(Default)]
pub(super) struct TextTally {
    files: usize,
    bytes: u64,
}

impl TextTally {
    pub(super) fn add(
        &mut self,
        path: &str,
        size: u64,
        limits: &ImportLimits,
    ) -> Result<(), OlxError> {
        if size > limits.max_text_file_bytes {
            return Err(OlxError::TextFileTooLarge {
                path: path.to_string(),
                size,
                limit: limits.max_text_file_bytes,
            });
        }
        self.files += 1;
        if self.files > limits.max_text_files {
            return Err(OlxError::TooManyTextFiles {
                path: path.to_string(),
                limit: limits.max_text_files,
            });
        }
        self.bytes = self.bytes.saturating_add(size);
        if self.bytes > limits.max_text_bytes {
            return Err(OlxError::TextTotalTooLarge {
                path: path.to_string(),
                limit: limits.max_text_bytes,
            });
        }
        Ok(())
    }
}

#[derive(Default)]
struct PendingMeta {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
}

impl PendingMeta {
    /// PAX records: `"<len> <key>=<value>\n"` repeated.
    fn apply_pax(&mut self, data: &[u8], shown: &str) -> Result<(), OlxError> {
        let bad = || OlxError::Corrupt {
            path: Some(shown.to_string()),
            detail: "a malformed PAX header".into(),
        };
        let mut rest = data;
        while !rest.is_empty() {
            let sp = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
            let len: usize = std::str::from_utf8(&rest[..sp])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(bad)?;
            if len <= sp + 1 || len > rest.len() {
                return Err(bad());
            }
            let record = &rest[sp + 1..len];
            let record = record.strip_suffix(b"\n").unwrap_or(record);
            let eq = record.iter().position(|&b| b == b'=').ok_or_else(bad)?;
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            match key {
                b"path" => self.path = Some(value.to_vec()),
                b"linkpath" => self.link = Some(value.to_vec()),
                b"size" => {
                    self.size = Some(
                        std::str::from_utf8(value)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .ok_or_else(bad)?,
                    );
                }
                _ => {}
            }
            rest = &rest[len..];
        }
        Ok(())
    }
}

fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

fn io_error(path: Option<String>, e: &io::Error, limits: &ImportLimits) -> OlxError {
    if e.to_string().contains(CAP_MESSAGE) {
        return OlxError::TotalTooLarge {
            path,
            limit: limits.max_total_bytes,
        };
    }
    let detail = match e.kind() {
        io::ErrorKind::UnexpectedEof => "it ends too early (truncated)".to_string(),
        _ => e.to_string(),
    };
    OlxError::Corrupt { path, detail }
}

/// An archive member's path made relative and clean: no leading `/`, no
/// `..`, no `.` or empty parts, valid UTF-8, no NUL or backslash.
pub fn safe_path(raw: &[u8]) -> Result<String, OlxError> {
    let shown = String::from_utf8_lossy(raw).into_owned();
    let unsafe_path = |reason| OlxError::UnsafePath {
        path: shown.clone(),
        reason,
    };
    let s = std::str::from_utf8(raw).map_err(|_| unsafe_path("the name is not UTF-8"))?;
    if s.starts_with('/') {
        return Err(unsafe_path("an absolute path"));
    }
    if s.contains('\0') || s.contains('\\') {
        return Err(unsafe_path("a NUL or backslash in the name"));
    }
    let mut parts = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(unsafe_path("a `..` part that leaves the folder")),
            p if p.len() >= 2 && p.as_bytes()[1] == b':' && parts.is_empty() => {
                return Err(unsafe_path("a drive letter (an absolute Windows path)"));
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(unsafe_path("an empty name"));
    }
    Ok(parts.join("/"))
}

/// A symbolic link is never followed; one that points outside the archive
/// or at an absolute path is refused outright, as an attempt to reach the
/// host's files.
fn check_symlink(path: &str, target: &str) -> Result<(), OlxError> {
    let link = |why: &'static str| OlxError::Link {
        path: path.to_string(),
        kind: why,
        target: target.to_string(),
    };
    if target.starts_with('/') || target.contains('\\') || target.as_bytes().get(1) == Some(&b':') {
        return Err(link("a symbolic link with an absolute target"));
    }
    let mut depth: i64 = path.matches('/').count() as i64;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return Err(link("a symbolic link that leaves the archive"));
        }
    }
    Ok(())
}

/// Packs files (path → bytes) into a `.tar.gz`, in path order, with fixed
/// times and modes so that the same course gives the same bytes. Fast
/// compression: most of an export's bytes are already-compressed media.
pub fn pack(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, OlxError> {
    let write_err = |e: io::Error| OlxError::Write(e.to_string());
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_size(data.len() as u64);
        builder
            .append_data(&mut header, path, data.as_slice())
            .map_err(write_err)?;
    }
    let gz = builder.into_inner().map_err(write_err)?;
    let mut bytes = gz.finish().map_err(write_err)?;
    bytes.flush().map_err(write_err)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths_are_cleaned_and_unsafe_ones_refused() {
        let ok = [
            ("course/course.xml", "course/course.xml"),
            ("./course/./x.xml", "course/x.xml"),
            ("a//b", "a/b"),
        ];
        for (raw, want) in ok {
            assert_eq!(safe_path(raw.as_bytes()).unwrap(), want);
        }
        let bad = [
            "/etc/passwd",
            "course/../../x",
            "..",
            "C:/x",
            "a\\b",
            "",
            "./",
        ];
        for raw in bad {
            assert!(
                matches!(safe_path(raw.as_bytes()), Err(OlxError::UnsafePath { .. })),
                "{raw}"
            );
        }
    }

    #[test]
    fn symlink_targets_are_judged_from_the_link_folder() {
        let cases = [
            ("course/static/a.js", "../../a.js", true),
            ("course/static/a.js", "b.js", true),
            ("course/static/a.js", "../../../etc/passwd", false),
            ("course/static/a.js", "/etc/passwd", false),
            ("a.js", "../x", false),
        ];
        for (path, target, ok) in cases {
            assert_eq!(
                check_symlink(path, target).is_ok(),
                ok,
                "{path} -> {target}"
            );
        }
    }

    #[test]
    fn pack_then_unpack_gives_the_same_files() {
        let long = format!("course/static/{}/file.txt", "d".repeat(150));
        let files = BTreeMap::from([
            ("course/course.xml".to_string(), b"<course/>".to_vec()),
            (long, vec![0u8, 1, 2, 255]),
            ("course/empty".to_string(), Vec::new()),
        ]);
        let packed = pack(&files).unwrap();
        let back = unpack(packed.as_slice(), &ImportLimits::default()).unwrap();
        assert_eq!(back.files, files);
        assert!(back.warnings.is_empty());
    }

    #[test]
    fn not_gzip_is_refused() {
        assert_eq!(
            unpack(&b"PK\x03\x04zip"[..], &ImportLimits::default()).err(),
            Some(OlxError::NotGzip)
        );
        assert_eq!(
            unpack(&b""[..], &ImportLimits::default()).err(),
            Some(OlxError::NotGzip)
        );
    }
}
