//! `GET /api/backup/v1/snapshot`: a fresh backup archive streamed to a
//! backup host (`lectern backup pull`) as it is written, so neither side
//! holds it whole. The caller needs the backup role (`Lectern::backup_source`).
//! An error midway cuts the response off: the archive then has no trailer,
//! and the puller refuses it.

use std::io::{self, Write};
use std::sync::{Arc, OnceLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::stream;
use tokio::sync::{mpsc, Semaphore};

use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Bytes sent per body chunk, and chunks in flight.
const CHUNK: usize = 256 * 1024;
const IN_FLIGHT: usize = 4;
/// Snapshots streamed at once by this node; a request beyond them gets 503.
const AT_ONCE: usize = 2;

fn slots() -> &'static Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS.get_or_init(|| Arc::new(Semaphore::new(AT_ONCE)))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/backup/v1/snapshot", get(snapshot))
}

/// A `Write` that hands full chunks to the response body.
struct BodyWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
}

impl BodyWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::other("the client went away"))
    }
}

impl Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

async fn snapshot(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Response, ApiError> {
    let store = state.app.backup_source(&user)?;
    let Ok(slot) = slots().clone().try_acquire_owned() else {
        return Err(lectern_app::AppError::Unavailable(
            "this node is already sending backups; try again later".into(),
        )
        .into());
    };
    let name = lectern_backup::target::archive_name(state.app.now());
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    let out = BodyWriter {
        tx: tx.clone(),
        buf: Vec::with_capacity(CHUNK),
    };
    let site = state.app.settings().site_url.clone();
    let who = user.username.clone();
    // Ends when the archive is written, or when the client goes away
    // (sending fails, which stops the snapshot).
    tokio::spawn(async move {
        let _slot = slot;
        match lectern_backup::transfer::stream(store.as_ref(), out, &site).await {
            Ok(m) => tracing::info!(user = %who, rows = m.total_rows(), "backup snapshot sent"),
            Err(e) => {
                tracing::warn!(user = %who, error = %e, "backup snapshot failed");
                let _ = tx.send(Err(io::Error::other(e.to_string()))).await;
            }
        }
    });
    let body = Body::from_stream(stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
