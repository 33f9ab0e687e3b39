//! Any course folder (input: `path NUL content NUL path NUL content …`) as
//! an unpacked import: the XML, policy JSON and path handling must return a
//! result, never panic, and what is accepted must round-trip.
#![no_main]

use std::collections::BTreeMap;

use lectern_content::olx::{read_files, write_files, ImportLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut files = BTreeMap::new();
    let mut parts = data.split(|&b| b == 0);
    while let (Some(path), Some(content)) = (parts.next(), parts.next()) {
        files.insert(String::from_utf8_lossy(path).into_owned(), content.to_vec());
    }
    let Ok(course) = read_files(files, &ImportLimits::default()) else { return };
    let written = write_files(&course.tree, &|a| course.asset_bytes.get(&a.path).cloned())
        .unwrap_or_else(|e| panic!("an imported course did not export: {e}"));
    let back = read_files(written, &ImportLimits::default())
        .unwrap_or_else(|e| panic!("an exported course did not import: {e}"));
    assert_eq!(back.tree, course.tree);
});
