-- Stateless nodes: the one setup link of a site lives in the database (every
-- node prints the same link and accepts it), and each published version gets
-- an identity that never repeats, so a cache keyed by it can never serve an
-- older course that happened to have the same version number (a restore, a
-- course deleted and re-created, a failover to another database).

CREATE TABLE site_setup (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

ALTER TABLE course_versions ADD COLUMN publish_id TEXT;
UPDATE course_versions SET publish_id = replace(gen_random_uuid()::text, '-', '');
