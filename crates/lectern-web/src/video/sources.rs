//! Where a video block's files are: its transcripts (in every place Open
//! edX names them) and links to course files in any of Open edX's spellings.
//!
//! Transcripts are files below `static/`, named by the `transcripts`
//! attribute (`{"en": "x-en.srt"}`), `<transcript language="en"
//! src="x-en.srt"/>` children, the languages listed under
//! `<video_asset><transcripts>` (files `{edx_video_id}-{lang}.srt`, when they
//! exist), and the older `sub` attribute, whose captions are stored as
//! `subs_{sub}.srt.sjson` (for YouTube videos without any of these,
//! `subs_{youtube id}.srt.sjson` when it exists).

use lectern_content::{Block, CourseKey};

use crate::blocks::static_base;

/// A transcript a video names: its language and file below `static/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptRef {
    pub lang: String,
    pub file: String,
}

/// The transcripts `block` names, English first, then by language code.
/// `exists` tells whether a course file exists; it decides only the guessed
/// `subs_{youtube id}.srt.sjson`.
pub fn transcript_refs(block: &Block, exists: &dyn Fn(&str) -> bool) -> Vec<TranscriptRef> {
    let mut refs: Vec<TranscriptRef> = Vec::new();
    let mut add = |lang: &str, file: &str| {
        let file = file.trim();
        let file = file.strip_prefix("/static/").unwrap_or(file);
        let lang = lang.trim();
        if !file.is_empty()
            && !lang.is_empty()
            && crate::routes::safe_static_name(file)
            && !refs.iter().any(|r| r.lang == lang)
        {
            refs.push(TranscriptRef {
                lang: lang.to_string(),
                file: file.to_string(),
            });
        }
    };
    if let Some(map) = block
        .field("transcripts")
        .and_then(|t| serde_json::from_str::<std::collections::BTreeMap<String, String>>(t).ok())
    {
        for (lang, file) in &map {
            add(lang, file);
        }
    }
    if let Some(body) = block.body.as_deref().filter(|b| b.contains("<transcript")) {
        // The body is the XML inside <video>, possibly several elements.
        if let Ok(doc) = roxmltree::Document::parse(&format!("<video>{body}</video>")) {
            for t in doc
                .root_element()
                .children()
                .filter(|n| n.has_tag_name("transcript"))
            {
                if let (Some(lang), Some(src)) = (t.attribute("language"), t.attribute("src")) {
                    add(lang, src);
                }
            }
            // Languages Open edX's video pipeline (VAL) lists under
            // <video_asset><transcripts>; their files are `{edx_video_id}-{lang}.{format}`.
            let video_id = block.field("edx_video_id").map(str::trim);
            for t in doc.descendants().filter(|n| {
                n.has_tag_name("transcript")
                    && n.parent().is_some_and(|p| p.has_tag_name("transcripts"))
            }) {
                if let (Some(id), Some(lang)) = (video_id, t.attribute("language_code")) {
                    let file = format!(
                        "{id}-{lang}.{}",
                        t.attribute("file_format").unwrap_or("srt")
                    );
                    if !id.is_empty() && exists(&file) {
                        add(lang, &file);
                    }
                }
            }
        }
    }
    if let Some(sub) = block.field("sub").filter(|s| !s.trim().is_empty()) {
        add("en", &format!("subs_{}.srt.sjson", sub.trim()));
    }
    if let Some(id) = youtube_id(block) {
        let guess = format!("subs_{id}.srt.sjson");
        if exists(&guess) {
            add("en", &guess);
        }
    }
    refs.sort_by_key(|r| (r.lang != "en", r.lang.clone()));
    refs
}

