-- The search index's post change log (docs/search.md): one row per
-- discussion thread or comment created, edited or deleted, written in the
-- same transaction as the change, so every node's index follows posts
-- written on any node by reading the rows past its cursor (the id). A
-- deleted post leaves this row, not a post row. Rows older than an hour
-- are pruned by the nodes. No foreign keys: a row outlives its post.
CREATE TABLE search_post_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id BIGINT NOT NULL,
    comment_id BIGINT,
    changed_at BIGINT NOT NULL
);
CREATE INDEX search_post_changes_changed_at ON search_post_changes (changed_at);
