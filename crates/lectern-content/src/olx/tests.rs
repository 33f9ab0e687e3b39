//! Unit tests of the OLX reader and writer on small hand-made course
//! folders, and property tests: any generated course survives export and
//! import unchanged, and no input makes the readers panic.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::keys::BlockRef;
use crate::tree::Block;

fn folder(files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
        .collect()
}

fn import(files: &[(&str, &str)]) -> ImportedCourse {
    read_files(folder(files), &ImportLimits::default()).unwrap()
}

fn round_trip(c: &ImportedCourse) -> ImportedCourse {
    let files = write_files(&c.tree, &|a| c.asset_bytes.get(&a.path).cloned()).unwrap();
    read_files(files, &ImportLimits::default()).unwrap()
}

fn b<'a>(c: &'a ImportedCourse, ty: &str, id: &str) -> &'a Block {
    c.tree
        .block(&BlockRef::new(ty, id))
        .unwrap_or_else(|| panic!("no {ty}@{id}"))
}

const COURSE_XML: (&str, &str) = ("course.xml", r#"<course url_name="r" org="O" course="N"/>"#);

#[test]
fn inline_and_pointer_layouts_give_the_same_tree() {
    let inline = import(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course display_name="C"><chapter url_name="c1" display_name="Ch">
                 <sequential url_name="s1" graded="true" format="Homework">
                   <vertical url_name="v1"><html url_name="h1">Hi <b>there</b></html><problem url_name="p1"/></vertical>
                 </sequential></chapter></course>"#,
        ),
        ("problem/p1.xml", "<problem><p>Q</p></problem>"),
    ]);
    let pointers = import(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course display_name="C"><chapter url_name="c1"/></course>"#,
        ),
        (
            "chapter/c1.xml",
            r#"<chapter display_name="Ch"><sequential url_name="s1"/></chapter>"#,
        ),
        (
            "sequential/s1.xml",
            r#"<sequential graded="true" format="Homework"><vertical url_name="v1"/></sequential>"#,
        ),
        (
            "vertical/v1.xml",
            r#"<vertical><html url_name="h1"/><problem url_name="p1"/></vertical>"#,
        ),
        ("html/h1.xml", r#"<html filename="h1"/>"#),
        ("html/h1.html", "Hi <b>there</b>"),
        ("problem/p1.xml", "<problem><p>Q</p></problem>"),
    ]);
    assert_eq!(inline.tree, pointers.tree);
    assert_eq!(
        b(&inline, "html", "h1").body.as_deref(),
        Some("Hi <b>there</b>")
    );
    assert_eq!(
        b(&inline, "sequential", "s1").field("format"),
        Some("Homework")
    );
    assert_eq!(
        inline
            .tree
            .effective_field(&BlockRef::new("problem", "p1"), "graded")
            .as_deref(),
        Some("true")
    );
}

