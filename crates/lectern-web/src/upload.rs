//! Uploads too large to hold in memory (course archives, static files):
//! the body is copied to an anonymous temporary file as it arrives, with
//! its SHA-256 computed on the way and a cap enforced on the way, so the
//! server holds one network buffer at a time whatever the upload's size.
//!
//! Handlers call this only after the caller's role has been checked: a
//! refused caller's body is never read. The temporary file has no name
//! (it disappears when dropped, or if the process dies), so a refused,
//! failed or over-cap upload leaves nothing behind.

use std::fmt::Display;
use std::path::Path;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use crate::error::ApiError;

/// An upload on disk, rewound to its start.
pub struct Spooled {
    pub file: tokio::fs::File,
    pub size: u64,
    pub sha256: String,
}

/// Why an upload could not be spooled.
#[derive(Debug)]
pub enum SpoolError {
    /// More than `limit` bytes came.
    TooLarge { limit: u64 },
    /// The client's body broke off or was malformed.
    Read(String),
    /// The temporary file could not be written.
    Disk(String),
}

impl SpoolError {
    /// The JSON answer for API clients.
    pub fn api_response(&self, what: &str) -> Response {
        match self {
            SpoolError::TooLarge { limit } => ApiError::with_status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("The {what} is larger than the {limit} bytes this site accepts."),
            ),
            SpoolError::Read(e) => ApiError::with_status(
                StatusCode::BAD_REQUEST,
                "bad_body",
                format!("The {what} could not be read: {e}"),
            ),
            SpoolError::Disk(e) => ApiError(lectern_app::AppError::Internal(format!(
                "spooling an upload: {e}"
            )))
            .into_response(),
        }
    }

    /// The HTML answer for Studio's pages.
    pub fn page_response(&self, what: &str) -> Response {
        let (status, message) = match self {
            SpoolError::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The {what} is larger than the {} MB this site accepts.",
                    limit / 1_000_000
                ),
            ),
            SpoolError::Read(e) => (
                StatusCode::BAD_REQUEST,
                format!("The {what} could not be read: {e}"),
            ),
            SpoolError::Disk(e) => {
                return crate::error::PageError(lectern_app::AppError::Internal(format!(
                    "spooling an upload: {e}"
                )))
                .into_response()
            }
        };
        (status, crate::pages::error_page(status, &message)).into_response()
    }
}

/// Room for a multipart form's own boundaries and small fields above the
/// cap on the file it carries.
pub const FORM_OVERHEAD: u64 = 64 * 1024;

/// The body size the client declared (`Content-Length`), when it did: a
/// body declared larger than the cap is refused before any of it is read.
pub fn declared_size(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Whether a body-reading error is the request's size cap (axum's own body
/// limit, which multipart fields report as a 413).
pub fn is_body_limit(e: &axum::extract::multipart::MultipartError) -> bool {
    e.status() == StatusCode::PAYLOAD_TOO_LARGE
}

/// Copies `body` to a new temporary file in `dir`, refusing it past `limit`
/// bytes. `too_large` tells a read error that is the request's own size cap
/// from one that is a broken body.
pub async fn spool<S, E>(
    mut body: S,
    limit: u64,
    dir: &Path,
    too_large: impl Fn(&E) -> bool,
) -> Result<Spooled, SpoolError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Display,
{
    let disk = |e: std::io::Error| SpoolError::Disk(e.to_string());
    tokio::fs::create_dir_all(dir).await.map_err(disk)?;
    let owned = dir.to_path_buf();
    let file = tokio::task::spawn_blocking(move || tempfile::tempfile_in(owned))
        .await
        .map_err(|e| SpoolError::Disk(e.to_string()))?
        .map_err(disk)?;
    let mut file = tokio::fs::File::from_std(file);
    let mut hash = Sha256::new();
    let mut size = 0u64;
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| {
            if too_large(&e) {
                SpoolError::TooLarge { limit }
            } else {
                SpoolError::Read(e.to_string())
            }
        })?;
        size += piece.len() as u64;
        if size > limit {
            return Err(SpoolError::TooLarge { limit });
        }
        hash.update(&piece);
        file.write_all(&piece).await.map_err(disk)?;
    }
    file.flush().await.map_err(disk)?;
    file.rewind().await.map_err(disk)?;
    Ok(Spooled {
        file,
        size,
        sha256: hex::encode(hash.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(n: usize, each: usize) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures_util::stream::iter((0..n).map(move |_| Ok(Bytes::from(vec![7u8; each]))))
    }

    #[tokio::test]
    async fn spooled_bytes_are_counted_hashed_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(chunks(3, 1000), 3000, dir.path(), |_| false)
            .await
            .unwrap();
        assert_eq!(s.size, 3000);
        assert_eq!(s.sha256, hex::encode(Sha256::digest(vec![7u8; 3000])));
        let over = spool(chunks(4, 1000), 3000, dir.path(), |_| false).await;
        assert!(matches!(over, Err(SpoolError::TooLarge { limit: 3000 })));
        // Anonymous files: nothing is left in the folder.
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
