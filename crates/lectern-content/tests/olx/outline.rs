//! Every course fixture imports, and its outline (sections, subsections,
//! units, leaf blocks in order, display names, graded/format, grading policy)
//! is what the raw XML says.

use lectern_content::olx::{read_archive, ImportLimits};
use lectern_content::{BlockRef, CourseTree};

use super::raw::{unpack, Node, Raw};
use super::{fixture_bytes, COURSES};

fn imported_node(tree: &CourseTree, r: &BlockRef) -> Node {
    let b = tree
        .block(r)
        .unwrap_or_else(|| panic!("{r} missing from the tree"));
    Node {
        tag: b.block_type.clone(),
        url_name: b.id.clone(),
        display_name: b.display_name.clone(),
        graded: b.field("graded").map(str::to_string),
        format: b.field("format").map(str::to_string),
        children: b.children.iter().map(|c| imported_node(tree, c)).collect(),
    }
}

#[test]
fn every_course_fixture_matches_its_xml() {
    for name in COURSES {
        let bytes = fixture_bytes(name);
        let course = read_archive(&bytes, &ImportLimits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let raw = Raw::new(unpack(&bytes));
        let want = raw.outline();
        let root = course.tree.root().unwrap();
        let got: Vec<Node> = root
            .children
            .iter()
            .map(|c| imported_node(&course.tree, c))
            .collect();
        assert_eq!(got.len(), want.len(), "{name}: chapters");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w, "{name}: chapter {}", w.url_name);
        }
        assert_eq!(course.tree.key.run, raw.run, "{name}");
    }
}

/// Counts read off the fixtures by hand (the fixtures README and the files).
#[test]
fn outline_counts_match_the_fixtures() {
    // (fixture, chapters, sequentials, graded sequentials, verticals, html, problems, videos)
    let cases = [
        ("openedx-demo-course", 6, 17, 3, 58, 266, 29, 11),
        ("openedx-test-course", 2, 3, 0, 28, 17, 19, 3),
        ("mitx-grading-library-course", 2, 10, 0, 63, 10, 53, 0),
    ];
    for (name, ch, seq, graded, vert, html, prob, video) in cases {
        let course = read_archive(&fixture_bytes(name), &ImportLimits::default()).unwrap();
        let by_type = &course.report.blocks_by_type;
        let n = |t: &str| by_type.get(t).copied().unwrap_or(0);
        assert_eq!(
            (
                n("chapter"),
                n("sequential"),
                n("vertical"),
                n("html"),
                n("problem"),
                n("video")
            ),
            (ch, seq, vert, html, prob, video),
            "{name}"
        );
        let graded_seqs = course
            .tree
            .blocks
            .values()
            .filter(|b| b.block_type == "sequential" && b.field("graded") == Some("true"))
            .count();
        assert_eq!(graded_seqs, graded, "{name}: graded subsections");
        // Every block is reachable from the course block.
        assert_eq!(
            course.tree.walk().len(),
            course.tree.blocks.len(),
            "{name}: unreachable blocks"
        );
    }
}

#[test]
fn demo_course_details_are_as_written() {
    let course = read_archive(
        &fixture_bytes("openedx-demo-course"),
        &ImportLimits::default(),
    )
    .unwrap();
    let t = &course.tree;
    assert_eq!(t.key.to_string(), "course-v1:OpenedX+DemoX+DemoCourse");
    assert_eq!(t.display_name(), "Open edX Demo Course");
    // The graded subsections' formats name grader types.
    let mut formats: Vec<&str> = t
        .blocks
        .values()
        .filter(|b| b.field("graded") == Some("true"))
        .filter_map(|b| b.field("format"))
        .collect();
    formats.sort_unstable();
    assert_eq!(
        formats,
        [
            "Advanced Assessment Tools",
            "Basic Assessment Tools",
            "Intermediate Assessment Tools"
        ]
    );
    // Policy values that are not strings are kept as JSON text.
    let root = t.root().unwrap();
    assert_eq!(root.field("self_paced"), Some("true"));
    assert_eq!(root.field("start"), Some("2020-01-01T00:00:00Z"));
    assert_eq!(root.field("minimum_grade_credit"), Some("0.8"));
    assert!(root
        .body
        .as_deref()
        .unwrap()
        .contains("<wiki slug=\"OpenedX.DemoX.DemoCourse\"/>"));
    assert_eq!(
        t.policy.get("self_paced"),
        Some(&serde_json::Value::Bool(true))
    );
    // About pages and handouts.
    assert!(
        t.about["overview"].contains("<section class=\"about\">")
            || !t.about["overview"].is_empty()
    );
    assert!(t.info.contains_key("handouts") && t.info.contains_key("updates"));
    // 122 files under static/, each described by size and hash.
    assert_eq!(course.report.assets, 122);
    let abacus = &t.assets["Abacus.png"];
    assert_eq!(abacus.content_type, "image/png");
    assert_eq!(abacus.size, course.asset_bytes["Abacus.png"].len() as u64);
    // A video keeps its settings in fields and its inner elements in its body.
    let video = t
        .block(&BlockRef::new("video", "078de40d92a54047b951a2e7a8e2a348"))
        .unwrap();
    assert_eq!(video.field("youtube_id_1_0"), Some("AOUEsgFrYeg"));
    assert_eq!(
        video.field("edx_video_id"),
        Some("48c991fb-083c-45e1-adad-930d2b11b11e")
    );
    let body = video.body.as_deref().unwrap();
    assert!(body.contains(
        "<transcript language=\"es\" src=\"48c991fb-083c-45e1-adad-930d2b11b11e-es.srt\"/>"
    ));
    assert!(body.contains("<video_asset client_video_id=\"external video\""));
    // A drag-and-drop block (not modelled) keeps its whole element.
    let dnd = t
        .block(&BlockRef::new(
            "drag-and-drop-v2",
            "1feb18be7d7c481bb075d943ffb04893",
        ))
        .unwrap();
    assert!(dnd
        .body
        .as_deref()
        .unwrap()
        .starts_with("<drag-and-drop-v2 url_name=\"1feb18be7d7c481bb075d943ffb04893\""));
    assert_eq!(dnd.display_name.as_deref(), Some("Drag and Drop"));
    assert_eq!(course.report.unsupported.get("drag-and-drop-v2"), Some(&1));
}