#[test]
fn policy_overrides_attributes_and_keeps_json_types() {
    let c = import(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course display_name="Old" start="2000"><chapter url_name="c1"/></course>"#,
        ),
        ("chapter/c1.xml", r#"<chapter display_name="A" due="x"/>"#),
        (
            "policies/r/policy.json",
            r#"{"course/r": {"display_name": "New", "start": "2020-01-01T00:00:00Z", "self_paced": true, "tabs": [{"type": "x"}]},
                "chapter/c1": {"display_name": "B", "due": "2030-01-01T00:00:00Z", "visible_to_staff_only": false},
                "problem/nowhere": {"weight": 2}}"#,
        ),
    ]);
    let root = c.tree.root().unwrap();
    assert_eq!(root.display_name.as_deref(), Some("New"));
    assert_eq!(root.field("start"), Some("2020-01-01T00:00:00Z"));
    assert_eq!(root.field("self_paced"), Some("true"));
    assert_eq!(root.field("tabs"), Some(r#"[{"type":"x"}]"#));
    let ch = b(&c, "chapter", "c1");
    assert_eq!(ch.display_name.as_deref(), Some("B"));
    assert_eq!(ch.field("due"), Some("2030-01-01T00:00:00Z"));
    assert_eq!(ch.field("visible_to_staff_only"), Some("false"));
    assert!(c
        .report
        .warnings
        .iter()
        .any(|w| w.contains("\"problem/nowhere\" matches no block")));
    assert_eq!(round_trip(&c).tree, c.tree);
}

#[test]
fn setting_names_that_cannot_be_attributes() {
    let c = import(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course><chapter url_name="c1"/></course>"#,
        ),
        ("chapter/c1.xml", "<chapter/>"),
        (
            "policies/r/policy.json",
            r#"{"course/r": {"odd name": 1, "xmlns": "x"}, "chapter/c1": {"bad key": 2, "due": "d"}}"#,
        ),
    ]);
    // Course settings travel in policy.json, whatever their names.
    assert_eq!(c.tree.root().unwrap().field("odd name"), Some("1"));
    assert_eq!(round_trip(&c).tree, c.tree);
    // A block's cannot: it is ignored, and said so.
    let ch = b(&c, "chapter", "c1");
    assert_eq!(ch.fields.keys().collect::<Vec<_>>(), ["due"]);
    assert!(c
        .report
        .warnings
        .iter()
        .any(|w| w
            == "policy.json: chapter/c1: the setting name \"bad key\" cannot be used; ignored"));
    // And export refuses to write one.
    let mut t = c.tree.clone();
    t.blocks
        .get_mut(&BlockRef::new("chapter", "c1"))
        .unwrap()
        .fields
        .insert("a b".into(), "x".into());
    let err = write_archive(&t, &|_| None).unwrap_err();
    assert_eq!(err.to_string(), "could not write the archive: type@chapter+block@c1: the setting name \"a b\" cannot be written as an XML attribute");
}

#[test]
fn edits_made_after_import_are_exported() {
    let mut c = import(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course><chapter url_name="c1"/></course>"#,
        ),
        (
            "chapter/c1.xml",
            r#"<chapter><sequential url_name="s1"/></chapter>"#,
        ),
        (
            "sequential/s1.xml",
            r#"<sequential><vertical url_name="v1"/></sequential>"#,
        ),
        (
            "vertical/v1.xml",
            r#"<vertical><problem url_name="p1"/><poll url_name="q1" xblock-family="xblock.v1" question="Why?"/></vertical>"#,
        ),
        (
            "problem/p1.xml",
            r#"<problem max_attempts="1"><p>Q &amp; A</p></problem>"#,
        ),
        (
            "policies/r/policy.json",
            r#"{"course/r": {"start": "2020-01-01T00:00:00Z", "self_paced": true}}"#,
        ),
    ]);
    let root = CourseTree::root_ref();
    let t = &mut c.tree;
    let course = t.blocks.get_mut(&root).unwrap();
    course.fields.insert("self_paced".into(), "false".into());
    course.fields.remove("start");
    let p = t.blocks.get_mut(&BlockRef::new("problem", "p1")).unwrap();
    p.fields.insert("max_attempts".into(), "3".into());
    p.display_name = Some("Edited \"quoted\"".into());
    let q = t.blocks.get_mut(&BlockRef::new("poll", "q1")).unwrap();
    q.fields.insert("question".into(), "How?".into());
    let back = round_trip(&c);
    let p = b(&back, "problem", "p1");
    assert_eq!(p.field("max_attempts"), Some("3"));
    assert_eq!(
        p.body.as_deref(),
        Some(
            r#"<problem display_name="Edited &quot;quoted&quot;" max_attempts="3"><p>Q &amp; A</p></problem>"#
        )
    );
    assert_eq!(b(&back, "poll", "q1").field("question"), Some("How?"));
    assert!(b(&back, "poll", "q1")
        .body
        .as_deref()
        .unwrap()
        .starts_with(r#"<poll url_name="q1""#));
    assert_eq!(
        back.tree.policy.get("self_paced"),
        Some(&serde_json::Value::Bool(false))
    );
    assert_eq!(back.tree.policy.get("start"), None);
    // Once exported, the edited course is stable.
    assert_eq!(round_trip(&back).tree, back.tree);
}

#[test]
fn problem_bodies_follow_policy_overrides() {
    let c = import(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course><chapter url_name="c1"><sequential url_name="s1"><vertical url_name="v1"><problem url_name="p1"/></vertical></sequential></chapter></course>"#,
        ),
        (
            "problem/p1.xml",
            "<problem weight=\"1\">\n<p>x</p>\n</problem>",
        ),
        (
            "policies/r/policy.json",
            r#"{"problem/p1": {"weight": 5.0}}"#,
        ),
    ]);
    let p = b(&c, "problem", "p1");
    assert_eq!(p.field("weight"), Some("5.0"));
    assert_eq!(
        p.body.as_deref(),
        Some("<problem weight=\"5.0\">\n<p>x</p>\n</problem>")
    );
    assert_eq!(round_trip(&c).tree, c.tree);
}

