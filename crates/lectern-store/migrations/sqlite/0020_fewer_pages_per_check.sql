-- Fewer b-trees written by every answer check (issue 18, ninth pass).
--
-- A check writes its learner's problem state, one submission, the course
-- grade and the subsection grades that moved, all in the group commit's
-- one transaction; each table and each index is a b-tree whose touched
-- page goes to the WAL whole (4 KiB) at every commit. Counted under 64
-- learners: 11 page writes per check, so the WAL, its checksums, the
-- fsync and the checkpoint came to most of the writer's time
-- (bench/README.md, "ninth pass").
--
-- * `problem_states` and `subsection_grades` become WITHOUT ROWID tables:
--   the row lives in its primary key's b-tree, so a write touches one
--   b-tree where the rowid table and its separate primary-key index took
--   two. Both tables have small rows, are read and written by primary key
--   only, and no table refers to them. The columns, their order, types and
--   constraints stay as they were.
-- * `submissions_course_first` (course, problem, learner, id) put every
--   submission at a learner-specific place in the index; it served two
--   analytics reads. The first-submission read now takes only first
--   attempts (`attempt = 1`; attempts only count up from 0, so a learner's
--   earliest submission of a problem always has attempt 1), indexed by a
--   partial index of those rows alone, and the active-weeks read gets
--   (course, time, learner), where a new submission lands at the end of its
--   course's range.
--
-- contract: the previous release runs unchanged against this schema. Its
-- statements name their columns, which keep their names, types and order;
-- its first-submission read (without `attempt = 1`) still gives the same
-- answer, reading the table instead of an index. Nothing refers to the two
-- rebuilt tables, so dropping the old ones deletes nothing else.

CREATE TABLE problem_states_by_key (
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
) WITHOUT ROWID;
INSERT INTO problem_states_by_key (user_id, course_key, usage_key, revision, attempts,
    reset_count, answers, correct_map, raw_earned, raw_possible, earned, possible,
    is_correct, ever_attempted, updated_at)
SELECT user_id, course_key, usage_key, revision, attempts, reset_count, answers,
    correct_map, raw_earned, raw_possible, earned, possible, is_correct,
    ever_attempted, updated_at
FROM problem_states;
DROP TABLE problem_states;
ALTER TABLE problem_states_by_key RENAME TO problem_states;
CREATE INDEX problem_states_course ON problem_states (user_id, course_key);

CREATE TABLE subsection_grades_by_key (
    user_id BIGINT NOT NULL REFERENCES users (id),
    course_key TEXT NOT NULL,
    block_id TEXT NOT NULL,
    earned DOUBLE PRECISION NOT NULL,
    possible DOUBLE PRECISION NOT NULL,
    graded BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, course_key, block_id)
) WITHOUT ROWID;
INSERT INTO subsection_grades_by_key (user_id, course_key, block_id, earned, possible,
    graded, updated_at)
SELECT user_id, course_key, block_id, earned, possible, graded, updated_at
FROM subsection_grades;
DROP TABLE subsection_grades;
ALTER TABLE subsection_grades_by_key RENAME TO subsection_grades;

DROP INDEX submissions_course_first;
CREATE INDEX submissions_first_attempts ON submissions (course_key, usage_key, user_id, id)
    WHERE attempt = 1;
CREATE INDEX submissions_course_time ON submissions (course_key, created_at, user_id);
