-- SQLite's 0019 moves each course tree to the end of its row, so reading a
-- course's small columns no longer walks the tree's overflow pages.
-- PostgreSQL keeps large values out of line (TOAST) whatever the column
-- order, so it has nothing to change; this migration keeps both backends'
-- numbering the same.
SELECT 1;
