-- Idempotent writes: a client that retries a write (its first node died
-- before answering, or the answer was lost) sends the same
-- `Idempotency-Key`. The first request to commit stores its answer here in
-- the same transaction as the write itself; the primary key on
-- (user_id, idempotency_key) decides between two that race on two nodes,
-- and the loser answers with the winner's stored response. `fingerprint`
-- is a hash of what the request asked for, so reusing a key for another
-- request is told apart from a retry.

CREATE TABLE idempotent_requests (
    user_id BIGINT NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);

-- The key a graded submission was made with, shown in its history.
ALTER TABLE submissions ADD COLUMN idempotency_key TEXT;
