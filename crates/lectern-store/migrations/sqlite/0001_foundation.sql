-- Accounts, sessions, courses (draft + immutable published versions),
-- course roles, enrolments and content-addressed blobs.
-- Times are Unix milliseconds (BIGINT), the same on every backend.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    is_course_creator BOOLEAN NOT NULL DEFAULT FALSE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE auth_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

CREATE TABLE courses (
    course_key TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    draft_revision BIGINT NOT NULL,
    draft_tree TEXT NOT NULL,
    draft_updated_at BIGINT NOT NULL,
    published_version BIGINT,
    published_revision BIGINT,
    published_at BIGINT,
    start_at BIGINT,
    end_at BIGINT
);

CREATE TABLE course_versions (
    course_key TEXT NOT NULL REFERENCES courses (course_key) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    draft_revision BIGINT NOT NULL,
    tree TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (course_key, version)
);

CREATE TABLE course_roles (
    course_key TEXT NOT NULL REFERENCES courses (course_key) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    PRIMARY KEY (course_key, user_id)
);
CREATE INDEX course_roles_user ON course_roles (user_id);

CREATE TABLE enrollments (
    user_id BIGINT NOT NULL REFERENCES users (id),
    course_key TEXT NOT NULL REFERENCES courses (course_key) ON DELETE CASCADE,
    mode TEXT NOT NULL,
    is_active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, course_key)
);
CREATE INDEX enrollments_course ON enrollments (course_key);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    data BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
