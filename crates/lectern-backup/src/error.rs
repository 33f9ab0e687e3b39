//! The one error type of backups: each variant is a sentence an operator can
//! act on.

use lectern_app::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The archive is damaged, truncated, or not a Lectern backup.
    #[error("the backup is damaged or incomplete: {0}")]
    Corrupt(String),
    /// The archive was written by a newer Lectern.
    #[error("{0}")]
    TooNew(String),
    /// The archive is encrypted and no key fits.
    #[error("{0}")]
    Key(String),
    /// The restore target holds data and `--force` was not given.
    #[error("{0}")]
    NotEmpty(String),
    /// Reading or writing the target failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// A retention policy or option is wrong.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl BackupError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
        let context = context.into();
        move |source| BackupError::Io { context, source }
    }
}

/// Turns an error met while reading an archive into the right variant:
/// damaged data rather than a generic I/O failure.
pub(crate) fn reading(e: std::io::Error) -> BackupError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            BackupError::Corrupt("it ends early (truncated)".into())
        }
        _ => BackupError::Corrupt(e.to_string()),
    }
}
