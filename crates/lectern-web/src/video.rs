//! Video blocks as learners see them: an HTML5 `<video>` with the block's
//! `html5_sources` (or, for YouTube-only videos, a link to YouTube — no
//! third-party player or script is loaded into the page), and beside it the
//! transcript read from the course's static files, one link per caption.
//!
//! The transcript is rendered on the server so it reads without JavaScript;
//! each caption links to the video at its time (a media fragment `#t=`, or
//! YouTube's `&t=`). `/assets/video.js` upgrades the links: a click seeks the
//! player in the page and the caption being spoken is highlighted.
//!
//! Where Open edX courses name transcripts (all are files below `static/`):
//! the `transcripts` attribute (`{"en": "x-en.srt"}`), `<transcript
//! language="en" src="x-en.srt"/>` children, the languages listed under
//! `<video_asset><transcripts>` (files `{edx_video_id}-{lang}.srt`, when they
//! exist), and the older `sub` attribute, whose captions are stored as
//! `subs_{sub}.srt.sjson` (for YouTube videos without any of these,
//! `subs_{youtube id}.srt.sjson` when it exists).

use askama::Template;
use lectern_content::transcript::{clock, Cue, TranscriptError};
use lectern_content::{Block, CourseKey, CourseTree};

use crate::blocks::static_base;

/// Most transcript languages read and shown for one video; the others are
/// download links.
pub const MAX_LANGUAGES_SHOWN: usize = 4;

/// A transcript a video names: its language and file below `static/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptRef {
    pub lang: String,
    pub file: String,
}

/// A transcript as read for the page: its captions, or why there are none.
pub struct LoadedTranscript {
    pub reference: TranscriptRef,
    pub cues: Result<Vec<Cue>, TranscriptError>,
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
fn youtube_id(block: &Block) -> Option<&str> {
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
    let name = raw
        .strip_prefix("/static/")
        .or_else(|| {
            raw.strip_prefix("/asset-v1:")
                .and_then(|r| r.split_once("+type@asset+block@"))
                .map(|(_, n)| n)
        })
        .or_else(|| {
            match raw
                .strip_prefix("/c4x/")?
                .splitn(4, '/')
                .collect::<Vec<_>>()[..]
            {
                [_, _, "asset", n] => Some(n),
                _ => None,
            }
        })?;
    let name = name.split(['?', '#']).next().unwrap_or("");
    crate::routes::safe_static_name(name).then(|| format!("{}{name}", static_base(key)))
}

enum Player {
    Html5 { sources: Vec<String> },
    YouTube { url: String },
    Nothing,
}

struct CueView {
    start: String,
    clock: String,
    text: String,
    href: Option<String>,
}

struct TranscriptView {
    /// Shown unfolded: the first transcript that has captions.
    open: bool,
    lang: String,
    language: String,
    file: String,
    href: String,
    cues: Vec<CueView>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "video.html")]
struct VideoView {
    id: String,
    title: String,
    player: Player,
    downloads: Vec<String>,
    handout: Option<String>,
    transcripts: Vec<TranscriptView>,
    /// Transcripts named but not read (Studio previews; languages past the limit).
    links: Vec<TranscriptView>,
    transcript_url: Option<String>,
}

