-- Fewer index pages written by every answer check (issue 18, ninth pass).
--
-- `submissions_course_first` (course, problem, learner, id) put every
-- submission at a learner-specific place in the index, a page written per
-- check; it served two analytics reads. The first-submission read now
-- takes only first attempts (`attempt = 1`; attempts only count up from 0,
-- so a learner's earliest submission of a problem always has attempt 1),
-- indexed by a partial index of those rows alone, and the active-weeks
-- read gets (course, time, learner), where a new submission lands at the
-- end of its course's range. (SQLite's migration also rebuilds two tables
-- WITHOUT ROWID, which PostgreSQL has no counterpart of.)
--
-- contract: the previous release runs unchanged against this schema; its
-- first-submission read (without `attempt = 1`) still gives the same
-- answer, reading the table instead of an index.

DROP INDEX submissions_course_first;
CREATE INDEX submissions_first_attempts ON submissions (course_key, usage_key, user_id, id)
    WHERE attempt = 1;
CREATE INDEX submissions_course_time ON submissions (course_key, created_at, user_id);
