//! Any bytes as an uploaded course archive: the importer must return a
//! result (never panic, hang or exhaust memory), and whatever it accepts must
//! export and import back to the same course.
#![no_main]

use lectern_content::olx::{read_archive, write_archive, ImportLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ImportLimits { max_total_bytes: 8 << 20, max_file_bytes: 4 << 20, max_files: 2_000, ..ImportLimits::default() };
    let Ok(course) = read_archive(data, &limits) else { return };
    let exported = write_archive(&course.tree, &|a| course.asset_bytes.get(&a.path).cloned())
        .unwrap_or_else(|e| panic!("an imported course did not export: {e}"));
    let back = read_archive(&exported, &ImportLimits::default())
        .unwrap_or_else(|e| panic!("an exported course did not import: {e}"));
    assert_eq!(back.tree, course.tree);
    assert_eq!(back.asset_bytes, course.asset_bytes);
});
