//! OLX import and export on Open edX's real course exports (the shared
//! fixtures folder, `LECTERN_OLX_FIXTURES`, default
//! `tests/fixtures/olx` in the repository) and on hostile archives built here.

#![allow(clippy::unwrap_used)]

mod corpus;
mod hostile;
mod outline;
mod raw;
mod round_trip;

use std::path::PathBuf;

/// The three course fixtures.
pub const COURSES: &[&str] = &[
    "openedx-demo-course",
    "openedx-test-course",
    "mitx-grading-library-course",
];

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    let dir = std::env::var_os("LECTERN_OLX_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../tests/fixtures/olx"
            ))
        });
    let path = dir.join(format!("{name}.tar.gz"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("fixture {} (set LECTERN_OLX_FIXTURES): {e}", path.display()))
}
