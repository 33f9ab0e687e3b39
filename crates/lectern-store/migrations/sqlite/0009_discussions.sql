-- Course discussions (issue 20), Open edX's forum model: threads (a
-- discussion or a question) in a topic of a course; responses to a thread
-- and comments on a response (one level of nesting, `parent_id` names the
-- response); votes, abuse flags and follows, one row per (post, user), so a
-- user votes or flags once; per-learner read markers; discussion roles per
-- course. Counts (votes, flags, comments, children) live on the post and
-- change in the same transaction as the row they count.
--
-- Everything hangs off the course row (ON DELETE CASCADE) and the thread
-- row, so a course's discussions go with it and touch nothing else.
-- `parent_id` has no foreign key: the backup orders tables by their
-- foreign keys, and a table pointing at itself would need row order too;
-- the store deletes a response's comments itself.

CREATE TABLE discussion_threads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    course_key TEXT NOT NULL REFERENCES courses (course_key) ON DELETE CASCADE,
    topic_id TEXT NOT NULL,
    thread_type TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    closed BOOLEAN NOT NULL DEFAULT FALSE,
    closed_by BIGINT REFERENCES users (id),
    edited_by BIGINT REFERENCES users (id),
    vote_count BIGINT NOT NULL DEFAULT 0,
    comment_count BIGINT NOT NULL DEFAULT 0,
    flag_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX discussion_threads_course ON discussion_threads (course_key, last_activity_at);
CREATE INDEX discussion_threads_author ON discussion_threads (author_id, created_at);

CREATE TABLE discussion_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    thread_id BIGINT NOT NULL REFERENCES discussion_threads (id) ON DELETE CASCADE,
    parent_id BIGINT,
    course_key TEXT NOT NULL REFERENCES courses (course_key) ON DELETE CASCADE,
    body TEXT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    edited_by BIGINT REFERENCES users (id),
    endorsed BOOLEAN NOT NULL DEFAULT FALSE,
    endorsed_by BIGINT REFERENCES users (id),
    endorsed_at BIGINT,
    vote_count BIGINT NOT NULL DEFAULT 0,
    child_count BIGINT NOT NULL DEFAULT 0,
    flag_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX discussion_comments_thread ON discussion_comments (thread_id, parent_id, created_at);
CREATE INDEX discussion_comments_author ON discussion_comments (author_id, created_at);

CREATE TABLE discussion_thread_votes (
    thread_id BIGINT NOT NULL REFERENCES discussion_threads (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (thread_id, user_id)
);

CREATE TABLE discussion_comment_votes (
    comment_id BIGINT NOT NULL REFERENCES discussion_comments (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (comment_id, user_id)
);

CREATE TABLE discussion_thread_flags (
    thread_id BIGINT NOT NULL REFERENCES discussion_threads (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (thread_id, user_id)
);

CREATE TABLE discussion_comment_flags (
    comment_id BIGINT NOT NULL REFERENCES discussion_comments (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (comment_id, user_id)
);

CREATE TABLE discussion_follows (
    thread_id BIGINT NOT NULL REFERENCES discussion_threads (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (thread_id, user_id)
);
CREATE INDEX discussion_follows_user ON discussion_follows (user_id);

-- When a learner last read a thread: comments created after it by others
-- are unread.
CREATE TABLE discussion_reads (
    thread_id BIGINT NOT NULL REFERENCES discussion_threads (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    read_at BIGINT NOT NULL,
    PRIMARY KEY (thread_id, user_id)
);

-- Open edX's forum roles: Administrator, Moderator, Group Moderator,
-- Community TA.
CREATE TABLE discussion_roles (
    course_key TEXT NOT NULL REFERENCES courses (course_key) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    PRIMARY KEY (course_key, user_id, role)
);
CREATE INDEX discussion_roles_user ON discussion_roles (user_id);