/// A video block's HTML. `loaded` holds the transcripts read for the page
/// (`None` in previews, which link to the files instead).
pub fn render(
    block: &Block,
    key: &CourseKey,
    tree: Option<&CourseTree>,
    loaded: Option<Vec<LoadedTranscript>>,
) -> String {
    let exists = |f: &str| tree.is_none_or(|t| t.assets.contains_key(f));
    let sources: Vec<String> = block
        .field("html5_sources")
        .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| file_url(s, key))
        .collect();
    let youtube = youtube_id(block).map(str::to_string);
    // Open edX plays only the part between `start_time` and `end_time`.
    let start = block
        .field("start_time")
        .and_then(clock_seconds)
        .filter(|s| *s > 0);
    let end = block
        .field("end_time")
        .and_then(clock_seconds)
        .filter(|e| *e > start.unwrap_or(0));
    let window = match (start, end) {
        (None, None) => String::new(),
        (s, None) => format!("#t={}", s.unwrap_or(0)),
        (s, Some(e)) => format!("#t={},{e}", s.unwrap_or(0)),
    };
    let player = if !sources.is_empty() {
        Player::Html5 {
            sources: sources.iter().map(|s| format!("{s}{window}")).collect(),
        }
    } else if let Some(id) = &youtube {
        Player::YouTube {
            url: match start {
                Some(s) => format!("https://www.youtube.com/watch?v={id}&t={s}s"),
                None => format!("https://www.youtube.com/watch?v={id}"),
            },
        }
    } else {
        Player::Nothing
    };
    let seek = |ms: u64| -> Option<String> {
        if let Some(s) = sources.first() {
            Some(format!("{s}#t={}", seconds(ms)))
        } else {
            youtube
                .as_ref()
                .map(|id| format!("https://www.youtube.com/watch?v={id}&t={}s", ms / 1000))
        }
    };
    let view_of =
        |r: &TranscriptRef, cues: Option<&Result<Vec<Cue>, TranscriptError>>| TranscriptView {
            open: false,
            lang: r.lang.clone(),
            language: language_name(&r.lang),
            file: r.file.clone(),
            href: format!("{}{}", static_base(key), r.file),
            cues: match cues {
                Some(Ok(cues)) => cues
                    .iter()
                    .map(|c| CueView {
                        start: seconds(c.start_ms),
                        clock: clock(c.start_ms),
                        text: c.text.clone(),
                        href: seek(c.start_ms),
                    })
                    .collect(),
                _ => Vec::new(),
            },
            problem: match cues {
                Some(Err(e)) => Some(e.to_string()),
                _ => None,
            },
        };
    let (transcripts, links) = match loaded {
        Some(loaded) => {
            let mut shown: Vec<TranscriptView> = loaded
                .iter()
                .map(|t| view_of(&t.reference, Some(&t.cues)))
                .collect();
            if let Some(first) = shown.iter_mut().find(|t| !t.cues.is_empty()) {
                first.open = true;
            }
            let rest = transcript_refs(block, &exists)
                .into_iter()
                .filter(|r| !loaded.iter().any(|t| t.reference.lang == r.lang))
                .map(|r| view_of(&r, None))
                .collect();
            (shown, rest)
        }
        None => (
            Vec::new(),
            transcript_refs(block, &exists)
                .iter()
                .map(|r| view_of(r, None))
                .collect(),
        ),
    };
    let view = VideoView {
        id: format!("video-{}", block.id),
        title: block.title(),
        downloads: sources
            .iter()
            .filter(|s| s.starts_with("http"))
            .cloned()
            .collect(),
        player,
        handout: block
            .field("handout")
            .and_then(|h| file_url(h, key))
            .filter(|u| {
                u.starts_with("http") || u.strip_prefix(&static_base(key)).is_none_or(exists)
            }),
        transcripts,
        links,
        transcript_url: block
            .field("transcript_url")
            .and_then(|t| file_url(t, key))
            .filter(|u| !u.starts_with("http://")),
    };
    view.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "video template failed");
        crate::blocks::placeholder(block, "this video cannot be shown.")
    })
}

/// A video block for a learner, with its transcripts read from the course's
/// files (at most [`MAX_LANGUAGES_SHOWN`]; the rest are links).
pub async fn render_for_learner(
    app: &lectern_app::Lectern,
    tree: &CourseTree,
    block: &Block,
) -> crate::pages::RenderedBlock {
    let exists = |f: &str| tree.assets.contains_key(f);
    let mut loaded = Vec::new();
    for reference in transcript_refs(block, &exists)
        .into_iter()
        .take(MAX_LANGUAGES_SHOWN)
    {
        let cues = match app.video_transcript(tree, &reference.file).await {
            Ok(cues) => cues,
            Err(e) => {
                tracing::warn!(file = %reference.file, error = %e, "transcript could not be read");
                Err(TranscriptError("it could not be read just now".into()))
            }
        };
        loaded.push(LoadedTranscript { reference, cues });
    }
    crate::pages::RenderedBlock {
        anchor: format!("video-{}", block.id),
        title: Some(block.title()),
        html: render(block, &tree.key, Some(tree), Some(loaded)),
    }
}

/// `HH:MM:SS` (how OLX writes `start_time`/`end_time`) as seconds.
fn clock_seconds(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut fields = 0;
    for part in s.trim().split(':') {
        let n: u64 = part.parse().ok().filter(|_| part.len() <= 6)?;
        total = total.checked_mul(60)?.checked_add(n)?;
        fields += 1;
    }
    (fields <= 3).then_some(total)
}

/// Seconds with milliseconds, as media fragments and `currentTime` take them.
fn seconds(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        format!("{}.{:03}", ms / 1000, ms % 1000)
    }
}

