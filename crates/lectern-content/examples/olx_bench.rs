//! Times the OLX import of a course export and prints the process's peak
//! memory (VmHWM from /proc/self/status).
//!
//! `cargo run --release -p lectern-content --example olx_bench [ARCHIVE.tar.gz]`
//! (default: the demo course, the largest fixture, from `LECTERN_OLX_FIXTURES`
//! or `tests/fixtures/olx` in the repository).

use std::path::PathBuf;
use std::time::Instant;

use lectern_content::olx::{read_archive, write_archive, ImportLimits};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = match std::env::args().nth(1) {
        Some(p) => PathBuf::from(p),
        None => std::env::var_os("LECTERN_OLX_FIXTURES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../tests/fixtures/olx"
                ))
            })
            .join("openedx-demo-course.tar.gz"),
    };
    let bytes = std::fs::read(&path)?;
    let rss_before = peak_rss_kib().unwrap_or(0);
    let t = Instant::now();
    let course = read_archive(&bytes, &ImportLimits::default())?;
    let first = t.elapsed().as_secs_f64();
    let rss_import = peak_rss_kib().unwrap_or(0);
    let runs = 5;
    let mut best = first;
    for _ in 1..runs {
        let t = Instant::now();
        drop(read_archive(&bytes, &ImportLimits::default())?);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let t = Instant::now();
    let exported = write_archive(&course.tree, &|a| course.asset_bytes.get(&a.path).cloned())?;
    let export_s = t.elapsed().as_secs_f64();
    println!("archive: {} ({} bytes)", path.display(), bytes.len());
    println!(
        "blocks: {}, assets: {} ({} bytes)",
        course.tree.blocks.len(),
        course.report.assets,
        course.report.asset_bytes
    );
    println!(
        "import: {:.1} ms first, {:.1} ms best of {runs}",
        first * 1000.0,
        best * 1000.0
    );
    println!(
        "export: {:.1} ms ({} bytes)",
        export_s * 1000.0,
        exported.len()
    );
    println!("peak RSS: {rss_import} KiB after one import (archive read in: {rss_before} KiB)");
    println!(
        "peak RSS: {} KiB at the end (after export)",
        peak_rss_kib().unwrap_or(0)
    );
    Ok(())
}
