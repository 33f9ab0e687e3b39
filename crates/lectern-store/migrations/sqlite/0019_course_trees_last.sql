-- A course's tree moves to the end of its row (issue 18).
--
-- SQLite keeps a row's first bytes in the table's page and the rest in a
-- chain of overflow pages, and reaches a column by walking to its offset.
-- The draft tree (hundreds of KB for a real course) sat in the middle of
-- `courses`, and `course_versions.publish_id` was added after its tree, so
-- every read of a course's small columns — every courseware page, the
-- catalogue, every answer check — walked the whole tree's overflow chain,
-- twice (bench/README.md, "sixth pass").
--
-- Each tree column is copied into a new column (which SQLite adds last),
-- the old one dropped and the new one given the old name: names, types and
-- NOT NULL stay as they were. Dropping a column rewrites the table in
-- place, so no row is deleted and no foreign key action runs (rebuilding
-- `courses` through DROP TABLE would cascade to its children, and foreign
-- keys cannot be switched off inside a migration's transaction).
--
-- contract: nothing the previous release uses goes away. The drop and the
-- rename only put a copy in the old column's place, within this migration's
-- one transaction; the columns keep their names, types and NOT NULL, and
-- every statement of the previous release names its columns, so it runs
-- unchanged against this schema during a rolling update.
ALTER TABLE courses ADD COLUMN draft_tree_last TEXT NOT NULL DEFAULT '';
UPDATE courses SET draft_tree_last = draft_tree;
ALTER TABLE courses DROP COLUMN draft_tree;
ALTER TABLE courses RENAME COLUMN draft_tree_last TO draft_tree;

ALTER TABLE course_versions ADD COLUMN tree_last TEXT NOT NULL DEFAULT '';
UPDATE course_versions SET tree_last = tree;
ALTER TABLE course_versions DROP COLUMN tree;
ALTER TABLE course_versions RENAME COLUMN tree_last TO tree;