#[test]
fn containers_keep_block_children_and_their_other_elements() {
    let c = import(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course><chapter url_name="c1"><sequential url_name="s1"><vertical url_name="v1"><conditional url_name="k1"/></vertical></sequential></chapter><wiki slug="x"/></course>"#,
        ),
        (
            "conditional/k1.xml",
            r#"<conditional correct="True"><show sources="p0"/><html url_name="h1">shown</html></conditional>"#,
        ),
    ]);
    let k = b(&c, "conditional", "k1");
    assert_eq!(k.children, [BlockRef::new("html", "h1")]);
    assert_eq!(k.body.as_deref(), Some(r#"<show sources="p0"/>"#));
    assert_eq!(
        c.tree.root().unwrap().body.as_deref(),
        Some(r#"<wiki slug="x"/>"#)
    );
    assert_eq!(c.report.unsupported.get("conditional"), Some(&1));
    assert_eq!(round_trip(&c).tree, c.tree);
}

#[test]
fn missing_url_names_are_derived_and_stable() {
    let c = import(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course><chapter url_name="c1"><sequential url_name="s1"><vertical url_name="v1"><html>a</html><html>a</html><html>b</html></vertical></sequential></chapter></course>"#,
        ),
    ]);
    let v = b(&c, "vertical", "v1");
    assert_eq!(v.children.len(), 3);
    assert_ne!(v.children[0], v.children[1]);
    assert!(v.children.iter().all(|r| r.id.starts_with("html_")));
    assert_eq!(round_trip(&c).tree, c.tree);
}

