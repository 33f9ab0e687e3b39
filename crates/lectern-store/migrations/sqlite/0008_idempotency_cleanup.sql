-- Stored answers of keyed writes are kept for a window
-- (`idempotency_keep_hours`) and then deleted by the periodic
-- `idempotency_cleanup` job, oldest first: this index lets it find them
-- without reading the whole table. (A submission's own `idempotency_key`
-- column is history and is never cleaned.)

CREATE INDEX idempotent_requests_created_at ON idempotent_requests (created_at);
