//! The fuzz targets' committed corpus (`fuzz/corpus/`), replayed on stable
//! with the same checks the targets make: no panic, and what imports
//! round-trips. The hand-made seeds are also checked for what they are.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lectern_content::olx::{
    read_archive, read_files, write_archive, write_files, ImportLimits, OlxError,
};

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The `olx_files` target's input format: `path NUL content NUL …`.
fn split_files(data: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut parts = data.split(|&b| b == 0);
    while let (Some(path), Some(content)) = (parts.next(), parts.next()) {
        files.insert(String::from_utf8_lossy(path).into_owned(), content.to_vec());
    }
    files
}

#[test]
fn archive_corpus_replays() {
    let mut imported = Vec::new();
    for (name, data) in corpus("olx_archive") {
        let Ok(course) = read_archive(&data, &ImportLimits::default()) else {
            continue;
        };
        let out =
            write_archive(&course.tree, &|a| course.asset_bytes.get(&a.path).cloned()).unwrap();
        let back = read_archive(&out, &ImportLimits::default()).unwrap();
        assert_eq!(back.tree, course.tree, "{name}");
        imported.push(name);
    }
    assert_eq!(imported, ["inline-layout.tar.gz", "tiny-course.tar.gz"]);
    let seeds: BTreeMap<String, Vec<u8>> = corpus("olx_archive").into_iter().collect();
    let lib = read_archive(&seeds["library.tar.gz"], &ImportLimits::default()).unwrap_err();
    assert!(matches!(lib, OlxError::Library { .. }));
    let cut = read_archive(&seeds["truncated.tar.gz"], &ImportLimits::default()).unwrap_err();
    assert!(matches!(cut, OlxError::Corrupt { .. }), "{cut}");
}

#[test]
fn files_corpus_replays() {
    let mut imported = Vec::new();
    for (name, data) in corpus("olx_files") {
        let Ok(course) = read_files(split_files(&data), &ImportLimits::default()) else {
            continue;
        };
        imported.push(name.clone());
        let written =
            write_files(&course.tree, &|a| course.asset_bytes.get(&a.path).cloned()).unwrap();
        let back = read_files(written, &ImportLimits::default()).unwrap();
        assert_eq!(back.tree, course.tree, "{name}");
    }
    // Inputs the fuzzer found are kept as regression seeds; each must import.
    for seed in [
        "inline-layout",
        "regression-attribute-name-feff",
        "regression-attribute-name-xmlns-prefix",
        "regression-inline-course-xml-stale-definition",
        "regression-policy-key-not-a-name",
        "tiny-course",
    ] {
        assert!(imported.iter().any(|n| n == seed), "{seed} did not import");
    }
}

#[test]
fn the_tiny_seed_covers_every_kind_of_part() {
    let seeds: BTreeMap<String, Vec<u8>> = corpus("olx_files").into_iter().collect();
    let c = read_files(split_files(&seeds["tiny-course"]), &ImportLimits::default()).unwrap();
    let by_type: Vec<(&str, usize)> = c
        .report
        .blocks_by_type
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        by_type,
        [
            ("chapter", 1),
            ("course", 1),
            ("discussion", 1),
            ("html", 2),
            ("poll", 1),
            ("problem", 1),
            ("sequential", 1),
            ("split_test", 1),
            ("vertical", 3),
            ("video", 1)
        ]
    );
    let p = c
        .tree
        .block(&lectern_content::BlockRef::new("problem", "p1"))
        .unwrap();
    assert_eq!(p.field("weight"), Some("2.0"));
    assert!(p
        .body
        .as_deref()
        .unwrap()
        .starts_with("<problem display_name=\"P\" max_attempts=\"2\" weight=\"2.0\">"));
    assert_eq!(
        c.tree.extra_files.keys().collect::<Vec<_>>(),
        ["drafts/vertical/x.xml", "policies/assets.json"]
    );
    assert_eq!(c.report.assets, 1);
    assert_eq!(c.tree.about["overview"], "<section>About</section>");
}
