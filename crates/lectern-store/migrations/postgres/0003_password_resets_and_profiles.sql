-- Password reset links (only the SHA-256 of each secret is kept; a link is
-- deleted when used) and the optional profile fields of Open edX's account
-- API (one row per user that has set any).

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);

CREATE TABLE user_profiles (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    bio TEXT,
    country TEXT,
    state TEXT,
    language TEXT,
    level_of_education TEXT,
    gender TEXT,
    goals TEXT,
    mailing_address TEXT,
    year_of_birth BIGINT,
    language_proficiencies TEXT NOT NULL DEFAULT '[]',
    updated_at BIGINT NOT NULL
);

CREATE INDEX enrollments_created ON enrollments (created_at, user_id);
