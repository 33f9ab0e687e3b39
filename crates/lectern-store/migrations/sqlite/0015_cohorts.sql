-- Cohorts (docs/cohorts.md), Open edX's course groups: a course's cohorts,
-- each assigned by hand (manual) or at random on enrolment (random), and
-- each learner in at most one cohort per course: the primary key of
-- cohort_memberships is (course_key, user_id), so moving a learner is an
-- update of one row. Whether a course uses cohorts is stored once the
-- course team sets it; until then the course policy's
-- cohort_config.cohorted decides. Times are Unix milliseconds.

CREATE TABLE course_cohort_settings (
    course_key TEXT PRIMARY KEY REFERENCES courses (course_key) ON DELETE CASCADE,
    is_cohorted BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE cohorts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    course_key TEXT NOT NULL REFERENCES courses (course_key) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- manual or random.
    assignment_type TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX cohorts_course_name ON cohorts (course_key, name);

CREATE TABLE cohort_memberships (
    course_key TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    cohort_id BIGINT NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (course_key, user_id)
);
CREATE INDEX cohort_memberships_cohort ON cohort_memberships (cohort_id, user_id);
