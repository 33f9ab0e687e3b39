-- The durable job queue (background work that survives restarts: course
-- regrades, periodic cleanups) and named leases (work one node at a time).
-- Times are Unix milliseconds.

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_after BIGINT NOT NULL,
    locked_until BIGINT,
    locked_by TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Claims look for the oldest due queued job and for expired running ones.
CREATE INDEX jobs_state_due ON jobs (state, run_after, id);
-- One pending (queued or running) job per dedupe key.
CREATE UNIQUE INDEX jobs_pending_dedupe ON jobs (dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running');

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
