//! Blobs on PostgreSQL, chunked as on SQLite (see `sqlite/blobs.rs`). The
//! head row is inserted with `ON CONFLICT DO NOTHING`: a second writer of
//! the same bytes waits for the first and then stores nothing.

use async_trait::async_trait;
use chrono::Utc;
use lectern_app::store::{BlobInfo, BlobSource, BlobStore, NewBlob, StoreResult};
use lectern_app::StoreError;
use sqlx::{Postgres, Transaction};
use tokio::io::AsyncReadExt;

use super::PgStore;
use crate::shared::chunks::{chunk_span, join_chunks, CHUNK};
use crate::shared::errors::map_err;
use crate::shared::sql;
use crate::time::{from_millis, to_millis};

/// Inserts the head row; false if the blob is stored already.
async fn insert_head(
    tx: &mut Transaction<'_, Postgres>,
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
    tx: &mut Transaction<'_, Postgres>,
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

/// Stores blobs from memory inside the caller's transaction (import), in
/// hash order so that two transactions never wait on each other's blobs
/// in opposite orders (a deadlock).
pub(super) async fn put_blobs_in(
    tx: &mut Transaction<'_, Postgres>,
    blobs: &[NewBlob<'_>],
    now: i64,
) -> StoreResult<()> {
    let mut sorted: Vec<&NewBlob<'_>> = blobs.iter().collect();
    sorted.sort_by_key(|b| b.sha256);
    sorted.dedup_by_key(|b| b.sha256);
    for blob in sorted {
        if insert_head(tx, blob.sha256, blob.bytes.len() as u64, now).await? {
            for (seq, piece) in blob.bytes.chunks(CHUNK).enumerate() {
                insert_chunk(tx, blob.sha256, seq as i64, piece).await?;
            }
        }
    }
    Ok(())
}

#[async_trait]
impl BlobStore for PgStore {
    async fn put_blob(&self, blob: &NewBlob<'_>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        put_blobs_in(&mut tx, std::slice::from_ref(blob), to_millis(Utc::now())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn put_blob_stream(
        &self,
        sha256: &str,
        size: u64,
        source: BlobSource<'_>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
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
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT size, created_at FROM blobs WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(row.map(|(size, created)| BlobInfo {
            size: size as u64,
            created_at: from_millis(created),
        }))
    }

    async fn blob_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> StoreResult<Option<Vec<u8>>> {
        let head: Option<(i64, i64)> =
            sqlx::query_as("SELECT size, chunk_size FROM blobs WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        let Some((size, chunk)) = head else {
            return Ok(None);
        };
        let len = len.min((size as u64).saturating_sub(offset));
        if len == 0 {
            return Ok(Some(Vec::new()));
        }
        if chunk <= 0 {
            // PostgreSQL databases start chunked; a blob without chunks is damage.
            return Err(StoreError::Internal(format!("blob {sha256} has no chunks")));
        }
        let (first, last, skip) = chunk_span(offset, len, chunk as u64);
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT data FROM blob_chunks WHERE sha256 = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
        )
        .bind(sha256)
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        join_chunks(sha256, rows.iter().map(|(d,)| d.as_slice()), skip, len).map(Some)
    }
}