/// A language's own name for the common transcript languages, else its code.
fn language_name(code: &str) -> String {
    let name = match code.to_ascii_lowercase().as_str() {
        "en" => "English",
        "es" => "Español",
        "fr" => "Français",
        "de" => "Deutsch",
        "pt" | "pt-br" => "Português",
        "it" => "Italiano",
        "zh" | "zh-cn" | "zh_hans" => "中文",
        "ja" => "日本語",
        "ko" => "한국어",
        "ar" => "العربية",
        "ru" => "Русский",
        "hi" => "हिन्दी",
        _ => return code.to_string(),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CourseKey {
        CourseKey::new("O", "N", "R").unwrap()
    }

    fn video(fields: &[(&str, &str)], body: Option<&str>) -> Block {
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

    #[test]
    fn html5_video_with_transcript_cues_that_seek() {
        let b = video(&[("html5_sources", r#"["/static/jelly.mp4"]"#)], None);
        let loaded = vec![LoadedTranscript {
            reference: TranscriptRef {
                lang: "en".into(),
                file: "j.srt".into(),
            },
            cues: Ok(vec![Cue {
                start_ms: 62_500,
                end_ms: 64_000,
                text: "<script>x</script> & fish".into(),
            }]),
        }];
        let html = render(&b, &key(), None, Some(loaded));
        assert!(html.contains(r#"<video id="video-v1""#), "{html}");
        assert!(
            html.contains(r#"<source src="/courses/course-v1:O+N+R/static/jelly.mp4">"#),
            "{html}"
        );
        assert!(html.contains(r#"data-video="video-v1""#), "{html}");
        assert!(
            html.contains(
                r#"href="/courses/course-v1:O+N+R/static/jelly.mp4#t=62.500" data-start="62.500""#
            ),
            "{html}"
        );
        assert!(html.contains("1:02"), "{html}");
        assert!(
            html.contains("&#60;script&#62;x&#60;/script&#62; &#38; fish"),
            "{html}"
        );
        assert!(
            html.contains(r#"href="/courses/course-v1:O+N+R/static/j.srt""#),
            "{html}"
        );
    }

    #[test]
    fn start_and_end_times_limit_what_plays() {
        let window = [("start_time", "00:11:39"), ("end_time", "00:12:57")];
        let html5 = video(
            &[
                window[0],
                window[1],
                ("html5_sources", r#"["/static/j.mp4"]"#),
            ],
            None,
        );
        let html = render(&html5, &key(), None, None);
        assert!(
            html.contains(r#"<source src="/courses/course-v1:O+N+R/static/j.mp4#t=699,777">"#),
            "{html}"
        );
        let yt = video(&[window[0], window[1], ("youtube_id_1_0", "abc")], None);
        let html = render(&yt, &key(), None, None);
        assert!(
            html.contains(r#"href="https://www.youtube.com/watch?v=abc&#38;t=699s""#),
            "{html}"
        );
        assert_eq!(clock_seconds("00:00:00"), Some(0));
        assert_eq!(clock_seconds("1:02:03"), Some(3723));
        assert_eq!(clock_seconds("x"), None);
        assert_eq!(clock_seconds("1:2:3:4"), None);
        assert_eq!(clock_seconds("99999999999999999999"), None);
    }

    #[test]
    fn youtube_only_videos_link_out_and_keep_their_transcript() {
        let b = video(&[("youtube_id_1_0", "3_yD_cEKoCk")], None);
        let loaded = vec![LoadedTranscript {
            reference: TranscriptRef {
                lang: "en".into(),
                file: "t.srt".into(),
            },
            cues: Ok(vec![Cue {
                start_ms: 5_000,
                end_ms: 6_000,
                text: "Hello".into(),
            }]),
        }];
        let html = render(&b, &key(), None, Some(loaded));
        assert!(
            !html.contains("<iframe") && !html.contains("<script"),
            "{html}"
        );
        assert!(
            html.contains(r#"href="https://www.youtube.com/watch?v=3_yD_cEKoCk""#),
            "{html}"
        );
        assert!(
            html.contains(r#"href="https://www.youtube.com/watch?v=3_yD_cEKoCk&#38;t=5s""#),
            "{html}"
        );
        assert!(html.contains("Hello"), "{html}");
        let bad = video(&[("youtube_id_1_0", "\"><script>")], None);
        let html = render(&bad, &key(), None, None);
        assert!(
            !html.contains("<script>") && html.contains("no playable source"),
            "{html}"
        );
    }

    #[test]
    fn a_bad_transcript_is_a_note_with_its_download_link() {
        let b = video(&[("youtube_id_1_0", "abc")], None);
        let loaded = vec![LoadedTranscript {
            reference: TranscriptRef {
                lang: "en".into(),
                file: "bad.srt".into(),
            },
            cues: Err(TranscriptError("line 2: unreadable time range".into())),
        }];
        let html = render(&b, &key(), None, Some(loaded));
        assert!(html.contains("line 2: unreadable time range"), "{html}");
        assert!(
            html.contains(r#"href="/courses/course-v1:O+N+R/static/bad.srt""#),
            "{html}"
        );
        assert!(!html.contains("transcript-cues"), "{html}");
    }
}
