-- The mail outbox (every message Lectern sends, written before it is sent
-- and delivered by the workers of any node), bulk e-mail from a course's
-- instructors, and learners' course e-mail opt-outs. Times are Unix
-- milliseconds.

CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The same logical message (a reset link, bulk e-mail N to user U) is
    -- never queued twice.
    dedupe_key TEXT NOT NULL,
    -- What queued it: 'password_reset' or 'bulk_email'.
    origin TEXT NOT NULL,
    bulk_email_id BIGINT,
    user_id BIGINT,
    course_key TEXT,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT,
    -- Stable per row, so a message sent twice is recognisable as one.
    message_id TEXT NOT NULL,
    -- The no-sign-in unsubscribe link of a bulk message.
    unsubscribe_token TEXT,
    -- queued, sent or failed; a claim is locked_by/locked_until.
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    locked_by TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE UNIQUE INDEX mail_outbox_dedupe ON mail_outbox (dedupe_key);
CREATE UNIQUE INDEX mail_outbox_unsubscribe ON mail_outbox (unsubscribe_token);
-- Delivery claims the oldest due queued messages.
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at, id);
-- A bulk e-mail's progress counts its messages by state.
CREATE INDEX mail_outbox_bulk ON mail_outbox (bulk_email_id, state);

CREATE TABLE bulk_emails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    course_key TEXT NOT NULL,
    sender_id BIGINT NOT NULL,
    -- myself, staff or learners (cohorts will be cohort:NAME).
    target TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Set when every recipient's message is in the outbox.
    fanned_out_at BIGINT
);
CREATE INDEX bulk_emails_course ON bulk_emails (course_key, id);

-- A learner who unsubscribed from a course's e-mail gets none of it.
CREATE TABLE course_email_optouts (
    user_id BIGINT NOT NULL,
    course_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, course_key)
);
