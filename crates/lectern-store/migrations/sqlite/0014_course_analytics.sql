-- The instructor dashboard's analytics (docs/analytics.md).
--
-- video_engagement: one row per learner and video of a course, what the
-- HTML5 player's browser events (POST /event) say about it, coalesced in
-- memory on the node that received them and added here every few seconds.
-- Values are clamped (no more seconds than the video's plausible length).
-- learner_activity: the days a learner did something in a course that a
-- browser event reported; at most one row per learner, course and day.
-- Times are Unix milliseconds; `day` is days since 1970-01-01 (UTC).

CREATE TABLE video_engagement (
    course_key TEXT NOT NULL,
    usage_key TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    -- play_video events seen.
    plays BIGINT NOT NULL,
    -- Seconds played (play to pause, stop or seek), at most the video's length.
    seconds_watched DOUBLE PRECISION NOT NULL,
    -- The furthest position reached while playing, in seconds.
    furthest DOUBLE PRECISION NOT NULL,
    -- The length the player reported (load_video), 0 when unknown.
    duration DOUBLE PRECISION NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (course_key, usage_key, user_id)
);

CREATE TABLE learner_activity (
    course_key TEXT NOT NULL,
    day BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (course_key, day, user_id)
);

-- Problem difficulty reads each learner's first submission of each problem
-- of a course; enrolments over time read a course's enrolments by date.
CREATE INDEX submissions_course_first ON submissions (course_key, usage_key, user_id, id);
CREATE INDEX enrollments_course_created ON enrollments (course_key, created_at);
