//! Blob chunk arithmetic both backends use: which chunks hold a byte range,
//! and the range cut from them.

use lectern_app::store::StoreResult;
use lectern_app::StoreError;

/// Bytes per stored chunk.
pub(crate) const CHUNK: usize = 1 << 20;

/// Which chunks hold `[offset, offset + len)`, and where the range starts
/// in the first of them.
pub(crate) fn chunk_span(offset: u64, len: u64, chunk: u64) -> (i64, i64, usize) {
    let first = offset / chunk;
    let last = (offset + len - 1) / chunk;
    (first as i64, last as i64, (offset % chunk) as usize)
}

/// `len` bytes from the chunks `chunk_span` named, skipping `skip` bytes of
/// the first; an error if chunks are missing.
pub(crate) fn join_chunks<'a>(
    sha256: &str,
    chunks: impl Iterator<Item = &'a [u8]>,
    skip: usize,
    len: u64,
) -> StoreResult<Vec<u8>> {
    let mut out = Vec::with_capacity(len as usize);
    for (i, data) in chunks.enumerate() {
        let from = if i == 0 { skip.min(data.len()) } else { 0 };
        let want = (len as usize - out.len()).min(data.len() - from);
        out.extend_from_slice(&data[from..from + want]);
    }
    if out.len() as u64 != len {
        return Err(StoreError::Internal(format!(
            "blob {sha256}: chunks missing ({} of {len} bytes)",
            out.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_map_to_the_chunks_that_hold_them() {
        assert_eq!(chunk_span(0, 1, 10), (0, 0, 0));
        assert_eq!(chunk_span(9, 2, 10), (0, 1, 9));
        assert_eq!(chunk_span(10, 10, 10), (1, 1, 0));
        assert_eq!(chunk_span(25, 30, 10), (2, 5, 5));
    }
}