/// The block's YouTube id at normal speed, when it is a plausible id.
pub(super) fn youtube_id(block: &Block) -> Option<&str> {
    block
        .field("youtube_id_1_0")
        .filter(|id| !id.is_empty())
        .or_else(|| {
            block
                .field("youtube")
                .and_then(|y| y.split(',').find_map(|p| p.trim().strip_prefix("1.00:")))
        })
        .map(str::trim)
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// Where a link to a course file, in any of Open edX's spellings, is served;
/// absolute `http(s)` URLs are kept. `None` for anything else.
pub fn file_url(raw: &str, key: &CourseKey) -> Option<String> {
    let raw = raw.trim();
    if raw.starts_with("https://") || raw.starts_with("http://") {
        return Some(raw.to_string());
    }
    let name = lectern_content::keys::course_file_name(raw)?;
    crate::routes::safe_static_name(name).then(|| format!("{}{name}", static_base(key)))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::video) fn key() -> CourseKey {
        CourseKey::new("O", "N", "R").unwrap()
    }

    /// A video block with these fields and body, for the tests of `video`.
    pub(in crate::video) fn video(fields: &[(&str, &str)], body: Option<&str>) -> Block {
        let mut b = Block::new("video", "v1");
        for (k, v) in fields {
            b.fields.insert((*k).into(), (*v).into());
        }
        b.body = body.map(Into::into);
        b
    }

    fn langs(refs: &[TranscriptRef]) -> Vec<(&str, &str)> {
        refs.iter()
            .map(|r| (r.lang.as_str(), r.file.as_str()))
            .collect()
    }

    #[test]
    fn transcripts_are_found_where_open_edx_names_them() {
        let b = video(
            &[
                (
                    "transcripts",
                    r#"{"es": "t-es.srt", "en": "t-en.srt", "xx": "../../etc/passwd"}"#,
                ),
                ("sub", "OEoXaMPEzfM"),
            ],
            Some(
                r#"<transcript language="fr" src="t-fr.srt"/><transcript language="en" src="other.srt"/><handout src="x"/>"#,
            ),
        );
        let refs = transcript_refs(&b, &|_| false);
        assert_eq!(
            langs(&refs),
            [("en", "t-en.srt"), ("es", "t-es.srt"), ("fr", "t-fr.srt")]
        );
        let val = video(
            &[("edx_video_id", "abc")],
            Some(
                r#"<video_asset client_video_id="x"><transcripts><transcript language_code="de" file_format="srt" provider="Custom"/><transcript language_code="it" file_format="sjson"/></transcripts></video_asset>"#,
            ),
        );
        assert_eq!(
            langs(&transcript_refs(&val, &|f| f == "abc-de.srt")),
            [("de", "abc-de.srt")]
        );
        let old = video(&[("sub", "OEoXaMPEzfM")], None);
        assert_eq!(
            langs(&transcript_refs(&old, &|_| false)),
            [("en", "subs_OEoXaMPEzfM.srt.sjson")]
        );
        let yt = video(&[("youtube_id_1_0", "abc_D-1")], None);
        assert!(transcript_refs(&yt, &|_| false).is_empty());
        assert_eq!(
            langs(&transcript_refs(&yt, &|f| f == "subs_abc_D-1.srt.sjson")),
            [("en", "subs_abc_D-1.srt.sjson")]
        );
    }

    #[test]
    fn file_urls_in_every_spelling() {
        let k = key();
        let base = "/courses/course-v1:O+N+R/static/";
        let cases = [
            ("/static/a.mp4", Some(format!("{base}a.mp4"))),
            (
                "/asset-v1:O+N+R+type@asset+block@h.png",
                Some(format!("{base}h.png")),
            ),
            ("/c4x/O/N/asset/n.pdf?raw", Some(format!("{base}n.pdf"))),
            ("https://x.org/v.mp4", Some("https://x.org/v.mp4".into())),
            ("/static/../secret", None),
            ("javascript:alert(1)", None),
            ("/c4x/O/N/other/n.pdf", None),
        ];
        for (raw, want) in cases {
            assert_eq!(file_url(raw, &k), want, "{raw}");
        }
    }
}