#[test]
fn test_course_containers_keep_their_children() {
    let course = read_archive(
        &fixture_bytes("openedx-test-course"),
        &ImportLimits::default(),
    )
    .unwrap();
    let t = &course.tree;
    let split = t
        .block(&BlockRef::new(
            "split_test",
            "17c9c74e7f4f4af887d3611bee41337b",
        ))
        .unwrap();
    let kids: Vec<&str> = split.children.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        kids,
        [
            "9ddfbdb864b64d65a78b6b55a4e42490",
            "ca4b73c26a0b467fbdc08352b694f0d5",
            "37c4cdabe1224273a41f3977d84a8981"
        ]
    );
    assert_eq!(split.field("user_partition_id"), Some("1617092182"));
    let lib = t
        .block(&BlockRef::new(
            "library_content",
            "c8f3a166def84b8696d25df4e18c0a76",
        ))
        .unwrap();
    assert_eq!(lib.children.len(), 12);
    assert_eq!(lib.field("max_count"), Some("6"));
    // drafts/ is kept for export, not imported into the outline; reported.
    assert!(t
        .extra_files
        .contains_key("drafts/vertical/47b6b8c202854d828d14704948446e7e.xml"));
    assert!(t
        .block(&BlockRef::new(
            "vertical",
            "47b6b8c202854d828d14704948446e7e"
        ))
        .is_none());
    assert!(course
        .report
        .warnings
        .iter()
        .any(|w| w.starts_with("drafts/: 12 files")));
}

#[test]
fn grading_policies_match_their_json() {
    for name in COURSES {
        let bytes = fixture_bytes(name);
        let course = read_archive(&bytes, &ImportLimits::default()).unwrap();
        let raw = Raw::new(unpack(&bytes)).grading_policy();
        let graders = raw["GRADER"].as_array().unwrap();
        let got = &course.tree.grading_policy;
        assert_eq!(got.graders.len(), graders.len(), "{name}");
        for (g, w) in got.graders.iter().zip(graders) {
            assert_eq!(g.assignment_type, w["type"].as_str().unwrap(), "{name}");
            assert_eq!(
                u64::from(g.min_count),
                w["min_count"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                u64::from(g.drop_count),
                w["drop_count"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(g.weight, w["weight"].as_f64().unwrap(), "{name}");
            assert_eq!(
                g.short_label.as_deref(),
                w.get("short_label").and_then(|v| v.as_str()),
                "{name}"
            );
        }
        for (k, v) in raw["GRADE_CUTOFFS"].as_object().unwrap() {
            assert_eq!(
                got.grade_cutoffs.get(k).copied(),
                v.as_f64(),
                "{name}: cutoff {k}"
            );
        }
        assert_eq!(
            got.grade_cutoffs.len(),
            raw["GRADE_CUTOFFS"].as_object().unwrap().len()
        );
    }
    // And by hand: the test course's Homework/Lab policy and the demo's weights.
    let test = read_archive(
        &fixture_bytes("openedx-test-course"),
        &ImportLimits::default(),
    )
    .unwrap();
    let hw = &test.tree.grading_policy.graders[0];
    assert_eq!(
        (
            hw.assignment_type.as_str(),
            hw.min_count,
            hw.drop_count,
            hw.weight
        ),
        ("Homework", 12, 2, 0.15)
    );
    let demo = read_archive(
        &fixture_bytes("openedx-demo-course"),
        &ImportLimits::default(),
    )
    .unwrap();
    let weights: Vec<f64> = demo
        .tree
        .grading_policy
        .graders
        .iter()
        .map(|g| g.weight)
        .collect();
    assert_eq!(weights, [0.3, 0.35, 0.35]);
    assert_eq!(demo.tree.grading_policy.grade_cutoffs["Pass"], 0.5);
}

#[test]
fn libraries_are_refused_as_libraries() {
    for name in ["openedx-demo-library", "openedx-test-problem-bank"] {
        let err = read_archive(&fixture_bytes(name), &ImportLimits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "library/library.xml: this is a content library, not a course; import it as a library",
            "{name}"
        );
    }
}
