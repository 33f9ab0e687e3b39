-- Blobs written from now on are kept in chunks of `chunk_size` bytes (the
-- `data` column then stays empty), so that a large static file is written
-- from an upload and served to a browser one chunk at a time instead of
-- being held in memory whole. Rows from before keep their bytes in `data`
-- (chunk_size 0) and are still read.
ALTER TABLE blobs ADD COLUMN chunk_size BIGINT NOT NULL DEFAULT 0;

CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL REFERENCES blobs (sha256) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);
