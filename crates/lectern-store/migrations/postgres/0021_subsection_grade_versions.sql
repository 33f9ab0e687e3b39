-- Stale subsection grades found by course version, not by a list of the
-- blocks that are current (issue 18, tenth pass).
--
-- A grade write upserts its learner's subsection rows (an unchanged row is
-- not written) and then deleted the rows of subsections the course no
-- longer has with `block_id NOT IN (…every current block…)`: a value bound
-- per subsection and, on SQLite, a temporary table built from them at every
-- answer check. Each row now carries the course version it was written
-- for; the upsert rewrites a row whose version differs even if its figures
-- do not, so after it every current subsection's row has the grade's
-- version, and the stale rows are exactly those with another version.
--
-- contract: the previous release runs unchanged against this schema. Its
-- inserts leave the new column out and get 0, which the next grade written
-- by this release replaces (or deletes, for a subsection gone from the
-- course); its `NOT IN` delete still removes exactly the stale rows.

ALTER TABLE subsection_grades ADD COLUMN course_version BIGINT NOT NULL DEFAULT 0;
