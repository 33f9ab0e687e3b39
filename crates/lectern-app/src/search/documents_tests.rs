#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use lectern_content::CourseKey;

fn tree() -> CourseTree {
    let key = CourseKey::new("O", "N", "R").unwrap();
    let mut t = CourseTree::new(key, "Course");
    let mut ch = Block::new("chapter", "ch");
    ch.display_name = Some("Week One".into());
    ch.fields
        .insert("start".into(), "2099-01-01T00:00:00Z".into());
    t.insert_child(&CourseTree::root_ref(), ch, None).unwrap();
    let ch = BlockRef::new("chapter", "ch");
    let mut seq = Block::new("sequential", "seq");
    seq.display_name = Some("Lesson".into());
    seq.fields
        .insert("visible_to_staff_only".into(), "true".into());
    t.insert_child(&ch, seq, None).unwrap();
    let seq = BlockRef::new("sequential", "seq");
    let mut unit = Block::new("vertical", "u1");
    unit.display_name = Some("Unit".into());
    t.insert_child(&seq, unit, None).unwrap();
    let unit = BlockRef::new("vertical", "u1");
    let mut html = Block::new("html", "h");
    html.body = Some("<p>Hello&nbsp;<b>world</b></p><script>var secret=1;</script>".into());
    t.insert_child(&unit, html, None).unwrap();
    let mut p = Block::new("problem", "p");
    p.body = Some(
        r#"<problem><p>What is the capital?</p><stringresponse answer="Paris"><textline/>
        <correcthint>Paris is right</correcthint></stringresponse>
        <solution><p>It is Paris.</p></solution><demandhint><hint>Think France</hint></demandhint></problem>"#
            .into(),
    );
    t.insert_child(&unit, p, None).unwrap();
    t
}

#[test]
fn documents_carry_text_location_url_and_the_inherited_release_rules() {
    let t = tree();
    let docs = content_docs(&t, &HashMap::new());
    let by = |id: &str| docs.iter().find(|d| d.id.ends_with(id)).unwrap();
    let html = by("block@h");
    assert_eq!(html.body, "Hello world");
    assert_eq!(html.location, ["Week One", "Lesson", "Unit"]);
    assert_eq!(html.url, "/courses/course-v1:O+N+R/unit/u1");
    assert!(html.staff_only, "inherited from the subsection");
    assert_eq!(
        html.release.unwrap().to_rfc3339(),
        "2099-01-01T00:00:00+00:00"
    );
    let chapter = by("block@ch");
    assert!(!chapter.staff_only);
    assert_eq!(chapter.title, "Week One");
}

#[test]
fn problem_text_keeps_the_question_and_drops_what_gives_the_answer() {
    let t = tree();
    let docs = content_docs(&t, &HashMap::new());
    let p = docs.iter().find(|d| d.block_type == "problem").unwrap();
    assert!(p.body.contains("What is the capital?"), "{}", p.body);
    assert!(!p.body.contains("Paris"), "{}", p.body);
    assert!(!p.body.contains("France"), "{}", p.body);
}

#[test]
fn html_text_drops_tags_scripts_styles_and_comments() {
    assert_eq!(
        html_text("a<style>x{}</style>b<!-- c -->d<SCRIPT>e</SCRIPT>f &amp; g"),
        "a b d f & g"
    );
    assert_eq!(html_text("unclosed <b"), "unclosed");
}

#[test]
fn a_video_names_its_transcript_english_first_when_the_file_exists() {
    let mut t = tree();
    for f in ["v-fr.srt", "v-en.srt", "subs_abc.srt.sjson"] {
        t.assets.insert(
            f.into(),
            lectern_content::Asset {
                path: f.into(),
                sha256: "0".into(),
                size: 1,
                content_type: "text/plain".into(),
            },
        );
    }
    let mut v = Block::new("video", "v");
    v.fields.insert(
        "transcripts".into(),
        r#"{"fr": "v-fr.srt", "en": "v-en.srt", "de": "missing.srt"}"#.into(),
    );
    assert_eq!(video_transcript_file(&t, &v).as_deref(), Some("v-en.srt"));
    let mut old = Block::new("video", "old");
    old.fields.insert("sub".into(), "abc".into());
    assert_eq!(
        video_transcript_file(&t, &old).as_deref(),
        Some("subs_abc.srt.sjson")
    );
    assert_eq!(
        video_transcript_file(&t, &Block::new("video", "none")),
        None
    );
}

#[test]
fn a_staff_only_course_block_hides_everything_below_it() {
    let mut t = tree();
    if let Some(root) = t.blocks.get_mut(&CourseTree::root_ref()) {
        root.fields
            .insert("visible_to_staff_only".into(), "true".into());
    }
    assert!(content_docs(&t, &HashMap::new())
        .iter()
        .all(|d| d.staff_only));
}
