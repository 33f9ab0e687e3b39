-- Per-learner problem state, the history of every graded submission, and
-- persisted grades per subsection and per course.

CREATE TABLE problem_states (
    user_id BIGINT NOT NULL REFERENCES users (id),
    course_key TEXT NOT NULL,
    usage_key TEXT NOT NULL,
    revision BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    reset_count BIGINT NOT NULL,
    answers TEXT NOT NULL,
    correct_map TEXT NOT NULL,
    raw_earned DOUBLE PRECISION NOT NULL,
    raw_possible DOUBLE PRECISION NOT NULL,
    earned DOUBLE PRECISION NOT NULL,
    possible DOUBLE PRECISION NOT NULL,
    is_correct BOOLEAN NOT NULL,
    ever_attempted BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, usage_key)
);
CREATE INDEX problem_states_course ON problem_states (user_id, course_key);

CREATE TABLE submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    course_key TEXT NOT NULL,
    usage_key TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    answers TEXT NOT NULL,
    correct_map TEXT NOT NULL,
    earned DOUBLE PRECISION NOT NULL,
    possible DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX submissions_user_problem ON submissions (user_id, usage_key);

CREATE TABLE course_grades (
    user_id BIGINT NOT NULL REFERENCES users (id),
    course_key TEXT NOT NULL,
    revision BIGINT NOT NULL,
    course_version BIGINT NOT NULL,
    percent DOUBLE PRECISION NOT NULL,
    letter_grade TEXT,
    passed BOOLEAN NOT NULL,
    detail TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, course_key)
);

CREATE TABLE subsection_grades (
    user_id BIGINT NOT NULL REFERENCES users (id),
    course_key TEXT NOT NULL,
    block_id TEXT NOT NULL,
    earned DOUBLE PRECISION NOT NULL,
    possible DOUBLE PRECISION NOT NULL,
    graded BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, course_key, block_id)
);
