//! Why an OLX archive was refused, or could not be written.
//!
//! Every variant that concerns one file names it (its path inside the course
//! folder, or inside the archive for problems found before the course folder
//! is known), so the person importing can find and fix it.

/// An import or export failure. Import is all-or-nothing: any of these means
/// nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OlxError {
    #[error("this file is not a gzip archive: an Open edX course export is a .tar.gz file")]
    NotGzip,
    #[error("the archive is damaged or truncated{}: {detail}", at(.path))]
    Corrupt {
        path: Option<String>,
        detail: String,
    },
    #[error("{path}: unsafe path in the archive ({reason})")]
    UnsafePath { path: String, reason: &'static str },
    #[error("{path}: links are not accepted in a course archive ({kind} to {target:?})")]
    Link {
        path: String,
        kind: &'static str,
        target: String,
    },
    #[error("{path}: unsupported archive entry ({kind}); only files and folders are accepted")]
    UnsupportedEntry { path: String, kind: String },
    #[error("{path}: appears twice in the archive")]
    DuplicateEntry { path: String },
    #[error("{path}: too large ({size} bytes declared; the limit is {limit} bytes)")]
    FileTooLarge { path: String, size: u64, limit: u64 },
    #[error(
        "{path}: too large for a file outside static/ ({size} bytes; the limit is {limit} bytes): \
         only static/ may hold media and other large files"
    )]
    TextFileTooLarge { path: String, size: u64, limit: u64 },
    #[error(
        "{path}: the files outside static/ add up to more than {limit} bytes, the limit for a \
         course's XML, HTML and other text"
    )]
    TextTotalTooLarge { path: String, limit: u64 },
    #[error("{path}: more than {limit} files outside static/, the limit for a course")]
    TooManyTextFiles { path: String, limit: usize },
    #[error("the archive is too large once unpacked{}: more than {limit} bytes", at(.path))]
    TotalTooLarge { path: Option<String>, limit: u64 },
    #[error("the archive holds too many files{}: the limit is {limit}", at(.path))]
    TooManyFiles { path: Option<String>, limit: usize },
    #[error("{path}: this is a content library, not a course; import it as a library")]
    Library { path: String },
    #[error(
        "no course.xml in the archive: an Open edX course export has course.xml in its top folder"
    )]
    MissingCourseXml,
    #[error("{path}: not well-formed XML: {detail}")]
    Xml { path: String, detail: String },
    #[error("{path}: missing, but {referenced_from} points to it")]
    MissingFile {
        path: String,
        referenced_from: String,
    },
    #[error("{path}: the {block_type} url_name {url_name:?} is used twice in the course")]
    DuplicateUrlName {
        path: String,
        block_type: String,
        url_name: String,
    },
    #[error("{path}: {detail}")]
    Invalid { path: String, detail: String },
    #[error("static/{path}: the asset's bytes are not available for export")]
    MissingAsset { path: String },
    #[error("could not write the archive: {0}")]
    Write(String),
}

fn at(path: &Option<String>) -> String {
    match path {
        Some(p) => format!(" at {p}"),
        None => String::new(),
    }
}

impl OlxError {
    pub(crate) fn invalid(path: &str, detail: impl Into<String>) -> Self {
        OlxError::Invalid {
            path: path.to_string(),
            detail: detail.into(),
        }
    }

    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            OlxError::UnsafePath { path, .. }
            | OlxError::Link { path, .. }
            | OlxError::UnsupportedEntry { path, .. }
            | OlxError::DuplicateEntry { path }
            | OlxError::FileTooLarge { path, .. }
            | OlxError::TextFileTooLarge { path, .. }
            | OlxError::TextTotalTooLarge { path, .. }
            | OlxError::TooManyTextFiles { path, .. }
            | OlxError::Library { path }
            | OlxError::Xml { path, .. }
            | OlxError::MissingFile { path, .. }
            | OlxError::DuplicateUrlName { path, .. }
            | OlxError::Invalid { path, .. }
            | OlxError::MissingAsset { path } => Some(path),
            OlxError::Corrupt { path, .. }
            | OlxError::TotalTooLarge { path, .. }
            | OlxError::TooManyFiles { path, .. } => path.as_deref(),
            OlxError::NotGzip | OlxError::MissingCourseXml | OlxError::Write(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_the_problem() {
        let cases = [
            (
                OlxError::MissingFile {
                    path: "chapter/x.xml".into(),
                    referenced_from: "course/run.xml".into(),
                },
                "chapter/x.xml: missing, but course/run.xml points to it",
            ),
            (
                OlxError::UnsafePath {
                    path: "../etc/passwd".into(),
                    reason: "it leaves the archive",
                },
                "../etc/passwd: unsafe path in the archive (it leaves the archive)",
            ),
            (
                OlxError::Corrupt {
                    path: Some("course/html/a.html".into()),
                    detail: "unexpected end".into(),
                },
                "the archive is damaged or truncated at course/html/a.html: unexpected end",
            ),
            (
                OlxError::Corrupt {
                    path: None,
                    detail: "bad header".into(),
                },
                "the archive is damaged or truncated: bad header",
            ),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }
}
