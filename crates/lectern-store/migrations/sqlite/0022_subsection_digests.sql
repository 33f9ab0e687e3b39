-- A fingerprint of the subsection rows a grade write leaves behind, kept
-- with the grade (issue 18, twelfth pass).
--
-- An answer check upserted every subsection row of its learner's grade
-- (unchanged rows were compared, not written): a fifth of a check's
-- instructions in a course of 17 subsections. With this digest (course
-- version, the revision the write made, each row's block and figures) a
-- check that recomputes the rows as they were before its answer can prove
-- the stored rows are those, and then writes only the rows its answer
-- changed. NULL (every grade written before this migration): unknown, so
-- the next write writes every row as before and sets it.
--
-- contract: the previous release runs unchanged against this schema. Its
-- grade writes leave the column as it was but bump the revision, which the
-- digest includes, so a digest it leaves behind matches no check's and the
-- next check of this release writes every row again.

ALTER TABLE course_grades ADD COLUMN subsections_digest BIGINT;
