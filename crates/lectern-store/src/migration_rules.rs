//! The expand/contract rule of rolling updates (docs/upgrades.md), checked
//! on every migration of both backends: while nodes are replaced one at a
//! time, the previous release runs against the schema the new one migrated
//! to, so a migration may only add (tables, indexes, nullable columns or
//! columns with a default). Dropping, renaming, retyping, tightening a
//! column or adding a constraint to an existing table breaks the nodes not
//! yet replaced; such a step is the second half of a two-release change and
//! must say so with a `-- contract: <why the previous release no longer
//! needs it>` line in the migration.

/// Why `sql` (one migration's text) breaks the rule, or `None`.
fn breaks_expand_only(sql: &str) -> Option<String> {
    if sql
        .lines()
        .any(|l| l.trim_start().starts_with("-- contract:"))
    {
        return None;
    }
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    for statement in code.split(';') {
        let s = statement
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_uppercase();
        let refused = [
            ("DROP ", "drops something the previous release may use"),
            ("RENAME ", "renames something the previous release uses"),
            ("ALTER COLUMN", "changes a column the previous release uses"),
            (
                "ADD CONSTRAINT",
                "adds a constraint the previous release's writes may break",
            ),
        ];
        for (word, why) in refused {
            if s.contains(word) {
                return Some(format!("{why}: `{}`", s.trim()));
            }
        }
        if s.contains("ADD COLUMN") && s.contains("NOT NULL") && !s.contains("DEFAULT") {
            return Some(format!(
                "adds a NOT NULL column without a default, which the previous release's inserts lack: `{}`",
                s.trim()
            ));
        }
    }
    None
}

#[test]
fn every_migration_only_expands_the_schema() {
    let all = crate::sqlite::MIGRATOR
        .iter()
        .map(|m| ("sqlite", m))
        .chain(crate::postgres::MIGRATOR.iter().map(|m| ("postgres", m)));
    let mut broken = Vec::new();
    for (backend, m) in all {
        if let Some(why) = breaks_expand_only(&m.sql) {
            broken.push(format!(
                "{backend} {:04} {}: {why}",
                m.version, m.description
            ));
        }
    }
    assert!(
        broken.is_empty(),
        "migrations that a node on the previous release cannot run against \
         (see docs/upgrades.md; mark a deliberate contract step with `-- contract:`):\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_rule_tells_expanding_from_contracting() {
    for ok in [
        "CREATE TABLE t (a TEXT NOT NULL);",
        "ALTER TABLE t ADD COLUMN b TEXT; -- drop it later",
        "ALTER TABLE t ADD COLUMN c BIGINT NOT NULL DEFAULT 0;",
        "CREATE INDEX t_a ON t (a);",
        "-- contract: 0012 stopped reading it\nALTER TABLE t DROP COLUMN b;",
    ] {
        assert_eq!(breaks_expand_only(ok), None, "{ok}");
    }
    for bad in [
        "DROP TABLE t;",
        "ALTER TABLE t DROP COLUMN b;",
        "ALTER TABLE t RENAME COLUMN a TO z;",
        "ALTER TABLE t RENAME TO u;",
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
        "ALTER TABLE t ALTER COLUMN a TYPE BIGINT;",
        "ALTER TABLE t ADD COLUMN d TEXT NOT NULL;",
        "ALTER TABLE t ADD CONSTRAINT t_a_short CHECK (length(a) < 9);",
        "DROP INDEX t_a;",
    ] {
        assert!(breaks_expand_only(bad).is_some(), "{bad}");
    }
}