#[test]
fn an_unused_file_where_an_inline_block_will_be_written_is_dropped() {
    let c = import(&[
        COURSE_XML,
        // Not a pointer (it has a display_name): chapter/c1.xml is unused.
        (
            "course/r.xml",
            r#"<course><chapter url_name="c1" display_name="Inline"/></course>"#,
        ),
        ("chapter/c1.xml", r#"<chapter display_name="Stale"/>"#),
        ("chapter/c2.xml", r#"<chapter display_name="Orphan"/>"#),
    ]);
    assert_eq!(
        b(&c, "chapter", "c1").display_name.as_deref(),
        Some("Inline")
    );
    assert!(!c.tree.extra_files.contains_key("chapter/c1.xml"));
    assert!(c.tree.extra_files.contains_key("chapter/c2.xml"));
    assert!(c
        .report
        .warnings
        .iter()
        .any(|w| w.starts_with("chapter/c1.xml: unused, and export writes this file anew")));
    assert_eq!(round_trip(&c).tree, c.tree);
}

#[test]
fn colons_in_url_names_are_folders() {
    let c = import(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course><chapter url_name="week1:intro"/></course>"#,
        ),
        ("chapter/week1/intro.xml", r#"<chapter display_name="W1"/>"#),
    ]);
    assert_eq!(
        b(&c, "chapter", "week1:intro").display_name.as_deref(),
        Some("W1")
    );
    assert_eq!(round_trip(&c).tree, c.tree);
}

#[test]
fn bad_folders_are_refused() {
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut f = vec![COURSE_XML];
        f.extend_from_slice(extra);
        read_files(folder(&f), &ImportLimits::default())
            .unwrap_err()
            .to_string()
    };
    let cases = [
        (
            vec![("course/r.xml", "<chapter/>")],
            "course/r.xml: the root element is <chapter>, expected <course>",
        ),
        (
            vec![(
                "course/r.xml",
                r#"<course><chapter url_name="a/b"/></course>"#,
            )],
            "course/r.xml: the chapter url_name \"a/b\" may hold only",
        ),
        (
            vec![(
                "course/r.xml",
                r#"<course><chapter url_name="c"><html url_name="h" filename="gone"/></chapter></course>"#,
            )],
            "html/gone.html: missing, but course/r.xml points to it",
        ),
        (
            vec![
                ("course/r.xml", "<course/>"),
                ("policies/r/policy.json", "{"),
            ],
            "policies/r/policy.json: not valid JSON",
        ),
        (
            vec![
                ("course/r.xml", "<course/>"),
                (
                    "policies/r/grading_policy.json",
                    r#"{"GRADER": [{"type": "H", "weight": -1}]}"#,
                ),
            ],
            "policies/r/grading_policy.json: grading policy field",
        ),
        (
            vec![("course/r.xml", "<course><course/></course>")],
            "course/r.xml: <course> cannot be a block here",
        ),
        (vec![], "course/r.xml: missing, but course.xml points to it"),
    ];
    for (extra, want) in cases {
        let got = base(&extra);
        assert!(got.starts_with(want), "{got}");
    }
    let no_key = read_files(
        folder(&[("course.xml", r#"<course url_name="r" org="O"/>"#)]),
        &ImportLimits::default(),
    )
    .unwrap_err();
    assert_eq!(
        no_key.to_string(),
        "course.xml: <course> has no course attribute (url_name, org and course are required)"
    );
    let unclean = read_files(
        folder(&[COURSE_XML, ("a/../b", "")]),
        &ImportLimits::default(),
    )
    .unwrap_err();
    assert!(matches!(unclean, OlxError::UnsafePath { .. }));
}

#[test]
fn export_checks_assets_and_paths() {
    let c = import(&[
        COURSE_XML,
        ("course/r.xml", "<course/>"),
        ("static/a.txt", "abc"),
    ]);
    let none = write_archive(&c.tree, &|_| None).unwrap_err();
    assert_eq!(
        none,
        OlxError::MissingAsset {
            path: "a.txt".into()
        }
    );
    let wrong = write_archive(&c.tree, &|_| Some(b"abd".to_vec())).unwrap_err();
    assert!(wrong
        .to_string()
        .contains("static/a.txt: the bytes given do not match"));
    let mut t = c.tree.clone();
    t.extra_files.insert("../evil".into(), "x".into());
    assert!(matches!(
        write_archive(&t, &|a| c.asset_bytes.get(&a.path).cloned()),
        Err(OlxError::UnsafePath { .. })
    ));
}

#[test]
fn non_utf8_html_is_kept_with_a_warning() {
    let mut f = folder(&[
        COURSE_XML,
        (
            "course/r.xml",
            r#"<course><chapter url_name="c"><sequential url_name="s"><vertical url_name="v"><html url_name="h" filename="h"/></vertical></sequential></chapter></course>"#,
        ),
    ]);
    f.insert("html/h.html".into(), b"caf\xe9".to_vec());
    let c = read_files(f, &ImportLimits::default()).unwrap();
    assert_eq!(b(&c, "html", "h").body.as_deref(), Some("caf\u{fffd}"));
    assert!(c
        .report
        .warnings
        .iter()
        .any(|w| w.starts_with("html/h.html: not UTF-8")));
}

// ---- property tests ----

fn text() -> impl Strategy<Value = String> {
    // Any characters XML 1.0 allows, with the awkward ones made likely.
    prop::collection::vec(
        prop_oneof![
            Just('&'),
            Just('<'),
            Just('>'),
            Just('"'),
            Just('\''),
            Just('\n'),
            Just('\t'),
            Just(' '),
            Just('é'),
            Just('文'),
            Just('😀'),
            prop::char::range('a', 'z'),
        ],
        0..12,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn fields() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-z][a-z0-9_]{0,6}", text(), 0..3).prop_map(|m| {
        m.into_iter()
            .filter(|(k, _)| !matches!(k.as_str(), "filename"))
            .collect()
    })
}

#[derive(Debug, Clone)]
struct Leaf {
    kind: usize,
    name: Option<String>,
    fields: BTreeMap<String, String>,
    content: String,
}

fn leaf() -> impl Strategy<Value = Leaf> {
    (0..5usize, prop::option::of(text()), fields(), text()).prop_map(
        |(kind, name, fields, content)| Leaf {
            kind,
            name,
            fields,
            content,
        },
    )
}

/// A course of `shape` chapters → sequentials → verticals → leaves.
fn build(shape: Vec<Vec<Vec<Leaf>>>, name: String) -> CourseTree {
    let key = crate::keys::CourseKey::new("O", "N", "r").unwrap();
    let mut t = CourseTree::new(key, &name);
    let mut n = 0;
    let mut next = |ty: &str| {
        n += 1;
        format!("{ty}{n}")
    };
    for seqs in shape {
        let ch = Block::new("chapter", &next("c"));
        let ch_ref = ch.block_ref();
        t.insert_child(&CourseTree::root_ref(), ch, None).unwrap();
        for verts in seqs {
            let mut s = Block::new("sequential", &next("s"));
            s.fields.insert("graded".into(), "true".into());
            let s_ref = s.block_ref();
            t.insert_child(&ch_ref, s, None).unwrap();
            let v = Block::new("vertical", &next("v"));
            let v_ref = v.block_ref();
            t.insert_child(&s_ref, v, None).unwrap();
            for l in verts {
                let ty = ["html", "problem", "video", "discussion", "poll"][l.kind];
                let mut blk = Block::new(ty, &next("b"));
                blk.display_name = l.name;
                blk.fields = l.fields;
                let escaped = l
                    .content
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                blk.body = match ty {
                    "html" => Some(l.content),
                    "problem" | "poll" => Some(body::rebuild(
                        ty,
                        None,
                        blk.display_name.as_deref(),
                        &blk.fields,
                        &format!("<p>{escaped}</p>"),
                    )),
                    _ => (!escaped.trim().is_empty())
                        .then(|| format!("<source src=\"{}\"/>", xml::escape_attr(&escaped))),
                };
                t.insert_child(&v_ref, blk, None).unwrap();
            }
        }
    }
    t
}

fn course_strategy() -> impl Strategy<Value = CourseTree> {
    (
        prop::collection::vec(
            prop::collection::vec(prop::collection::vec(leaf(), 0..4), 0..3),
            0..3,
        ),
        text(),
    )
        .prop_map(|(shape, name)| build(shape, name))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_courses_survive_export_and_import(tree in course_strategy()) {
        let archive = write_archive(&tree, &|_| None).unwrap();
        let back = read_archive(&archive, &ImportLimits::default()).unwrap();
        prop_assert_eq!(back.tree.blocks, tree.blocks);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_archive(&bytes, &ImportLimits::default());
        let mut gz = vec![0x1f, 0x8b];
        gz.extend_from_slice(&bytes);
        let _ = read_archive(&gz, &ImportLimits::default());
    }

    #[test]
    fn damaged_archives_never_panic(cut in 0usize..4000, flips in prop::collection::vec((0usize..4000, any::<u8>()), 0..8)) {
        let c = import(&[COURSE_XML, ("course/r.xml", r#"<course><chapter url_name="c1"/></course>"#), ("chapter/c1.xml", "<chapter/>")]);
        let mut archive = write_archive(&c.tree, &|_| None).unwrap();
        for (at, byte) in flips {
            let len = archive.len();
            archive[at % len] ^= byte;
        }
        archive.truncate(cut.max(2));
        let _ = read_archive(&archive, &ImportLimits::default());
    }

    #[test]
    fn random_xml_never_panics(course in "[<>/a-z =\"'&;!-]{0,200}", problem in "[<>/a-z =\"'&;!\\[\\]-]{0,200}") {
        let files = folder(&[
            COURSE_XML,
            ("course/r.xml", &course),
            ("problem/p.xml", &problem),
            ("chapter/a.xml", &problem),
        ]);
        let _ = read_files(files, &ImportLimits::default());
    }
}
