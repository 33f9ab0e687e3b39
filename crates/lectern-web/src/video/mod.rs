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
//! Where the transcripts come from: `sources.rs`.

use askama::Template;
use lectern_content::transcript::{clock, Cue, TranscriptError};
use lectern_content::{Block, CourseKey, CourseTree};

use crate::blocks::static_base;

mod sources;

use sources::youtube_id;
pub use sources::{file_url, transcript_refs, TranscriptRef};

/// Most transcript languages read and shown for one video; the others are
/// download links.
pub const MAX_LANGUAGES_SHOWN: usize = 4;

/// A transcript as read for the page: its captions, or why there are none.
pub struct LoadedTranscript {
    pub reference: TranscriptRef,
    pub cues: Result<Vec<Cue>, TranscriptError>,
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

    use super::sources::tests::{key, video};

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
