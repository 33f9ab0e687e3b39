//! Import → export → import gives the same tree, fields and asset bytes.

use lectern_content::olx::{read_archive, write_archive, ImportLimits};

use super::{fixture_bytes, COURSES};

#[test]
fn every_course_fixture_round_trips() {
    for name in COURSES {
        let first = read_archive(&fixture_bytes(name), &ImportLimits::default()).unwrap();
        let exported =
            write_archive(&first.tree, &|a| first.asset_bytes.get(&a.path).cloned()).unwrap();
        let second = read_archive(&exported, &ImportLimits::default())
            .unwrap_or_else(|e| panic!("{name}: re-import: {e}"));
        for (r, b) in &first.tree.blocks {
            assert_eq!(second.tree.blocks.get(r), Some(b), "{name}: block {r}");
        }
        assert_eq!(second.tree, first.tree, "{name}");
        assert_eq!(second.asset_bytes, first.asset_bytes, "{name}");
        assert_eq!(
            second.report.blocks_by_type, first.report.blocks_by_type,
            "{name}"
        );
        // Export is deterministic: the same tree gives the same bytes.
        let again =
            write_archive(&second.tree, &|a| second.asset_bytes.get(&a.path).cloned()).unwrap();
        assert_eq!(again, exported, "{name}: export is not deterministic");
    }
}
