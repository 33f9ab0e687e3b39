//! Blobs (static files), content-addressed by SHA-256 and kept in chunks of
//! `CHUNK` bytes (`blob_chunks`), so that writing one from an upload and
//! serving a range of one to a browser each hold one chunk in memory, never
//! the whole file. Rows written before chunking keep their bytes in
//! `blobs.data` (`chunk_size` 0) and are still read.

use async_trait::async_trait;
use chrono::Utc;
use lectern_app::store::{BlobInfo, BlobSource, BlobStore, NewBlob, StoreResult};
use lectern_app::StoreError;
use sqlx::{Row, Sqlite, Transaction};
use tokio::io::AsyncReadExt;

use super::{map_err, SqliteStore};
use crate::shared::chunks::{chunk_span, join_chunks, CHUNK};
use crate::shared::sql;
use crate::time::{from_millis, to_millis};

/// Inserts the head row; false if the blob is stored already.
async fn insert_head(
    tx: &mut Transaction<'_, Sqlite>,
    sha256: &str,
    size: u64,
    now: i64,
) -> StoreResult<bool> {
    let r = sqlx::query(sql::INSERT_BLOB_HEAD)
        .bind(sha256)
        .bind(size as i64)
        .bind(Vec::<u8>::new())
        .bind(now)
        .bind(CHUNK as i64)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(r.rows_affected() == 1)
}

async fn insert_chunk(
    tx: &mut Transaction<'_, Sqlite>,
    sha256: &str,
    seq: i64,
    data: &[u8],
) -> StoreResult<()> {
    sqlx::query(sql::INSERT_BLOB_CHUNK)
        .bind(sha256)
        .bind(seq)
        .bind(data)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Stores a blob from memory inside the caller's transaction (import).
pub(crate) async fn put_blob_in(
    tx: &mut Transaction<'_, Sqlite>,
    blob: &NewBlob<'_>,
    now: i64,
) -> StoreResult<()> {
    if !insert_head(tx, blob.sha256, blob.bytes.len() as u64, now).await? {
        return Ok(());
    }
    for (seq, piece) in blob.bytes.chunks(CHUNK).enumerate() {
        insert_chunk(tx, blob.sha256, seq as i64, piece).await?;
    }
    Ok(())
}

#[async_trait]
impl BlobStore for SqliteStore {
    async fn put_blob(&self, blob: &NewBlob<'_>) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        put_blob_in(&mut tx, blob, to_millis(Utc::now())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn put_blob_stream(
        &self,
        sha256: &str,
        size: u64,
        source: BlobSource<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        if !insert_head(&mut tx, sha256, size, to_millis(Utc::now())).await? {
            return Ok(());
        }
        let mut buf = vec![0u8; CHUNK];
        let (mut left, mut seq) = (size, 0i64);
        while left > 0 {
            let want = left.min(CHUNK as u64) as usize;
            source
                .read_exact(&mut buf[..want])
                .await
                .map_err(|e| StoreError::Internal(format!("reading a blob to store: {e}")))?;
            insert_chunk(&mut tx, sha256, seq, &buf[..want]).await?;
            left -= want as u64;
            seq += 1;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn blob(&self, sha256: &str) -> StoreResult<Option<Vec<u8>>> {
        let Some(info) = self.blob_info(sha256).await? else {
            return Ok(None);
        };
        self.blob_range(sha256, 0, info.size).await
    }

    async fn blob_info(&self, sha256: &str) -> StoreResult<Option<BlobInfo>> {
        let row = sqlx::query("SELECT size, created_at FROM blobs WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map(|r| {
            Ok(BlobInfo {
                size: r.try_get::<i64, _>("size").map_err(map_err)? as u64,
                created_at: from_millis(r.try_get("created_at").map_err(map_err)?),
            })
        })
        .transpose()
    }

    async fn blob_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> StoreResult<Option<Vec<u8>>> {
        let head = sqlx::query("SELECT size, chunk_size FROM blobs WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        let Some(head) = head else {
            return Ok(None);
        };
        let size = head.try_get::<i64, _>("size").map_err(map_err)? as u64;
        let chunk = head.try_get::<i64, _>("chunk_size").map_err(map_err)? as u64;
        let len = len.min(size.saturating_sub(offset));
        if len == 0 {
            return Ok(Some(Vec::new()));
        }
        if chunk == 0 {
            // A blob from before chunking: SQLite slices it (1-based).
            let bytes: Vec<u8> =
                sqlx::query_scalar("SELECT substr(data, ?, ?) FROM blobs WHERE sha256 = ?")
                    .bind(offset as i64 + 1)
                    .bind(len as i64)
                    .bind(sha256)
                    .fetch_one(&self.reader)
                    .await
                    .map_err(map_err)?;
            return Ok(Some(bytes));
        }
        let (first, last, skip) = chunk_span(offset, len, chunk);
        let rows = sqlx::query(
            "SELECT data FROM blob_chunks WHERE sha256 = ? AND seq BETWEEN ? AND ? ORDER BY seq",
        )
        .bind(sha256)
        .bind(first)
        .bind(last)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        let chunks = rows
            .iter()
            .map(|row| row.try_get::<&[u8], _>("data"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(map_err)?;
        join_chunks(sha256, chunks.into_iter(), skip, len).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_stored_whole_before_chunking_are_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("lectern.db"))
            .await
            .unwrap();
        // A row as the first schema wrote it: the bytes in `data`, chunk_size 0.
        sqlx::query("INSERT INTO blobs (sha256, size, data, created_at) VALUES ('old', 6, X'616263646566', 0)")
            .execute(&store.writer)
            .await
            .unwrap();
        assert_eq!(
            store.blob("old").await.unwrap().as_deref(),
            Some(&b"abcdef"[..])
        );
        assert_eq!(
            store.blob_range("old", 2, 3).await.unwrap().as_deref(),
            Some(&b"cde"[..])
        );
        assert_eq!(
            store.blob_range("old", 4, 100).await.unwrap().as_deref(),
            Some(&b"ef"[..])
        );
        assert_eq!(
            store.blob_info("old").await.unwrap().map(|i| i.size),
            Some(6)
        );
    }
}
